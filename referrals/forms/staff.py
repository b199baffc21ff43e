"""The staff entry of a paper, email or phone referral: the public steps' questions on one page.
The queue's filters and the forms of the review are in referrals.forms.staff_review.

Field shape and cross-field consistency only; the rules live in referrals.services.
"""

import datetime
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from dsr.models import DiagnosisStatus, LocalAuthority
from dsr.nhsuk.forms import NHSDateField, choice_field, choose_from_list, yes_no_field
from referrals.forms.contact_steps import AboutYouForm, ConsentForm, OutcomeForm
from referrals.forms.steps import (
    CommunicationForm,
    DiagnosisForm,
    PersonForm,
    RisksForm,
    SupportForm,
)
from referrals.models import Referral, ReferralContact

STAFF_SOURCES = [
    (s.value, s.label)
    for s in (Referral.Source.PAPER, Referral.Source.EMAIL, Referral.Source.PHONE)
]

NHS_EMAIL_FORMAT = "Enter an email address in the right format, like name@nhs.net."

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
    behalf: the questions of the public steps (referrals.forms.steps and contact_steps), with
    their checks, worded for staff and on one page, plus the source and when it was received
    (the four-week clock runs from receipt, so it may be in the past but never the future).

    The public steps' rules that depend on who is referring and on the journey (a work email for
    a professional, consent before a referral may be sent) are not applied: staff record the
    referral as it was received. `submission_token` is a fresh UUID in a hidden field: posting
    the same page twice makes one referral (referral_submit returns the first).
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
    referrer_kind = choice_field(
        Referral.ReferrerKind.choices,
        label="Who made the referral?",
        required_message="Choose who made the referral.",
    )

    # The person referred.
    given_name = PersonForm.question(
        "given_name",
        label="First name",
        messages={"required": "Enter the person's first name."},
    )
    family_name = PersonForm.question(
        "family_name",
        label="Last name",
        messages={"required": "Enter the person's last name."},
    )
    date_of_birth = PersonForm.question(
        "date_of_birth", label="Date of birth", help_text="For example, 27 3 2008"
    )
    nhs_number = PersonForm.question(
        "nhs_number",
        label="NHS number (if known)",
        help_text="10 digits, for example 485 777 3456.",
        widget_attrs={"inputmode": "numeric", "spellcheck": "false"},
    )
    address = PersonForm.question(
        "address", label="Address", required=False, widget_attrs={"rows": 3}
    )
    postcode = PersonForm.question("postcode", label="Postcode", required=False)
    local_authority = forms.ModelChoiceField(
        label="Local authority",
        queryset=LocalAuthority.objects.all(),
        # A paper or phone referral from someone who does not know the area still needs one:
        # without it, only ICB staff would ever see the referral.
        empty_label="Choose a local authority",
        error_messages={
            "required": "Choose the local authority the person lives in.",
            "invalid_choice": "Choose a local authority from the list.",
        },
    )
    gp_practice_name = PersonForm.question(
        "gp_practice_name", label="GP practice", noun="GP practice"
    )
    diagnosis = DiagnosisForm.question(
        "diagnosis",
        label="Diagnosis",
        messages={"required": "Choose the person's diagnosis."},
    )
    diagnosis_status = DiagnosisForm.question(
        "diagnosis_status",
        label="Is the diagnosis confirmed?",
        choices=DiagnosisStatus.choices,
        messages={"required": "Say whether the diagnosis is confirmed."},
    )
    co_occurring = DiagnosisForm.question("co_occurring", label="Other conditions")

    # Risks, support and communication.
    risk_factors = RisksForm.question("risk_factors", label="Risks that apply now")
    risks = RisksForm.question(
        "risks",
        label="Current risks, in the referrer's words",
        noun="Current risks",
        widget_attrs={"rows": 4},
        messages={"required": "Enter current risks, in the referrer's words."},
    )
    tried = RisksForm.question(
        "tried",
        label="What has been tried",
        noun="What has been tried",
        widget_attrs={"rows": 4},
    )
    would_help = RisksForm.question(
        "would_help",
        label="What would help",
        noun="What would help",
        widget_attrs={"rows": 4},
    )
    has_ehcp = SupportForm.question(
        "has_ehcp",
        label="Does the person have an education, health and care plan (EHCP)?",
        initial=Referral.YesNoUnsure.UNSURE,
        messages={"required": "Say whether the person has an EHCP."},
    )
    education_setting = SupportForm.question(
        "education_setting", label="School, college or other education setting"
    )
    social_care = SupportForm.question(
        "social_care", label="Social care involvement", widget_attrs={"rows": 4}
    )
    other_professionals = SupportForm.question(
        "other_professionals",
        label="Other professionals involved",
        widget_attrs={"rows": 4},
    )
    communication_needs = CommunicationForm.question(
        "communication_needs",
        label="Communication needs",
        widget_attrs={"rows": 4},
    )
    accessible_formats = CommunicationForm.question(
        "accessible_formats", label="Formats the person needs"
    )
    interpreter_language = CommunicationForm.question(
        "interpreter_language", label="Interpreter language (if needed)"
    )

    # Who referred, and consent.
    referrer_name = AboutYouForm.question(
        "referrer_name",
        label="Referrer's full name",
        noun="Referrer's full name",
        messages={"required": "Enter the referrer's name."},
    )
    referrer_role = AboutYouForm.question(
        "referrer_role",
        label="Referrer's job title, or relationship to the person",
        noun="Referrer's job title or relationship",
        required=False,
    )
    referrer_organisation = AboutYouForm.question(
        "referrer_organisation",
        label="Referrer's organisation",
        noun="Referrer's organisation",
        required=False,
    )
    referrer_email = AboutYouForm.question(
        "referrer_email",
        label="Referrer's email address",
        messages={"invalid": NHS_EMAIL_FORMAT, "control_characters": NHS_EMAIL_FORMAT},
    )
    referrer_phone = AboutYouForm.question("referrer_phone", label="Referrer's phone number")
    referrer_address = AboutYouForm.question(
        "referrer_address",
        label="Referrer's postal address",
        noun="Referrer's postal address",
        widget_attrs={"rows": 3},
    )
    consent_to_referral = yes_no_field(
        "Does the person, or someone entitled to decide for them, agree to this referral?",
        required_message="Say whether there is consent to the referral.",
    )
    consent_to_share = yes_no_field(
        "Do they agree to information being shared with the people who will review it?",
        required_message="Say whether there is consent to share information.",
    )
    consent_basis = ConsentForm.question(
        "consent_basis",
        label="Who agreed to the referral?",
        messages={"required": "Choose who agreed to the referral."},
    )
    consent_given_by = ConsentForm.question(
        "consent_given_by",
        label="Name of whoever agreed, if not the person",
    )
    outcome_to_referrer = yes_no_field(
        "Does the person agree the referrer is told the outcome?",
        required_message="Say whether the referrer may be told the outcome.",
        help_text="A professional referrer is told the outcome either way.",
    )

    # Someone to tell the outcome: the public outcome step's parent or carer questions.
    contact_role = forms.ChoiceField(
        label="Who are they?",
        choices=ReferralContact.Role.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages=choose_from_list("who they are"),
    )
    contact_name = OutcomeForm.question(
        "carer_name",
        label="Full name",
        noun="Full name",
        help_text="Leave blank if nobody.",
    )
    contact_relationship = OutcomeForm.question(
        "carer_relationship",
        label="Relationship to the person",
        noun="Relationship to the person",
    )
    contact_email = OutcomeForm.question(
        "carer_email",
        label="Email address",
        messages={"invalid": NHS_EMAIL_FORMAT, "control_characters": NHS_EMAIL_FORMAT},
    )
    contact_phone = OutcomeForm.question("carer_phone", label="Phone number")
    contact_address = OutcomeForm.question(
        "carer_address",
        label="Postal address",
        noun="Postal address",
        widget_attrs={"rows": 3},
    )
    contact_has_parental_responsibility = forms.BooleanField(
        label="They have parental responsibility", required=False
    )
    contact_named_by_person = forms.BooleanField(
        label="The person (or a best-interests decision) wants them told the outcome",
        required=False,
    )
    contact_preferred_format = OutcomeForm.question(
        "carer_format",
        label="Format for the outcome letter or email",
        initial=ReferralContact.Format.STANDARD,
        messages=choose_from_list("a format"),
    )
    contact_prefers_letter = OutcomeForm.question(
        "carer_prefers_letter",
        label="They would rather have a letter than an email",
    )

    # The public steps' checks of single answers.
    clean_date_of_birth = PersonForm.clean_date_of_birth
    clean_nhs_number = PersonForm.clean_nhs_number
    clean_postcode = PersonForm.clean_postcode

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

    def __init__(self, *args: Any, local_authorities: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Page order, so the error summary lists problems in the order the page asks.
        self.order_fields([name for _, names in self.SECTIONS for name in names])
        if local_authorities is not None:
            self.fields["local_authority"].queryset = local_authorities
        if not self.is_bound:
            now = timezone.localtime()
            self.initial.setdefault("submission_token", uuid.uuid4())
            self.initial.setdefault("received_on", now.date())
            self.initial.setdefault("received_time", now.strftime("%H:%M"))

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The bound fields, grouped by topic for the page (the hidden token is not in any)."""
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

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
            # A name refused by its own check needs no second message.
            if any(others) and "contact_name" not in self.errors:
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
