import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.deadlines import AgeGroup
from dsr.demo import ACCOUNTS, demo_code
from dsr.models import RAG, Admission, Person, Rating, RegisterEntry, User
from dsr.roles import Role

pytestmark = pytest.mark.django_db


def test_seed_demo_is_refused_when_debug_is_off():
    with pytest.raises(CommandError, match="Demo data is for development only: DEBUG is off."):
        call_command("seed_demo")

    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_creates_accounts_for_every_role_and_a_believable_register(capsys, frozen_now):
    call_command("seed_demo")
    people_after_first_run = Person.objects.count()
    call_command("seed_demo")  # running twice changes nothing

    out = capsys.readouterr().out
    assert User.objects.count() == len(ACCOUNTS) == len(Role)
    assert {user.roles[0] for user in User.objects.all()} == set(Role)
    for account in ACCOUNTS:
        assert account.email in out
        user = User.objects.get(email=account.email)
        assert user.check_password("demo-register-password")
        assert user.organisation.local_authorities.exists()
    device = TOTPDevice.objects.get(user__email="staff@dsr.example")
    assert device.verify_token(demo_code())
    assert User.objects.get(email="admin@dsr.example").is_staff
    assert not User.objects.get(email="staff@dsr.example").is_staff

    # ... and a believable register, which a second run leaves as it is.
    today = timezone.localdate()
    open_entries = RegisterEntry.objects.filter(status="open")
    assert Person.objects.count() == people_after_first_run >= 300
    assert "synthetic people on the register" in out
    assert set(open_entries.values_list("rating", flat=True)) == set(RAG)
    assert {p.age_group(today) for p in Person.objects.all()} == set(AgeGroup)
    assert Person.objects.values("local_authority").distinct().count() == 2
    assert Rating.objects.count() > open_entries.count()  # histories, not single ratings
    assert (
        Admission.objects.filter(discharged_on__isnull=True).count()
        == open_entries.filter(rating="BLUE").count()
    )
    assert Admission.objects.filter(discharged_on__isnull=False).exists()


@override_settings(DEBUG=True)
def test_the_demo_team_address_names_the_demo_icb():
    from dsr.demo import seed_demo
    from dsr.models import Organisation
    from dsr.queries import team_contact

    seed_demo()

    icb = Organisation.objects.get(kind=Organisation.Kind.ICB)
    assert team_contact().address.splitlines()[:2] == ["Dynamic support register team", icb.name]
