import datetime

import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.models import (
    Consent,
    Diagnosis,
    DiagnosisStatus,
    LocalAuthority,
    Organisation,
    Person,
    User,
)


class LocalAuthorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalAuthority
        django_get_or_create = ("gss_code",)

    name = factory.Sequence(lambda n: f"Local authority {n}")
    gss_code = factory.Sequence(lambda n: f"E{10000000 + n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.ICB

    @factory.post_generation
    def local_authorities(self, create, extracted, **kwargs):
        if create and extracted:
            self.local_authorities.set(extracted)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@nhs.example")
    full_name = factory.Sequence(lambda n: f"Test User {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            if not Group.objects.exists():
                # A transactional test before this one flushed the groups the migration made.
                from django.apps import apps

                from dsr.roles import sync_role_groups

                sync_role_groups(apps)
            self.groups.set(Group.objects.filter(name__in=[role.label for role in extracted]))
        if create:
            self.save()


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True


class PersonFactory(factory.django.DjangoModelFactory):
    """A person, by default a 30-year-old autistic adult in a fresh local authority."""

    class Meta:
        model = Person

    given_name = factory.Sequence(lambda n: f"Given{n}")
    family_name = factory.Sequence(lambda n: f"Family{n}")
    date_of_birth = datetime.date(1996, 5, 17)
    local_authority = factory.SubFactory(LocalAuthorityFactory)
    responsible_icb = factory.SubFactory(OrganisationFactory, name="Test ICB")
    diagnosis = Diagnosis.AUTISM
    diagnosis_status = DiagnosisStatus.CONFIRMED


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    person = factory.SubFactory(PersonFactory)
    basis = Consent.Basis.OWN_CONSENT
    given_on = datetime.date(2026, 1, 5)
    review_due = datetime.date(2027, 1, 5)
    recorded_by = factory.SubFactory(UserFactory)


def on_register(person, *, rating="GREEN", by, opened_on=None, rationale="Initial rating."):
    """Put `person` on the register through the real services: consent (their own from 16,
    otherwise from someone with parental responsibility), then an open entry."""
    from dsr.deadlines import age_on
    from dsr.services import consent_record, register_open

    given_on = opened_on or datetime.date(2026, 1, 5)
    own = age_on(person.date_of_birth, given_on) >= 16
    basis = Consent.Basis.OWN_CONSENT if own else Consent.Basis.PARENTAL_RESPONSIBILITY
    consent_record(person=person, basis=basis, given_on=given_on, by=by)
    return register_open(
        person=person, rating=rating, rationale=rationale, by=by, opened_on=opened_on
    )
