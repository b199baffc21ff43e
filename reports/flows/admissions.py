"""Admissions in the period (reports.flows), by age at admission and whether a community
C(E)TR came first."""

from collections import Counter
from collections.abc import Callable
from typing import Any

from dsr.deadlines import YOUNG_PERSON_FROM_AGE, age_on
from dsr.models import Admission
from reports.disclosure import Family, TableSpec
from reports.flows.common import (
    AREA,
    Figure,
    Period,
    _family,
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
        records: Counter = Counter()
        for area, age, born, admitted_on, first in (
            Admission.objects.filter(
                admitted_on__gte=period.start,
                admitted_on__lte=period.end,
                person__local_authority__isnull=False,
            )
            .annotate(k_age=age_at(period.end, "person__"))
            .values_list(
                "person__local_authority_id",
                "k_age",
                "person__date_of_birth",
                "admitted_on",
                "community_cetr_before_admission",
            )
        ):
            child = age_on(born, admitted_on) < YOUNG_PERSON_FROM_AGE
            records[(area, age, child, first)] += 1
        table = TableSpec("admissions", (True, False), (True, False), lambda r: [(r[2], r[3])])
        domains = [(3, [True, False]), (2, [True, False]), (AREA, areas)]
        return _family(sets, [table], domains), records

    return build


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
