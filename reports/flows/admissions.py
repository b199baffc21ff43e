"""Admissions in the period (reports.flows), by age at admission and whether a community
C(E)TR came first."""

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db.models import Exists, OuterRef

from dsr.deadlines import YOUNG_PERSON_FROM_AGE, age_on
from dsr.models import Admission, RegisterEntry
from reports.disclosure import TOTAL, Family, Shown, TableSpec
from reports.flows.common import (
    AREA,
    ONE,
    Figure,
    Period,
    _family,
    _get,
    _page,
    _published,
    age_at,
    share_text,
)
from reports.queries import Table, table_from


def _admissions(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        # Age at admission, as the national target counts it. A period's admissions are few, so
        # the ages are worked out from (date of birth, admission date) pairs: nothing else read.
        # Whether the person was on the register before the day of admission (an entry opened
        # before it) is the measure Assuring Transformation reports (reports.planning): counted
        # in the same family, so that both tables are decided together.
        before = RegisterEntry.objects.filter(
            person=OuterRef("person"), opened_on__lt=OuterRef("admitted_on")
        )
        records: Counter = Counter()
        for area, age, born, admitted_on, first, known in (
            Admission.objects.filter(
                admitted_on__gte=period.start,
                admitted_on__lte=period.end,
                person__local_authority__isnull=False,
            )
            .annotate(k_age=age_at(period.end, "person__"), k_known=Exists(before))
            .values_list(
                "person__local_authority_id",
                "k_age",
                "person__date_of_birth",
                "admitted_on",
                "community_cetr_before_admission",
                "k_known",
            )
        ):
            child = age_on(born, admitted_on) < YOUNG_PERSON_FROM_AGE
            records[(area, age, child, first, known)] += 1
        tables = [
            TableSpec("admissions", (True, False), (True, False), lambda r: [(r[2], r[3])]),
            TableSpec("known-before", (True, False), (ONE,), lambda r: [(r[4], ONE)]),
        ]
        domains = [(4, [True, False]), (3, [True, False]), (2, [True, False]), (AREA, areas)]
        return _family(sets, tables, domains), records

    return build


def known_before(user: Any, period: Period) -> tuple[Shown, Shown]:
    """Admissions in the period of people on the register before the day of admission, and
    all admissions, as published (on the same pages as the admissions table)."""
    publication, _areas = _published("admissions", period, _admissions(period))
    page = _page(user, period)
    return (
        _get(publication, page, "known-before", True),
        _get(publication, page, "known-before", TOTAL),
    )


def admission_table(user: Any, period: Period) -> tuple[Table, list[Figure]]:
    """Admissions in the period by age at admission and whether a community C(E)TR came first,
    with the share for children against the national target of 90%, from the published counts."""
    publication, _areas = _published("admissions", period, _admissions(period))
    page = _page(user, period)
    table = table_from(
        publication,
        page,
        "admissions",
        "Admissions in the period",
        "Age at admission",
        [(True, "Children (under 18)"), (False, "Adults (18 and over)")],
        [(True, "With a community C(E)TR first"), (False, "Without")],
    )
    share = share_text(
        table.cells[0][0],
        table.row_totals[0],
        "children had a community C(E)TR first",
        "children admitted",
    )
    label = "Children with a community CETR before admission"
    return table, [Figure(label, share, "National target: 90%")]
