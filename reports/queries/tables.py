"""A published table as every output shows it (reports.queries): the page, the CSV and the
chart, all from the same published counts."""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from dsr.models import RAG
from reports.disclosure import SMALL, TOTAL, WITHHELD_TEXT, Publication, Shown

RATINGS = [RAG.RED, RAG.AMBER, RAG.GREEN, RAG.BLUE]
RATING_COLOURS = {
    RAG.RED: "#d5281b",
    RAG.AMBER: "#ffb81c",
    RAG.GREEN: "#007f3b",
    RAG.BLUE: "#005eb8",
}
CHART_ROW = 24
CHART_LABEL_SPACE = 260
CHART_BAR_SPACE = 400
CHART_LEGEND = 28


@dataclass
class Table:
    """A table of published counts (reports.disclosure): what every output shows."""

    slug: str
    title: str
    row_heading: str
    rows: list[str]
    columns: list[str]
    cells: list[list[Shown]]
    row_totals: list[Shown]
    column_totals: list[Shown]
    total: Shown
    total_label: str = "Total"
    # The colour of each column's part of a bar, where the columns are ratings; otherwise each
    # row's total is one bar.
    colours: list[str] | None = None

    @property
    def withheld(self) -> bool:
        """Nothing of it may be shown (reports.disclosure)."""
        return self.total.withheld

    @property
    def withheld_text(self) -> str:
        return WITHHELD_TEXT

    @property
    def lines(self) -> list[tuple[str, list[Shown], Shown]]:
        return list(zip(self.rows, self.cells, self.row_totals, strict=True))

    @property
    def chart(self) -> dict[str, Any]:
        """A horizontal bar per row, drawn from the same published numbers as the table, split
        by rating where the table is: a count shown as "<8" or hidden has no bar, and a row with
        a hidden part is drawn as its total alone. Positions in SVG user units."""
        if self.colours:
            parts = [[(cell.shown or 0) for cell in cells] for cells in self.cells]
            whole = [
                part if all(not c.hidden for c in cells) else [total.shown or 0]
                for part, cells, total in zip(parts, self.cells, self.row_totals, strict=True)
            ]
        else:
            whole = [[total.shown or 0] for total in self.row_totals]
        largest = max((sum(row) for row in whole), default=0) or 1
        top = CHART_LEGEND if self.colours else 0
        bars = []
        for index, (label, row, total) in enumerate(
            zip(self.rows, whole, self.row_totals, strict=True)
        ):
            y = top + CHART_ROW * index
            x = CHART_LABEL_SPACE
            segments = []
            split = self.colours and len(row) == len(self.colours)
            for column, value in enumerate(row):
                width = round(CHART_BAR_SPACE * value / largest)
                if width:
                    colour = self.colours[column] if split else None
                    segments.append({"x": x, "width": width, "colour": colour})
                x += width
            bars.append(
                {
                    "label": label if len(label) <= 34 else label[:33] + "…",
                    "text": str(total),
                    "y": y,
                    "text_y": y + 15,
                    "segments": segments,
                    "value_x": x + 6,
                }
            )
        legend = []
        if self.colours:
            for index, (name, colour) in enumerate(zip(self.columns, self.colours, strict=True)):
                legend.append(
                    {"x": CHART_LABEL_SPACE + 100 * index, "name": name, "colour": colour}
                )
        return {
            "bars": bars,
            "legend": legend,
            "height": top + CHART_ROW * len(self.rows),
            "view_width": CHART_LABEL_SPACE + CHART_BAR_SPACE + 60,
        }


def table_from(
    publication: Publication,
    page: Hashable,
    slug: str,
    title: str,
    row_heading: str,
    rows: list[tuple[Hashable, str]],
    columns: list[tuple[Hashable, str]],
    **options: Any,
) -> Table:
    """The page's table `slug` as published. A page nobody can be on (an organisation that
    covers no area, or an area outside the reader's) is all "<8"."""

    def get(row: Hashable, column: Hashable) -> Shown:
        return publication.figures.get((page, slug, row, column)) or Shown(0, SMALL)

    return Table(
        slug=slug,
        title=title,
        row_heading=row_heading,
        rows=[label for _, label in rows],
        columns=[label for _, label in columns],
        cells=[[get(row, column) for column, _ in columns] for row, _ in rows],
        row_totals=[get(row, TOTAL) for row, _ in rows],
        column_totals=[get(TOTAL, column) for column, _ in columns],
        total=get(TOTAL, TOTAL),
        **options,
    )
