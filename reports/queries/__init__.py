"""Report queries: counts computed in the database (grouped queries), never rows of people.

The register snapshot at a date counts the register entries open on that day, each with the
rating it had that day, taken from the effective-dated, append-only rating rows (so last March's
numbers are last March's, whatever changed since). The other details (diagnosis, area,
ethnicity, ...) are the person's current ones; age group is worked out on the day.

What is shown is decided for every page a reader could ask for at once (each area, each
organisation's areas together, each age group and all of them: reports.disclosure), with the
previous day's, so that no page, set beside the others, gives a small count away (ADR 0005).

`pages` builds the families of pages and publishes them, `register` (the register snapshot) and
`needs` count the two day reports, `tables` shows a published table (page, CSV and chart). Import
from here.
"""

from reports.queries.needs import NEEDS, needs_family, needs_on, needs_publication, needs_table
from reports.queries.pages import (
    AGE_GROUPS,
    Build,
    age_group_on,
    area_sets,
    moves_over,
    page_key,
    pages_for,
    published,
)
from reports.queries.register import (
    AGE,
    AREA,
    RATING,
    TABLES,
    Dimension,
    SnapshotFilters,
    dimensions,
    register_on,
    snapshot,
    snapshot_family,
    snapshot_publication,
)
from reports.queries.tables import (
    CHART_BAR_SPACE,
    CHART_LABEL_SPACE,
    CHART_LEGEND,
    CHART_ROW,
    RATING_COLOURS,
    RATINGS,
    Table,
    table_from,
)

__all__ = [
    "AGE",
    "AGE_GROUPS",
    "AREA",
    "Build",
    "CHART_BAR_SPACE",
    "CHART_LABEL_SPACE",
    "CHART_LEGEND",
    "CHART_ROW",
    "Dimension",
    "NEEDS",
    "RATING",
    "RATING_COLOURS",
    "RATINGS",
    "SnapshotFilters",
    "TABLES",
    "Table",
    "age_group_on",
    "area_sets",
    "dimensions",
    "moves_over",
    "needs_family",
    "needs_on",
    "needs_publication",
    "needs_table",
    "page_key",
    "pages_for",
    "published",
    "register_on",
    "snapshot",
    "snapshot_family",
    "snapshot_publication",
    "table_from",
]
