"""The register's models: shared records (core) and the register itself (people, entries,
consent, ratings, admissions)."""

from dsr.models.access import AccessEvent
from dsr.models.accounts import (
    Invitation,
    PasswordResetRequest,
    ProviderIdentity,
    ProviderSession,
)
from dsr.models.choices import (
    RAG,
    RAG_MEANINGS,
    AccessibleFormat,
    CoOccurring,
    Diagnosis,
    DiagnosisStatus,
    Ethnicity,
    Funder,
    Need,
    PlacementType,
    RiskFactor,
    Sex,
)
from dsr.models.core import (
    Heartbeat,
    LocalAuthority,
    Organisation,
    OrganisationQuerySet,
    TimeStampedModel,
    User,
    UserManager,
)
from dsr.models.imports import ImportMapping, ImportRow, RegisterImport
from dsr.models.notifications import Notification
from dsr.models.people import Consent, Person, PersonContact, PersonNeed, PersonQuerySet
from dsr.models.records import RetentionRun
from dsr.models.register import Admission, CetrException, Placement, Rating, RegisterEntry
from dsr.models.reminders import Reminder
from dsr.models.team import RegisterSettings, TeamContact

__all__ = [
    "RAG",
    "RAG_MEANINGS",
    "AccessEvent",
    "AccessibleFormat",
    "CoOccurring",
    "Diagnosis",
    "Need",
    "DiagnosisStatus",
    "Ethnicity",
    "Funder",
    "Placement",
    "PlacementType",
    "RiskFactor",
    "Sex",
    "Admission",
    "ProviderIdentity",
    "ProviderSession",
    "CetrException",
    "Consent",
    "Heartbeat",
    "ImportMapping",
    "ImportRow",
    "RegisterImport",
    "Invitation",
    "Notification",
    "LocalAuthority",
    "Organisation",
    "OrganisationQuerySet",
    "Person",
    "PasswordResetRequest",
    "PersonContact",
    "PersonNeed",
    "PersonQuerySet",
    "Rating",
    "RegisterEntry",
    "Reminder",
    "RetentionRun",
    "RegisterSettings",
    "TeamContact",
    "TimeStampedModel",
    "User",
    "UserManager",
]
