"""One chronological timeline per person: the register's own events, and those other apps
contribute through `register_source` (referrals, meetings, actions, C(E)TRs, escalations,
notifications), so this module never imports them.

The person page shows the newest events only, so a long history costs no more to open than a
short one: each source reads, per kind of event, just the newest `limit + 1` rows (`newest`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from django.db.models import Model, OrderBy, QuerySet

from dsr.models import Admission, CetrException, Consent, Person, Rating, RegisterEntry


@dataclass(frozen=True)
class TimelineEvent:
    on: date
    at: datetime | None
    kind: str
    title: str
    detail: str = ""
    by: str = ""
    tag: str = ""  # a rating, shown as a coloured tag


class Source(Protocol):
    """Gives, for each kind of event it knows, either all of them or at least the newest
    `limit + 1` (`newest` reads exactly those); all of them when `limit` is None."""

    def __call__(self, person: Person, *, limit: int | None) -> Iterable[TimelineEvent]: ...


_SOURCES: list[Source] = []
M = TypeVar("M", bound=Model)


def newest(rows: QuerySet[M], limit: int | None, *order: str | OrderBy) -> QuerySet[M]:
    """`rows` in `order`, which must sort them as their events sort on the timeline ((on, at),
    newest first), cut to the first `limit + 1`: the one more than is shown tells
    `timeline_for` that older events exist."""
    rows = rows.order_by(*order)
    return rows if limit is None else rows[: limit + 1]


def register_source(source: Source) -> None:
    """Called from another app's AppConfig.ready()."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def _name(user) -> str:
    return user.full_name if user is not None else ""


def _entry_events(entries: list[RegisterEntry]) -> Iterable[TimelineEvent]:
    for entry in entries:
        yield TimelineEvent(
            entry.opened_on,
            entry.created_at,
            "entry",
            "Added to the register",
            by=_name(entry.opened_by),
        )
        if entry.closed_on:
            yield TimelineEvent(
                entry.closed_on,
                entry.updated_at,
                "entry",
                "Taken off the register",
                entry.get_closure_reason_display(),
                by=_name(entry.closed_by),
            )


def _rating_events(ratings: list[Rating]) -> Iterable[TimelineEvent]:
    """Each rating decision. The rating itself is the event's tag, shown after the title, so
    the title does not name it again ("Rated" and the tag "Red": "Rated Red")."""
    for rating in ratings:
        if not rating.previous_rating:
            title = "Rated"
        elif rating.is_confirmation:
            title = "Rating reviewed and confirmed as"
        else:
            title = "Rating changed to"
        detail = rating.rationale
        if rating.meeting_id:
            detail = f"Decided at the {rating.meeting}. {detail}"
        yield TimelineEvent(
            rating.effective_from,
            rating.set_at,
            "rating",
            title,
            detail,
            by=_name(rating.set_by),
            tag=rating.rating,
        )


def _consent_events(consents: list[Consent]) -> Iterable[TimelineEvent]:
    for consent in consents:
        yield TimelineEvent(
            consent.given_on,
            consent.created_at,
            "consent",
            "Consent recorded",
            consent.get_basis_display(),
            by=_name(consent.recorded_by),
        )
        if consent.end_reason == Consent.EndReason.WITHDRAWN:
            yield TimelineEvent(
                consent.ended_on,
                consent.updated_at,
                "consent",
                "Consent withdrawn",
                by=_name(consent.ended_by),
            )


def _admission_events(admissions: list[Admission]) -> Iterable[TimelineEvent]:
    for admission in admissions:
        yield TimelineEvent(
            admission.admitted_on,
            admission.created_at,
            "admission",
            f"Admitted to {admission.hospital_name}",
            admission.get_ward_security_display(),
            by=_name(admission.recorded_by),
        )
        if admission.discharged_on:
            yield TimelineEvent(
                admission.discharged_on,
                admission.updated_at,
                "admission",
                f"Discharged from {admission.hospital_name}",
                by=_name(admission.discharged_by),
            )


def register_events(
    person: Person,
    *,
    entries: list[RegisterEntry],
    ratings: list[Rating],
    consents: list[Consent],
    admissions: list[Admission],
    exceptions: list[CetrException],
) -> list[TimelineEvent]:
    """The register's own events, from rows the person page has already loaded: entries,
    consents and admissions whole (a handful each), ratings and exceptions whole or as their
    newest `limit + 1` (`newest`)."""
    exception_events = (
        TimelineEvent(
            e.held_on,
            e.created_at,
            "cetr_exception",
            e.get_meeting_kind_display(),
            e.reason,
            by=_name(e.recorded_by),
        )
        for e in exceptions
    )
    return [
        *_entry_events(entries),
        *_rating_events(ratings),
        *_consent_events(consents),
        *_admission_events(admissions),
        *exception_events,
    ]


@dataclass(frozen=True)
class Timeline:
    events: list[TimelineEvent]  # newest first
    more: bool  # older events than these exist


def timeline_for(person: Person, own_events: list[TimelineEvent], *, limit: int | None) -> Timeline:
    """The newest `limit` events (every event when `limit` is None), newest first, and whether
    there are older ones. Each other app's source runs a constant number of queries.

    Every kind of event comes whole or as at least its newest `limit + 1` (`Source`), so the
    newest `limit` of what arrives are the newest of all; and more than `limit` arrive exactly
    when older events exist: a kind that was cut short brings `limit + 1` on its own, and if
    none was, nothing is missing.
    """
    events = list(own_events)
    for source in _SOURCES:
        events.extend(source(person, limit=limit))
    events.sort(key=lambda e: (e.on, e.at.timestamp() if e.at else 0.0), reverse=True)
    if limit is None:
        return Timeline(events, more=False)
    return Timeline(events[:limit], more=len(events) > limit)
