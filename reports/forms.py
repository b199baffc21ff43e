"""The reports' filters, in the URL (GET): a date, an area and an age group identify no one."""

from typing import Any

from django import forms
from django.utils import timezone

from dsr.deadlines import AgeGroup
from dsr.forms import choose_from_list
from dsr.nhsuk_forms import NHSDateField


class SnapshotFilterForm(forms.Form):
    on = NHSDateField(label="On the day", required=False, help_text="For example, 31 3 2026")
    local_authority = forms.TypedChoiceField(
        label="Local authority",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages=choose_from_list("a local authority"),
    )
    age_group = forms.ChoiceField(
        label="Age group",
        required=False,
        choices=[("", "Any")] + AgeGroup.choices,
        error_messages=choose_from_list("an age group"),
    )

    def __init__(self, *args: Any, local_authorities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["local_authority"].choices = [("", "Any")] + [
            (la.pk, la.name) for la in local_authorities
        ]

    def clean_on(self) -> Any:
        value = self.cleaned_data["on"] or timezone.localdate()
        if value > timezone.localdate():
            raise forms.ValidationError("The day must be today or in the past.")
        return value
