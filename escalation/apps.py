from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = "Escalation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr.contributions import contribute
        from escalation.contributions import CONTRIBUTION

        contribute(CONTRIBUTION)
