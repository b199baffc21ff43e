"""What the read feed takes (filters in the query string) and what it answers: the report
tables as published. The answers are serialised through these classes, so the OpenAPI document
describes exactly what is sent. A cell carries what the report shows ("15", "<8", "[c]") and,
where that is a number, the number; the true count behind a hidden or rounded cell is never
sent."""

from datetime import date
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from dsr.deadlines import AgeGroup
from reports.disclosure import Shown
from reports.forms import last_whole_month, month_of, planning_years
from reports.queries import Table

# The earliest day the feed counts: well before any register, and far from the calendar's edge.
EARLIEST = date(2000, 1, 1)


class AreaOnly(serializers.Serializer):
    local_authority = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="One of the token's local authorities (see /api/v1/local-authorities/); "
        "all of them when left out.",
    )

    def validate_local_authority(self, value: int) -> int:
        if value not in self.context["scope"]:
            raise serializers.ValidationError("This is not one of the token's local authorities.")
        return value


class AreaFilter(AreaOnly):
    age_group = serializers.ChoiceField(
        choices=AgeGroup.choices, required=False, help_text="All age groups when left out."
    )


class SnapshotQuery(AreaFilter):
    on = serializers.DateField(
        required=False,
        help_text="The day the register is counted on (YYYY-MM-DD); today when left out.",
    )

    def validate_on(self, value: date) -> date:
        if value > timezone.localdate():
            raise serializers.ValidationError("The day must be today or in the past.")
        if value < EARLIEST:
            raise serializers.ValidationError("The day must be in 2000 or later.")
        return value


class PlanningQuery(AreaOnly):
    year = serializers.IntegerField(
        required=False,
        help_text="A calendar year whose January has ended; the latest such year when left out.",
    )

    def validate_year(self, value: int) -> int:
        years = planning_years(timezone.localdate())
        if value not in years:
            raise serializers.ValidationError(f"Choose a year from {years[-1]} to {years[0]}.")
        return value


class FlowsQuery(AreaFilter):
    month = serializers.RegexField(
        r"^[1-9]\d{3}-(0[1-9]|1[0-2])$",
        required=False,
        help_text="A calendar month that has ended (YYYY-MM); the last one when left out.",
    )

    def validate_month(self, value: str) -> str:
        start, end = month_of(date(int(value[:4]), int(value[5:]), 1))
        if start < EARLIEST:
            raise serializers.ValidationError("The month must be in 2000 or later.")
        if end >= timezone.localdate():
            raise serializers.ValidationError("The month must have ended: choose an earlier one.")
        return value

    def period(self) -> tuple[date, date]:
        month = self.validated_data.get("month")
        if not month:
            return last_whole_month(timezone.localdate())
        return month_of(date(int(month[:4]), int(month[5:]), 1))


class Cell(serializers.Serializer):
    shown_as = serializers.CharField(
        help_text='As the report shows it: a rounded number, "<8" for a small count, or a '
        "mark for a count hidden so that no small count can be worked out."
    )
    count = serializers.IntegerField(
        allow_null=True, help_text="The number shown, or null when none is."
    )


class Row(serializers.Serializer):
    label = serializers.CharField()
    cells = Cell(many=True)
    total = Cell()


class TableOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    withheld = serializers.BooleanField(
        help_text="Nothing of the table may be shown: rows and totals are then empty."
    )
    row_heading = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = Row(many=True)
    column_totals = Cell(many=True)
    total_label = serializers.CharField()
    total = Cell(allow_null=True)


class FigureOut(serializers.Serializer):
    group = serializers.CharField()
    label = serializers.CharField()
    shown_as = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class Published(serializers.Serializer):
    counted_at = serializers.DateTimeField(help_text="When the figures were counted.")
    footnote = serializers.CharField()
    local_authority = serializers.IntegerField(allow_null=True)
    age_group = serializers.CharField(allow_blank=True)
    tables = TableOut(many=True)


class SnapshotOut(Published):
    on = serializers.DateField()


class FlowsOut(Published):
    start = serializers.DateField()
    end = serializers.DateField()
    figures = FigureOut(many=True)


class NeedsOut(Published):
    on = serializers.DateField()


class SeriesRow(serializers.Serializer):
    label = serializers.CharField()
    cells = Cell(many=True)


class SeriesOut(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    row_heading = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = SeriesRow(many=True)
    note = serializers.CharField(allow_blank=True)


class PlanningOut(Published):
    year = serializers.IntegerField()
    months = serializers.IntegerField(help_text="The whole months of the year that have ended.")
    series = SeriesOut(many=True)


class Problem(serializers.Serializer):
    detail = serializers.CharField()


class LocalAuthorityOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def cell(shown: Shown) -> dict[str, Any]:
    return {"shown_as": shown.text, "count": shown.shown}


def text_cell(text: str) -> dict[str, Any]:
    """A published figure given as text ("15", "£170,500", "<8", "[c]"): the number where the
    text is one."""
    digits = text.replace("£", "").replace(",", "")
    return {"shown_as": text, "count": int(digits) if digits.isdigit() else None}


def series_data(series: Any) -> dict[str, Any]:
    return {
        "slug": series.slug,
        "title": series.title,
        "row_heading": series.row_heading,
        "columns": series.columns,
        "rows": [
            {"label": label, "cells": [text_cell(text) for text in cells]}
            for label, cells in series.rows
        ],
        "note": series.note,
    }


def table_data(table: Table) -> dict[str, Any]:
    """A published table as the feed sends it; a withheld one with nothing in it."""
    withheld = table.withheld
    return {
        "slug": table.slug,
        "title": table.title,
        "withheld": withheld,
        "row_heading": table.row_heading,
        "columns": table.columns,
        "rows": []
        if withheld
        else [
            {"label": label, "cells": [cell(c) for c in cells], "total": cell(total)}
            for label, cells, total in table.lines
        ],
        "column_totals": [] if withheld else [cell(c) for c in table.column_totals],
        "total_label": table.total_label,
        "total": None if withheld else cell(table.total),
    }
