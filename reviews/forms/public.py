"""Forms for C(E)TR requests: the public form (anyone may ask), the staff form for a request
taken by phone, and the triage form. Field shape and cross-field consistency only: the rules
live in reviews.services, whose refusals views show on the form."""

import datetime
import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.dateformat import format as format_date

from dsr.models import LocalAuthority, Person
from dsr.nhsuk.fill_time import MinimumFillTimeForm
from dsr.nhsuk.forms import (
    YES_NO,
    NHSDateField,
    PostalAddressField,
    TextField,
    check_date_of_birth,
    choice_field,
    choose_from_list,
    crlf_to_lf,
    text_field,
)
from dsr.nhsuk.validators import format_nhs_number, optional_nhs_number, optional_postcode
from reviews.models import Cetr, CetrRequest

NOT_KNOWN = "not_known"
EXPIRED = "This page has expired. Check your answers and send the request again."


def _short(label: str, *, noun: str = "", **kwargs: Any) -> TextField:
    """A one-line text box whose messages name the answer ("Enter your full name."); hidden
    characters get the message for a line break."""
    field = TextField(noun=noun or label, label=label, **kwargs)
    field.error_messages["control_characters"] = field.error_messages["one_line"]
    return field


class CetrRequestForm(forms.Form):
    """A request for a C(E)TR, as the person asking gives it.

    `local_authorities` are the council areas to choose from; `area_not_known` adds "I do not
    know" (the public may not know the council; staff of an ICB may leave it for later).
    `submission_token` is a UUID in a hidden field: posting the same page twice makes one
    request (cetr_request_submit returns the first).
    """

    # (heading, field names): the page shows one fieldset per topic, in this order.
    SECTIONS = [
        (
            "About you",
            [
                "relationship",
                "requester_name",
                "requester_organisation",
                "contact_by",
                "requester_email",
                "requester_address",
                "requester_phone",
            ],
        ),
        (
            "The person the review is for",
            [
                "given_name",
                "family_name",
                "date_of_birth",
                "nhs_number",
                "postcode",
                "local_authority",
                "in_hospital",
                "hospital_name",
            ],
        ),
        ("Why you are asking", ["reason", "person_knows"]),
    ]

    submission_token = forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"required": EXPIRED, "invalid": EXPIRED}
    )
    relationship = choice_field(
        CetrRequest.Relationship.choices,
        label="Who are you?",
        required_message="Choose who you are.",
    )
    requester_name = _short(
        "Your full name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    requester_organisation = _short(
        "Your organisation (optional)",
        noun="Your organisation",
        max_length=150,
        required=False,
        help_text="If you work in the team supporting the person: the team or service you work "
        "for.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    contact_by = choice_field(
        CetrRequest.ContactBy.choices,
        label="How should we tell you what we decide?",
        required_message="Choose how we should tell you what we decide.",
    )
    requester_email = forms.EmailField(
        label="Email address",
        required=False,
        max_length=254,
        help_text="We need this if you want an email.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "invalid": "Enter an email address in the right format, like name@example.com.",
            "max_length": "Email address must be 254 characters or fewer.",
        },
    )
    requester_address = PostalAddressField(
        noun="Postal address",
        label="Postal address",
        required=False,
        help_text="We need this if you want a letter. Put the postcode on the last line.",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    requester_phone = _short(
        "Phone number (optional)",
        noun="Phone number",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    given_name = _short("First name", noun="the person's first name", max_length=100)
    family_name = _short("Last name", noun="the person's last name", max_length=100)
    date_of_birth = NHSDateField(label="Date of birth", help_text="For example, 27 3 2008")
    nhs_number = forms.CharField(
        label="NHS number (optional)",
        required=False,
        max_length=20,
        help_text="This is a 10 digit number, like 485 777 3456.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": "false", "class": "nhsuk-input--width-10"}
        ),
        error_messages={"max_length": "An NHS number must be 10 digits."},
    )
    postcode = forms.CharField(
        label="Postcode (optional)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10"}),
        error_messages={"max_length": "Enter a real postcode, like NR1 2DH."},
    )
    local_authority = choice_field(
        [],
        label="Which council area does the person live in?",
        required_message="Choose a council area, or choose I do not know.",
        help_text="The council that runs social care and schools where they live.",
    )
    in_hospital = choice_field(
        CetrRequest.InHospital.choices,
        label="Is the person in hospital now?",
        required_message="Choose whether the person is in hospital now.",
    )
    hospital_name = _short(
        "Which hospital? (optional)",
        noun="The hospital's name",
        max_length=150,
        required=False,
    )
    reason = text_field(
        "Why are you asking for a C(E)TR?",
        required_message="Enter why you are asking for a C(E)TR.",
        help_text="What is happening now, and what worries you.",
    )
    person_knows = choice_field(
        YES_NO,
        label="Does the person know you are asking?",
        required_message="Choose whether the person knows you are asking.",
        help_text="If you are the person, choose Yes.",
    )

    def __init__(
        self,
        *args: Any,
        local_authorities: QuerySet[LocalAuthority],
        area_not_known: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("submission_token", uuid.uuid4())
        self.area_not_known = area_not_known
        areas = list(local_authorities)
        area = self.fields["local_authority"]
        area.choices = [(str(la.pk), la.name) for la in areas] + (
            [(NOT_KNOWN, "I do not know")] if area_not_known else []
        )
        if not area_not_known:
            area.error_messages["required"] = "Choose the council area the person lives in."
        self._areas = {str(la.pk): la for la in areas}

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The bound fields, grouped by topic for the page (the hidden token is not in any)."""
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean_requester_phone(self) -> str:
        value = self.cleaned_data.get("requester_phone", "")
        if value and not all(c.isdigit() or c in " +()-" for c in value):
            raise forms.ValidationError(
                "Enter a phone number, like 01632 960 001 or 07700 900 982."
            )
        return value

    def clean_requester_address(self) -> str:
        return crlf_to_lf(self.cleaned_data.get("requester_address", ""))

    def clean_reason(self) -> str:
        return crlf_to_lf(self.cleaned_data.get("reason", ""))

    def clean_date_of_birth(self) -> datetime.date:
        return check_date_of_birth(
            self.cleaned_data["date_of_birth"],
            future_message="The date of birth must be today or in the past.",
        )

    def clean_nhs_number(self) -> str:
        return optional_nhs_number(self.cleaned_data.get("nhs_number"))

    def clean_postcode(self) -> str:
        return optional_postcode(self.cleaned_data.get("postcode"))

    def clean_local_authority(self) -> LocalAuthority | None:
        value = self.cleaned_data.get("local_authority")
        if value == NOT_KNOWN:
            return None
        return self._areas[value]

    def clean_person_knows(self) -> bool:
        return self.cleaned_data["person_knows"] == "yes"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        contact_by = data.get("contact_by")
        if (
            contact_by == CetrRequest.ContactBy.EMAIL
            and not data.get("requester_email")
            and "requester_email" not in self.errors
        ):
            self.add_error("requester_email", "Enter your email address, or choose Letter.")
        if (
            contact_by == CetrRequest.ContactBy.LETTER
            and not data.get("requester_address")
            and "requester_address" not in self.errors
        ):
            self.add_error("requester_address", "Enter your postal address, or choose Email.")
        return data

    def request_fields(self) -> dict[str, Any]:
        """The `fields` for `cetr_request_submit`, from the cleaned data."""
        data = self.cleaned_data
        names = [name for _, names in self.SECTIONS for name in names]
        return {name: data[name] for name in names}


class PublicCetrRequestForm(MinimumFillTimeForm, CetrRequestForm):
    """The public form: every council area, "I do not know", the honeypot, and the time the
    page was shown (sent too soon after it, nothing is saved: dsr.nhsuk.fill_time)."""

    # A field people never see (hidden by CSS and from screen readers): only bots fill it in.
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("local_authorities", LocalAuthority.objects.order_by("name"))
        super().__init__(*args, **kwargs)

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


# --- Triage -----------------------------------------------------------------------------------

ARRANGE = "arrange"
DECLINE = "decline"


class CandidateField(forms.ModelChoiceField):
    """A person on the register who may be the one the request is about."""

    def label_from_instance(self, obj: Person) -> str:
        born = format_date(obj.date_of_birth, "j F Y")
        nhs = format_nhs_number(obj.nhs_number) or "not known"
        return f"{obj.full_name}, born {born}, NHS number {nhs}"


class TriageForm(forms.Form):
    """Arrange a C(E)TR for one of the matching people on the register, or decline with a
    reason written for the person who asked."""

    decision = choice_field(
        [(ARRANGE, "Arrange a C(E)TR"), (DECLINE, "Decline")],
        label="What have you decided?",
        required_message="Choose whether to arrange a C(E)TR or decline the request.",
    )
    person = CandidateField(
        label="Who is the request about?",
        queryset=Person.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        help_text="People on the register with the same NHS number, or the same name and date "
        "of birth.",
        error_messages=choose_from_list("the person"),
    )
    kind = choice_field(
        Cetr.Kind.choices,
        label="Which C(E)TR?",
        required_message="Choose which C(E)TR to arrange.",
        required=False,
    )
    reason = text_field(
        "Why are you declining?",
        required_message="Enter why you are declining the request.",
        required=False,
        help_text="Written into the letter to the person who asked, after \u201cWhy:\u201d. "
        "Give the reason in plain words, for them; the letter already greets them and signs "
        "off, so do not add either.",
    )

    def __init__(self, *args: Any, candidates: QuerySet[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = candidates

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        decision = data.get("decision")
        if decision == ARRANGE:
            if not data.get("person") and "person" not in self.errors:
                if self.fields["person"].queryset.exists():
                    self.add_error("person", "Choose who the request is about.")
                else:
                    self.add_error(
                        None,
                        "No one on the register matches this request. Add the person to the "
                        "register first, or decline the request.",
                    )
            if not data.get("kind") and "kind" not in self.errors:
                self.add_error("kind", "Choose which C(E)TR to arrange.")
        elif (
            decision == DECLINE
            and not (data.get("reason") or "").strip()
            and "reason" not in self.errors
        ):
            self.add_error("reason", "Enter why you are declining the request.")
        return data
