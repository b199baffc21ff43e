from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports for commissioning and planning"
    default_auto_field = "django.db.models.BigAutoField"
