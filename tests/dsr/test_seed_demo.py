import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.demo import ACCOUNTS, demo_code
from dsr.models import User
from dsr.roles import Role

pytestmark = pytest.mark.django_db


def test_seed_demo_is_refused_when_debug_is_off():
    with pytest.raises(CommandError, match="Demo data is for development only: DEBUG is off."):
        call_command("seed_demo")

    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_creates_one_account_per_role_with_a_usable_second_factor(capsys, frozen_now):
    call_command("seed_demo")
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
