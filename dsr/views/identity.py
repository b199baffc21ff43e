"""Signing in through an NHS identity provider (CIS2, Entra ID), its back-channel logout, and
the service's public keys for `private_key_jwt` (dsr.accounts.identity_providers).

The sign-in ends where the password step ends: the account is signed in, and the second-factor
check (dsr.views.accounts.verify) comes next unless the provider recorded a multi-factor
authentication, in which case the session is verified with the account's provider identity.
Everything after that (session timeouts, the access rules, signing out, switching an account
off) is the service's own, as for a password sign-in.
"""

import logging

from authlib.integrations.base_client import OAuthError
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_otp import login as otp_login
from joserfc.errors import ClaimError, JoseError
from requests import RequestException

from dsr.accounts.identity_providers import (
    LEEWAY_SECONDS,
    LogoutTokenRefused,
    ProviderConfig,
    UnknownIdentity,
    account_for,
    claims_options,
    client_for,
    identity_used,
    is_multi_factor,
    logout_token_claims,
    provider_named,
    public_jwks,
    session_record,
    sessions_end,
)
from dsr.security.access import public
from dsr.security.audit import Event, record_event
from dsr.views.accounts import _next_url, _with_next

logger = logging.getLogger(__name__)

# Where to go after the provider sends the person back (the `next` of the sign-in page).
NEXT_KEY = "dsr_provider_next"
BACKEND = "dsr.security.signed_in.KeptUserBackend"


def _provider(name: str) -> ProviderConfig:
    config = provider_named(name)
    if config is None:
        raise Http404
    return config


@public
@require_GET
def provider_start(request: HttpRequest, provider: str) -> HttpResponse:
    """Send the person to the provider, with a fresh state, nonce and PKCE verifier kept in the
    session. A link, not a form: the page's Content-Security-Policy (form-action 'self') would
    stop a form's redirect to the provider."""
    config = _provider(provider)
    request.session[NEXT_KEY] = _next_url(request)
    redirect_uri = request.build_absolute_uri(
        reverse("accounts:provider-return", kwargs={"provider": config.name})
    )
    try:
        return client_for(config).authorize_redirect(request, redirect_uri)
    except (RequestException, ValueError, KeyError, RuntimeError) as error:
        logger.warning("identity provider %s unreachable: %s", config.name, error)
        return _refused(request, config, "provider_unreachable", status=503)


def _reason(error: Exception) -> str:
    """A short name for why a provider's answer was refused, for the audit record."""
    if isinstance(error, ClaimError):
        return f"{error.error}:{error.claim}"
    if isinstance(error, JoseError):
        return error.error
    if isinstance(error, OAuthError):
        return f"oauth:{error.error}"
    return type(error).__name__


def _refused(
    request: HttpRequest, config: ProviderConfig, reason: str, *, status: int = 400
) -> HttpResponse:
    record_event(
        Event.PROVIDER_SIGN_IN_REFUSED, request, user_id=None, provider=config.name, reason=reason
    )
    context = {"provider": config, "unreachable": reason == "provider_unreachable"}
    return render(request, "accounts/provider_refused.html", context, status=status)


@public
@require_GET
def provider_return(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider sends the person back here with a code: Authlib checks the state, exchanges
    the code and checks the ID token; the identity must be an account's."""
    config = _provider(provider)
    try:
        token = client_for(config).authorize_access_token(
            request, claims_options=claims_options(config), leeway=LEEWAY_SECONDS
        )
    except (OAuthError, JoseError) as error:
        return _refused(request, config, _reason(error))
    except (RequestException, ValueError, KeyError, RuntimeError) as error:
        logger.warning("identity provider %s answer refused: %s", config.name, error)
        return _refused(request, config, "provider_unreachable", status=503)
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        return _refused(request, config, "no_id_token")
    try:
        user, identity, linked_now = account_for(config, claims)
    except UnknownIdentity as error:
        record_event(
            Event.PROVIDER_UNKNOWN_IDENTITY,
            request,
            user_id=None,
            provider=config.name,
            reason=str(error),
        )
        return render(request, "accounts/provider_unknown.html", {"provider": config}, status=403)
    if linked_now:
        record_event(Event.PROVIDER_IDENTITY_LINKED, request, user_id=user.pk, provider=config.name)
    identity_used(identity)

    next_url = request.session.pop(NEXT_KEY, None) or reverse("dsr:home")
    login(request, user, backend=BACKEND)
    multi_factor = is_multi_factor(config, claims)
    if multi_factor:
        otp_login(request, identity)
    session_record(request, config, claims)
    record_event(
        Event.PROVIDER_SIGN_IN,
        request,
        user_id=user.pk,
        provider=config.name,
        multi_factor=multi_factor,
    )
    if multi_factor:
        return redirect(next_url)
    return redirect(_with_next("accounts:verify", next_url))


@public
@require_GET
@cache_control(max_age=300, public=True)
def jwks(request: HttpRequest) -> JsonResponse:
    """The public halves of the service's signing keys, read by CIS2 to check our client
    assertions (private_key_jwt)."""
    return JsonResponse(public_jwks())


@public
@csrf_exempt  # called by the provider, server to server, with a signed logout token
@require_POST
@cache_control(no_store=True)
def back_channel_logout(request: HttpRequest, provider: str) -> HttpResponse:
    """OpenID Connect Back-Channel Logout: the provider says a session of its ended; the
    service's sessions signed in through it end too."""
    config = _provider(provider)
    try:
        claims = logout_token_claims(config, request.POST.get("logout_token", ""))
    except LogoutTokenRefused as error:
        record_event(
            Event.BACK_CHANNEL_LOGOUT_REFUSED,
            request,
            user_id=None,
            provider=config.name,
            reason=str(error)[:200],
        )
        return JsonResponse({"error": "invalid_request"}, status=400)
    for user_id in sessions_end(config, claims):
        record_event(Event.BACK_CHANNEL_LOGOUT, request, user_id=user_id, provider=config.name)
    return HttpResponse(status=200)
