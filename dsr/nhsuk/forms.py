"""The register's one kit of NHS.UK form fields: what the crispy template pack (templates/nhsuk/)
renders, and the small field helpers every app's forms share.

Standard Django widgets need nothing from here: the pack styles them as they are. What Django
lacks is the NHS.UK date input (separate day, month and year boxes). The helpers give every form
the same choices (YES_NO), the same checks (hidden characters, line breaks in one-line answers,
names, dates not in the future) and messages built from what the question asks about.
"""

import datetime
import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone

from dsr.nhsuk.validators import (
    refuse_control_characters,
    refuse_non_name_characters,
    validate_one_line,
    validate_postal_address,
)

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


# --- Choices, checks and messages ------------------------------------------------------------

YES_NO = [("yes", "Yes"), ("no", "No")]
TEXT_LIMIT = 5000
EMAIL_MAX = 254
PHONE_MAX = 30

_PHONE = re.compile(r"[0-9 +()\-]{6,30}")


def choose_from_list(what: str) -> dict[str, str]:
    """The message for a choice that is not in the list (a hand-edited URL, say)."""
    return {"invalid_choice": f"Choose {what} from the list."}


def not_in_future(value: datetime.date | None, what: str) -> None:
    """Refuse a date after today in London, saying "The <what> must be today or in the past"."""
    if value and value > timezone.localdate():
        raise forms.ValidationError(f"The {what} must be today or in the past.")


def check_date_of_birth(
    value: datetime.date,
    *,
    future_message: str = "The date of birth must be in the past.",
    today_too: bool = False,
) -> datetime.date:
    """Refuse a date of birth after today (or today as well, with `today_too`) with
    `future_message`, and one more than 120 years ago."""
    today = timezone.localdate()
    if value > today or (today_too and value == today):
        raise forms.ValidationError(future_message)
    if value.year < today.year - 120:
        raise forms.ValidationError("The date of birth must be within the last 120 years.")
    return value


def crlf_to_lf(value: str) -> str:
    """Browsers send a text area's line breaks as CRLF: store them as LF."""
    return value.replace("\r\n", "\n")


def _without_null_check(validators: list[Any]) -> list[Any]:
    """Django's own NUL check has its own wording; refuse_control_characters covers NUL."""
    return [v for v in validators if not isinstance(v, ProhibitNullCharactersValidator)]


# --- Field constructors ----------------------------------------------------------------------


def text_field(
    label: str,
    *,
    required: bool = True,
    help_text: str = "",
    required_message: str = "",
    **kwargs: Any,
) -> forms.CharField:
    """A long free-text answer: a textarea of at most TEXT_LIMIT characters, whose "required"
    message is built from its label unless `required_message` is given."""
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": required_message or f"Enter {label[:1].lower()}{label[1:]}."},
        **kwargs,
    )


def whole_number_field(
    label: str,
    *,
    noun: str,
    minimum: int = 1,
    maximum: int = 999,
    help_text: str = "",
) -> forms.IntegerField:
    """A short box for a whole number from `minimum` to `maximum` (a number of days, months or
    a level), whose messages name the answer by `noun` ("Days for a red rating must be a whole
    number, like 7"). A text box with a numeric keypad, not a number input: a number input
    changes its value when the page is scrolled over it."""
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=minimum,
        max_value=maximum,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": "false", "class": "nhsuk-input--width-3"}
        ),
        error_messages={
            "required": f"Enter {noun[:1].lower()}{noun[1:]}",
            "invalid": f"{noun} must be a whole number, like {max(minimum, 1) + 2}",
            "min_value": f"{noun} must be {minimum} or more",
            "max_value": f"{noun} must be {maximum} or fewer",
        },
    )


def choice_field(
    choices: Any, *, required_message: str, inline: bool = False, **kwargs: Any
) -> forms.ChoiceField:
    """Radios, with "Choose one of the options." for an answer that is not among them."""
    attrs = {"class": "nhsuk-radios--inline"} if inline else {}
    return forms.ChoiceField(
        choices=choices,
        widget=forms.RadioSelect(attrs=attrs),
        error_messages={
            "required": required_message,
            "invalid_choice": "Choose one of the options.",
        },
        **kwargs,
    )


def checkboxes(choices: Any, **kwargs: Any) -> forms.MultipleChoiceField:
    """Optional checkboxes, with "Choose from the options shown." for an answer not among them."""
    return forms.MultipleChoiceField(
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choose from the options shown.",
            "invalid_list": "Choose from the options shown.",
        },
        **kwargs,
    )


def yes_no_field(
    label: str, *, required_message: str, help_text: str = ""
) -> forms.TypedChoiceField:
    """Yes or No radios, cleaned to True or False."""
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": required_message},
    )


class TextField(forms.CharField):
    """A text box or area with messages that name the answer, refusing hidden characters and,
    in a text box, line breaks; `name=True` allows only what names are written with.

    `noun` names the answer in messages ("First name must be 100 characters or fewer."); an
    identifier's box, longer than any real one, may say instead what it should be (`too_long`).
    """

    def __init__(
        self,
        *,
        noun: str,
        max_length: int,
        required: bool = True,
        multiline: bool = False,
        name: bool = False,
        too_long: str = "",
        widget: forms.Widget | None = None,
        **kwargs: Any,
    ) -> None:
        self.too_long = too_long
        if widget is None:
            widget = forms.Textarea(attrs={"rows": 5}) if multiline else forms.TextInput()
        super().__init__(max_length=max_length, required=required, widget=widget, **kwargs)
        self.validators = _without_null_check(self.validators)
        self.validators.append(refuse_control_characters)
        if not multiline:
            self.validators.append(validate_one_line)
        if name:
            self.validators.append(refuse_non_name_characters)
        self.name_answer(noun)

    def run_validators(self, value: Any) -> None:
        """One message for the answer, as the NHS.UK design system asks: the first check it
        fails (a name typed over two lines is told about the line break, not also about letters
        a name cannot have)."""
        if value in self.empty_values:
            return
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as error:
                if getattr(error, "code", None) in self.error_messages:
                    error.message = self.error_messages[error.code]
                raise ValidationError(error.error_list[:1]) from None

    def name_answer(self, noun: str) -> None:
        """Word the messages for an answer called `noun`."""
        self.noun = noun
        capital = f"{noun[:1].upper()}{noun[1:]}"
        self.error_messages.update(
            {
                "required": f"Enter {noun[:1].lower()}{noun[1:]}.",
                "max_length": self.too_long
                or f"{capital} must be {self.max_length} characters or fewer.",
                "name_characters": f"{capital} must only include letters, spaces, hyphens, "
                "apostrophes and full stops.",
                "control_characters": f"{capital} must not contain hidden control characters. "
                "Delete them, or type the text again.",
                "one_line": f"{capital} must be one line of text, without hidden characters.",
            }
        )

    def to_python(self, value: Any) -> str:
        return crlf_to_lf(super().to_python(value))


class PostalAddressField(TextField):
    """A postal address a letter can be sent to: lines of text, the last a full UK postcode
    (a letter is never queued without one: dsr.outbox.message)."""

    def __init__(self, *, noun: str, max_length: int = 500, **kwargs: Any) -> None:
        super().__init__(noun=noun, max_length=max_length, multiline=True, **kwargs)
        self.validators.append(validate_postal_address)


class PhoneField(TextField):
    """An optional phone number: digits, spaces, +, brackets and dashes, 6 to 30 of them."""

    def __init__(self, *, label: str, **kwargs: Any) -> None:
        super().__init__(
            noun="Phone number",
            max_length=PHONE_MAX,
            required=False,
            label=label,
            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            **kwargs,
        )
        self.error_messages["format"] = "Enter a phone number, like 01632 960 001 or 07700 900 982."

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value and not _PHONE.fullmatch(value):
            raise ValidationError(self.error_messages["format"], code="format")
        return value


class EmailField(forms.EmailField):
    """An email address (optional unless `required`), refusing hidden characters with the
    message for an address in the wrong format."""

    def __init__(
        self, *, noun: str = "Email address", required: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(max_length=EMAIL_MAX, required=required, **kwargs)
        self.validators = _without_null_check(self.validators)
        self.validators.append(refuse_control_characters)
        self.widget.attrs.update({"autocomplete": "email", "spellcheck": "false"})
        self.error_messages.update(
            {
                "required": f"Enter {noun[:1].lower()}{noun[1:]}.",
                "invalid": "Enter an email address in the right format, like name@example.com.",
                "max_length": f"{noun} must be {EMAIL_MAX} characters or fewer.",
                "control_characters": "Enter an email address in the right format, "
                "like name@example.com.",
            }
        )
