"""Form fields and widgets that the NHS.UK crispy template pack (templates/nhsuk/) renders.

Standard Django widgets need nothing from here: the pack styles them as they are. What Django
lacks is the NHS.UK date input (separate day, month and year boxes), so it lives here.
"""

import datetime
import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

DATE_PARTS = ("day", "month", "year")

# Only ASCII digits: int() would also accept other scripts' digits and underscores ("1_0").
_DIGITS = re.compile(r"[0-9]+")


class DateInputWidget(forms.MultiWidget):
    """Day, month and year text boxes, posted as <name>_day, <name>_month and <name>_year."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # Text boxes, not type="number": number inputs drop leading zeros, accept "1e3" and
        # change value on scroll. inputmode still brings up the numeric keypad on phones.
        widgets = {
            "day": forms.TextInput(attrs={"class": "nhsuk-input--width-2", "inputmode": "numeric"}),
            "month": forms.TextInput(
                attrs={"class": "nhsuk-input--width-2", "inputmode": "numeric"}
            ),
            "year": forms.TextInput(
                attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}
            ),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        group_id = context["widget"]["attrs"].get("id")
        for part, subwidget in zip(DATE_PARTS, context["widget"]["subwidgets"], strict=True):
            # MultiWidget numbers its boxes (id_dob_0); ids that match the posted names
            # (dob_day) are what people expect when they write links and tests.
            if group_id:
                subwidget["attrs"]["id"] = f"{group_id}_{part}"
            # The template pack labels each box and highlights only the boxes an error names.
            subwidget["part"] = part
            subwidget["label"] = part.capitalize()
        return context

    def id_for_label(self, id_: str) -> str:
        # Error summary links must land on something focusable, and the group itself is not.
        return f"{id_}_day" if id_ else ""


class NHSDateField(forms.Field):
    """A date entered as day, month and year, with the NHS.UK service manual's error messages.

    Errors that concern particular boxes carry params={"parts": [...]} so the template pack
    can highlight just those boxes; errors about the whole date highlight all three.
    """

    widget = DateInputWidget
    default_error_messages = {
        "required": "Enter the %(label)s.",
        "incomplete": "The date must include a %(missing)s.",
        "invalid": "The date must be a real date.",
        "year_length": "The year must include 4 numbers.",
    }

    def to_python(self, value: Any) -> datetime.date | None:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if value in self.empty_values:
            return None
        parts = self._parts(value)
        if not any(parts.values()):
            return None
        self._check_parts(parts)
        day, month, year = (int(parts[part]) for part in DATE_PARTS)
        if not 1 <= month <= 12:
            raise self._invalid(["month"])
        if not 1 <= day <= 31:
            raise self._invalid(["day"])
        try:
            return datetime.date(year, month, day)
        except ValueError:
            # A day that exists in some months but not this one (31/02): the date as a whole
            # is wrong, so no single box is to blame.
            raise self._invalid(list(DATE_PARTS)) from None

    def validate(self, value: datetime.date | None) -> None:
        if value in self.empty_values and self.required:
            raise ValidationError(
                self.error_messages["required"],
                code="required",
                params={"label": self._label_in_sentence(), "parts": list(DATE_PARTS)},
            )

    def _parts(self, value: Any) -> dict[str, str]:
        if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 3:
            raise self._invalid(list(DATE_PARTS))
        return {
            part: "" if raw is None else str(raw).strip()
            for part, raw in zip(DATE_PARTS, value, strict=True)
        }

    def _check_parts(self, parts: dict[str, str]) -> None:
        """Every box filled in, with digits only, and a year of 4 digits."""
        missing = [part for part in DATE_PARTS if not parts[part]]
        if missing:
            raise ValidationError(
                self.error_messages["incomplete"],
                code="incomplete",
                params={"parts": missing, "missing": " and ".join(missing)},
            )
        not_numbers = [part for part in DATE_PARTS if not _DIGITS.fullmatch(parts[part])]
        if not_numbers:
            raise self._invalid(not_numbers)
        # Longer than any real day, month or year: refused before int() meets thousands of digits.
        too_long = [part for part in ("day", "month") if len(parts[part]) > 2]
        if too_long:
            raise self._invalid(too_long)
        if len(parts["year"]) != 4:
            raise ValidationError(
                self.error_messages["year_length"], code="year_length", params={"parts": ["year"]}
            )

    def _invalid(self, parts: list[str]) -> ValidationError:
        return ValidationError(
            self.error_messages["invalid"], code="invalid", params={"parts": parts}
        )

    def _label_in_sentence(self) -> str:
        """The label as it reads mid-sentence: "Date of birth" -> "date of birth".

        Only the first letter is lowered, and not at all when the first word is an
        abbreviation, so "GP referral date" keeps its capitals.
        """
        label = str(self.label or "date").strip()
        first_word = label.split(" ", 1)[0]
        if len(first_word) > 1 and first_word.isupper():
            return label
        return label[:1].lower() + label[1:]
