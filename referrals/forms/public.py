"""The public referral journey: who is referring, the eight step pages in order, the helper that
turns their answers into a referral, and the check page's form.

`build_submission(kind, answers)` turns every step's cleaned data into the `fields` and
`contacts` that `referrals.services.referral_submit` takes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms

from dsr.models import AccessibleFormat
from dsr.nhsuk.fill_time import MinimumFillTimeForm
from dsr.nhsuk.forms import choice_field
from dsr.nhsuk.uploads import ALLOWED_EXTENSIONS, MAX_FILES, check_uploads
from dsr.nhsuk.validators import postal_address
from referrals.forms.contact_steps import AboutYouForm, ConsentForm, OutcomeForm
from referrals.forms.steps import (
    FAMILY,
    PROFESSIONAL,
    SELF,
    SHORT_MAX,
    CommunicationForm,
    DiagnosisForm,
    PersonForm,
    RisksForm,
    StepForm,
    SupportForm,
)
from referrals.models import ReferralContact


class WhoForm(forms.Form):
    """Someone referring without being a professional: themselves, or someone they care for."""

    who = choice_field(
        [
            (SELF, "I am referring myself"),
            (FAMILY, "I am a parent, carer or family member of the person"),
        ],
        required_message="Choose whether you are referring yourself or someone you care for.",
        label="Who are you referring?",
    )


# --- The journey -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    form_class: type[StepForm]
    title_self: str
    title_other: str
    title_professional: str = ""
    # The easy-read journey's picture for the question, a file in static/easy-read/.
    picture: str = ""

    def title(self, kind: str) -> str:
        if kind == SELF:
            return self.title_self
        if kind == PROFESSIONAL and self.title_professional:
            return self.title_professional
        return self.title_other


STEPS: tuple[Step, ...] = (
    Step("about-you", AboutYouForm, "How can we contact you?", "About you"),
    Step("person", PersonForm, "Your details", "About the person you are referring"),
    Step("diagnosis", DiagnosisForm, "Your diagnosis", "The person's diagnosis"),
    Step("risks", RisksForm, "What is happening now", "What is happening now"),
    Step(
        "support",
        SupportForm,
        "Education and support",
        "Education and support",
    ),
    Step("communication", CommunicationForm, "How you communicate", "How the person communicates"),
    Step(
        "outcome",
        OutcomeForm,
        "How we tell you our decision",
        "Who we should tell about our decision",
    ),
    Step("consent", ConsentForm, "Consent", "Consent"),
)
STEP_SLUGS = tuple(step.slug for step in STEPS)
STEPS_BY_SLUG = {step.slug: step for step in STEPS}


def _yes(value: Any) -> bool:
    return value == "yes"


def _person_format(formats: list[str]) -> str:
    if AccessibleFormat.EASY_READ in formats:
        return ReferralContact.Format.EASY_READ
    if AccessibleFormat.LARGE_PRINT in formats:
        return ReferralContact.Format.LARGE_PRINT
    return ReferralContact.Format.STANDARD


def build_submission(
    kind: str, answers: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `fields` and `contacts` for `referral_submit`, from every step's cleaned data.

    `answers` maps each step slug to its form's `cleaned_data`; all eight must be there and
    valid. The person is always a contact (the outcome rule decides whether they are told); a
    family member referring is a parent or carer contact; a named parent or carer is another.
    """
    about, person, diagnosis, risks, support, communication, outcome, consent = (
        answers[slug] for slug in STEP_SLUGS
    )
    full_name = f"{person['given_name']} {person['family_name']}"
    fields: dict[str, Any] = {
        "given_name": person["given_name"],
        "family_name": person["family_name"],
        "date_of_birth": person["date_of_birth"],
        "nhs_number": person["nhs_number"],
        "address": person["address"],
        "postcode": person["postcode"],
        "local_authority": person["local_authority"],
        "gp_practice_name": person["gp_practice_name"],
        "diagnosis": diagnosis["diagnosis"],
        "diagnosis_status": diagnosis["diagnosis_status"],
        "co_occurring": list(diagnosis["co_occurring"]),
        "risk_factors": list(risks["risk_factors"]),
        "risks": risks["risks"],
        "tried": risks["tried"],
        "would_help": risks["would_help"],
        "has_ehcp": support["has_ehcp"],
        "education_setting": support["education_setting"],
        "social_care": support["social_care"],
        "other_professionals": support["other_professionals"],
        "communication_needs": communication["communication_needs"],
        "accessible_formats": list(communication["accessible_formats"]),
        "interpreter_language": communication["interpreter_language"],
        "referrer_email": about["referrer_email"],
        "referrer_phone": about["referrer_phone"],
        "consent_to_referral": _yes(consent["consent_to_referral"]),
        "consent_to_share": _yes(consent["consent_to_share"]),
        "consent_basis": consent["consent_basis"],
        "consent_given_by": consent.get("consent_given_by", ""),
    }
    # Where a letter to the person goes: their address with its postcode.
    home = postal_address(person["address"], person.get("postcode", ""))
    if kind == SELF:
        fields |= {
            "referrer_name": full_name[:SHORT_MAX],
            "referrer_role": "",
            "referrer_organisation": "",
            "referrer_address": home,
            "outcome_to_referrer": True,
        }
    else:
        fields |= {
            "referrer_name": about["referrer_name"],
            "referrer_role": about.get("referrer_role") or about.get("referrer_relationship", ""),
            "referrer_organisation": about.get("referrer_organisation", ""),
            "referrer_address": about["referrer_address"],
            "outcome_to_referrer": kind == FAMILY and _yes(outcome["outcome_to_referrer"]),
        }
    contacts = [
        {
            "role": ReferralContact.Role.PERSON,
            "name": full_name[:SHORT_MAX],
            "email": about["referrer_email"] if kind == SELF else outcome["person_email"],
            "phone": about["referrer_phone"] if kind == SELF else "",
            "address": home,
            "preferred_format": _person_format(fields["accessible_formats"]),
            "prefers_letter": outcome["person_prefers_letter"],
            "wants_texts": kind == SELF and bool(outcome.get("person_wants_texts")),
        }
    ]
    if kind == FAMILY:
        contacts.append(
            {
                "role": ReferralContact.Role.PARENT_CARER,
                "name": about["referrer_name"],
                "relationship": about["referrer_relationship"],
                "email": about["referrer_email"],
                "phone": about["referrer_phone"],
                "address": about["referrer_address"],
                "has_parental_responsibility": _yes(outcome["referrer_parental_responsibility"]),
                "named_by_person": _yes(outcome["outcome_to_referrer"]),
                "preferred_format": outcome["referrer_format"] or ReferralContact.Format.STANDARD,
                "prefers_letter": outcome["referrer_prefers_letter"],
                "wants_texts": bool(outcome.get("referrer_wants_texts")),
            }
        )
    if _yes(outcome["has_carer"]):
        contacts.append(
            {
                "role": ReferralContact.Role.PARENT_CARER,
                "name": outcome["carer_name"],
                "relationship": outcome["carer_relationship"],
                "email": outcome["carer_email"],
                "phone": outcome["carer_phone"],
                "wants_texts": bool(outcome.get("carer_wants_texts")),
                "address": outcome["carer_address"],
                "has_parental_responsibility": _yes(outcome["carer_parental_responsibility"]),
                # Asked only for someone the person wants told (see the question's hint).
                "named_by_person": True,
                "preferred_format": outcome["carer_format"] or ReferralContact.Format.STANDARD,
                "prefers_letter": outcome["carer_prefers_letter"],
            }
        )
    return fields, contacts


# --- The check page --------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to MAX_FILES files from one file input; each checked by `dsr.nhsuk.uploads`."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [f for f in files if f]
        if files:
            check_uploads(files)
        return files


INCOMPLETE_MESSAGE = (
    "The page was not sent completely. Check your answers, attach any documents again, then "
    "send the referral."
)


class SubmitForm(MinimumFillTimeForm):
    """The check page's form: the submission token, optional attachments, the honeypot and the
    time the page was shown (sent too soon after it, the referral is not sent:
    dsr.nhsuk.fill_time)."""

    submission_token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This page has expired. Check your answers and send the referral again.",
            "invalid": "This page has expired. Check your answers and send the referral again.",
        },
    )
    attachments = AttachmentsField(
        required=False,
        label="Attach documents (optional)",
        help_text=f"Up to {MAX_FILES} files, each smaller than 10MB. PDF, Word (.doc or .docx), "
        "JPEG or PNG. For example, a care plan or a letter from a doctor.",
    )
    # A field people never see (hidden by CSS and from screen readers): only bots fill it in.
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")
    # The page's last field, after the files (written out in the template, always "1"): a body
    # cut off in a file (a dropped connection) reaches the page without it. Django drops a file
    # part cut short, so without this check the referral would go without the document.
    form_end = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": INCOMPLETE_MESSAGE},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].widget.attrs["accept"] = ",".join(ALLOWED_EXTENSIONS)

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))
