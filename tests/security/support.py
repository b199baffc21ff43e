"""What the security tests share: which personas to ask for each route of the route matrix,
and clients that carry a persona's session with other options."""

from django.test import Client

from tests.conftest import ALL_PERSONAS, ROLE_PERSONAS
from tests.test_route_matrix import SIGN_IN, VERIFY, Row

# Answers that stop a request before its view runs.
REFUSED = {SIGN_IN, VERIFY, 403, 404}


def allowed_personas(row: Row) -> list[str]:
    """The personas the row lets through to its view, in the matrix's persona order."""
    return [persona for persona in ALL_PERSONAS if row.expect[persona] not in REFUSED]


def sweep_personas(row: Row) -> list[str]:
    """Everyone the view answers, plus an anonymous visitor, a password-only session and the
    first role the row refuses: every kind of response the route gives."""
    refused = [persona for persona in ROLE_PERSONAS if row.expect[persona] in (403, 404)]
    chosen = allowed_personas(row) + ["anonymous", "password_only"] + refused[:1]
    return list(dict.fromkeys(chosen))


def client_like(client: Client, **options) -> Client:
    """A new client holding a copy of `client`'s cookies (so its session), with `options`."""
    copy = Client(**options)
    for name, morsel in client.cookies.items():
        copy.cookies[name] = morsel.value
    return copy
