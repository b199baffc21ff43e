"""One sweep of the route matrix for every test that checks a property of its answers.

The route matrix (tests/test_route_matrix.py), the security headers
(tests/test_security_headers.py), HSTS and no-store (test_headers_on_every_route.py), the cookie
flags and the writes of GETs (test_cookies_and_csrf.py) each need the answer of every route to
some personas. Asking the service the same questions five times took minutes; the `route_sweep`
fixture (tests/conftest.py) asks them once per test run, notes what each of those tests checks
about each answer, and each test asserts on the notes. The sweep's people and objects are made as
the fixtures make them, in a transaction rolled back before any test runs: nothing it writes
outlives it.
"""

from dataclasses import dataclass, field
from http.cookies import Morsel

from django.db import transaction
from django.test import Client

from tests.conftest import ALL_PERSONAS, SENTINEL
from tests.dbstate import REQUEST_BOOKKEEPING, changed_tables, table_state

# Tables a request may write whatever its method or outcome: the session row, saved on every
# response to renew the idle timeout (SESSION_SAVE_EVERY_REQUEST, RELIABILITY B-7), a refused
# one included.
ALWAYS_WRITTEN = REQUEST_BOOKKEEPING
# ... and those a GET may write on top: no others (axes writes only on sign-in and sign-out,
# which are POSTs).
WRITTEN_BY_READS = ALWAYS_WRITTEN | {
    # The access log records who read which person's record or downloaded which export: reading
    # is the event it exists to record (DSPT; ASVS v5.0.0-16.3.2).
    "dsr_accessevent",
    # Each use of a partner's link to their action, opening its page included, is an audited
    # row (ACCESS.md "Action owner by link"): the same kind of record.
    "reviews_actionlinkuse",
}


@dataclass
class Answer:
    """What the tests check about one response: its status, where a redirect goes, its headers,
    the cookies it sets, and whether a refusal carried a person's name."""

    status: int
    outcome: int | str
    headers: dict[str, str]
    cookies: list[tuple[str, Morsel]]
    leaks_sentinel: bool

    def get(self, header: str, default=None):
        return self.headers.get(header.lower(), default)

    def __contains__(self, header: str) -> bool:
        return header.lower() in self.headers


@dataclass
class Sweep:
    # (route, persona) -> the answer to a GET over HTTPS, for every persona of ALL_PERSONAS.
    gets: dict[tuple[str, str], Answer] = field(default_factory=dict)
    # (route, persona) -> the answer to the row's own request (its method and body), over HTTPS,
    # for every persona and the BI tool's client ("api_client"): the route matrix's cells.
    cells: dict[tuple[str, str], Answer] = field(default_factory=dict)
    # route -> the tables the GETs of the personas the route lets through changed (beyond
    # WRITTEN_BY_READS), and how many such GETs were made.
    writes: dict[str, list[str]] = field(default_factory=dict)
    allowed_gets: int = 0


def _answer(response) -> Answer:
    from tests.test_route_matrix import _outcome

    return Answer(
        status=response.status_code,
        outcome=_outcome(response),
        headers={name.lower(): value for name, value in response.items()},
        cookies=list(response.cookies.items()),
        leaks_sentinel=response.status_code >= 300 and SENTINEL.encode() in response.content,
    )


def sweep_routes(clients: dict[str, Client], objects: dict) -> Sweep:
    """Ask every route of the matrix as every persona (see Sweep). Per route: first the GETs of
    the personas it lets through, between two snapshots of the database, then everyone else,
    then (for a route the matrix asks with another method or body) the matrix's own request."""
    from tests.security.support import allowed_personas
    from tests.test_route_matrix import MATRIX

    sweep = Sweep()
    for name, row in MATRIX.items():
        url = row.url(name, objects)
        plain_get = row.method == "get" and not row.request
        allowed = allowed_personas(row)
        before = table_state(WRITTEN_BY_READS)
        for persona in allowed:
            sweep.gets[name, persona] = _answer(clients[persona].get(url, secure=True))
        sweep.allowed_gets += len(allowed)
        sweep.writes[name] = changed_tables(before, table_state(WRITTEN_BY_READS))
        for persona in ALL_PERSONAS:
            if persona not in allowed:
                sweep.gets[name, persona] = _answer(clients[persona].get(url, secure=True))
        for persona in [*ALL_PERSONAS, "api_client"]:
            if plain_get and persona != "api_client":
                sweep.cells[name, persona] = sweep.gets[name, persona]
            else:
                call = getattr(clients[persona], row.method)
                sweep.cells[name, persona] = _answer(call(url, secure=True, **row.request))
    return sweep


def run_sweep() -> Sweep:
    """Make the sweep's personas and objects, sweep, and roll every write back. The caller
    gives database access (pytest-django's django_db_blocker) and the settings."""
    from tests import conftest

    with transaction.atomic():
        areas = conftest.build_areas()
        organisations = conftest.build_organisations(areas)
        personas = conftest.build_personas(organisations)
        objects = conftest.build_matrix_objects(
            personas, conftest.build_register_objects(organisations, areas)
        )
        clients = {
            **personas["clients"],
            # A BI tool's client: a read feed token, no session.
            "api_client": Client(HTTP_AUTHORIZATION=f"Bearer {objects['api_secret']}"),
        }
        sweep = sweep_routes(clients, objects)
        transaction.set_rollback(True)
    return sweep
