"""Who calls the read feed: a bearer token an administrator issued, looked up by its digest.

A usable token (not withdrawn, not expired) makes the call act as a `TokenHolder`: for the
reports' queries, which ask only for the caller's scope, it is a planning commissioner of the
token's organisation; it holds no other permission and has no session, so no other page of the
service accepts it. A withdrawn or expired token is refused at once, with a reason the BI tool
can show.
"""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from dsr import tokens
from reports.models import ApiToken

REPORTS = "dsr.view_reports"
TOKEN_START = "dsr_"  # noqa: S105  (how every token starts, not a token)
# Characters of a token kept to tell it apart (after TOKEN_START); the rest is never stored.
PREFIX_LENGTH = 8


def new_token() -> tuple[str, str, str]:
    """A new token (dsr.tokens: only its digest is stored), its prefix and its digest."""
    token, digest = tokens.new_token(TOKEN_START)
    return token, token[len(TOKEN_START) : len(TOKEN_START) + PREFIX_LENGTH], digest


class TokenHolder:
    """A call made with a usable token."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.organisation_id = token.organisation_id

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return perm == REPORTS


def token_of(request: HttpRequest) -> ApiToken | None:
    """The known token a call carried, usable or not (for its log row), or None."""
    return getattr(request, "dsr_api_token", None)


class BearerToken(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`. No header: not authenticated (401 from the permission)."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[TokenHolder, ApiToken] | None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        given = given.strip()
        if not given:
            raise exceptions.AuthenticationFailed("The token is missing.")
        token = tokens.find(ApiToken.objects.select_related(None), given, field="digest")
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not one this service issued.")
        request._request.dsr_api_token = token
        if token.withdrawn_at is not None:
            raise exceptions.AuthenticationFailed("The token has been withdrawn.")
        if token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("The token has expired.")
        return TokenHolder(token), token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class HoldsToken(permissions.BasePermission):
    """Only a call with a usable token; never a signed-in browser session."""

    message = "A token is needed: ask an administrator of the service for one."

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, TokenHolder)
