from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Multi-agency reviews and C(E)TRs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import delivery, demo, next_steps, panels, timeline
        from reviews.contributions import action_context, review_events, review_steps
        from reviews.demo import seed_reviews
        from reviews.panels import dashboard_actions_panel, person_reviews_panel

        next_steps.register_source(review_steps)
        timeline.register_source(review_events)
        delivery.register_context_provider("reviews.action", action_context)
        demo.register_demo_seeder(seed_reviews)
        panels.register_person_panel(person_reviews_panel)
        panels.register_dashboard_panel(dashboard_actions_panel)
