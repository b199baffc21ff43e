"""Forms for the staff referral pages: the queue's filters and the staff entry of a paper, email
or phone referral. The forms of the review itself are in referrals.forms.staff_review.

Field shape and cross-field consistency only. The rules of the review (what may follow what,
when a decision may be made) live in referrals.services; the views put its refusals on these
forms as NHS.UK errors.
"""

import datetime
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from dsr.models import (
    AccessibleFormat,
    CoOccurring,
    LocalAuthority,
    RiskFactor,
)
from dsr.nhsuk_forms import NHSDateField, choose_from_list, text_field, yes_no_field
from dsr.validators import (
    optional_nhs_number,
    optional_postcode,
)
from referrals.models import Referral, ReferralContact

# --- The queue -------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    """The queue's filters and order. They travel in the URL (GET): none identifies anyone."""

    status = forms.ChoiceField(
        label="Status",
        choices=[("", "Any")] + [(s.value, s.label) for s in Referral.LIVE],
        required=False,
        error_messages=choose_from_list("a status"),
    )
    assigned = forms.ChoiceField(
        label="Reviewer",
        choices=[("", "Anyone"), ("me", "Assigned to me"), ("unassigned", "Nobody yet")],
        required=False,
        error_messages=choose_from_list("a reviewer option"),
    )
    due = forms.ChoiceField(
        label="Decision due",
        choices=[("", "Any time"), ("overdue", "Overdue"), ("week", "Due this week")],
        required=False,
        error_messages=choose_from_list("when the decision is due"),
    )
    local_authority = forms.ModelChoiceField(
        label="Local authority",
        queryset=LocalAuthority.objects.none(),
        required=False,
        empty_label="Any",
        error_messages=choose_from_list("a local authority"),
    )
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[("due", "Decision due date"), ("received", "Date received")],
        required=False,
        error_messages=choose_from_list("an order"),
    )

    def __init__(self, *args: Any, local_authorities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if local_authorities is not None:
            self.fields["local_authority"].queryset = local_authorities


# --- Staff entry of a paper, email or phone referral -----------------------------------------

STAFF_SOURCES = [
    (s.value, s.label)
    for s in (Referral.Source.PAPER, Referral.Source.EMAIL, Referral.Source.PHONE)
]

# The one contact the staff page takes, as form field -> ReferralContact field.
CONTACT_FIELDS = {
    "contact_role": "role",
    "contact_name": "name",
    "contact_relationship": "relationship",
    "contact_email": "email",
    "contact_phone": "phone",
    "contact_address": "address",
    "contact_has_parental_responsibility": "has_parental_responsibility",
    "contact_named_by_person": "named_by_person",
    "contact_preferred_format": "preferred_format",
    "contact_prefers_letter": "prefers_letter",
}


class StaffReferralForm(forms.ModelForm):
    """A referral received on paper, by email or by phone, entered by staff on the referrer's
    behalf: the same questions as the public form, plus the source and when it was received
    (the four-week clock runs from receipt, so it may be in the past but never the future).

    `submission_token` is a fresh UUID in a hidden field: posting the same page twice makes one
    referral (referral_submit returns the first).
    """

    # (heading, field names): the page shows one fieldset per topic, in this order.
    SECTIONS = [
        ("How the referral came in", ["source", "received_on", "received_time", "referrer_kind"]),
        (
            "The person referred",
            [
                "given_name",
                "family_name",
                "date_of_birth",
                "nhs_number",
                "address",
                "postcode",
                "local_authority",
                "gp_practice_name",
            ],
        ),
        ("Diagnosis", ["diagnosis", "diagnosis_status", "co_occurring"]),
        ("Risks", ["risk_factors", "risks", "tried", "would_help"]),
        (
            "Education, social care and other professionals",
            ["has_ehcp", "education_setting", "social_care", "other_professionals"],
        ),
        (
            "Communication",
            ["communication_needs", "accessible_formats", "interpreter_language"],
        ),
        (
            "Who referred",
            [
                "referrer_name",
                "referrer_role",
                "referrer_organisation",
                "referrer_email",
                "referrer_phone",
                "referrer_address",
            ],
        ),
        (
            "Consent",
            [
                "consent_to_referral",
                "consent_to_share",
                "consent_basis",
                "consent_given_by",
                "outcome_to_referrer",
            ],
        ),
        ("Someone to tell the outcome", list(CONTACT_FIELDS)),
    ]

    submission_token = forms.UUIDField(widget=forms.HiddenInput)
    source = forms.ChoiceField(
        label="How was the referral received?",
        choices=STAFF_SOURCES,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how the referral was received.",
            "invalid_choice": "Choose how the referral was received.",
        },
    )
    received_on = NHSDateField(
        label="Date received",
        help_text="The four-week decision clock runs from this date. For example, 3 3 2026",
    )
    received_time = forms.TimeField(
        label="Time received",
        help_text="Use the 24-hour clock, for example 14:30.",
        input_formats=["%H:%M"],
        widget=forms.TimeInput(format="%H:%M", attrs={"class": "nhsuk-input--width-5"}),
        error_messages={
            "required": "Enter the time the referral was received.",
            "invalid": "Enter the time in the 24-hour clock, like 14:30.",
        },
    )
    date_of_birth = NHSDateField(label="Date of birth", help_text="For example, 27 3 2008")
    nhs_number = forms.CharField(
        label="NHS number (if known)",
        help_text="10 digits, for example 485 777 3456.",
        max_length=14,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )
    # Longer than any postcode, so a wrong one gets the postcode message, not a length error.
    postcode = forms.CharField(max_length=20, required=False)
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    co_occurring = forms.MultipleChoiceField(
        label="Other conditions",
        choices=CoOccurring.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_factors = forms.MultipleChoiceField(
        label="Risks that apply now",
        choices=RiskFactor.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risks = text_field("Current risks, in the referrer's words")
    tried = text_field("What has been tried", required=False)
    would_help = text_field("What would help", required=False)
    social_care = text_field("Social care involvement", required=False)
    other_professionals = text_field("Other professionals involved", required=False)
    communication_needs = text_field("Communication needs", required=False)
    accessible_formats = forms.MultipleChoiceField(
        label="Formats the person needs",
        choices=AccessibleFormat.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    referrer_address = forms.CharField(
        label="Referrer's postal address",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_to_referral = yes_no_field(
        "Does the person, or someone entitled to decide for them, agree to this referral?",
        required_message="Say whether there is consent to the referral.",
    )
    consent_to_share = yes_no_field(
        "Do they agree to information being shared with the people who will review it?",
        required_message="Say whether there is consent to share information.",
    )
    outcome_to_referrer = yes_no_field(
        "Does the person agree the referrer is told the outcome?",
        required_message="Say whether the referrer may be told the outcome.",
        help_text="A professional referrer is told the outcome either way.",
    )

    contact_role = forms.ChoiceField(
        label="Who are they?",
        choices=ReferralContact.Role.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages=choose_from_list("who they are"),
    )
    contact_name = forms.CharField(
        label="Full name", max_length=150, required=False, help_text="Leave blank if nobody."
    )
    contact_relationship = forms.CharField(
        label="Relationship to the person", max_length=60, required=False
    )
    contact_email = forms.EmailField(
        label="Email address",
        required=False,
        error_messages={
            "invalid": "Enter an email address in the right format, like name@nhs.net."
        },
    )
    contact_phone = forms.CharField(label="Phone number", max_length=30, required=False)
    contact_address = forms.CharField(
        label="Postal address",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact_has_parental_responsibility = forms.BooleanField(
        label="They have parental responsibility", required=False
    )
    contact_named_by_person = forms.BooleanField(
        label="The person (or a best-interests decision) wants them told the outcome",
        required=False,
    )
    contact_preferred_format = forms.ChoiceField(
        label="Format for the outcome letter or email",
        choices=ReferralContact.Format.choices,
        initial=ReferralContact.Format.STANDARD,
        widget=forms.RadioSelect,
        required=False,
        error_messages=choose_from_list("a format"),
    )
    contact_prefers_letter = forms.BooleanField(
        label="They would rather have a letter than an email", required=False
    )

    class Meta:
        model = Referral
        fields = [
            "referrer_kind",
            "given_name",
            "family_name",
            "date_of_birth",
            "nhs_number",
            "address",
            "postcode",
            "local_authority",
            "gp_practice_name",
            "diagnosis",
            "diagnosis_status",
            "co_occurring",
            "risk_factors",
            "risks",
            "tried",
            "would_help",
            "has_ehcp",
            "education_setting",
            "social_care",
            "other_professionals",
            "communication_needs",
            "accessible_formats",
            "interpreter_language",
            "referrer_name",
            "referrer_role",
            "referrer_organisation",
            "referrer_email",
            "referrer_phone",
            "referrer_address",
            "consent_to_referral",
            "consent_to_share",
            "consent_basis",
            "consent_given_by",
            "outcome_to_referrer",
        ]
        labels = {
            "referrer_kind": "Who made the referral?",
            "given_name": "First name",
            "family_name": "Last name",
            "gp_practice_name": "GP practice",
            "diagnosis": "Diagnosis",
            "diagnosis_status": "Is the diagnosis confirmed?",
            "has_ehcp": "Does the person have an education, health and care plan (EHCP)?",
            "education_setting": "School, college or other education setting",
            "interpreter_language": "Interpreter language (if needed)",
            "referrer_name": "Referrer's full name",
            "referrer_role": "Referrer's job title, or relationship to the person",
            "referrer_organisation": "Referrer's organisation",
            "referrer_email": "Referrer's email address",
            "referrer_phone": "Referrer's phone number",
            "consent_basis": "Who agreed to the referral?",
            "consent_given_by": "Name of whoever agreed, if not the person",
        }
        widgets = {
            "referrer_kind": forms.RadioSelect,
            "diagnosis": forms.RadioSelect,
            "diagnosis_status": forms.RadioSelect,
            "has_ehcp": forms.RadioSelect,
            "consent_basis": forms.RadioSelect,
        }
        error_messages = {
            "referrer_kind": {"required": "Choose who made the referral."},
            "given_name": {"required": "Enter the person's first name."},
            "family_name": {"required": "Enter the person's last name."},
            "local_authority": {
                "required": "Choose the local authority the person lives in.",
                "invalid_choice": "Choose a local authority from the list.",
            },
            "diagnosis": {"required": "Choose the person's diagnosis."},
            "diagnosis_status": {"required": "Say whether the diagnosis is confirmed."},
            "has_ehcp": {"required": "Say whether the person has an EHCP."},
            "referrer_name": {"required": "Enter the referrer's name."},
            "referrer_email": {
                "invalid": "Enter an email address in the right format, like name@nhs.net."
            },
            "consent_basis": {"required": "Choose who agreed to the referral."},
        }

    def __init__(self, *args: Any, local_authorities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Page order, so the error summary lists problems in the order the page asks.
        self.order_fields([name for _, names in self.SECTIONS for name in names])
        if local_authorities is not None:
            self.fields["local_authority"].queryset = local_authorities
        # A paper or phone referral from someone who does not know the area still needs one:
        # without it, only ICB staff would ever see the referral.
        self.fields["local_authority"].required = True
        self.fields["local_authority"].empty_label = "Choose a local authority"
        if not self.is_bound:
            now = timezone.localtime()
            self.initial.setdefault("submission_token", uuid.uuid4())
            self.initial.setdefault("received_on", now.date())
            self.initial.setdefault("received_time", now.strftime("%H:%M"))

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The bound fields, grouped by topic for the page (the hidden token is not in any)."""
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def clean_nhs_number(self) -> str:
        return optional_nhs_number(self.cleaned_data.get("nhs_number"))

    def clean_postcode(self) -> str:
        return optional_postcode(self.cleaned_data.get("postcode"))

    def clean_date_of_birth(self) -> datetime.date:
        value = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError("The date of birth must be in the past.")
        if value.year < today.year - 120:
            raise forms.ValidationError("The date of birth must be within the last 120 years.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._clean_received(data)
        self._clean_contact(data)
        return data

    def _clean_received(self, data: dict[str, Any]) -> None:
        day, time = data.get("received_on"), data.get("received_time")
        if day is None or time is None:
            return
        # London wall-clock time. In the autumn's repeated hour the earlier instant is taken,
        # and a time in the spring's missing hour lands an hour later; either is within the
        # same London day, so the due date does not change.
        received_at = timezone.make_aware(datetime.datetime.combine(day, time))
        if received_at > timezone.now():
            self.add_error("received_on", "The date and time received must not be in the future.")
            return
        birth = data.get("date_of_birth")
        if birth and birth > day:
            self.add_error("date_of_birth", "The date of birth must be before the date received.")
        data["received_at"] = received_at

    def _clean_contact(self, data: dict[str, Any]) -> None:
        name = (data.get("contact_name") or "").strip()
        others = [
            data.get(f)
            for f in ("contact_role", "contact_relationship", "contact_email", "contact_phone")
        ] + [data.get("contact_address")]
        if not name:
            if any(others):
                self.add_error("contact_name", "Enter the name of the person to tell.")
            return
        if not data.get("contact_role"):
            self.add_error("contact_role", "Choose who the person to tell is.")
        # The outcome goes by email or letter, so a phone number alone cannot carry it.
        address = (data.get("contact_address") or "").strip()
        if not data.get("contact_email") and not address:
            if "contact_email" not in self.errors:
                self.add_error("contact_email", "Enter an email address or a postal address.")
        elif data.get("contact_prefers_letter") and not address:
            self.add_error("contact_address", "Enter a postal address to send a letter to.")

    def referral_fields(self) -> dict[str, Any]:
        """The Referral field values for referral_submit (call only when valid). The referrer
        kind is left out: referral_submit takes it as an argument of its own."""
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name != "referrer_kind"
        }

    def contacts(self) -> list[dict[str, Any]]:
        """The contact to save with the referral, if one was given (call only when valid)."""
        data = self.cleaned_data
        if not (data.get("contact_name") or "").strip():
            return []
        contact = {model: data[form] for form, model in CONTACT_FIELDS.items()}
        contact["preferred_format"] = contact["preferred_format"] or "standard"
        return [contact]
