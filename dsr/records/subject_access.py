"""Subject access (UK GDPR Art 15; RELIABILITY H-6): one ZIP of every row and file about a
person."""

import io
import json
import logging
import time
import zipfile
from dataclasses import dataclass
from typing import Any

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from dsr.models import (
    AccessEvent,
    Person,
    User,
)
from dsr.records.graph import PERSON, chunks, collect, record_graph, stored_files

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubjectAccessExport:
    filename: str
    content: bytes
    rows: dict[str, int]  # rows per table
    files: int
    seconds: float


def _serialised(model: type[models.Model], ids: set[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for chunk in chunks(ids):
        objects = model._base_manager.filter(pk__in=chunk).order_by("pk")
        rows.extend(
            {"pk": row["pk"], **row["fields"]} for row in serializers.serialize("python", objects)
        )
    return rows


def person_records_export(
    *, person: Person, by: User, purpose: str, path: str
) -> SubjectAccessExport:
    """Everything held about `person`, as one ZIP: `records.json` (every row about them in every
    table of the record graph, history rows included, under each table's name) and `files/` (the
    files stored with those rows). Writes one access-log row (EXPORT_PERSON, with the purpose)
    first, in the same transaction, so the export includes its own record. A stored file that
    cannot be read is listed as missing rather than stopping the export."""
    started = time.monotonic()
    with transaction.atomic():
        AccessEvent.objects.create(
            user=by,
            person=person,
            action=AccessEvent.Action.EXPORT_PERSON,
            path=path[:300],
            detail={"purpose": purpose},
        )
        graph = record_graph(PERSON)
        found = collect(graph, [person.pk])
        tables = {
            node.table: _serialised(node.model, found[node.model])
            for node in graph.nodes
            if found[node.model]
        }
        files = stored_files(graph, found)
    now = timezone.localtime()
    folder = f"subject-access-{person.pk}-{now:%Y-%m-%d}"
    listed = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for stored in files:
            try:
                with stored.storage.open(stored.name, "rb") as handle:
                    archive.writestr(f"{folder}/{stored.archive_path}", handle.read())
                missing = False
            except OSError:
                logger.warning("stored file missing table=%s row=%s", stored.table, stored.row)
                missing = True
            listed.append(
                {
                    "table": stored.table,
                    "row": stored.row,
                    "path": "" if missing else stored.archive_path,
                    "missing": missing,
                }
            )
        document = {
            "person_id": person.pk,
            "generated_at": now,
            "generated_by_user_id": by.pk,
            "purpose": purpose,
            "tables": tables,
            "files": listed,
        }
        archive.writestr(
            f"{folder}/records.json",
            json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        )
    rows = {table: len(found_rows) for table, found_rows in tables.items()}
    logger.info(
        "subject access export person=%s by=%s tables=%s rows=%s files=%s",
        person.pk,
        by.pk,
        len(rows),
        sum(rows.values()),
        len(files),
    )
    return SubjectAccessExport(
        filename=f"{folder}.zip",
        content=buffer.getvalue(),
        rows=rows,
        files=len(files),
        seconds=time.monotonic() - started,
    )
