from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import demo, notifications, timeline
        from referrals.demo import seed_referrals
        from referrals.notifications import referral_context
        from referrals.timeline import referral_events

        timeline.register_source(referral_events)
        notifications.register_context_provider("referrals.referral", referral_context)
        demo.register_demo_seeder(seed_referrals)
