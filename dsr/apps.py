from django.apps import AppConfig


class DsrConfig(AppConfig):
    name = "dsr"
    verbose_name = "Dynamic support register"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import audit, signals  # noqa: F401  (audit records; session start time)
        from dsr.notifications import register_own_context_providers

        register_own_context_providers()
