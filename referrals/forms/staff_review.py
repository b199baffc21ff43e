"""Forms for the staff review of a referral: the queue's filters, asking for more information,
recording the review with education and social care, assigning a reviewer, setting the area,
the decision, and who is told it.

Field shape and cross-field consistency only. The rules of the review (what may follow what,
when a decision may be made) live in referrals.services; the views put its refusals on these
forms as NHS.UK errors.
"""

import datetime
from typing import Any

from django import forms
from django.utils import timezone

from dsr.models import RAG, RAG_MEANINGS, LocalAuthority, User
from dsr.nhsuk.forms import (
    NHSDateField,
    PhoneField,
    PostalAddressField,
    choose_from_list,
    text_field,
)
from dsr.rendering import holds_no_personal_data
from referrals.forms.contact_steps import POSTCODE_LAST, texts_need_a_mobile
from referrals.models import Referral, ReferralContact

# --- The queue -------------------------------------------------------------------------------


@holds_no_personal_data
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


# --- The steps of the review -----------------------------------------------------------------


class RequestInformationForm(forms.Form):
    request = text_field(
        "What information is needed",
        help_text="Say what is missing and who it is needed from.",
    )


class ReviewForm(forms.Form):
    """The review with education and social care: who took part from each, or why nobody
    could (DOMAIN 4)."""

    held_on = NHSDateField(label="Date of the review", help_text="For example, 3 3 2026")
    education_participant = forms.CharField(
        label="Who took part from education",
        help_text="Name and role, for example Sam Lee, SENCo.",
        max_length=150,
        required=False,
    )
    education_absent_reason = text_field(
        "If nobody from education took part, why not", required=False
    )
    social_care_participant = forms.CharField(
        label="Who took part from social care",
        help_text="Name and role.",
        max_length=150,
        required=False,
    )
    social_care_absent_reason = text_field(
        "If nobody from social care took part, why not", required=False
    )
    notes = text_field("Notes from the review", required=False)

    def clean_held_on(self) -> datetime.date:
        value = self.cleaned_data["held_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date of the review must be today or in the past.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for agency, who, why in (
            ("education", "education_participant", "education_absent_reason"),
            ("social care", "social_care_participant", "social_care_absent_reason"),
        ):
            if not (data.get(who) or "").strip() and not (data.get(why) or "").strip():
                self.add_error(who, f"Name who took part from {agency}, or say why nobody could.")
        return data


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        label="Reviewer",
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody (take off the current reviewer)",
        error_messages=choose_from_list("a reviewer"),
    )

    def __init__(self, *args: Any, reviewers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reviewers is not None:
            self.fields["reviewer"].queryset = reviewers
            self.fields["reviewer"].label_from_instance = lambda user: user.full_name or user.email


SENT_TO_FAMILY = (
    "This is sent to the person and their family. Use plain English and give no health "
    "details beyond the outcome."
)


class DecisionForm(forms.Form):
    """The decision and what each one needs: a rating and its reason for "added", the reason
    and where else to get help for "not eligible", the reason for "withdrawn"."""

    decision = forms.ChoiceField(
        label="Decision",
        choices=[(d.value, d.label) for d in Referral.DECISIONS],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a decision."},
    )
    # Each decision's own questions, shown under its radio (nhsuk/fields/choices.html).
    decision.conditional = {
        Referral.Status.ADDED: ["rating", "rationale", "decision_maker", "capacity_assessed_on"],
        Referral.Status.NOT_ELIGIBLE: ["ineligible_reason", "signposting", "reasons_told_how"],
        Referral.Status.WITHDRAWN: ["withdrawn_reason"],
    }
    rating = forms.ChoiceField(
        label="If added: initial rating",
        choices=[
            (r.value, f"{r.label}: {RAG_MEANINGS[r]}") for r in (RAG.RED, RAG.AMBER, RAG.GREEN)
        ],
        widget=forms.RadioSelect,
        required=False,
        error_messages=choose_from_list("a rating"),
    )
    rationale = text_field("If added: reason for the rating", required=False)
    ineligible_reason = text_field(
        "If not eligible: why the person is not eligible",
        required=False,
        help_text="This goes only in letters: emails say a letter with the reasons is on its way. "
        "Use plain English.",
    )
    signposting = text_field(
        "If not eligible: where else the person can get help",
        required=False,
        help_text=SENT_TO_FAMILY,
    )
    reasons_told_how = text_field(
        "If not eligible and nobody can be sent a letter: how the team told them the reasons",
        required=False,
        help_text="For example, phoned the person's mother on 3 December 2026 and explained.",
    )
    withdrawn_reason = text_field("If withdrawn: why the referral was withdrawn", required=False)
    next_steps = text_field(
        "What happens next (optional)",
        required=False,
        help_text="Leave blank to use the standard wording for the decision. " + SENT_TO_FAMILY,
    )

    def __init__(
        self,
        *args: Any,
        best_interests: bool = False,
        first_name: str = "",
        to_the_person: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.best_interests = best_interests
        # The reasons and where else to get help go word for word into the letters: say to whom
        # they are written.
        name = first_name or "the person"
        written = (
            f"Write to {name}, using ‘you’ (for example, ‘You are not at risk"
            " of going into hospital’)."
            if to_the_person
            else f"{name} is not sent the letter: write to their family about {name} by name."
        )
        self.fields["ineligible_reason"].help_text = (
            f"This goes word for word into the letter to {name}. {written} Emails say a letter"
            " with the reasons is on its way. Use plain English."
        )
        self.fields["signposting"].help_text = (
            f"This goes word for word into the letters and emails to {name}. {written} Use plain"
            " English and give no health details beyond the outcome."
        )
        if best_interests:
            # The referral says the person cannot consent and a best-interests decision was
            # made: the register's consent record needs who made it and when capacity was
            # assessed (rule 15).
            self.fields["decision_maker"] = forms.CharField(
                label="If added: who made the best-interests decision",
                max_length=150,
                required=False,
                help_text="Their name and role.",
            )
            self.fields["capacity_assessed_on"] = NHSDateField(
                label="If added: date the person's capacity to consent was assessed",
                required=False,
                help_text="For example, 14 2 2026",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        decision = data.get("decision")
        needed: dict[str, list[tuple[str, str]]] = {
            Referral.Status.ADDED: [
                ("rating", "Choose the initial rating."),
                ("rationale", "Enter the reason for the rating."),
            ]
            + (
                [
                    ("decision_maker", "Enter who made the best-interests decision."),
                    ("capacity_assessed_on", "Enter the date capacity was assessed."),
                ]
                if self.best_interests
                else []
            ),
            Referral.Status.NOT_ELIGIBLE: [
                ("ineligible_reason", "Enter why the person is not eligible."),
                ("signposting", "Enter where else the person can get help."),
            ],
            Referral.Status.WITHDRAWN: [
                ("withdrawn_reason", "Enter why the referral was withdrawn."),
            ],
        }
        for field, message in needed.get(decision, []):
            value = data.get(field)
            if field not in self.errors and not (str(value).strip() if value else ""):
                self.add_error(field, message)
        return data

    def service_arguments(self) -> dict[str, Any]:
        """The keyword arguments of referral_decide for the chosen decision (when valid)."""
        data = self.cleaned_data
        decision = data["decision"]
        arguments = {"decision": decision, "next_steps": data["next_steps"]}
        if decision == Referral.Status.ADDED:
            arguments |= {"rating": data["rating"], "rationale": data["rationale"]}
            if self.best_interests:
                arguments |= {
                    "decision_maker": data["decision_maker"],
                    "capacity_assessed_on": data["capacity_assessed_on"],
                }
        elif decision == Referral.Status.NOT_ELIGIBLE:
            arguments |= {
                "reason": data["ineligible_reason"],
                "signposting": data["signposting"],
                "reasons_told_how": data["reasons_told_how"],
            }
        else:
            arguments |= {"reason": data["withdrawn_reason"]}
        return arguments


class RecipientAddForm(forms.Form):
    name = forms.CharField(
        label="Full name", max_length=150, error_messages={"required": "Enter their name."}
    )
    relationship = forms.CharField(
        label="Relationship to the person", max_length=60, required=False
    )
    email = forms.EmailField(
        label="Email address",
        required=False,
        error_messages={
            "invalid": "Enter an email address in the right format, like name@nhs.net."
        },
    )
    address = PostalAddressField(
        noun="Postal address",
        label="Postal address",
        required=False,
        help_text=POSTCODE_LAST,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    preferred_format = forms.ChoiceField(
        label="Format",
        choices=ReferralContact.Format.choices,
        initial=ReferralContact.Format.STANDARD,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a format."},
    )
    prefers_letter = forms.BooleanField(
        label="They would rather have a letter than an email", required=False
    )
    phone = PhoneField(label="Phone number (optional)")
    wants_texts = forms.BooleanField(
        label="They asked for a text message each time we write to them",
        help_text="The text says only that we have sent an email or letter, never what it says.",
        required=False,
    )
    reason = text_field("Why they should be told", help_text="This is kept with the referral.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("email") and not (data.get("address") or "").strip():
            if "email" not in self.errors:
                self.add_error("email", "Enter an email address or a postal address.")
        elif data.get("prefers_letter") and not (data.get("address") or "").strip():
            self.add_error("address", "Enter a postal address to send a letter to.")
        texts_need_a_mobile(self, "wants_texts", data.get("phone"), error_on="phone")
        return data


class RecipientChangeForm(forms.Form):
    include = forms.TypedChoiceField(
        label="Should they be told the outcome?",
        choices=[("yes", "Yes, tell them"), ("no", "No, do not tell them")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether they should be told the outcome."},
    )
    reason = text_field("Reason", help_text="This is kept with the referral.")


class AreaForm(forms.Form):
    local_authority = forms.ModelChoiceField(
        label="Local authority",
        queryset=LocalAuthority.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the local authority the person lives in.",
            "invalid_choice": "Choose a local authority from the list.",
        },
    )

    def __init__(self, *args: Any, local_authorities: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["local_authority"].queryset = local_authorities
