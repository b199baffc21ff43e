"""Signing in with an NHS identity, in Chromium, against a real OpenID Connect provider on the
loopback (tests/identity_provider.py): the CIS2 kind (private_key_jwt) and the Entra ID kind
(client secret), the service's own second factor after a single-factor sign-in, the page for an
identity without an account, and signing out at the provider ending the service's session
(back-channel logout). The service runs on its own live server (`service_server`)."""

import pytest
from django.urls import reverse
from django_otp.oath import totp

from dsr.models import ProviderSession
from dsr.roles import Role
from tests.browser.helpers import serious_violations
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.identity_provider import ACCOUNTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CIS2_LABEL = "Sign in with NHS Care Identity (smartcard or authenticator)"
ENTRA_LABEL = "Sign in with NHSmail (Microsoft)"


@pytest.fixture
def staff(organisations):
    def make(sub: str):
        user = UserFactory(
            email=ACCOUNTS[sub], organisation=organisations["icb"], roles=[Role.REGISTER_STAFF]
        )
        return user, TOTPDeviceFactory(user=user)

    return make


def _at_provider(page, issuer: str, sub: str, *, assurance: str = "", amr: str = "") -> None:
    page.wait_for_url(f"{issuer}/interaction/**")
    page.get_by_label("Account").fill(sub)
    page.get_by_label("Assurance level").fill(assurance)
    page.get_by_label("Authentication methods").fill(amr)
    page.get_by_role("button", name="Sign in").click()


def _service_errors(page, origin: str) -> list[str]:
    return [entry for entry in page.broken if origin in entry]


def test_cis2_sign_in_with_a_multi_factor_authenticator_then_sign_out_at_the_provider(
    page, nhs_identity, service_server, staff
):
    user, _ = staff("cis2-uid-1001")
    page.goto(service_server.url + reverse("dsr:register-list"))
    assert page.url.startswith(service_server.url + reverse("accounts:sign-in"))
    assert serious_violations(page) == []

    page.get_by_role("button", name=CIS2_LABEL).click()
    _at_provider(page, nhs_identity.issuer, "cis2-uid-1001", assurance="3")

    # Back at the page first asked for, with no code asked: CIS2 recorded AAL3.
    page.wait_for_url(service_server.url + reverse("dsr:register-list"))
    assert page.get_by_role("heading", level=1).inner_text()
    assert user.full_name in page.content()

    # Signing out at the provider ends the service's session (back-channel logout).
    page.goto(f"{nhs_identity.issuer}/session/end")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_load_state()
    assert not ProviderSession.objects.exists()
    page.goto(service_server.url + reverse("dsr:home"))
    assert page.url.startswith(service_server.url + reverse("accounts:sign-in"))
    assert _service_errors(page, service_server.url) == []
    assert page.csp_violations == []


def test_entra_sign_in_with_a_password_only_is_asked_for_the_services_code(
    page, nhs_identity, service_server, staff
):
    user, device = staff("entra-oid-2002")
    page.goto(service_server.url + reverse("accounts:sign-in"))

    page.get_by_role("button", name=ENTRA_LABEL).click()
    _at_provider(page, nhs_identity.issuer, "entra-oid-2002", amr="pwd")

    page.wait_for_url(f"{service_server.url}{reverse('accounts:verify')}**")
    assert serious_violations(page) == []
    page.get_by_label("Security code").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(service_server.url + reverse("dsr:home"))
    assert user.full_name in page.content()
    assert _service_errors(page, service_server.url) == []
    assert page.csp_violations == []


def test_an_identity_without_an_account_is_told_who_to_ask(page, nhs_identity, service_server):
    page.goto(service_server.url + reverse("accounts:sign-in"))

    page.get_by_role("button", name=CIS2_LABEL).click()
    _at_provider(page, nhs_identity.issuer, "cis2-uid-9009", assurance="3")

    heading = page.get_by_role("heading", level=1)
    heading.wait_for()
    assert heading.inner_text() == "You do not have an account for the register"
    assert "Ask the DSR team to invite you" in page.content()
    assert serious_violations(page) == []
    assert page.csp_violations == []


def test_a_refused_return_says_sign_in_did_not_work(page, nhs_identity, service_server):
    """Coming back from the provider with a state this browser's session never sent (an old
    tab, the back button, a forged link)."""
    page.goto(
        service_server.url
        + reverse("accounts:provider-return", kwargs={"provider": "cis2"})
        + "?code=made-up&state=not-ours"
    )

    assert page.get_by_role("heading", level=1).inner_text() == "Sign in did not work"
    assert page.get_by_role("link", name="Go back to sign in").is_visible()
    assert serious_violations(page) == []
    assert page.csp_violations == []
