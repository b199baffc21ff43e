from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr.contributions import contribute
        from referrals.contributions import CONTRIBUTION, hand_over_to_escalation

        contribute(CONTRIBUTION)
        hand_over_to_escalation()
