"""A property of the dry run (issue 24, "Must show"): any row it accepts imports as it said,
and any row it refuses writes nothing; importing the same rows again changes nothing."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dsr import imports
from dsr.imports import mapping
from dsr.imports.run import run, start
from dsr.models import Consent, LocalAuthority, Person, PersonContact, Rating, RegisterEntry
from tests.dsr.imports.conftest import row, xlsx
from tests.dsr.imports.flow import CHOICES, CONSTANTS

pytestmark = pytest.mark.django_db


def _mostly(valid: list[str], wrong: list[str]) -> st.SearchStrategy[str]:
    """Valid values most of the time, so rows are often accepted and often not."""
    return st.sampled_from(valid * 6 + wrong)


NHS = _mostly(["9434765919", "943 476 5919", "9990786666", ""], ["9434765918", "12345", "=1+1"])
NAMES = _mostly(["Ada", "Mary-Jane", "O'Neil", "Zoë"], ["", "R2D2", '=HYPERLINK("x")'])
DATES = _mostly(
    ["10/12/1990", "1.5.2015", "2001-02-03", "1 May 2010", "45000"],
    ["31/02/2000", "01/01/90", ""],
)
PAST = _mostly(["01/05/2025", "01/06/2025", "2024-12-30"], ["", "01/01/2090", "nonsense"])
RATINGS = _mostly(["R", "Red", "AMBER", "g"], ["Blue", "Purple", ""])
CONSENT = _mostly(["Yes", "Parent/carer"], ["Best interests", "No", "", "Maybe"])
YES_NO = _mostly(["N"], ["Y", "", "Perhaps"])
POSTCODES = _mostly(["NR1 1AA", "nr11aa", ""], ["NR1", "QQ1 1AA"])
AREAS = _mostly(["Norfolk", "Suffolk"], ["Kent", ""])

COLUMNS = {
    "NHS Number": NHS,
    "Forename": NAMES,
    "Surname": NAMES,
    "DOB": DATES,
    "RAG last reviewed": PAST,
    "Date added to DSR": PAST,
    "RAG": RATINGS,
    "Consent": CONSENT,
    "Consent date": PAST,
    "Current inpatient": YES_NO,
    "Postcode": POSTCODES,
    "Local Authority": AREAS,
    "RAG rationale": _mostly(["Crisis at home"], [""]),
}
ROWS = st.fixed_dictionaries(COLUMNS).map(
    lambda cells: row(**{header: value or None for header, value in cells.items()})
)


class Rollback(Exception):
    pass


def _counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (Person, Consent, RegisterEntry, Rating, PersonContact)
    }


def _checked(data: bytes, lead):
    register_import = imports.import_upload(name="sheet.xlsx", data=data, by=lead)
    las = [(la.pk, la.name) for la in LocalAuthority.objects.all()]
    values: dict[str, dict[str, str]] = {}
    for field in mapping.FIELDS:
        if field.kind in ("choice", "yes_no") and field.name in register_import.columns:
            for sheet_word in imports.column_values(register_import, field.name):
                key = mapping.word(sheet_word)
                code = CHOICES.get(field.name, {}).get(key) or mapping.suggest_value(
                    field, sheet_word, las
                )
                if code:
                    values.setdefault(field.name, {})[key] = code
    imports.import_set_values(
        register_import=register_import, values=values, constants=CONSTANTS, save_as="", by=lead
    )
    imports.import_check(register_import=register_import, by=lead)
    imports.check_run(register_import.pk, lead.pk)
    register_import.refresh_from_db()
    return register_import


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(ROWS, min_size=1, max_size=3))
def test_accepted_rows_import_and_refused_rows_write_nothing(lead, rows):
    try:
        with transaction.atomic():
            before = _counts()
            register_import = _checked(xlsx(rows), lead)
            plans = {r.row_number: r for r in register_import.rows.all()}
            for plan in plans.values():
                event(plan.outcome)
            start(register_import, by=lead)
            run(register_import.pk)
            after = _counts()
            made = [r for r in plans.values() if r.outcome in ("create", "person_only")]
            entries = [r for r in made if r.outcome == "create"]
            # Exactly what the dry run accepted was written, and nothing for what it refused.
            assert after["Person"] - before["Person"] == len(made)
            assert after["RegisterEntry"] - before["RegisterEntry"] == len(entries)
            assert after["Rating"] - before["Rating"] == len(entries)
            assert after["Consent"] - before["Consent"] == sum(
                1 for r in made if r.plan.get("consent")
            )
            for plan in made:
                person = Person.objects.get(pk=plan.register_import.rows.get(pk=plan.pk).person_id)
                assert person.given_name == plan.plan["person"]["given_name"]
                if plan.outcome == "create":
                    entry = person.register_entries.get()
                    assert entry.rating == plan.plan["entry"]["rating"]
                    assert entry.consent.basis == plan.plan["consent"]["basis"]
                else:
                    assert not person.register_entries.exists()
            # The same rows again: nothing changes.
            again = _checked(xlsx(rows), lead)
            assert not again.rows.filter(outcome__in=["create", "person_only", "update"]).exists()
            raise Rollback
    except Rollback:
        pass
