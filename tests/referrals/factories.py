"""Factories for referrals: valid rows in each state of the review (ALLOWED_TRANSITIONS).

Every referral gets a unique reference, a fresh submission token, the decision due date of
dsr.deadlines for its receipt, a "received" transition row and one contact (the person), as
referral_submit would write them. Use `.build()` plus `bulk_create` for large volumes: the
post-generation rows are then left out.
"""

import datetime
import uuid

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from dsr.deadlines import decision_due_for
from dsr.models import Diagnosis, DiagnosisStatus
from referrals.models import Referral, ReferralAttachment, ReferralContact, ReferralTransition
from tests.dsr.factories import LocalAuthorityFactory


class ReferralFactory(factory.django.DjangoModelFactory):
    """A live referral from a family member, received now, for a 29-year-old autistic adult
    who agrees to it, with the person as the one contact to tell."""

    class Meta:
        model = Referral
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"DSR-2026-1{n:05d}")
    submission_token = factory.LazyFunction(uuid.uuid4)
    source = Referral.Source.ONLINE
    referrer_kind = Referral.ReferrerKind.FAMILY
    received_at = factory.LazyFunction(timezone.now)
    decision_due = factory.LazyAttribute(lambda o: decision_due_for(o.received_at))
    status = Referral.Status.RECEIVED
    given_name = factory.Sequence(lambda n: f"Referred{n}")
    family_name = factory.Sequence(lambda n: f"Person{n}")
    date_of_birth = datetime.date(1996, 5, 17)
    local_authority = factory.SubFactory(LocalAuthorityFactory)
    diagnosis = Diagnosis.AUTISM
    diagnosis_status = DiagnosisStatus.CONFIRMED
    risks = "Not sleeping, and more distressed since the day service closed."
    referrer_name = "Pat Parent"
    referrer_role = "Mother"
    referrer_email = "pat.parent@example.org"
    consent_to_referral = True
    consent_to_share = True
    consent_basis = Referral.ConsentBasis.OWN_CONSENT

    @factory.post_generation
    def transitions(self, create, extracted, **kwargs):
        if create:
            ReferralTransition.objects.create(
                referral=self,
                from_status="",
                to_status=Referral.Status.RECEIVED,
                at=self.received_at,
                reason="Received: online form",
            )

    @factory.post_generation
    def contact(self, create, extracted, **kwargs):
        """The person as the contact to tell; `contact=False` leaves the referral without."""
        if create and extracted is not False:
            ReferralContactFactory(referral=self, name=self.full_name)


class ReviewedReferralFactory(ReferralFactory):
    """Under review, with the review with education and social care held the day received."""

    status = Referral.Status.UNDER_REVIEW
    review_held_on = factory.LazyAttribute(lambda o: timezone.localdate(o.received_at))
    education_participant = "Sam Lee, SENCo"
    social_care_absent_reason = "The social worker was on leave; notes were sent instead."

    @factory.post_generation
    def transitions(self, create, extracted, **kwargs):
        if create:
            ReferralTransition.objects.create(
                referral=self,
                from_status="",
                to_status=Referral.Status.RECEIVED,
                at=self.received_at,
            )
            ReferralTransition.objects.create(
                referral=self,
                from_status=Referral.Status.RECEIVED,
                to_status=Referral.Status.UNDER_REVIEW,
                at=self.received_at,
            )


class ReferralContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReferralContact

    referral = factory.SubFactory(ReferralFactory, contact=False)
    role = ReferralContact.Role.PERSON
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")


class ReferralAttachmentFactory(factory.django.DjangoModelFactory):
    """A small PDF stored under a generated name, as the public form stores uploads."""

    class Meta:
        model = ReferralAttachment

    referral = factory.SubFactory(ReferralFactory)
    stored_name = factory.LazyFunction(lambda: uuid.uuid4().hex)
    original_name = "care plan.pdf"
    content_type = "application/pdf"
    size = factory.LazyAttribute(lambda o: len(o.content))
    file = factory.LazyAttribute(lambda o: ContentFile(o.content, name=o.stored_name))

    class Params:
        content = b"%PDF-1.4\n% a care plan\n%%EOF\n"
