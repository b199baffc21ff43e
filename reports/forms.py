"""The reports' filters, in the URL (GET): a date, an area and an age group identify no one."""

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from dsr.deadlines import AgeGroup
from dsr.forms import choose_from_list, local_authority_filter, set_local_authority_choices
from dsr.nhsuk_forms import NHSDateField

DEFAULT_PERIOD = timedelta(days=90)


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
    start = NHSDateField(label="From", required=False, help_text="For example, 1 1 2026")
    end = NHSDateField(label="To", required=False, help_text="For example, 31 3 2026")
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
        today = timezone.localdate()
        data["end"] = data.get("end") or today
        data["start"] = data.get("start") or data["end"] - DEFAULT_PERIOD
        if data["end"] > today and "end" not in self.errors:
            self.add_error("end", "The end of the period must be today or in the past.")
        if data["start"] > data["end"] and "start" not in self.errors:
            self.add_error("start", "The start of the period must be before its end.")
        return data
