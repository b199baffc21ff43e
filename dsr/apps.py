from django.apps import AppConfig


class DsrConfig(AppConfig):
    name = "dsr"
    verbose_name = "Dynamic support register"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import audit, signals  # noqa: F401  (audit records; session start time)
        from dsr.accounts import password_reset_context
        from dsr.caching import follow_changes
        from dsr.delivery import register_context_provider, register_own_context_providers
        from dsr.models import Consent, Person, PersonContact, RegisterEntry
        from dsr.notifications import PASSWORD_RESET_SUBJECT

        register_own_context_providers()
        # The password reset link is made when its email is sent, never stored.
        register_context_provider(PASSWORD_RESET_SUBJECT, password_reset_context)
        # The register's kept counts (dashboard, list totals) are counted afresh after a change.
        follow_changes("register", RegisterEntry, Person, PersonContact, Consent)
