"""The person page's note of what a spreadsheet import could not bring across for someone it
added as a person only (issue 24, point 4): the required next steps the dry run found (record
consent, rate them, record the admission), shown until the person is on the register."""

from datetime import date

from django.db.models import Exists, OuterRef
from django.http import HttpRequest

from dsr.models import ImportRow, Person, RegisterEntry, RegisterImport
from dsr.panels import Panel


def import_steps_panel(request: HttpRequest, person: Person, today: date) -> Panel | None:
    """The person's row in a finished import, if they came in as a person only and are not on
    the register yet: one query, none when the page knows they are on the register."""
    if not request.user.has_perm("dsr.view_register"):
        return None
    if getattr(person, "page_cache", {}).get("on_register"):
        # The page has read the open entry already (dsr.queries.person_page): no query.
        return None
    row = (
        ImportRow.objects.filter(
            person=person,
            applied=True,
            outcome=ImportRow.Outcome.PERSON_ONLY,
            register_import__status=RegisterImport.Status.DONE,
        )
        .annotate(
            on_register=Exists(
                RegisterEntry.objects.filter(
                    person=OuterRef("person"), status=RegisterEntry.Status.OPEN
                )
            )
        )
        .select_related("register_import")
        .order_by("-id")
        .first()
    )
    if row is None or row.on_register or not row.notes:
        return None
    return Panel(
        "dsr/imports/person_panel.html",
        {"row": row, "register_import": row.register_import},
    )
