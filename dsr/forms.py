"""Forms for the register. Field shape and cross-field consistency only: the register's rules
live in dsr.services, and views map its errors onto these forms. Signing in and the account
lifecycle have theirs in dsr.accounts.forms."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django import forms

from dsr import deadlines
from dsr.deadlines import AgeGroup
from dsr.models import (
    RAG,
    RAG_MEANINGS,
    AccessibleFormat,
    Admission,
    CetrException,
    Consent,
    CoOccurring,
    Diagnosis,
    Funder,
    LocalAuthority,
    Need,
    Person,
    PersonContact,
    PlacementType,
    RegisterEntry,
    RiskFactor,
)
from dsr.nhsuk.forms import (
    TEXT_LIMIT,
    EmailField,
    NHSDateField,
    PhoneField,
    TextField,
    check_date_of_birth,
    choose_from_list,
    not_in_future,
    text_field,
    whole_number_field,
    yes_no_field,
)
from dsr.nhsuk.validators import (
    normalise_ods_code,
    normalise_postcode,
    optional_nhs_number,
    optional_postcode,
    validate_ods_practice_code,
    validate_postcode,
)
from dsr.rendering import holds_no_personal_data

# --- The register ----------------------------------------------------------------------------


class PersonForm(forms.ModelForm):
    """A person's details. Staff choose only local authorities in their own scope."""

    date_of_birth = NHSDateField(label="Date of birth", help_text="For example, 27 3 2008")
    co_occurring = forms.MultipleChoiceField(
        label="Co-occurring conditions",
        choices=CoOccurring.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    accessible_formats = forms.MultipleChoiceField(
        label="Accessible formats for letters and information",
        choices=AccessibleFormat.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    communication_needs = forms.CharField(
        max_length=TEXT_LIMIT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # Longer than any postcode, so a wrong one gets the postcode message, not a length error.
    postcode = forms.CharField(max_length=20, required=False)

    class Meta:
        model = Person
        fields = [
            "given_name",
            "family_name",
            "date_of_birth",
            "nhs_number",
            "sex",
            "ethnicity",
            "address",
            "postcode",
            "local_authority",
            "gp_practice_code",
            "gp_practice_name",
            "diagnosis",
            "diagnosis_status",
            "co_occurring",
            "communication_needs",
            "accessible_formats",
            "interpreter_language",
            "has_ehcp",
            "ehcp_local_authority",
            "education_setting",
            "placement_type",
            "out_of_area",
            "at_objection",
        ]
        labels = {"nhs_number": "NHS number (if known)"}
        help_texts = {"nhs_number": "10 digits, for example 485 777 3456."}
        widgets = {
            "diagnosis": forms.RadioSelect,
            "diagnosis_status": forms.RadioSelect,
            "nhs_number": forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
        }
        error_messages = {
            "given_name": {"required": "Enter the person's first name."},
            "family_name": {"required": "Enter the person's last name."},
            "local_authority": {"required": "Choose the local authority the person lives in."},
            "diagnosis": {"required": "Choose the person's diagnosis."},
            "diagnosis_status": {"required": "Choose the status of the diagnosis."},
        }

    def __init__(self, *args, local_authorities=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if local_authorities is not None:
            self.fields["local_authority"].queryset = local_authorities
        self.fields["nhs_number"].max_length = 14  # digits plus separators, normalised below
        self.fields["nhs_number"].widget.attrs["maxlength"] = 14
        self.fields["nhs_number"].validators = []
        if self.instance.pk and self.instance.placements.filter(ended_on__isnull=True).exists():
            # Where the person lives comes from their open placement (changed there).
            del self.fields["placement_type"], self.fields["out_of_area"]

    def clean_nhs_number(self) -> str | None:
        return optional_nhs_number(self.cleaned_data.get("nhs_number")) or None

    def clean_date_of_birth(self) -> date:
        return check_date_of_birth(self.cleaned_data["date_of_birth"])

    def clean_postcode(self) -> str:
        return optional_postcode(self.cleaned_data.get("postcode"))

    def clean_gp_practice_code(self) -> str:
        value = self.cleaned_data.get("gp_practice_code", "")
        if not value:
            return ""
        validate_ods_practice_code(value)
        return normalise_ods_code(value)


def _rating_field(choices) -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Rating",
        choices=[(value, f"{label}: {RAG_MEANINGS[value]}") for value, label in choices],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating."},
    )


class RatingForm(forms.Form):
    """A new or confirmed rating with its reasons. Which ratings are offered depends on the
    person (Blue only through an admission)."""

    rating = _rating_field(RAG.choices)
    rationale = text_field("Reason for this rating", help_text="What the rating is based on.")
    risk_factors = forms.MultipleChoiceField(
        label="Risk factors",
        choices=RiskFactor.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_notes = text_field("Other risks", required=False)
    effective_from = NHSDateField(label="Date of the decision", help_text="For example, 3 11 2026")
    early_step_down = forms.BooleanField(
        label="This is an early step-down from red after a discharge",
        required=False,
        help_text="Only needed in the days after a discharge, when the rating normally stays red.",
    )

    def __init__(self, *args, ratings=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if ratings is not None:
            self.fields["rating"] = _rating_field(
                [(r, label) for r, label in RAG.choices if r in ratings]
            )

    def clean_effective_from(self) -> date:
        value = self.cleaned_data["effective_from"]
        not_in_future(value, "date of the decision")
        return value


class ConsentForm(forms.Form):
    basis = forms.ChoiceField(
        label="Basis for being on the register",
        choices=Consent.Basis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the basis for consent."},
    )
    given_on = NHSDateField(label="Date consent was given")
    given_by = forms.CharField(
        label="Who gave consent (if not the person)", max_length=150, required=False
    )
    decision_maker = forms.CharField(
        label="Best-interests decision maker", max_length=150, required=False
    )
    capacity_assessed_on = NHSDateField(label="Date capacity was assessed", required=False)
    notes = text_field("Notes", required=False)

    def clean_given_on(self) -> date:
        value = self.cleaned_data["given_on"]
        not_in_future(value, "date consent was given")
        return value

    def clean(self) -> dict:
        data = super().clean()
        if data.get("basis") == Consent.Basis.BEST_INTERESTS:
            if not data.get("decision_maker"):
                self.add_error("decision_maker", "Enter who made the best-interests decision.")
            if not data.get("capacity_assessed_on"):
                self.add_error("capacity_assessed_on", "Enter the date capacity was assessed.")
        return data


class WithdrawConsentForm(forms.Form):
    withdrawn_on = NHSDateField(label="Date consent was withdrawn")
    note = text_field("How consent was withdrawn", help_text="Who told us, and how.")


def weekly_cost_field() -> forms.DecimalField:
    return forms.DecimalField(
        label="Weekly cost in pounds (optional)",
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        help_text="Where the ICB records it, for example 4250.00",
        error_messages={
            "invalid": "Enter the weekly cost as a number of pounds, like 4250.00.",
            "min_value": "The weekly cost cannot be less than zero.",
            "max_digits": "The weekly cost must be less than £10,000,000.",
            "max_whole_digits": "The weekly cost must be less than £10,000,000.",
            "max_decimal_places": "Enter the weekly cost to the nearest penny.",
        },
    )


def funder_field(what: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=f"Who pays for the {what} (optional)",
        required=False,
        choices=[("", "Not recorded"), *Funder.choices],
        error_messages=choose_from_list(f"who pays for the {what}"),
    )


class AdmissionForm(forms.Form):
    hospital_name = forms.CharField(
        label="Hospital", max_length=150, error_messages={"required": "Enter the hospital."}
    )
    hospital_ods_code = forms.RegexField(
        label="Hospital ODS code",
        regex=r"^[A-Za-z0-9]{3,10}$",
        max_length=10,
        help_text="For example, RMY01.",
        error_messages={
            "required": "Enter the hospital's ODS code.",
            "invalid": "The ODS code must be 3 to 10 letters and numbers, like RMY01.",
        },
    )
    cqc_rating = forms.ChoiceField(
        label="CQC rating of the hospital",
        choices=Admission.CqcRating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the hospital's CQC rating."},
    )
    admitted_on = NHSDateField(label="Date of admission")
    ward_security = forms.ChoiceField(
        label="Ward security level",
        choices=Admission.WardSecurity.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the ward security level."},
    )
    mha_status = forms.CharField(label="Mental Health Act status", max_length=60, required=False)
    community_cetr_before_admission = yes_no_field(
        "Did a community C(E)TR happen before the admission?",
        required_message="Say whether a community C(E)TR happened before admission.",
    )
    notes = text_field("Notes", required=False)
    planned_discharge_on = NHSDateField(label="Planned discharge date (optional)", required=False)
    weekly_cost = weekly_cost_field()
    funder = funder_field("stay")

    def clean_admitted_on(self) -> date:
        value = self.cleaned_data["admitted_on"]
        not_in_future(value, "date of admission")
        return value

    def clean(self) -> dict:
        data = super().clean()
        admitted, planned = data.get("admitted_on"), data.get("planned_discharge_on")
        if admitted and planned and planned < admitted:
            self.add_error(
                "planned_discharge_on", "The planned discharge date must be after the admission."
            )
        return data


class PlacementForm(forms.Form):
    """A placement or care package over a span of dates, with its cost where recorded."""

    placement_type = forms.ChoiceField(
        label="Type of placement",
        choices=PlacementType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the type of placement."},
    )
    out_of_area = yes_no_field(
        "Is the placement out of area?",
        required_message="Say whether the placement is out of area.",
    )
    provider_name = forms.CharField(label="Provider (optional)", max_length=150, required=False)
    started_on = NHSDateField(label="Start date")
    ended_on = NHSDateField(label="End date (optional)", required=False)
    weekly_cost = weekly_cost_field()
    funder = funder_field("placement")

    def clean_started_on(self) -> date:
        value = self.cleaned_data["started_on"]
        not_in_future(value, "start date")
        return value

    def clean_ended_on(self) -> date | None:
        value = self.cleaned_data["ended_on"]
        if value is not None:
            not_in_future(value, "end date")
        return value

    def clean(self) -> dict:
        data = super().clean()
        started, ended = data.get("started_on"), data.get("ended_on")
        if started and ended and ended < started:
            self.add_error("ended_on", "The end date must be on or after the start date.")
        return data


class PlacementEndForm(forms.Form):
    """The day a placement ended: between its start and today, as a discharge date is."""

    ended_on = NHSDateField(label="End date")

    def __init__(self, *args, placement, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.placement = placement

    def clean_ended_on(self) -> date:
        value = self.cleaned_data["ended_on"]
        not_in_future(value, "end date")
        if value < self.placement.started_on:
            raise forms.ValidationError(
                "The end date must be on or after the start date "
                f"({self.placement.started_on:%-d %B %Y})."
            )
        return value


class DischargeForm(forms.Form):
    discharged_on = NHSDateField(label="Date of discharge")
    rating = _rating_field([(r, label) for r, label in RAG.choices if r != RAG.BLUE])
    rationale = text_field(
        "Reason for the rating",
        required=False,
        help_text="Needed if the rating is not red: after a discharge the rating is red for "
        "at least 14 days.",
    )

    def clean_discharged_on(self) -> date:
        value = self.cleaned_data["discharged_on"]
        not_in_future(value, "date of discharge")
        return value


class ContactForm(forms.ModelForm):
    address = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    class Meta:
        model = PersonContact
        fields = [
            "role",
            "name",
            "organisation",
            "relationship",
            "phone",
            "email",
            "address",
            "has_parental_responsibility",
        ]
        widgets = {"role": forms.RadioSelect}
        error_messages = {
            "role": {"required": "Choose the person's role."},
            "name": {"required": "Enter their name."},
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radios offer the roles only: no "---------" choice, ticked before anyone chooses.
        self.fields["role"].choices = PersonContact.Role.choices

    def clean(self) -> dict:
        data = super().clean()
        if data.get("has_parental_responsibility") and data.get("role") != "parent_carer":
            self.add_error(
                "has_parental_responsibility",
                "Only a parent or carer can have parental responsibility.",
            )
        return data


class CloseEntryForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the person leaving the register?",
        choices=[
            (value, label)
            for value, label in RegisterEntry.ClosureReason.choices
            if value != RegisterEntry.ClosureReason.CONSENT_WITHDRAWN
        ],
        widget=forms.RadioSelect,
        help_text="If consent was withdrawn, record the withdrawal instead.",
        error_messages={"required": "Choose why the person is leaving the register."},
    )
    closed_on = NHSDateField(label="Date")
    note = text_field("Notes", required=False)


class CetrExceptionForm(forms.Form):
    meeting_kind = forms.ChoiceField(
        label="Meeting held instead",
        choices=CetrException.MeetingKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the meeting that was held."},
    )
    held_on = NHSDateField(label="Date of the meeting")
    reason = text_field("Why a community C(E)TR could not be held in time")


class NeedsForm(forms.Form):
    needs = forms.MultipleChoiceField(
        label="Unmet needs and barriers",
        help_text="What is missing for this person now. Untick a need once it is met.",
        choices=Need.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose the needs from the list."},
    )


class RootCauseAnalysisForm(forms.Form):
    completed_on = NHSDateField(label="Date the root-cause analysis was completed")


class KeyworkerReferralForm(forms.Form):
    referred_on = NHSDateField(label="Date of the referral")

    def clean_referred_on(self) -> date:
        value = self.cleaned_data["referred_on"]
        not_in_future(value, "date of the referral")
        return value


def local_authority_filter() -> forms.TypedChoiceField:
    """A list filter on the local authority, in the URL: "Any" (None) or one authority's id.
    Its choices depend on who is looking: set them with set_local_authority_choices."""
    return forms.TypedChoiceField(
        label="Local authority",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages=choose_from_list("a local authority"),
    )


def set_local_authority_choices(
    field: forms.ChoiceField, local_authorities: Iterable[LocalAuthority]
) -> None:
    """Offer "Any" and each of `local_authorities` in a local_authority_filter."""
    field.choices = [("", "Any")] + [(la.pk, la.name) for la in local_authorities]


@holds_no_personal_data
class RegisterFilterForm(forms.Form):
    """The register list's filters. They are in the URL (GET): none of them identifies anyone."""

    rating = forms.ChoiceField(
        label="Rating",
        choices=[("", "Any")] + RAG.choices,
        required=False,
        error_messages=choose_from_list("a rating"),
    )
    age_group = forms.ChoiceField(
        label="Age group",
        choices=[("", "Any")] + AgeGroup.choices,
        required=False,
        error_messages=choose_from_list("an age group"),
    )
    local_authority = forms.ModelChoiceField(
        label="Local authority",
        queryset=LocalAuthority.objects.none(),
        required=False,
        empty_label="Any",
        error_messages=choose_from_list("a local authority"),
    )
    diagnosis = forms.ChoiceField(
        label="Diagnosis",
        choices=[("", "Any")] + Diagnosis.choices,
        required=False,
        error_messages=choose_from_list("a diagnosis"),
    )
    key_worker = forms.ChoiceField(
        label="Key worker",
        choices=[("", "Any"), ("yes", "Has a key worker"), ("no", "No key worker")],
        required=False,
        error_messages=choose_from_list("a key worker option"),
    )
    overdue = forms.BooleanField(label="Only overdue rating reviews", required=False)
    sort = forms.ChoiceField(
        label="Sort by",
        choices=[("name", "Name"), ("rating", "Rating"), ("review", "Review due")],
        required=False,
        error_messages=choose_from_list("an order"),
    )

    def __init__(self, *args, local_authorities=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if local_authorities is not None:
            self.fields["local_authority"].queryset = local_authorities


class SearchForm(forms.Form):
    """Find a person by name, NHS number or date of birth. Sent by POST: search terms that
    identify someone never go in a URL (ACCESS.md)."""

    name = forms.CharField(label="Name", max_length=100, required=False)
    nhs_number = forms.CharField(
        label="NHS number",
        max_length=14,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )
    date_of_birth = NHSDateField(label="Date of birth", required=False)

    def clean_nhs_number(self) -> str:
        return optional_nhs_number(self.cleaned_data.get("nhs_number"))

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and not any(
            data.get(k) for k in ("name", "nhs_number", "date_of_birth")
        ):
            self.add_error("name", "Enter a name, an NHS number or a date of birth.")
        return data


class ConfirmForm(forms.Form):
    """A confirmation with nothing to fill in: the button is the answer."""


class TeamContactForm(forms.Form):
    """The DSR team's contact details (dsr.services.team_contact_save); every answer required.

    Its messages follow the NHS.UK design system's wording: "Enter an email address", with no
    full stop at the end."""

    REQUIRED = {
        "phone": "Enter a phone number",
        "email": "Enter an email address",
        "address": "Enter a postal address",
        "postcode": "Enter a postcode",
        "opening_hours": "Enter the opening hours",
        "complaints": "Enter how to complain or ask for a decision to be looked at again",
    }
    POSTCODE_FORMAT = "Enter a real postcode, like NR1 2DH"

    phone = PhoneField(label="Phone number")
    email = EmailField(label="Email address", required=True)
    address = TextField(
        noun="Postal address", max_length=500, multiline=True, label="Postal address"
    )
    # Longer than any postcode, so a wrong one gets the postcode message, not a length error.
    postcode = TextField(noun="Postcode", max_length=20, too_long=POSTCODE_FORMAT)
    opening_hours = TextField(noun="Opening hours", max_length=500, multiline=True)
    complaints = TextField(
        noun="How to complain",
        max_length=2000,
        multiline=True,
        label="How to complain, or ask for a decision to be looked at again",
    )
    young_people_guide_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Link to NHS England's guides for young people (optional)",
        help_text="The guides to the register and to Care (Education) and Treatment Reviews "
        "made with autistic young people aged 16 to 25. Shown on the public page about "
        "deciding whether to be on the register. Leave this empty to show no link.",
        error_messages={
            "invalid": "Enter a web address that starts with https://, like "
            "https://www.england.nhs.uk/learning-disabilities/care/",
            "max_length": "The web address must be 500 characters or fewer",
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = True
        for name, field in self.fields.items():
            field.error_messages = {
                code: text.removesuffix(".") for code, text in field.error_messages.items()
            }
            if name in self.REQUIRED:
                field.error_messages["required"] = self.REQUIRED[name]

    def clean_postcode(self) -> str:
        value = self.cleaned_data["postcode"]
        try:
            validate_postcode(value)
        except forms.ValidationError:
            raise forms.ValidationError(self.POSTCODE_FORMAT, code="postcode") from None
        return normalise_postcode(value)

    def clean_young_people_guide_url(self) -> str:
        value = self.cleaned_data["young_people_guide_url"]
        if value and not value.lower().startswith("https://"):
            raise forms.ValidationError(
                self.fields["young_people_guide_url"].error_messages["invalid"]
            )
        return value


# --- The settings page: the register's cadences (dsr.register_settings) -----------------------

RATING_REVIEW_HINT = (
    "Used for ratings set or reviewed from now on. A review date already worked out for someone "
    "stays as it is until their rating is next set or reviewed."
)
CONSENT_REVIEW_HINT = (
    "Used for consent recorded or re-checked from now on. A re-check date already stored stays "
    "as it is."
)
REFERRAL_REMINDER_HINT = (
    "Days before a referral's decision is due. Used from the next deadline sweep (every 5 "
    "minutes) for every referral not yet decided: each referral keeps its decision date. A "
    "reminder already sent is not sent again."
)
AGENDA_HINT = (
    "Used the next time a meeting's agenda is drawn up or refreshed. People already on an agenda "
    "stay on it."
)


class CadenceSettingsForm(forms.Form):
    """The register's part of the settings page: review cadences by rating, consent re-checks,
    the four-week referral reminders and the agenda look-ahead."""

    review_days_red = whole_number_field("Red (days)", noun="Days between reviews for red")
    review_days_amber = whole_number_field("Amber (days)", noun="Days between reviews for amber")
    review_days_green = whole_number_field("Green (days)", noun="Days between reviews for green")
    consent_review_months = whole_number_field(
        "Months between consent re-checks", noun="Months between consent re-checks", maximum=120
    )
    reminder_days_first = whole_number_field(
        "First reminder (days before)", noun="Days for the first reminder"
    )
    reminder_days_second = whole_number_field(
        "Second reminder (days before)", noun="Days for the second reminder"
    )
    reminder_days_third = whole_number_field(
        "Last reminder (days before)", noun="Days for the last reminder"
    )
    agenda_lookahead_days = whole_number_field(
        "Days ahead of a meeting", noun="Days ahead of a meeting"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, second, third = (
            data.get(f"reminder_days_{which}") for which in ("first", "second", "third")
        )
        if first is not None and second is not None and second >= first:
            self.add_error(
                "reminder_days_second",
                "The second reminder must be fewer days before the decision than the first",
            )
        if second is not None and third is not None and third >= second:
            self.add_error(
                "reminder_days_third",
                "The last reminder must be fewer days before the decision than the second",
            )
        return data


def cadence_fieldsets(form: forms.Form) -> list[tuple[str, str, list[str]]]:
    return [
        (
            "Days between multi-agency reviews, by rating",
            RATING_REVIEW_HINT,
            ["review_days_red", "review_days_amber", "review_days_green"],
        ),
        ("Consent", CONSENT_REVIEW_HINT, ["consent_review_months"]),
        (
            "Reminders about a referral's four-week decision",
            REFERRAL_REMINDER_HINT,
            ["reminder_days_first", "reminder_days_second", "reminder_days_third"],
        ),
        (
            "Who goes on a meeting's agenda because a C(E)TR or visit is due",
            AGENDA_HINT,
            ["agenda_lookahead_days"],
        ),
    ]


def cadence_initial() -> dict[str, Any]:
    cadence = deadlines._setting("DSR_REVIEW_CADENCE_DAYS", deadlines.DEFAULT_REVIEW_CADENCE_DAYS)
    first, second, third = deadlines.referral_reminder_days()
    return {
        "review_days_red": cadence["RED"],
        "review_days_amber": cadence["AMBER"],
        "review_days_green": cadence["GREEN"],
        "consent_review_months": deadlines._setting(
            "DSR_CONSENT_REVIEW_MONTHS", deadlines.DEFAULT_CONSENT_REVIEW_MONTHS
        ),
        "reminder_days_first": first,
        "reminder_days_second": second,
        "reminder_days_third": third,
        "agenda_lookahead_days": deadlines.agenda_lookahead_days(),
    }


def cadence_values(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "DSR_REVIEW_CADENCE_DAYS": {
            "RED": data["review_days_red"],
            "AMBER": data["review_days_amber"],
            "GREEN": data["review_days_green"],
        },
        "DSR_CONSENT_REVIEW_MONTHS": data["consent_review_months"],
        "DSR_REFERRAL_REMINDER_DAYS": [
            data["reminder_days_first"],
            data["reminder_days_second"],
            data["reminder_days_third"],
        ],
        "DSR_AGENDA_LOOKAHEAD_DAYS": data["agenda_lookahead_days"],
    }


class DealtWithForm(forms.Form):
    """What staff did about a message that failed or was not delivered (optional)."""

    note = text_field(
        "What did you do? (optional)",
        required=False,
        help_text="For example, phoned them with the outcome, or posted the letter by hand. "
        "Do not write health details here.",
    )
