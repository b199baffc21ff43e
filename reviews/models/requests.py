"""Requests for a C(E)TR, and their triage: arranged, or declined with a reason."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dsr.history import audited
from dsr.models import LocalAuthority, Person, TimeStampedModel
from dsr.security.scoping import ScopedQuerySet, in_area_or_unknown_for_icb
from reviews.models.cetrs import Cetr


class CetrRequestQuerySet(ScopedQuerySet):
    def visible_to(self, user) -> "CetrRequestQuerySet":
        if not user.has_perm("dsr.manage_referrals"):
            return self.none()
        return self.filter(in_area_or_unknown_for_icb(user))


class CetrRequest(TimeStampedModel):
    """A request for a C(E)TR from the person, their family, carer, advocate or the team
    supporting them (DOMAIN section 2). The ICB triages it: arranged, or declined with the
    reason told to the requester."""

    class Relationship(models.TextChoices):
        SELF = "self", "I am the person"
        FAMILY = "family", "Family member"
        CARER = "carer", "Carer"
        ADVOCATE = "advocate", "Advocate"
        PROFESSIONAL = "professional", "A professional in the team supporting them"

    class ContactBy(models.TextChoices):
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"

    class InHospital(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        NOT_KNOWN = "not_known", "I do not know"

    class Status(models.TextChoices):
        RECEIVED = "received", "Waiting to be triaged"
        ARRANGED = "arranged", "C(E)TR arranged"
        DECLINED = "declined", "Declined"

    # DOMAIN 2: a request is triaged once: arranged or declined.
    ALLOWED_TRANSITIONS: dict[str, set[str]] = {
        Status.RECEIVED: {Status.ARRANGED, Status.DECLINED},
        Status.ARRANGED: set(),
        Status.DECLINED: set(),
    }

    class Channel(models.TextChoices):
        ONLINE = "online", "Online"
        STAFF = "staff", "Entered by staff"

    reference = models.CharField(max_length=20, unique=True)
    submission_token = models.UUIDField(default=uuid.uuid4, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(default=timezone.now)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    requester_name = models.CharField(max_length=150)
    requester_organisation = models.CharField(max_length=150, blank=True)
    requester_email = models.EmailField(blank=True)
    requester_phone = models.CharField(max_length=30, blank=True)
    requester_address = models.TextField(blank=True)
    contact_by = models.CharField(max_length=10, choices=ContactBy.choices)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    local_authority = models.ForeignKey(
        LocalAuthority, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    in_hospital = models.CharField(max_length=10, choices=InHospital.choices)
    hospital_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField()
    person_knows = models.BooleanField("the person knows about this request")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, related_name="cetr_requests", null=True, blank=True
    )
    cetr = models.OneToOneField(
        Cetr, on_delete=models.PROTECT, related_name="request", null=True, blank=True
    )
    decline_reason = models.TextField(blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    history = audited()

    objects = CetrRequestQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = "C(E)TR request"
        constraints = [
            models.CheckConstraint(
                condition=~Q(contact_by="email") | ~Q(requester_email=""),
                name="request_by_email_has_email",
            ),
            models.CheckConstraint(
                condition=~Q(contact_by="letter") | ~Q(requester_address=""),
                name="request_by_letter_has_address",
            ),
            models.CheckConstraint(
                condition=Q(status="received", triaged_at__isnull=True)
                | (
                    Q(status="arranged", triaged_at__isnull=False, cetr__isnull=False)
                    & Q(person__isnull=False)
                )
                | (Q(status="declined", triaged_at__isnull=False) & ~Q(decline_reason="")),
                name="request_triage_is_complete",
            ),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="cetr_request_status_idx")]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("reviews:request-detail", kwargs={"pk": self.pk})

    @property
    def person_name(self) -> str:
        return f"{self.given_name} {self.family_name}"
