"""The reports' filters, in the URL (GET): a date, an area and an age group identify no one.

A flows period is one whole calendar month that has ended (ADR 0005): two months never share
an event, so setting one period beside another gives away nothing that each does not."""

import calendar
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from dsr.deadlines import AgeGroup
from dsr.forms import local_authority_filter, set_local_authority_choices
from dsr.nhsuk.forms import NHSDateField, choose_from_list


def month_of(day: date) -> tuple[date, date]:
    """The first and last days of the month `day` is in."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def last_whole_month(today: date) -> tuple[date, date]:
    """The most recent calendar month that has ended."""
    return month_of(today.replace(day=1) - timedelta(days=1))


class SnapshotFilterForm(forms.Form):
    on = NHSDateField(label="On the day", required=False, help_text="For example, 31 3 2026")
    local_authority = local_authority_filter()
    age_group = forms.ChoiceField(
        label="Age group",
        required=False,
        choices=[("", "Any")] + AgeGroup.choices,
        error_messages=choose_from_list("an age group"),
    )

    def __init__(self, *args: Any, local_authorities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_local_authority_choices(self.fields["local_authority"], local_authorities)

    def clean_on(self) -> Any:
        value = self.cleaned_data["on"] or timezone.localdate()
        if value > timezone.localdate():
            raise forms.ValidationError("The day must be today or in the past.")
        return value


class PeriodFilterForm(forms.Form):
    start = NHSDateField(
        label="From",
        required=False,
        help_text="The first day of a month, for example 1 1 2026",
    )
    end = NHSDateField(
        label="To",
        required=False,
        help_text="The last day of the same month, for example 31 1 2026",
    )
    local_authority = local_authority_filter()
    age_group = forms.ChoiceField(
        label="Age group at the end of the period",
        required=False,
        choices=[("", "Any")] + AgeGroup.choices,
        error_messages=choose_from_list("an age group"),
    )

    def __init__(self, *args: Any, local_authorities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_local_authority_choices(self.fields["local_authority"], local_authorities)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        today = timezone.localdate()
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            start, end = last_whole_month(today)
        first, last = month_of(start or end)
        start, end = start or first, end or last
        if start != first:
            self.add_error("start", "The period must start on the first day of a month.")
        elif end != last:
            self.add_error("end", "The period must end on the last day of the month it starts in.")
        elif end > today:
            self.add_error("end", "The end of the period must be today or in the past.")
        elif end == today:
            self.add_error("end", "The month must have ended: choose an earlier one.")
        data["start"], data["end"] = start, end
        return data


FIRST_YEAR = 2020


def planning_years(today: date) -> list[int]:
    """The years with planning figures, latest first: a year has them once its January has
    ended."""
    last = today.year if today > date(today.year, 1, 31) else today.year - 1
    return list(range(last, FIRST_YEAR - 1, -1))


class PlanningFilterForm(forms.Form):
    """A calendar year (its whole months that have ended) and, optionally, one area."""

    year = forms.TypedChoiceField(
        label="Year",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages=choose_from_list("a year"),
    )
    local_authority = local_authority_filter()

    def __init__(self, *args: Any, local_authorities: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_local_authority_choices(self.fields["local_authority"], local_authorities)
        years = planning_years(today)
        self.fields["year"].choices = [(y, str(y)) for y in years]
        self.last_year = years[0]
