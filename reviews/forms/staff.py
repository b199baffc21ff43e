"""Forms for meetings, actions, C(E)TRs and oversight visits. Field shape and cross-field
consistency only: the rules live in reviews.services, whose refusals views show on the form."""

import datetime
import re
from typing import Any

from django import forms
from django.utils import timezone

from dsr.models import RAG, RAG_MEANINGS, Consent, Need, RiskFactor
from dsr.nhsuk.forms import NHSDateField, choose_from_list, not_in_future, text_field
from reviews.models import Agency, Attendee, Cetr, Meeting, PanelMember

_TIME = re.compile(r"^\s*([01]?\d|2[0-3])[:.]([0-5]\d)\s*$")


def _time_field(label: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=5,
        help_text="Use the 24-hour clock, for example 14:30",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-5", "inputmode": "numeric"}),
        error_messages={"required": f"Enter the {label.lower()}."},
    )


def _clean_time(value: str, label: str) -> datetime.time | None:
    if not value:
        return None
    match = _TIME.match(value)
    if not match:
        raise forms.ValidationError(f"Enter the {label.lower()} like 14:30.")
    return datetime.time(int(match.group(1)), int(match.group(2)))


def _aware(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


def _agency_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Agency",
        choices=Agency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the agency.", **choose_from_list("an agency")},
    )


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of meeting",
        choices=Meeting.Kind.choices,
        widget=forms.RadioSelect,
        help_text="The agenda of a DSR review or an oversight panel is drawn from the register; "
        "an urgent meeting's people are added by hand.",
        error_messages={"required": "Choose the kind of meeting.", **choose_from_list("a kind")},
    )
    day = NHSDateField(label="Date of the meeting", help_text="For example, 27 3 2026")
    time = _time_field("Start time")
    location = forms.CharField(label="Where", max_length=200, required=False)
    local_authority = forms.ModelChoiceField(
        label="Area",
        queryset=None,
        required=False,
        empty_label="Every area",
        error_messages=choose_from_list("an area"),
    )
    chair = forms.ModelChoiceField(
        label="Chair",
        queryset=None,
        error_messages={"required": "Choose the chair.", **choose_from_list("a chair")},
    )
    notes = text_field("General notes", required=False)

    def __init__(self, *args: Any, local_authorities: Any, chairs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["local_authority"].queryset = local_authorities
        self.fields["chair"].queryset = chairs

    def clean_time(self) -> datetime.time | None:
        return _clean_time(self.cleaned_data["time"], "start time")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("day") and data.get("time"):
            data["held_at"] = _aware(data["day"], data["time"])
        return data


class AttendeeForm(forms.ModelForm):
    class Meta:
        model = Attendee
        fields = ["name", "organisation", "agency", "attendance"]
        widgets = {"agency": forms.RadioSelect, "attendance": forms.RadioSelect}
        error_messages = {
            "name": {"required": "Enter the attendee's name."},
            "agency": {"required": "Choose the agency."},
            "attendance": {"required": "Choose whether they attended."},
        }


class DiscussionForm(forms.Form):
    """One person's part of a meeting: the risks reviewed, the discussion and the rating."""

    risk_factors = forms.MultipleChoiceField(
        label="Risks reviewed",
        choices=RiskFactor.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=choose_from_list("the risks"),
    )
    risk_notes = text_field("Notes on the risks", required=False)
    discussion = text_field("Summary of the discussion")
    needs = forms.MultipleChoiceField(
        label="Unmet needs and barriers found",
        help_text="Added to the person's record; reports count them by area.",
        choices=Need.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=choose_from_list("the needs"),
    )
    rating = forms.ChoiceField(label="Rating", widget=forms.RadioSelect, required=False)
    rationale = text_field("Reason for the rating", required=False)
    early_step_down = forms.BooleanField(
        label="This is an early step-down from red after a discharge", required=False
    )

    def __init__(self, *args: Any, ratings: list[str], current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "No rating decision at this meeting")]
        for value, label in RAG.choices:
            if value in ratings:
                verb = "Confirm" if value == current else "Change to"
                choices.append((value, f"{verb} {label.lower()}: {RAG_MEANINGS[value]}"))
        self.fields["rating"].choices = choices
        self.fields["rating"].error_messages = choose_from_list("a rating")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("rating") and not (data.get("rationale") or "").strip():
            self.add_error("rationale", "Enter the reason for the rating.")
        return data


class ActionForm(forms.Form):
    description = text_field("What needs to be done")
    owner = forms.ModelChoiceField(
        label="Owner with an account",
        queryset=None,
        required=False,
        empty_label="Someone without an account (name them below)",
        error_messages=choose_from_list("an owner"),
    )
    owner_name = forms.CharField(label="Owner's name", max_length=150, required=False)
    owner_organisation = forms.CharField(label="Their organisation", max_length=150, required=False)
    owner_email = forms.EmailField(
        label="Their email address",
        required=False,
        help_text="For reminders. Without one, reminders go to the DSR team.",
        error_messages={"invalid": "Enter an email address like name@example.com."},
    )
    agency = _agency_field()
    due_on = NHSDateField(label="Due date", help_text="For example, 27 3 2026")

    def __init__(
        self, *args: Any, owners: Any, due_on: datetime.date | None = None, **kwargs: Any
    ) -> None:
        """`due_on`: the action's due date now, when changing one (kept even once past)."""
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.current_due_on = due_on

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        typed = any(
            (data.get(name) or "").strip()
            for name in ("owner_name", "owner_organisation", "owner_email")
        )
        if data.get("owner") and typed:
            self.add_error(
                "owner_name",
                "Choose an owner with an account, or enter the name of someone without one, "
                "not both.",
            )
        elif not data.get("owner") and not (data.get("owner_name") or "").strip():
            self.add_error("owner_name", "Choose an owner with an account, or enter a name.")
        return data

    def clean_due_on(self) -> datetime.date:
        """A new due date is today or later: one in the past would make the action overdue,
        and escalate it, the moment it is agreed."""
        value = self.cleaned_data["due_on"]
        if value and value < timezone.localdate() and value != self.current_due_on:
            raise forms.ValidationError("The due date must be today or in the future.")
        return value


class ActionCloseForm(forms.Form):
    status = forms.ChoiceField(
        label="What happened",
        choices=[("done", "Done"), ("cancelled", "Cancelled: it is no longer needed")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose done or cancelled.", **choose_from_list("an answer")},
    )
    note = text_field(
        "Note", required=False, help_text="What was done; for a cancellation, why (required)."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") == "cancelled" and not (data.get("note") or "").strip():
            self.add_error("note", "Enter why the action was cancelled.")
        return data


class TimeSlotsForm(forms.Form):
    minutes = forms.IntegerField(
        label="Minutes for each person",
        required=False,
        min_value=1,
        max_value=240,
        help_text="Leave empty to clear the time slots.",
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "invalid": "Enter the minutes as a number, like 10.",
            "min_value": "Give each person at least 1 minute.",
            "max_value": "Give each person at most 240 minutes.",
        },
    )
    start = _time_field("First slot starts at", required=False)

    def clean_start(self) -> datetime.time | None:
        return _clean_time(self.cleaned_data["start"], "time the first slot starts")


class LastAttendeesForm(forms.Form):
    attendees = forms.MultipleChoiceField(
        label="Who came",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick who came.", **choose_from_list("the attendees")},
    )

    def __init__(self, *args: Any, offered: list[Attendee], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = {str(a.pk): a for a in offered}
        self.fields["attendees"].choices = [
            (str(a.pk), f"{a.name}, {a.organisation} ({a.get_agency_display()})")
            if a.organisation
            else (str(a.pk), f"{a.name} ({a.get_agency_display()})")
            for a in offered
        ]

    def clean_attendees(self) -> list[Attendee]:
        return [self.offered[pk] for pk in self.cleaned_data["attendees"]]


class ReasonForm(forms.Form):
    reason = text_field("Reason", help_text="Written for the record: say what happened and when.")


class ChooseMeetingForm(forms.Form):
    meeting = forms.ModelChoiceField(
        label="Meeting",
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": "Choose a meeting.", **choose_from_list("a meeting")},
    )

    def __init__(self, *args: Any, meetings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings


# --- C(E)TRs -----------------------------------------------------------------------------------


class CetrPlanForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type of review",
        choices=Cetr.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the type of review.", **choose_from_list("a type")},
    )
    scheduled_on = NHSDateField(label="Date of the review, if known", required=False)

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, v) for k, v in Cetr.Kind.choices if k in kinds]


class CetrArrangeForm(forms.Form):
    scheduled_on = NHSDateField(label="Date of the review", required=False)
    invitations_sent_on = NHSDateField(label="Invitations sent on", required=False)
    pack_sent_on = NHSDateField(label="Pre-reads sent on", required=False)
    pack_sent_time = _time_field("Pre-reads sent at", required=False)

    def clean_invitations_sent_on(self) -> datetime.date | None:
        value = self.cleaned_data["invitations_sent_on"]
        not_in_future(value, "date the invitations were sent")
        return value

    def clean_pack_sent_time(self) -> datetime.time | None:
        return _clean_time(self.cleaned_data["pack_sent_time"], "time the pre-reads were sent")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        day, time = data.get("pack_sent_on"), data.get("pack_sent_time")
        if day and not time and "pack_sent_time" not in self.errors:
            self.add_error("pack_sent_time", "Enter the time the pre-reads were sent.")
        if time and not day and "pack_sent_on" not in self.errors:
            self.add_error("pack_sent_on", "Enter the date the pre-reads were sent.")
        data["pack_sent_at"] = _aware(day, time) if day and time else None
        if data["pack_sent_at"] and data["pack_sent_at"] > timezone.now():
            self.add_error("pack_sent_on", "The pre-reads cannot be sent in the future.")
        return data


class PanelMemberForm(forms.ModelForm):
    class Meta:
        model = PanelMember
        fields = [
            "role",
            "name",
            "organisation",
            "user",
            "delegated_chair",
            "professional_registration",
            "conflicts_declared",
            "conflicts",
        ]
        labels = {"user": "Their panel account, if they have one"}
        help_texts = {
            "user": "With an account they can read the pack once consent evidence is recorded.",
            "professional_registration": "For a clinical expert: their current registration.",
            "conflicts": "Any conflict declared, or none.",
        }
        widgets = {"role": forms.RadioSelect}
        error_messages = {
            "role": {"required": "Choose their role on the panel."},
            "name": {"required": "Enter their name."},
        }

    def __init__(self, *args: Any, accounts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = accounts
        self.fields["user"].empty_label = "No account"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("delegated_chair") and data.get("role") != PanelMember.Role.CHAIR:
            self.add_error("delegated_chair", "Only the chair can be a delegated chair.")
        if (
            data.get("role") == PanelMember.Role.CLINICAL_EXPERT
            and not (data.get("professional_registration") or "").strip()
        ):
            self.add_error(
                "professional_registration",
                "Enter the clinical expert's current professional registration.",
            )
        return data


class CetrConsentForm(forms.Form):
    basis = forms.ChoiceField(
        label="Basis",
        choices=Consent.Basis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the basis.", **choose_from_list("a basis")},
    )
    evidence = text_field(
        "The evidence", help_text="What it is and where it is kept, for example a signed form."
    )
    recorded_on = NHSDateField(label="Date given")
    decision_maker = forms.CharField(
        label="Best-interests decision maker",
        max_length=150,
        required=False,
        help_text="For a best-interests decision only.",
    )
    capacity_assessed_on = NHSDateField(
        label="Date capacity was assessed",
        required=False,
        help_text="For a best-interests decision only.",
    )

    def clean_recorded_on(self) -> datetime.date:
        value = self.cleaned_data["recorded_on"]
        not_in_future(value, "date given")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("basis") == Consent.Basis.BEST_INTERESTS:
            if not (data.get("decision_maker") or "").strip():
                self.add_error("decision_maker", "Enter who made the best-interests decision.")
            if not data.get("capacity_assessed_on") and "capacity_assessed_on" not in self.errors:
                self.add_error("capacity_assessed_on", "Enter the date capacity was assessed.")
        return data


class FindingsForm(forms.Form):
    """The four key questions. Each field posts the answer it was opened with too
    (`show_hidden_initial`), so saving changes only the answers this person changed, and a
    panel member saving one finding never wipes another's saved meanwhile."""

    finding_safe = text_field("Is the person safe?", required=False, show_hidden_initial=True)
    finding_good_care = text_field(
        "Are they getting good care now?", required=False, show_hidden_initial=True
    )
    finding_future = text_field(
        "Are there plans in place for the future?", required=False, show_hidden_initial=True
    )
    finding_community = text_field(
        "Can their care and treatment be provided in the community?",
        required=False,
        show_hidden_initial=True,
    )


class CetrCompleteForm(forms.Form):
    held_on = NHSDateField(label="Date the review was held")
    held_early_reason = text_field(
        "Why it was held before the date planned",
        required=False,
        help_text="Only if it was held before the date it was planned for.",
    )
    report_sent_on = NHSDateField(label="Date the report was sent, if sent", required=False)

    def clean_held_on(self) -> datetime.date:
        value = self.cleaned_data["held_on"]
        not_in_future(value, "date the review was held")
        return value


class ReportSentForm(forms.Form):
    sent_on = NHSDateField(label="Date the report was sent")


class VisitForm(forms.Form):
    visited_on = NHSDateField(label="Date of the visit")
    visited_by = forms.CharField(
        label="Who visited",
        max_length=150,
        error_messages={"required": "Enter who visited."},
    )
    findings = text_field("What the visit found")
    concerns = forms.BooleanField(label="There are concerns about care or safety", required=False)

    def clean_visited_on(self) -> datetime.date:
        value = self.cleaned_data["visited_on"]
        not_in_future(value, "date of the visit")
        return value


# --- Links for partners who own an action without an account -----------------------------------


class ActionLinkForm(forms.Form):
    summary = text_field(
        "What the partner needs to know",
        help_text="A short summary of the action for the partner, read outside the NHS: no name, "
        "date of birth, NHS number, postcode or health detail. For example, \u201cConfirm the "
        "school transport starts on Monday.\u201d",
    )
    email = forms.EmailField(
        label="Their email address",
        help_text="The link is sent here. It works for this action only.",
        error_messages={
            "required": "Enter their email address.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )


class PartnerActionForm(forms.Form):
    """What a partner tells the team through their link."""

    outcome = forms.ChoiceField(
        label="What would you like to tell us?",
        choices=[("done", "It is done"), ("blocked", "Something is in the way")],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose whether it is done or something is in the way.",
            **choose_from_list("an answer"),
        },
    )
    note = text_field(
        "Tell us more",
        required=False,
        help_text="If something is in the way, say what, and what would help. Do not include the "
        "person's name or health details.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("outcome") == "blocked" and not (data.get("note") or "").strip():
            self.add_error("note", "Say what is in the way.")
        return data
