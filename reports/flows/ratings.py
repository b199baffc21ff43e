"""Ratings in the period (reports.flows): rating changes, and step-downs from red or amber to
green without an admission."""

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from dsr.models import RAG, Admission, Rating
from reports.disclosure import Family, TableSpec
from reports.flows.common import (
    AREA,
    ONE,
    Figure,
    Period,
    _counted,
    _family,
    _get,
    _one,
    _page,
    _published,
    age_at,
)
from reports.queries import RATING_COLOURS, RATINGS, Table, table_from


def _ratings_in(period: Period) -> Any:
    return Rating.objects.filter(
        effective_from__gte=period.start,
        effective_from__lte=period.end,
        entry__person__local_authority__isnull=False,
    )


def _transitions(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        records = _counted(
            _ratings_in(period)
            .exclude(previous_rating="")
            .exclude(previous_rating=F("rating"))
            .annotate(k_age=age_at(period.end, "entry__person__"))
            .values_list("entry__person__local_authority_id", "k_age", "previous_rating", "rating")
            .annotate(n=Count("id"))
            .order_by()
        )
        table = TableSpec("transitions", tuple(RATINGS), tuple(RATINGS), lambda r: [(r[2], r[3])])
        domains = [(3, list(RATINGS)), (2, list(RATINGS)), (AREA, areas)]
        return _family(sets, [table], domains), records

    return build


def transitions_table(user: Any, period: Period) -> Table:
    """Rating changes in the period, from each rating to each."""
    publication, _areas = _published("transitions", period, _transitions(period))
    page = _page(user, period)
    return table_from(
        publication,
        page,
        "transitions",
        "Rating changes in the period",
        "From",
        [(r, f"From {RAG(r).label.lower()}") for r in RATINGS],
        [(r, f"To {RAG(r).label.lower()}") for r in RATINGS],
        colours=[RATING_COLOURS[r] for r in RATINGS],
    )


def _step_down_queryset(period: Period) -> Any:
    """Ratings in the period that stepped someone down from Red or Amber to Green without an
    admission during that Red or Amber spell: from the first day of the run of Red and Amber
    ratings that ended in the step-down, up to the step-down. (An admission after the
    step-down is not counted against it; one before the spell is another story.)"""
    red_or_amber = [RAG.RED, RAG.AMBER]
    # The spell began after the entry's last rating before the step-down that was neither Red
    # nor Amber (or, if none, with the entry's first rating).
    before_spell = (
        Rating.objects.filter(
            entry=OuterRef("entry"), effective_from__lt=OuterRef("effective_from")
        )
        .exclude(rating__in=red_or_amber)
        .order_by("-effective_from", "-set_at", "-id")
        .values("effective_from")[:1]
    )
    spell_start = (
        Rating.objects.filter(
            entry=OuterRef("entry"),
            effective_from__lt=OuterRef("effective_from"),
            effective_from__gt=OuterRef("before_spell"),
        )
        .order_by("effective_from", "set_at", "id")
        .values("effective_from")[:1]
    )
    admitted = Admission.objects.filter(
        person=OuterRef("entry__person"),
        admitted_on__gte=OuterRef("spell_start"),
        admitted_on__lte=OuterRef("effective_from"),
    )
    return (
        _ratings_in(period)
        .filter(rating=RAG.GREEN, previous_rating__in=red_or_amber)
        .annotate(before_spell=Coalesce(Subquery(before_spell), Value(date.min)))
        .annotate(spell_start=Subquery(spell_start))
        .exclude(Exists(admitted))
    )


def _step_downs(period: Period) -> Callable:
    def build(areas: list[int], sets: list[frozenset[int]]) -> tuple[Family, Counter]:
        people = (
            _step_down_queryset(period)
            .annotate(k_age=age_at(period.end, "entry__person__"))
            .values_list("entry__person__local_authority_id", "k_age", "entry__person")
            .distinct()
        )
        records = Counter((area, age) for area, age, _person in people)
        return _family(sets, [_one("step-downs")], [(AREA, areas)]), records

    return build


def step_down_count(user: Any, period: Period) -> int:
    """People on the user's page who stepped down without an admission (the true count)."""
    publication, _areas = _published("step-downs", period, _step_downs(period))
    return _get(publication, _page(user, period), "step-downs", ONE).value


def step_down_figure(user: Any, period: Period) -> Figure:
    publication, _areas = _published("step-downs", period, _step_downs(period))
    shown = _get(publication, _page(user, period), "step-downs", ONE)
    return Figure("Stepped down from red or amber to green without an admission", str(shown))
