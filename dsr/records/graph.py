"""The map of everything held about a root record, worked out from the models' relations (see
the package docstring), and collecting its rows by id."""

import functools
import graphlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage
from django.db import models
from django.db.models import Q

from dsr.models import (
    Person,
)

logger = logging.getLogger(__name__)

PERSON = "dsr.Person"
# Ids per query (well inside every database's limit on parameters), and roots per batch.
CHUNK = 500
ROOT_BATCH = 200


@dataclass(frozen=True)
class Link:
    """How a child's rows hang off a parent's: the child's column holding the parent's id, or
    (for a pointer) the prefix of its `<prefix>_type` and `<prefix>_id` fields."""

    parent: type[models.Model]
    field: str
    pointer: bool = False

    def condition(self, ids: list[Any]) -> Q:
        if self.pointer:
            return Q(
                **{
                    f"{self.field}_type": self.parent._meta.label_lower,
                    f"{self.field}_id__in": ids,
                }
            )
        return Q(**{f"{self.field}__in": ids})


@dataclass(frozen=True)
class Node:
    model: type[models.Model]
    links: tuple[Link, ...]

    @property
    def table(self) -> str:
        return self.model._meta.db_table


@dataclass(frozen=True)
class RecordGraph:
    """Every model holding rows about a root model's rows: the root first, and each model
    after every model it links to."""

    root: type[models.Model]
    nodes: tuple[Node, ...]

    @property
    def models(self) -> list[type[models.Model]]:
        return [node.model for node in self.nodes]


@functools.cache
def graph_models() -> tuple[type[models.Model], ...]:
    found = apps.get_models(include_auto_created=True)
    return tuple(
        sorted(
            (m for m in found if m._meta.managed and not m._meta.proxy), key=lambda m: m._meta.label
        )
    )


def history_base(model: type[models.Model]) -> type[models.Model] | None:
    """The model a django-simple-history model records, or None."""
    return getattr(model, "instance_type", None)


def foreign_keys(model: type[models.Model]) -> list[Any]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is not None
    ]


def _pointers(model: type[models.Model]) -> list[str]:
    """Prefixes of the `<prefix>_type` (text) and `<prefix>_id` (integer) pairs on `model`."""
    fields = {f.name: f for f in model._meta.concrete_fields}
    prefixes = []
    for name, f in fields.items():
        partner = fields.get(name.removesuffix("_type") + "_id")
        if (
            name.endswith("_type")
            and isinstance(f, models.CharField)
            and isinstance(partner, models.IntegerField)
            and not partner.is_relation
            and not partner.primary_key  # a history row's history_type and history_id
        ):
            prefixes.append(name.removesuffix("_type"))
    return prefixes


@functools.cache
def _reaching(target: type[models.Model]) -> frozenset[type[models.Model]]:
    """`target` and every model with a chain of foreign keys to it."""
    found = {target}
    grew = True
    while grew:
        grew = False
        for model in graph_models():
            if model not in found and any(
                f.related_model in found and f.related_model is not model
                for f in foreign_keys(model)
            ):
                found.add(model)
                grew = True
    return frozenset(found)


def _may_be_pointed_at(target: type[models.Model], by: type[models.Model]) -> bool:
    """Whether a pointer on `by` may name a row of `target`. Not: itself, a history model, a
    model below `by` (its own transitions and notes), or a pure pointer table (a message or
    reminder, which has no foreign key chain to a person): keeping those out keeps the graph
    free of cycles."""
    pure_pointer = bool(_pointers(target)) and target not in _reaching(Person)
    return not (
        target is by or history_base(target) is not None or target in _reaching(by) or pure_pointer
    )


def _links(model: type[models.Model], members: list[type[models.Model]]) -> tuple[Link, ...]:
    links: list[Link] = []
    base = history_base(model)
    if base in members:
        links.append(Link(base, base._meta.pk.attname))
    for f in foreign_keys(model):
        # A model's link to itself (a referral marked as a duplicate of another) would bring
        # in rows about someone else: it is never followed.
        if f.related_model in members and f.related_model not in (model, base):
            links.append(Link(f.related_model, f.attname))
    for prefix in _pointers(model):
        links.extend(
            Link(target, prefix, pointer=True)
            for target in members
            if _may_be_pointed_at(target, model)
        )
    return tuple(links)


@functools.cache
def record_graph(root: str) -> RecordGraph:
    """The map of every table holding rows about rows of `root` ("dsr.Person"), worked out from
    the models' relations. Raises ImproperlyConfigured if the links form a cycle."""
    root_model = apps.get_model(root)
    links: dict[type[models.Model], tuple[Link, ...]] = {root_model: ()}
    grew = True
    while grew:
        grew = False
        for model in graph_models():
            if model is root_model:
                continue
            found = _links(model, list(links))
            if found and found != links.get(model):
                links[model] = found
                grew = True
    sorter = graphlib.TopologicalSorter(
        {model: {link.parent for link in found} for model, found in links.items()}
    )
    try:
        ordered = list(sorter.static_order())
    except graphlib.CycleError as exc:
        raise ImproperlyConfigured(f"The records about {root} link in a cycle: {exc}") from exc
    return RecordGraph(root=root_model, nodes=tuple(Node(model, links[model]) for model in ordered))


def chunks(ids: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    items = sorted(ids)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def collect(graph: RecordGraph, root_ids: Iterable[Any]) -> dict[type[models.Model], set[Any]]:
    """The ids of every row about the roots `root_ids`, by model: one query per link and chunk
    of parent ids, parents before children."""
    found: dict[type[models.Model], set[Any]] = {}
    for node in graph.nodes:
        manager = node.model._base_manager
        ids: set[Any] = set()
        if node.model is graph.root:
            for chunk in chunks(root_ids):
                ids.update(manager.filter(pk__in=chunk).values_list("pk", flat=True))
        for link in node.links:
            for chunk in chunks(found.get(link.parent, ())):
                ids.update(manager.filter(link.condition(chunk)).values_list("pk", flat=True))
        found[node.model] = ids
    return found


@dataclass(frozen=True)
class StoredFile:
    table: str
    row: Any
    name: str
    storage: Storage

    @property
    def archive_path(self) -> str:
        return f"files/{self.table}/{self.row}-{os.path.basename(self.name)}"


def stored_files(graph: RecordGraph, found: dict) -> list[StoredFile]:
    files = []
    for node in graph.nodes:
        fields = [f for f in node.model._meta.concrete_fields if isinstance(f, models.FileField)]
        if not fields:
            continue
        for chunk in chunks(found[node.model]):
            rows = node.model._base_manager.filter(pk__in=chunk).values_list(
                "pk", *[f.attname for f in fields]
            )
            for pk, *names in rows:
                files.extend(
                    StoredFile(node.table, pk, name, f.storage)
                    for f, name in zip(fields, names, strict=True)
                    if name
                )
    return files
