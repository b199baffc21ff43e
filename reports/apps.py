from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports for commissioning and planning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr.contributions import contribute
        from reports.contributions import CONTRIBUTION

        contribute(CONTRIBUTION)
