"""A-2, for writes: every persona the route matrix refuses a route is refused a POST to it too,
in the same way (or with 405 where the route takes no POST), and none of those refused POSTs
changes a single row anywhere in the database."""

import pytest

from tests.conftest import ALL_PERSONAS
from tests.dbstate import changed_tables, table_state
from tests.figures import record
from tests.test_route_matrix import MATRIX, SIGN_IN, VERIFY, _outcome

REFUSALS = {SIGN_IN, VERIFY, 403, 404}


@pytest.mark.django_db
def test_refused_personas_are_refused_a_post_too_and_nothing_is_written(personas, matrix_objects):
    before = table_state()
    wrong = []
    cells = 0
    for name, row in MATRIX.items():
        url = row.url(name, matrix_objects)
        for persona in ALL_PERSONAS:
            expected = row.expect[persona]
            if expected not in REFUSALS:
                continue
            response = personas["clients"][persona].post(url, {"note": "x", "confirm": "yes"})
            cells += 1
            got = _outcome(response)
            # A page that takes no POST refuses the method first: that is a refusal too, but
            # only for signed-in users with a second factor (the others are sent to sign in).
            if got != expected and not (expected in (403, 404) and got == 405):
                wrong.append(f"{name} as {persona}: expected {expected}, got {got}")
    changed = changed_tables(before, table_state())
    assert wrong == []
    assert changed == []
    record("A-2 refused POST cells (tables changed)", f"{cells} ({len(changed)})")


@pytest.mark.django_db
def test_the_fingerprint_notices_a_new_row_and_a_changed_value(areas):
    before = table_state()
    areas["north"].name = "Renamed"
    areas["north"].save()
    # The row and its history.
    assert changed_tables(before, table_state()) == [
        "dsr_historicallocalauthority",
        "dsr_localauthority",
    ]
