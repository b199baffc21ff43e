"""Signing in through an NHS identity provider: NHS CIS2 or the ICB's Microsoft Entra ID.

OpenID Connect, authorisation code flow, through Authlib's Django client
(`authlib.integrations.django_client`): it keeps the state, nonce and PKCE verifier in the
session, exchanges the code and checks the ID token's signature (the provider's published keys),
issuer, audience, expiry and nonce. Each provider is configured by settings
(settings.DSR_IDENTITY_PROVIDERS, built from the environment; the README says how an ICB
registers the service):

- CIS2 authenticates the service with `private_key_jwt`: an assertion signed with our private
  key, whose public half the provider reads from our JWKS route (`jwks`).
- Entra ID takes a client secret, or a certificate (`private_key_jwt` again, with the
  certificate's thumbprint in the header).

The service's accounts stay its own (ACCESS.md): an identity maps only to an active account that
already exists, by a link made at its first sign-in (the provider's verified email address
matching the account's), after which the subject alone decides. Nobody gets an account, a role or
an area from a provider. A provider sign-in counts as the second factor only when the provider
recorded a multi-factor authentication (`is_multi_factor`); otherwise the service's own second
factor is asked, as after a password.
"""

import base64
import hashlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from authlib.integrations.django_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry
from requests import RequestException

from dsr.models import ProviderIdentity, ProviderSession, User
from dsr.security.sessions import session_end

logger = logging.getLogger(__name__)

CIS2 = "cis2"
ENTRA = "entra"
KINDS = (CIS2, ENTRA)
# Clock difference allowed when checking an ID token's times (Authlib's default is 120 s).
LEEWAY_SECONDS = 60
BACK_CHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token older than this is refused; its `jti` is remembered this long against replay.
LOGOUT_TOKEN_MAX_AGE = 300


@dataclass(frozen=True)
class ProviderConfig:
    """One provider as settings.DSR_IDENTITY_PROVIDERS describes it."""

    name: str
    kind: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = ""
    # Entra ID with a certificate instead of a secret: the certificate and its private key.
    certificate_file: str = ""
    private_key_file: str = ""
    metadata_url: str = ""
    scope: str = "openid email profile"
    # CIS2: the lowest `authentication_assurance_level` counted as multi-factor (CIS2_AAL_CLAIM).
    min_assurance: int = 2
    # Entra ID: authentication contexts (`acrs`, ids "c1" to "c99") the ICB's conditional access
    # ties to multi-factor (ENTRA_ACRS_CLAIM).
    mfa_acrs: tuple[str, ...] = ()

    @property
    def discovery_url(self) -> str:
        return self.metadata_url or f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @property
    def uses_private_key(self) -> bool:
        return self.kind == CIS2 or bool(self.certificate_file)


def providers() -> dict[str, ProviderConfig]:
    """The configured providers, by name (the name is in their URLs)."""
    found = {}
    for name, values in (settings.DSR_IDENTITY_PROVIDERS or {}).items():
        values = dict(values)
        values["mfa_acrs"] = tuple(values.get("mfa_acrs", ()))
        found[name] = ProviderConfig(name=name, **values)
    return found


def provider_named(name: str) -> ProviderConfig | None:
    return providers().get(name)


# --- The service's own keys (private_key_jwt) ------------------------------------------------


@lru_cache(maxsize=8)
def _load_key(path: str) -> RSAKey:
    key = RSAKey.import_key(Path(path).read_bytes())
    return RSAKey.import_key(key.as_dict(private=True), {"kid": key.thumbprint(), "use": "sig"})


def signing_keys() -> list[RSAKey]:
    """The service's private keys for client assertions: the first signs; all are published,
    so that a new key can be published before it signs (key rollover)."""
    return [_load_key(str(path)) for path in settings.DSR_OIDC_SIGNING_KEY_FILES]


def public_jwks() -> dict[str, Any]:
    keys = []
    for key in signing_keys():
        public = key.as_dict(private=False)
        public["alg"] = "RS256"
        keys.append(public)
    return {"keys": keys}


def _certificate_thumbprints(path: str) -> dict[str, str]:
    der = x509.load_pem_x509_certificate(Path(path).read_bytes()).public_bytes(
        serialization.Encoding.DER
    )

    def b64(digest: bytes) -> str:
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    # Entra ID reads x5t (SHA-1, as Microsoft documents it) or x5t#S256.
    return {
        "x5t": b64(hashlib.sha1(der, usedforsecurity=False).digest()),
        "x5t#S256": b64(hashlib.sha256(der).digest()),
    }


# --- Authlib clients ----------------------------------------------------------------------------


def _client_settings(config: ProviderConfig) -> dict[str, Any]:
    client_kwargs: dict[str, Any] = {"scope": config.scope, "code_challenge_method": "S256"}
    options: dict[str, Any] = {
        "client_id": config.client_id,
        "server_metadata_url": config.discovery_url,
        "client_kwargs": client_kwargs,
    }
    if config.uses_private_key:
        if config.certificate_file:
            key = _load_key(config.private_key_file)
            headers = {"kid": key.kid, **_certificate_thumbprints(config.certificate_file)}
        else:
            # settings refuse CIS2 without a key; a client made without one signs nothing.
            keys = signing_keys()
            key = keys[0] if keys else None
            headers = {"kid": key.kid} if key else {}
        client_kwargs["token_endpoint_auth_method"] = "private_key_jwt"  # noqa: S105
        options["client_secret"] = key
        options["client_auth_methods"] = [PrivateKeyJWT(headers=headers, alg="RS256")]
    else:
        client_kwargs["token_endpoint_auth_method"] = "client_secret_post"  # noqa: S105
        options["client_secret"] = config.client_secret
    return options


@lru_cache(maxsize=16)
def _client_for(config: ProviderConfig):
    """One Authlib client per configuration, kept so that the provider's metadata and keys are
    fetched once (Authlib fetches the keys again when a token names a key it has not seen)."""
    registry = OAuth()
    return registry.register(name=config.name, **_client_settings(config))


def client_for(config: ProviderConfig):
    return _client_for(config)


def claims_options(config: ProviderConfig) -> dict[str, Any]:
    """What the ID token must say besides its signature, expiry and nonce (which Authlib checks
    itself): issued by the issuer in settings, whatever the discovery document says, to us."""
    return {
        "iss": {"essential": True, "values": [config.issuer]},
        "aud": {"essential": True, "values": [config.client_id]},
    }


# --- Multi-factor ---------------------------------------------------------------------------

# CIS2 puts the authenticator's assurance level in the ID token (openid scope) as a number in a
# string, "2" (AAL2, "high confidence") or "3" (AAL3, "very high confidence": smartcard), beside
# `acr` ("AAL3_ANY", "AAL2_OR_AAL3_ANY") and `amr` ("N3_SMARTCARD", ...). Every CIS2
# authenticator is multi-factor, at AAL2 or AAL3:
# https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/acr-values
# https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers/detailed-guidance/scopes-and-claims
# (NHS England's own stand-in for CIS2 shows the claims' form: github.com/NHSDigital/
# eps-prescription-tracker-ui, packages/cognito/src/tokenMock.ts: "authentication_assurance_level":
# "3", "acr": "AAL3_ANY", "amr": ["N3_SMARTCARD"].)
CIS2_AAL_CLAIM = "authentication_assurance_level"
# Entra ID: `amr`, a list of methods (RFC 8176), "mfa" when a second factor was used; Microsoft
# emits it in v1.0 tokens only, not in v2.0 ID tokens:
# https://learn.microsoft.com/en-us/answers/questions/953276/is-there-an-option-to-add-an-optional-oidc-claim-a
# `acrs`, a list of the conditional access authentication context ids ("c1" to "c99") the
# sign-in satisfied, added under the app's "Token configuration" (README):
# https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
ENTRA_AMR_CLAIM = "amr"
ENTRA_MFA_METHOD = "mfa"
ENTRA_ACRS_CLAIM = "acrs"


def is_multi_factor(config: ProviderConfig, claims: dict[str, Any]) -> bool:
    """Whether the provider recorded a multi-factor authentication. A missing, unreadable or
    weaker claim is not: the service then asks for its own second factor.

    CIS2: `authentication_assurance_level` at least `min_assurance` (AAL2 and AAL3
    authenticators are multi-factor). Entra ID: "mfa" among the `amr` methods, or an
    authentication context the ICB ties to multi-factor among `acrs`. The claims' names and
    values, and where they are documented, are beside CIS2_AAL_CLAIM above.
    """
    if config.kind == CIS2:
        try:
            level = int(str(claims.get(CIS2_AAL_CLAIM, "")).strip())
        except ValueError:
            return False
        return level >= config.min_assurance
    methods = claims.get(ENTRA_AMR_CLAIM)
    if isinstance(methods, list) and ENTRA_MFA_METHOD in methods:
        return True
    contexts = claims.get(ENTRA_ACRS_CLAIM)
    if isinstance(contexts, str):
        contexts = [contexts]
    if isinstance(contexts, list) and config.mfa_acrs:
        return any(context in config.mfa_acrs for context in contexts)
    return False


# --- Accounts -----------------------------------------------------------------------------------


class UnknownIdentity(Exception):
    """No active account for this identity: nobody is given one."""


def _email_of(config: ProviderConfig, claims: dict[str, Any]) -> str:
    if config.kind == CIS2:
        email = claims.get("email") if claims.get("email_verified", True) else None
    else:
        # Entra ID's single-tenant address: `email`, or the sign-in name.
        email = claims.get("email") or claims.get("preferred_username")
    return email.strip() if isinstance(email, str) else ""


def account_for(
    config: ProviderConfig, claims: dict[str, Any]
) -> tuple[User, ProviderIdentity, bool]:
    """The active account this identity signs in to, its link, and whether the link was made
    now; raises UnknownIdentity.

    Linked already: the subject decides. Not yet: an active account with the identity's email
    address, not linked to another identity of this provider, is linked now (one audited row).
    """
    subject = str(claims.get("sub") or "")
    if not subject:
        raise UnknownIdentity("no subject")
    link = (
        ProviderIdentity.objects.select_related("user")
        .filter(provider=config.name, subject=subject)
        .first()
    )
    if link is not None:
        if link.removed_at is not None:
            raise UnknownIdentity("link removed by an administrator")
        if not link.user.is_active:
            raise UnknownIdentity("account switched off")
        return link.user, link, False
    email = _email_of(config, claims)
    user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
    if user is None:
        raise UnknownIdentity("no account with this identity's email address")
    with transaction.atomic():
        linked = ProviderIdentity.objects.filter(
            provider=config.name, user=user, removed_at__isnull=True
        )
        if linked.exists():
            raise UnknownIdentity("the account is linked to another identity")
        link = ProviderIdentity.objects.create(
            user=user, provider=config.name, subject=subject, name=config.label[:64]
        )
    return user, link, True


def identity_used(link: ProviderIdentity) -> None:
    """Note a sign-in through the link (its "last used" on the account's admin page), without a
    history row each time."""
    ProviderIdentity.objects.filter(pk=link.pk).update(last_used_at=timezone.now())


def identity_remove(link: ProviderIdentity) -> int:
    """An administrator removes an account's link to a provider identity: the identity is
    unknown from now on (not linked again by its email address), it no longer verifies a
    session, and the sessions signed in through it end. Returns how many sessions ended."""
    with transaction.atomic():
        link.removed_at = timezone.now()
        link.confirmed = False
        link.save(update_fields=["removed_at", "confirmed"])
        rows = ProviderSession.objects.filter(provider=link.provider, subject=link.subject)
        session_keys = list(rows.values_list("session_id", flat=True))
        for key in session_keys:
            session_end(key)
    return len(session_keys)


# --- Sessions and back-channel logout -----------------------------------------------------------


# The provider a session signed in through, and its subject and session id there.
SESSION_KEY = "dsr_identity_provider"


def session_record(request, config: ProviderConfig | None = None, claims=None) -> None:
    """Note the signed-in session under the provider's session id and subject, so that the
    provider's back-channel logout can end it. Called at sign-in with the ID token's claims, and
    again with neither whenever the session's key changes (the second-factor step)."""
    if config is not None:
        request.session[SESSION_KEY] = {
            "provider": config.name,
            "sub": str(claims["sub"]),
            "sid": str(claims.get("sid") or ""),
        }
    noted = request.session.get(SESSION_KEY)
    if not isinstance(noted, dict):
        return
    if request.session.session_key is None:
        request.session.save()
    ProviderSession.objects.update_or_create(
        session_id=request.session.session_key,
        defaults={"provider": noted["provider"], "subject": noted["sub"], "sid": noted["sid"]},
    )


class LogoutTokenRefused(Exception):
    pass


def logout_token_claims(config: ProviderConfig, logout_token: str) -> dict[str, Any]:
    """Check a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, 2.6): signed by
    the provider, from its issuer, to us, recent, a logout event, naming a session or subject,
    without a nonce, and not seen before."""
    if not logout_token:
        raise LogoutTokenRefused("no logout token")
    client = client_for(config)
    try:
        metadata = client.load_server_metadata()
    except (RequestException, ValueError) as error:
        raise LogoutTokenRefused(f"provider unreachable: {error}") from error
    registry = JWSRegistry(algorithms=metadata.get("id_token_signing_alg_values_supported"))
    try:
        try:
            token = jwt.decode(
                logout_token, KeySet.import_key_set(client.fetch_jwk_set()), registry=registry
            )
        except JoseError:
            # Perhaps a key the provider has started to use since we fetched its keys.
            token = jwt.decode(
                logout_token,
                KeySet.import_key_set(client.fetch_jwk_set(force=True)),
                registry=registry,
            )
    except (JoseError, ValueError, RequestException) as error:
        raise LogoutTokenRefused(f"signature: {error}") from error
    claims = token.claims
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    now = time.time()
    checks = {
        "issuer": claims.get("iss") == config.issuer,
        "audience": config.client_id in audiences,
        "issued": isinstance(claims.get("iat"), int | float)
        and now - LOGOUT_TOKEN_MAX_AGE - LEEWAY_SECONDS <= claims["iat"] <= now + LEEWAY_SECONDS,
        "event": isinstance(claims.get("events"), dict) and BACK_CHANNEL_EVENT in claims["events"],
        "session": bool(claims.get("sid") or claims.get("sub")),
        "nonce": "nonce" not in claims,
        "jti": isinstance(claims.get("jti"), str) and bool(claims["jti"]),
    }
    failed = [name for name, passed in checks.items() if not passed]
    if failed:
        raise LogoutTokenRefused(", ".join(failed))
    seen = f"dsr:logout-token:{config.name}:{hashlib.sha256(claims['jti'].encode()).hexdigest()}"
    if not cache.add(seen, 1, timeout=LOGOUT_TOKEN_MAX_AGE + 2 * LEEWAY_SECONDS):
        raise LogoutTokenRefused("replayed")
    return claims


def sessions_end(config: ProviderConfig, claims: dict[str, Any]) -> list[int]:
    """End the service's sessions a logout token names: by the provider's session id when it
    gives one, otherwise every session of its subject. Returns the accounts signed out."""
    rows = ProviderSession.objects.filter(provider=config.name)
    rows = rows.filter(sid=claims["sid"]) if claims.get("sid") else rows
    rows = rows.filter(subject=claims["sub"]) if claims.get("sub") else rows
    ended = []
    for row in rows.select_related("session"):
        user_id = row.session.get_decoded().get("_auth_user_id")
        session_end(row.session_id)
        ended.append(int(user_id) if user_id else None)
    return ended
