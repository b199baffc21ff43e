"""Signing in through an NHS identity provider, against a real OpenID Connect provider on the
loopback (tests/identity_provider.py): real codes, real signed ID tokens and keys, the service
authenticated to it with private_key_jwt (CIS2) or a client secret (Entra ID).

The service's side runs in Django's test client; its calls to the provider (discovery, keys,
code exchange) are real HTTP, and so are the provider's calls to the live server (our JWKS for
private_key_jwt, back-channel logout)."""

import logging
import time
from datetime import timedelta

import pytest
import requests
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from joserfc import jwt
from joserfc.jwk import RSAKey

from dsr.accounts import identity_providers
from dsr.accounts.identity_providers import provider_named
from dsr.models import ProviderIdentity, ProviderSession
from dsr.roles import Role
from dsr.security.audit import Event
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.identity_provider import (
    ACCOUNTS,
    code_and_state,
    end_provider_session,
    path_and_query,
    provider_running,
    provider_settings,
    sign_in_at_provider,
)

pytestmark = pytest.mark.django_db

AUDIT = "dsr.audit"
HOME = reverse("dsr:home")
VERIFY = reverse("accounts:verify")
CIS2_SUB = "cis2-uid-1001"
ENTRA_SUB = "entra-oid-2002"


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger=AUDIT)

    def events(name: Event) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == AUDIT and r.event == name]

    return events


@pytest.fixture
def cis2_staff(organisations):
    user = UserFactory(
        email=ACCOUNTS[CIS2_SUB], organisation=organisations["icb"], roles=[Role.REGISTER_STAFF]
    )
    TOTPDeviceFactory(user=user)
    return user


@pytest.fixture
def entra_staff(organisations):
    user = UserFactory(
        email=ACCOUNTS[ENTRA_SUB], organisation=organisations["icb"], roles=[Role.REGISTER_STAFF]
    )
    TOTPDeviceFactory(user=user)
    return user


def start(client: Client, provider: str, next_url: str = "") -> str:
    """Press "Sign in with ..." on the sign-in page; return the provider's authorisation URL."""
    answer = client.get(
        reverse("accounts:provider-start", kwargs={"provider": provider}), {"next": next_url}
    )
    assert answer.status_code == 302
    return answer["Location"]


def provider_sign_in(client: Client, provider: str, sub: str, **how) -> tuple:
    http = requests.Session()
    back = sign_in_at_provider(http, start(client, provider), sub, **how)
    return client.get(path_and_query(back)), http


# --- The flow, for each kind of provider ------------------------------------------------------


def test_cis2_multi_factor_sign_in_opens_the_service_without_asking_again(
    nhs_identity, cis2_staff, audit
):
    client = Client()
    authorise = start(client, "cis2")
    assert authorise.startswith(f"{nhs_identity.issuer}/auth?")
    assert "client_id=dsr-cis2" in authorise and "nonce=" in authorise

    back = sign_in_at_provider(requests.Session(), authorise, CIS2_SUB, assurance="3")
    answer = client.get(path_and_query(back))

    assert answer.status_code == 302 and answer["Location"] == HOME
    home = client.get(HOME)
    assert home.status_code == 200
    assert cis2_staff.full_name in home.content.decode()
    link = ProviderIdentity.objects.get(provider="cis2")
    assert (link.user, link.subject) == (cis2_staff, CIS2_SUB)
    [signed_in] = audit(Event.PROVIDER_SIGN_IN)
    assert (signed_in.user_id, signed_in.provider, signed_in.multi_factor) == (
        cis2_staff.pk,
        "cis2",
        True,
    )
    assert len(audit(Event.PROVIDER_IDENTITY_LINKED)) == 1


def test_entra_sign_in_with_mfa_in_amr_opens_the_service(nhs_identity, entra_staff, audit):
    client = Client()
    answer, _ = provider_sign_in(client, "entra", ENTRA_SUB, amr="pwd,mfa")

    assert answer["Location"] == HOME
    assert client.get(HOME).status_code == 200
    [signed_in] = audit(Event.PROVIDER_SIGN_IN)
    assert (signed_in.provider, signed_in.multi_factor) == ("entra", True)


def test_entra_sign_in_with_a_certificate_instead_of_a_secret(
    nhs_identity, entra_staff, audit, settings, provider_keys
):
    """The service proves itself to Entra ID with a signed assertion (private_key_jwt) whose key
    belongs to the certificate uploaded to the app registration; no secret is set."""
    settings.DSR_IDENTITY_PROVIDERS = provider_settings(
        nhs_identity.issuer,
        entra={
            "client_id": "dsr-entra-certificate",
            "client_secret": "",
            "certificate_file": str(provider_keys["entra_certificate"]),
            "private_key_file": str(provider_keys["entra_key"]),
        },
    )
    client = Client()
    answer, _ = provider_sign_in(client, "entra", ENTRA_SUB, amr="pwd,mfa")

    assert answer["Location"] == HOME
    assert client.get(HOME).status_code == 200
    [signed_in] = audit(Event.PROVIDER_SIGN_IN)
    assert (signed_in.user_id, signed_in.provider) == (entra_staff.pk, "entra")


# --- A single-factor provider sign-in: the service's own second factor ------------------------


@pytest.mark.parametrize(
    ("provider", "sub", "how"),
    [
        ("cis2", CIS2_SUB, {"assurance": "1"}),
        ("cis2", CIS2_SUB, {}),
        ("entra", ENTRA_SUB, {"amr": "pwd"}),
        ("entra", ENTRA_SUB, {}),
    ],
    ids=["cis2-aal1", "cis2-no-claim", "entra-pwd-only", "entra-no-amr"],
)
def test_a_single_factor_provider_sign_in_is_asked_for_the_second_factor(
    nhs_identity, cis2_staff, entra_staff, audit, provider, sub, how
):
    client = Client()
    answer, _ = provider_sign_in(client, provider, sub, **how)

    assert answer["Location"].startswith(VERIFY)
    assert client.get(HOME)["Location"].startswith(VERIFY)
    [signed_in] = audit(Event.PROVIDER_SIGN_IN)
    assert signed_in.multi_factor is False

    user = cis2_staff if provider == "cis2" else entra_staff
    device = user.totpdevice_set.get()
    code = f"{totp(device.bin_key, t0=device.t0, step=device.step):06d}"
    assert client.post(VERIFY, {"token": code})["Location"] == HOME
    assert client.get(HOME).status_code == 200


# --- Refusals -----------------------------------------------------------------------------------


def test_an_identity_without_an_account_sees_who_to_ask_and_is_recorded(nhs_identity, audit):
    client = Client()
    answer, _ = provider_sign_in(client, "cis2", "cis2-uid-9009", assurance="3")

    assert answer.status_code == 403
    page = answer.content.decode()
    assert "You do not have an account for the register" in page
    assert "Ask the DSR team to invite you" in page
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    assert not ProviderIdentity.objects.exists()
    [unknown] = audit(Event.PROVIDER_UNKNOWN_IDENTITY)
    assert unknown.provider == "cis2" and unknown.user_id is None


def test_a_switched_off_account_is_signed_out_and_not_signed_in_through_its_link(
    nhs_identity, cis2_staff, audit
):
    signed_in = Client()
    provider_sign_in(signed_in, "cis2", CIS2_SUB, assurance="3")
    assert signed_in.get(HOME).status_code == 200
    cis2_staff.is_active = False
    cis2_staff.save()

    # Its live session ends, as a password session's does.
    assert signed_in.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    answer, _ = provider_sign_in(Client(), "cis2", CIS2_SUB, assurance="3")

    assert answer.status_code == 403
    assert len(audit(Event.PROVIDER_UNKNOWN_IDENTITY)) == 1


def test_a_replayed_state_is_refused(nhs_identity, cis2_staff, audit):
    client = Client()
    back = sign_in_at_provider(requests.Session(), start(client, "cis2"), CIS2_SUB, assurance="3")
    assert client.get(path_and_query(back))["Location"] == HOME
    client.post(reverse("accounts:sign-out"))

    again = client.get(path_and_query(back))

    assert again.status_code == 400
    assert "Sign in did not work" in again.content.decode()
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    [refused] = audit(Event.PROVIDER_SIGN_IN_REFUSED)
    assert refused.reason == "oauth:mismatching_state"


def test_a_code_from_an_earlier_sign_in_is_refused(nhs_identity, cis2_staff, audit):
    """The code of a first attempt, sent back with the state of a second: the provider refuses
    to exchange it (PKCE ties each code to the attempt that asked for it)."""
    client = Client()
    first = code_and_state(sign_in_at_provider(requests.Session(), start(client, "cis2"), CIS2_SUB))
    second = code_and_state(
        sign_in_at_provider(requests.Session(), start(client, "cis2"), CIS2_SUB)
    )
    back = reverse("accounts:provider-return", kwargs={"provider": "cis2"})

    answer = client.get(back, {"code": first["code"], "state": second["state"]})

    assert answer.status_code == 400
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    [refused] = audit(Event.PROVIDER_SIGN_IN_REFUSED)
    assert refused.reason == "oauth:invalid_grant"


def test_an_id_token_with_a_nonce_this_sign_in_did_not_send_is_refused(
    nhs_identity, cis2_staff, audit
):
    """A real ID token whose nonce is not the one kept for this attempt (a token replayed from
    another sign-in would look so): refused, nobody signed in."""
    client = Client()
    authorise = start(client, "cis2")
    back = sign_in_at_provider(requests.Session(), authorise, CIS2_SUB, assurance="3")
    session = client.session
    kept = f"_state_cis2_{code_and_state(back)['state']}"
    session[kept]["data"]["nonce"] = "a-nonce-of-another-sign-in"
    session.save()

    answer = client.get(path_and_query(back))

    assert answer.status_code == 400
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    [refused] = audit(Event.PROVIDER_SIGN_IN_REFUSED)
    assert refused.reason == "invalid_claim:nonce"


def test_a_token_from_another_issuer_is_refused(
    nhs_identity, cis2_staff, audit, settings, service_server, provider_keys, tmp_path
):
    """A second provider, signing with the same keys, at another address: its tokens verify,
    but the service expects the issuer in its settings."""
    with provider_running(
        tmp_path,
        live_origin=service_server.url,
        signing_pem=provider_keys["provider"],
        certificate_key=provider_keys["entra_key"],
    ) as impostor:
        settings.DSR_IDENTITY_PROVIDERS = provider_settings(
            nhs_identity.issuer,
            cis2={"metadata_url": f"{impostor.issuer}/.well-known/openid-configuration"},
        )
        client = Client()
        answer, _ = provider_sign_in(client, "cis2", CIS2_SUB, assurance="3")

    assert answer.status_code == 400
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    [refused] = audit(Event.PROVIDER_SIGN_IN_REFUSED)
    assert refused.reason == "invalid_claim:iss"


# The provider's token endpoint hands back a spoiled ID token (tests/oidc/provider.mjs): the
# person signs in at the provider as ever and comes back to the service's return route, which
# exchanges the code and must refuse the token.


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        # Signed with the provider's own key, for another service (`azp` still names ours, so
        # only the audience check stands in the way).
        ("audience", "invalid_claim:aud"),
        # Signed with the provider's own key, its expiry half an hour gone.
        ("expired", "expired_token:exp"),
        # The provider's claims and key id, signed with a key that is not in its JWKS.
        ("foreign-key", "bad_signature"),
        # The provider's signature, over claims then changed (another subject).
        ("altered", "bad_signature"),
    ],
)
def test_a_spoiled_id_token_from_the_provider_signs_nobody_in(
    nhs_identity, spoiled_id_token, cis2_staff, audit, fault, reason
):
    spoiled_id_token(fault)
    client = Client()

    answer, _ = provider_sign_in(client, "cis2", CIS2_SUB, assurance="3")

    assert answer.status_code == 400
    page = answer.content.decode()
    assert "<h1>Sign in did not work</h1>" in page
    assert "so you have not been signed in" in page
    assert "_auth_user_id" not in client.session
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    assert not ProviderIdentity.objects.exists() and not ProviderSession.objects.exists()
    assert not audit(Event.PROVIDER_SIGN_IN)
    [refused] = audit(Event.PROVIDER_SIGN_IN_REFUSED)
    assert (refused.provider, refused.reason, refused.user_id) == ("cis2", reason, None)
    assert f"test fault: {fault}" in nhs_identity.log.read_text()


def test_after_a_spoiled_token_the_next_sign_in_works(nhs_identity, spoiled_id_token, cis2_staff):
    """The fault spoils one answer only: the same person signing in again is let in (so the
    refusals above are the spoiled token's, not the flow's)."""
    spoiled_id_token("expired")
    assert provider_sign_in(Client(), "cis2", CIS2_SUB, assurance="3")[0].status_code == 400

    client = Client()
    answer, _ = provider_sign_in(client, "cis2", CIS2_SUB, assurance="3")

    assert answer["Location"] == HOME
    assert client.get(HOME).status_code == 200


# --- Sessions: signing out, back-channel logout ---------------------------------------------


def test_signing_out_ends_the_session_and_its_provider_record(nhs_identity, cis2_staff, audit):
    client = Client()
    provider_sign_in(client, "cis2", CIS2_SUB, assurance="3")
    assert ProviderSession.objects.count() == 1

    client.post(reverse("accounts:sign-out"))

    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    assert not ProviderSession.objects.exists()
    assert len(audit(Event.SIGN_OUT)) == 1


@pytest.mark.django_db(transaction=True)  # the provider's call reaches the server's thread
@pytest.mark.parametrize("second_factor_here", [False, True])
def test_back_channel_logout_from_the_provider_ends_the_session(
    nhs_identity, cis2_staff, audit, second_factor_here
):
    """Signing out at the provider: it posts a signed logout token to our back-channel route,
    and the service's session ends (also after the service's own second factor, which changes
    the session key)."""
    client = Client()
    answer, http = provider_sign_in(
        client, "cis2", CIS2_SUB, assurance="1" if second_factor_here else "3"
    )
    if second_factor_here:
        device = cis2_staff.totpdevice_set.get()
        client.post(VERIFY, {"token": f"{totp(device.bin_key, t0=device.t0):06d}"})
    other_session = Client()
    other_session.force_login(cis2_staff)
    assert client.get(HOME).status_code == 200
    assert Session.objects.count() == 2

    end_provider_session(http, nhs_identity.issuer)

    assert _eventually(lambda: not ProviderSession.objects.exists())
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    # A session that did not come through the provider is not the provider's to end.
    assert Session.objects.count() == 1
    [logged_out] = audit(Event.BACK_CHANNEL_LOGOUT)
    assert (logged_out.user_id, logged_out.provider) == (cis2_staff.pk, "cis2")


def _eventually(check, seconds: float = 5.0) -> bool:
    """The provider posts its logout token while it answers the browser; wait for it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_a_forged_logout_token_ends_nothing(nhs_identity, cis2_staff, audit, provider_keys):
    client = Client()
    provider_sign_in(client, "cis2", CIS2_SUB, assurance="3")
    row = ProviderSession.objects.get()
    now = int(time.time())
    claims = {
        "iss": nhs_identity.issuer,
        "aud": "dsr-cis2",
        "iat": now,
        "jti": "forged-1",
        "sid": row.sid,
        "events": {identity_providers.BACK_CHANNEL_EVENT: {}},
    }
    forged = jwt.encode(
        {"alg": "RS256", "typ": "logout+jwt"},
        claims,
        RSAKey.import_key(provider_keys["attacker"].read_bytes()),
    )

    answer = Client().post(
        reverse("accounts:back-channel-logout", kwargs={"provider": "cis2"}),
        {"logout_token": forged},
    )

    assert answer.status_code == 400
    assert client.get(HOME).status_code == 200
    [refused] = audit(Event.BACK_CHANNEL_LOGOUT_REFUSED)
    assert refused.reason.startswith("signature")


def test_the_jwks_route_publishes_the_public_key_only(nhs_identity, provider_keys):
    keys = Client().get(reverse("accounts:jwks")).json()["keys"]

    expected = RSAKey.import_key(provider_keys["service"].read_bytes())
    assert [key["kid"] for key in keys] == [expected.thumbprint()]
    assert {"n", "e"} <= set(keys[0]) and not {"d", "p", "q"} & set(keys[0])


def test_unconfigured_providers_are_not_offered(settings, db):
    settings.DSR_IDENTITY_PROVIDERS = {}
    page = Client().get(reverse("accounts:sign-in")).content.decode()
    assert "Sign in with your NHS identity" not in page
    answer = Client().get(reverse("accounts:provider-start", kwargs={"provider": "cis2"}))
    assert answer.status_code == 404


def test_the_sign_in_page_offers_each_configured_provider(nhs_identity):
    page = Client().get(reverse("accounts:sign-in")).content.decode()
    assert "Sign in with NHS Care Identity (smartcard or authenticator)" in page
    assert "Sign in with NHSmail (Microsoft)" in page


def test_purging_expired_sessions_counts_sessions_and_takes_their_provider_rows(organisations):
    from dsr.tasks import purge_expired_sessions_task
    from tests.conftest import provider_signed_in_client

    user = UserFactory(organisation=organisations["icb"], roles=[Role.REGISTER_STAFF])
    provider_signed_in_client(user, multi_factor=True)
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))

    assert purge_expired_sessions_task() == 1
    assert not ProviderSession.objects.exists()


# --- The rules on their own ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "settings_extra", "claims", "multi_factor"),
    [
        ("cis2", {}, {"authentication_assurance_level": "3"}, True),
        ("cis2", {}, {"authentication_assurance_level": "2"}, True),
        ("cis2", {"min_assurance": 3}, {"authentication_assurance_level": "2"}, False),
        ("cis2", {}, {"authentication_assurance_level": "1"}, False),
        ("cis2", {}, {"authentication_assurance_level": "high"}, False),
        ("cis2", {}, {"amr": ["mfa"]}, False),  # CIS2 is judged by its assurance level only
        ("entra", {}, {"amr": ["pwd", "mfa"]}, True),
        ("entra", {}, {"amr": "mfa"}, False),  # not a list: not the claim as specified
        ("entra", {}, {"amr": ["pwd"], "acrs": ["c1"]}, False),  # c1 not tied to MFA here
        ("entra", {"mfa_acrs": ["c1"]}, {"amr": ["pwd"], "acrs": ["c1"]}, True),
        ("entra", {"mfa_acrs": ["c1"]}, {"acrs": ["c2"]}, False),
        # A v2.0 ID token carries no amr: the authentication context alone tells.
        ("entra", {"mfa_acrs": ["c1"]}, {"acrs": ["c1"]}, True),
        ("entra", {}, {"authentication_assurance_level": "3"}, False),
    ],
)
def test_what_counts_as_multi_factor(settings, kind, settings_extra, claims, multi_factor):
    settings.DSR_IDENTITY_PROVIDERS = provider_settings(
        "https://idp.example", **{kind: settings_extra}
    )
    assert identity_providers.is_multi_factor(provider_named(kind), claims) is multi_factor


def test_an_unverified_cis2_email_address_links_no_account(settings, cis2_staff):
    settings.DSR_IDENTITY_PROVIDERS = provider_settings("https://idp.example")
    claims = {"sub": CIS2_SUB, "email": cis2_staff.email, "email_verified": False}

    with pytest.raises(identity_providers.UnknownIdentity):
        identity_providers.account_for(provider_named("cis2"), claims)
    assert not ProviderIdentity.objects.exists()


def test_an_account_linked_to_one_identity_is_not_taken_by_another(settings, cis2_staff):
    """Once linked, the subject decides: another identity with the same email address (an
    address given to someone else later) does not reach the account."""
    settings.DSR_IDENTITY_PROVIDERS = provider_settings("https://idp.example")
    cis2 = provider_named("cis2")
    user, _, linked_now = identity_providers.account_for(
        cis2, {"sub": CIS2_SUB, "email": cis2_staff.email}
    )
    assert (user, linked_now) == (cis2_staff, True)
    assert identity_providers.account_for(cis2, {"sub": CIS2_SUB, "email": "x@y.example"})[0] == (
        cis2_staff
    )

    with pytest.raises(identity_providers.UnknownIdentity):
        identity_providers.account_for(cis2, {"sub": "another-uid", "email": cis2_staff.email})


@pytest.mark.django_db(transaction=True)
def test_a_logout_token_is_honoured_once(nhs_identity, cis2_staff, audit, provider_keys):
    """A logout token signed with the provider's key (as the provider signs them): it ends the
    session it names; the same token again is refused as a replay."""
    client = Client()
    provider_sign_in(client, "cis2", CIS2_SUB, assurance="3")
    row = ProviderSession.objects.get()
    token = jwt.encode(
        {
            "alg": "RS256",
            "typ": "logout+jwt",
            "kid": RSAKey.import_key(provider_keys["provider"].read_bytes()).thumbprint(),
        },
        {
            "iss": nhs_identity.issuer,
            "aud": "dsr-cis2",
            "iat": int(time.time()),
            "jti": "logout-token-1",
            "sid": row.sid,
            "events": {identity_providers.BACK_CHANNEL_EVENT: {}},
        },
        RSAKey.import_key(provider_keys["provider"].read_bytes()),
    )
    url = reverse("accounts:back-channel-logout", kwargs={"provider": "cis2"})

    assert Client().post(url, {"logout_token": token}).status_code == 200
    assert client.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    again = Client().post(url, {"logout_token": token})

    assert again.status_code == 400
    [refused] = audit(Event.BACK_CHANNEL_LOGOUT_REFUSED)
    assert refused.reason == "replayed"


# --- Administrators: an account's linked identities, and removing one --------------------------


@pytest.fixture
def administrator(organisations):
    """An administrator's account and a verified session (not every persona: only this one)."""
    from tests.conftest import make_persona, signed_in_client

    user = make_persona("administrator", organisations)
    return user, signed_in_client(user)


def _change_page(user) -> str:
    return reverse("admin:dsr_user_change", args=[user.pk])


def _remove_page(link: ProviderIdentity) -> str:
    return reverse("admin:dsr_user_identity_remove", args=[link.user_id, link.pk])


def test_an_administrator_sees_the_identities_linked_to_an_account(
    nhs_identity, cis2_staff, administrator, django_assert_max_num_queries
):
    provider_sign_in(Client(), "cis2", CIS2_SUB, assurance="3")
    link = ProviderIdentity.objects.get(user=cis2_staff)
    _, admin = administrator

    with django_assert_max_num_queries(14):
        page = admin.get(_change_page(cis2_staff))

    assert page.status_code == 200
    text = page.content.decode()
    assert "Linked NHS identities" in text
    assert "NHS Care Identity (smartcard or authenticator)" in text
    # The subject shortened, never whole.
    assert "cis2…1001" in text and CIS2_SUB not in text
    assert timezone.localtime(link.linked_at).strftime("%-d %B %Y") in text
    assert link.last_used_at is not None
    assert _remove_page(link) in text


def test_an_account_without_a_linked_identity_says_so(administrator, entra_staff):
    page = administrator[1].get(_change_page(entra_staff))
    assert "None. This account has not signed in with an NHS identity." in page.content.decode()


def test_removing_a_link_signs_its_sessions_out_and_the_identity_is_then_unknown(
    nhs_identity, cis2_staff, administrator, audit, django_assert_max_num_queries
):
    signed_in, _ = provider_sign_in(Client(), "cis2", CIS2_SUB, assurance="3")
    staff = Client()
    provider_sign_in(staff, "cis2", CIS2_SUB, assurance="3")
    assert staff.get(HOME).status_code == 200
    link = ProviderIdentity.objects.get(user=cis2_staff)
    admin_user, admin = administrator

    with django_assert_max_num_queries(10):
        confirm = admin.get(_remove_page(link))
    assert confirm.status_code == 200
    assert "Yes, remove the NHS Care Identity (smartcard or authenticator) link" in (
        confirm.content.decode()
    )
    link.refresh_from_db()
    assert link.removed_at is None  # the page alone changes nothing

    answer = admin.post(_remove_page(link))

    assert answer.status_code == 302 and answer["Location"] == _change_page(cis2_staff)
    assert "The NHS Care Identity (smartcard or authenticator) link was removed" in (
        admin.get(answer["Location"]).content.decode()
    )
    [removed] = audit(Event.PROVIDER_IDENTITY_REMOVED)
    assert (removed.user_id, removed.account_id, removed.provider, removed.sessions_ended) == (
        admin_user.pk,
        cis2_staff.pk,
        "cis2",
        2,
    )
    # The sessions signed in through the identity end.
    assert staff.get(HOME)["Location"].startswith(reverse("accounts:sign-in"))
    # The same identity, with the account's email address still, is not linked again.
    again, _ = provider_sign_in(Client(), "cis2", CIS2_SUB, assurance="3")
    assert again.status_code == 403
    assert "You do not have an account for the register" in again.content.decode()
    [unknown] = audit(Event.PROVIDER_UNKNOWN_IDENTITY)
    assert unknown.reason == "link removed by an administrator"
    assert ProviderIdentity.objects.filter(user=cis2_staff).count() == 1
    assert not audit(Event.PROVIDER_SIGN_IN)[2:]
    # The account's page no longer lists it, and its removal page is gone.
    assert "cis2…1001" not in admin.get(_change_page(cis2_staff)).content.decode()
    assert admin.get(_remove_page(link)).status_code == 404


def test_after_a_removal_another_identity_with_the_accounts_address_may_link(settings, cis2_staff):
    settings.DSR_IDENTITY_PROVIDERS = provider_settings("https://idp.example")
    cis2 = provider_named("cis2")
    _, link, _ = identity_providers.account_for(cis2, {"sub": CIS2_SUB, "email": cis2_staff.email})
    identity_providers.identity_remove(link)

    user, other, linked_now = identity_providers.account_for(
        cis2, {"sub": "cis2-uid-new", "email": cis2_staff.email}
    )

    assert (user, other.subject, linked_now) == (cis2_staff, "cis2-uid-new", True)


def test_removing_a_link_needs_the_forms_csrf_token(nhs_identity, cis2_staff, administrator, audit):
    from tests.security.support import client_like

    provider_sign_in(Client(), "cis2", CIS2_SUB, assurance="3")
    link = ProviderIdentity.objects.get(user=cis2_staff)
    admin = client_like(administrator[1], enforce_csrf_checks=True)

    assert admin.post(_remove_page(link)).status_code == 403

    link.refresh_from_db()
    assert link.removed_at is None
    assert not audit(Event.PROVIDER_IDENTITY_REMOVED)
