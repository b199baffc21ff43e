"""The escalation queue's order, kept in a table (escalation.models.QueuePlace).

Every write that can move someone in the queue (an escalation raised, acknowledged, resolved or
moved up a level, its clock started; a rating given or an entry closed; a person's area changed;
an import undone) calls `queue_order_refresh` with the people it touched, in its own
transaction, so the queue never shows an order the records no longer hold. The register's
services reach it through `dsr.register_changes` (the register does not import this app).

`queue_order_reconcile` (a sweep on the beat schedule) works every place out afresh from the
records, compares it with the table, repairs any difference and reports it: a Red person missing
from a manager's queue is a clinical hazard (HZ-19 in docs/safety/hazard-log.toml).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.apps import apps as django_apps
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from dsr.caching import changed
from dsr.models import RAG, Person
from escalation import rules
from escalation.models import LIVE

logger = logging.getLogger(__name__)

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
RATING_RANKS = {RAG.RED: 0, RAG.AMBER: 1, RAG.BLUE: 2}
OTHER_RATING = 3
# The columns a place holds besides its key (level, person).
VALUES = (
    "local_authority_id",
    "rating_rank",
    "oldest_raised_at",
    "waiting",
    "ack_due_on",
    "elsewhere",
)
BATCH = 2000
# People locked and worked out again at once by the rebuild.
LOCK_BATCH = 5000

Key = tuple[int, int]
Values = tuple[Any, ...]
OPEN = "open"  # an escalation's and a register entry's open status alike


def _models(registry: Any) -> tuple[Any, Any, Any, Any]:
    """Person, RegisterEntry, Escalation and QueuePlace from `registry`: the project's models,
    or a migration's historical ones (the migration that made the table fills it with these
    functions)."""
    return (
        registry.get_model("dsr", "Person"),
        registry.get_model("dsr", "RegisterEntry"),
        registry.get_model("escalation", "Escalation"),
        registry.get_model("escalation", "QueuePlace"),
    )


def expected_places(
    person_ids: Iterable[int] | None = None, *, registry: Any = django_apps
) -> dict[Key, Values]:
    """Each (level, person) place the records call for, with its values in VALUES' order:
    everyone rated Red or Amber, and anyone with a live escalation, at every level up to the
    highest of their live escalations (Red and Amber: every level). Two queries; `person_ids`
    narrows them to those people (None: everyone)."""
    person_model, entry_model, escalation_model, _ = _models(registry)
    live = escalation_model.objects.filter(status__in=LIVE, person__isnull=False)
    open_entry = entry_model.objects.filter(person=OuterRef("pk"), status=OPEN)
    people = person_model.objects.filter(
        Exists(open_entry.filter(rating__in=[RAG.RED, RAG.AMBER]))
        | Exists(live.filter(person=OuterRef("pk")))
    )
    if person_ids is not None:
        ids = sorted({pk for pk in person_ids if pk is not None})
        if not ids:
            return {}
        people = people.filter(pk__in=ids)
        live = live.filter(person_id__in=ids)
    found = people.annotate(rating=Subquery(open_entry.values("rating")[:1])).values_list(
        "pk", "local_authority_id", "rating"
    )
    escalations: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for person_id, *rest in live.values_list(
        "person_id", "level", "status", "ack_due_on", "raised_at", "local_authority_id"
    ):
        escalations[person_id].append(tuple(rest))
    top = rules.top_level()
    places: dict[Key, Values] = {}
    for person_id, area, rating in found.iterator(chunk_size=BATCH):
        own = escalations.get(person_id, [])
        rank = RATING_RANKS.get(rating, OTHER_RATING)
        highest = top if rank <= 1 else max((e[0] for e in own), default=0)
        oldest = min((e[3] for e in own), default=FAR_FUTURE)
        for level in range(1, min(highest, top) + 1):
            places[(level, person_id)] = _place(level, area, rank, oldest, own)
    return places


def _place(level: int, area: int | None, rank: int, oldest: datetime, own: list) -> Values:
    waiting_here = [e for e in own if e[1] == OPEN and e[0] >= level]
    home = [e for e in waiting_here if area is not None and e[4] == area]
    dues = [e[2] for e in home if e[2] is not None]
    return (
        area,
        rank,
        oldest,
        bool(home),
        min(dues, default=None),
        len(home) < len(waiting_here),
    )


def _held(
    person_ids: list[int] | None, registry: Any = django_apps
) -> dict[Key, tuple[int, Values]]:
    """The places in the table: (level, person) to (id, values)."""
    rows = _models(registry)[3].objects.all()
    if person_ids is not None:
        rows = rows.filter(person_id__in=person_ids)
    return {
        (row[1], row[2]): (row[0], tuple(row[3:]))
        for row in rows.values_list("id", "level", "person_id", *VALUES).iterator(chunk_size=BATCH)
    }


@dataclass
class Differences:
    """What the table held that the records did not call for, and the reverse."""

    missing: list[Key] = field(default_factory=list)
    extra: list[Key] = field(default_factory=list)
    changed: list[Key] = field(default_factory=list)
    # Places missing for someone rated Red: the clinical hazard (HZ-19).
    red_missing: list[Key] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.changed)

    def as_counts(self) -> dict[str, int]:
        return {
            "missing": len(self.missing),
            "extra": len(self.extra),
            "changed": len(self.changed),
            "red_missing": len(self.red_missing),
        }


def _apply(person_ids: list[int] | None, registry: Any = django_apps) -> Differences:
    """Make the table match the records for these people (None: everyone), changing only the
    rows that differ; returns the differences it repaired."""
    place_model = _models(registry)[3]
    want = expected_places(person_ids, registry=registry)
    have = _held(person_ids, registry)
    found = Differences()
    add, update, remove = [], [], []
    for key, values in want.items():
        held = have.get(key)
        if held is None:
            found.missing.append(key)
            if values[1] == RATING_RANKS[RAG.RED]:
                found.red_missing.append(key)
            add.append(_row(place_model, key, values))
        elif held[1] != values:
            found.changed.append(key)
            update.append(_row(place_model, key, values, pk=held[0]))
    for key, (pk, _values) in have.items():
        if key not in want:
            found.extra.append(key)
            remove.append(pk)
    for start in range(0, len(remove), BATCH):
        place_model.objects.filter(pk__in=remove[start : start + BATCH]).delete()
    # Two writers at once may both add a place: the second one's values stand.
    place_model.objects.bulk_create(
        add,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["level", "person"],
        update_fields=list(_fields()),
    )
    place_model.objects.bulk_update(update, list(_fields()), batch_size=BATCH)
    if found.count and registry is django_apps:
        # Kept queue totals and counts (dsr.caching) are counted afresh after commit.
        changed("escalation")
    return found


def _fields() -> tuple[str, ...]:
    return tuple(name.removesuffix("_id") for name in VALUES)


def _row(model: Any, key: Key, values: Values, pk: int | None = None) -> Any:
    level, person_id = key
    return model(pk=pk, level=level, person_id=person_id, **dict(zip(VALUES, values, strict=True)))


def queue_order_refresh(person_ids: Iterable[int | None]) -> int:
    """Bring these people's places in the queue up to date with the records, in the caller's
    transaction (a new one outside one). Their rows are locked first, in id order, so two
    writers about the same person take turns and the second sees the first's change. Returns
    the number of places changed."""
    ids = sorted({pk for pk in person_ids if pk is not None})
    if not ids:
        return 0
    changed = 0
    with transaction.atomic():
        for start in range(0, len(ids), LOCK_BATCH):
            batch = ids[start : start + LOCK_BATCH]
            _lock(batch)
            changed += _apply(batch).count
    return changed


def queue_order_fill(apps: Any, schema_editor: Any) -> None:
    """The migration that made the table fills it (with its historical models)."""
    _apply(None, apps)


def queue_order_rebuild() -> Differences:
    """Work out every place afresh and make the table match; returns what differed.

    Without locks, a change committed while it reads could look like a difference; so the
    people who seem to differ are then locked and worked out again (as queue_order_refresh
    does), and only what still differs is repaired and returned."""
    want = expected_places(None)
    have = _held(None)
    suspects = {key[1] for key, values in want.items() if have.get(key, (0, None))[1] != values}
    suspects |= {key[1] for key in have if key not in want}
    found = Differences()
    ids = sorted(suspects)
    for start in range(0, len(ids), LOCK_BATCH):
        with transaction.atomic():
            batch = ids[start : start + LOCK_BATCH]
            _lock(batch)
            repaired = _apply(batch)
        for name in ("missing", "extra", "changed", "red_missing"):
            getattr(found, name).extend(getattr(repaired, name))
    return found


def _lock(ids: list[int]) -> None:
    list(Person.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
