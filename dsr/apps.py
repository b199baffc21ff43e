from django.apps import AppConfig


class DsrConfig(AppConfig):
    name = "dsr"
    verbose_name = "Dynamic support register"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsr import checks, signals  # noqa: F401  (system checks; audit records; session start)
        from dsr.accounts import invitation_context, password_reset_context
        from dsr.contributions import Contribution, contribute
        from dsr.forms import (
            CadenceSettingsForm,
            cadence_fieldsets,
            cadence_initial,
            cadence_values,
        )
        from dsr.home import accounts_panel, register_work_panel
        from dsr.imports.panels import import_steps_panel
        from dsr.models import Consent, Person, PersonContact, RegisterEntry
        from dsr.notifications import (
            INVITATION_SUBJECT,
            PASSWORD_RESET_SUBJECT,
            consent_context,
            register_entry_context,
        )
        from dsr.outbox.delivery import register_provider
        from dsr.outbox.notify import Notify
        from dsr.register_settings import SettingsSection, register_section
        from dsr.security import audit, signed_in  # noqa: F401  (signed_in: its signals)

        # The register adds to itself as the apps do (its own links are in dsr.navigation).
        contribute(
            Contribution(
                message_contexts={
                    "dsr.registerentry": register_entry_context,
                    "dsr.consent": consent_context,
                    # Links are made when their email is sent, never stored.
                    INVITATION_SUBJECT: invitation_context,
                    PASSWORD_RESET_SUBJECT: password_reset_context,
                },
                # The register's kept counts (dashboard, list totals) are counted afresh after a
                # change.
                follows={"register": (RegisterEntry, Person, PersonContact, Consent)},
                home_panels=(register_work_panel, accounts_panel),
                # What a spreadsheet import could not bring across for a person it added.
                person_panels=(import_steps_panel,),
            )
        )
        # GOV.UK Notify, used when DSR_MESSAGES = "notify" (dsr.outbox.delivery).
        register_provider("notify", Notify())
        # The register's own part of the settings page (apps add theirs as settings_sections).
        register_section(
            SettingsSection(
                order=10,
                title="Cadences",
                form=CadenceSettingsForm,
                fieldsets=cadence_fieldsets,
                names=(
                    "DSR_REVIEW_CADENCE_DAYS",
                    "DSR_CONSENT_REVIEW_MONTHS",
                    "DSR_REFERRAL_REMINDER_DAYS",
                    "DSR_AGENDA_LOOKAHEAD_DAYS",
                ),
                initial=cadence_initial,
                values=cadence_values,
            )
        )
