from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import notifications, timeline
        from referrals.notifications import referral_context
        from referrals.timeline import referral_events

        timeline.register_source(referral_events)
        notifications.register_context_provider("referrals.referral", referral_context)
