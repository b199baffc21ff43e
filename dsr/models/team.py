"""What the DSR team tells people about itself: its contact details, held once for the service."""

from django.db import models

from dsr.history import audited
from dsr.models.core import TimeStampedModel

# NHS England's page for people with a learning disability and autistic people about care and
# treatment reviews and the register, where its guides for young people are listed.
YOUNG_PEOPLE_GUIDE_DEFAULT = "https://www.england.nhs.uk/learning-disabilities/care/"


class TeamContact(TimeStampedModel):
    """The DSR team's contact details, shown on the public pages and in the outcome messages.
    One row (the DSR lead edits it in the service); the history table keeps every change."""

    # The one row's key: a second row cannot be written.
    singleton = models.BooleanField(default=True, unique=True, editable=False)
    phone = models.CharField(max_length=30)
    email = models.EmailField(max_length=254)
    # The postal address without its postcode, one part a line.
    address = models.TextField(max_length=500)
    postcode = models.CharField(max_length=8)
    opening_hours = models.TextField(max_length=500)
    # How to complain, or ask for a decision to be looked at again.
    complaints = models.TextField(max_length=2000)
    # NHS England's co-produced guides to the register and C(E)TRs for autistic young people
    # (16 to 25), linked from the public "deciding whether to be on the register" page; empty
    # for no link.
    young_people_guide_url = models.URLField(
        max_length=500, blank=True, default=YOUNG_PEOPLE_GUIDE_DEFAULT
    )

    history = audited()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(singleton=True), name="team_contact_one_row")
        ]

    def __str__(self) -> str:
        return f"DSR team: {self.phone}, {self.email}"


class RegisterSettings(TimeStampedModel):
    """The figures the DSR lead sets in the service: review cadences, reminder and look-ahead
    days, the escalation rules, acknowledgement deadlines and who owns each escalation level.
    One row; the history table keeps every change and who made it.

    `values` holds, by the name of the Django setting it stands for (`DSR_REVIEW_CADENCE_DAYS`,
    `DSR_ESCALATION_RULES`, ...), the value the lead saved. A name missing from it, or no row at
    all, means the deployment's setting (or its default) applies: dsr.register_settings reads
    this row first and falls back to Django settings.
    """

    singleton = models.BooleanField(default=True, unique=True, editable=False)
    values = models.JSONField(default=dict)

    history = audited()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(singleton=True), name="register_settings_one_row"
            )
        ]

    def __str__(self) -> str:
        return "Register settings"
