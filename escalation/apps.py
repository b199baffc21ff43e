from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Escalation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import delivery, demo, panels, timeline
        from dsr.caching import follow_changes
        from dsr.models.people import register_visibility_rule
        from escalation.contributions import (
            dashboard_panel,
            escalation_context,
            escalation_events,
            person_panel,
            visibility,
        )
        from escalation.demo import seed_escalations
        from escalation.models import Escalation

        register_visibility_rule(visibility)
        follow_changes("escalation", Escalation)
        timeline.register_source(escalation_events)
        panels.register_dashboard_panel(dashboard_panel)
        panels.register_person_panel(person_panel)
        demo.register_demo_seeder(seed_escalations)
        delivery.register_context_provider("escalation.escalation", escalation_context)
