"""The easy-read self-referral: the same kind of step forms as the standard journey
(referrals.forms.steps), one short question a page, each with a picture from static/easy-read/
(its README says what each picture is for).

Someone using it is always referring themselves (kind "self"). The questions are the ones a
referral cannot do without (who, what is hard now, how to reach them, consent), copied from the
standard steps with `StepForm.question`, so they keep the same checks. `build_easy_read_submission`
turns the answers into the `fields` and `contacts` that `referrals.services.referral_submit` takes,
with easy read as the format asked for.
"""

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

from crispy_forms.helper import FormHelper
from django.core.exceptions import ValidationError
from django.utils import timezone

from dsr.models import AccessibleFormat, Diagnosis
from dsr.nhsuk.forms import YES_NO, check_date_of_birth, choice_field
from dsr.nhsuk.validators import optional_postcode
from referrals.forms.contact_steps import AboutYouForm, ConsentForm
from referrals.forms.public import Step
from referrals.forms.steps import SELF, SHORT_MAX, DiagnosisForm, PersonForm, RisksForm, StepForm
from referrals.models import Referral, ReferralContact

EASY_READ = AccessibleFormat.EASY_READ.value
# Under 16, someone agreeing to their own referral does so as a child who understands it.
OWN_CONSENT_AGE = 16

NO_CONSENT_MESSAGE = (
    "You said no. We can only look at your referral if you say yes. "
    "If you do not want a referral, you can close this page."
)


class EasyReadForm(StepForm):
    """One easy-read question. On a page with one question the heading asks it, so the
    question's own label is hidden on screen (screen readers still read it)."""

    label_in_heading: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.kind != SELF:
            raise ValueError("The easy-read referral is only for people referring themselves.")
        if self.label_in_heading:
            self.helper = FormHelper()
            self.helper.form_tag = False
            self.helper.form_show_labels = False


class NameForm(EasyReadForm):
    label_in_heading = False
    sections = [("", ["given_name", "family_name"])]

    given_name = PersonForm.question(
        "given_name",
        label="First name",
        messages={"required": "Write your first name."},
        widget_attrs={"autocomplete": "given-name"},
    )
    family_name = PersonForm.question(
        "family_name",
        label="Last name",
        messages={"required": "Write your last name."},
        widget_attrs={"autocomplete": "family-name"},
    )


class BirthdayForm(EasyReadForm):
    sections = [("", ["date_of_birth"])]

    date_of_birth = PersonForm.question(
        "date_of_birth",
        label="Your date of birth",
        help_text="Write the day, the month and the year. For example, 27 3 2008.",
        messages={"required": "Write the date you were born."},
    )

    def clean_date_of_birth(self) -> datetime.date:
        return check_date_of_birth(self.cleaned_data["date_of_birth"], today_too=True)


class DisabilityForm(EasyReadForm):
    sections = [("", ["diagnosis"])]

    diagnosis = DiagnosisForm.question(
        "diagnosis",
        label="Do you have a learning disability, autism or both?",
        choices=[
            (Diagnosis.LEARNING_DISABILITY.value, "A learning disability"),
            (Diagnosis.AUTISM.value, "Autism"),
            (Diagnosis.BOTH.value, "Both"),
        ],
        messages={"required": "Choose learning disability, autism or both."},
    )


class DiagnosedForm(EasyReadForm):
    sections = [("", ["diagnosis_status"])]

    diagnosis_status = DiagnosisForm.question(
        "diagnosis_status",
        label="Has a doctor or nurse told you this?",
        choices=[
            ("confirmed", "Yes"),
            ("clinically_understood", "No, but a doctor or nurse thinks I have it"),
            ("awaiting_assessment", "No, I am waiting for a test"),
        ],
        messages={"required": "Choose one answer."},
    )


class NowForm(EasyReadForm):
    sections = [("", ["risks"])]

    risks = RisksForm.question(
        "risks",
        label="What is hard for you now?",
        help_text="For example, you might be worried you will have to go into hospital, or "
        "that you cannot stay where you live.",
        noun="Your answer",
        messages={"required": "Tell us what is hard for you now."},
    )


class HelpForm(EasyReadForm):
    sections = [("", ["would_help"])]

    would_help = RisksForm.question(
        "would_help",
        label="What would help you? (optional)",
        help_text="You can leave this empty.",
        noun="Your answer",
    )


class AddressForm(EasyReadForm):
    label_in_heading = False
    sections = [("", ["address", "postcode"])]

    address = PersonForm.question(
        "address",
        label="Your address (optional)",
        help_text="We will send you letters here. You can leave this empty if you want us to "
        "send you emails.",
        required=False,
        widget_attrs={"autocomplete": "street-address"},
    )
    postcode = PersonForm.question(
        "postcode",
        label="Your postcode (optional)",
        required=False,
        widget_attrs={"autocomplete": "postal-code", "class": "nhsuk-input--width-10"},
    )

    def clean_postcode(self) -> str:
        return optional_postcode(self.cleaned_data.get("postcode"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("address") and not data.get("postcode") and "postcode" not in self.errors:
            self.add_error("postcode", "Write your postcode.")
        if data.get("postcode") and not data.get("address") and "address" not in self.errors:
            self.add_error("address", "Write your address.")
        return data


class EmailForm(EasyReadForm):
    sections = [("", ["email"])]

    email = AboutYouForm.question(
        "referrer_email",
        label="Your email address (optional)",
        help_text="We will send you emails here. You can leave this empty if you gave us your "
        "address.",
        widget_attrs={"autocomplete": "email"},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        has_address = bool(self.answers.get("address", {}).get("address"))
        if not self.errors and not data.get("email") and not has_address:
            self.add_error(
                "email",
                "Write your email address. We need your email address or your home address "
                "to tell you what we decide.",
            )
        return data


class AgreeForm(EasyReadForm):
    sections = [("", ["consent_to_referral"])]

    consent_to_referral = ConsentForm.question(
        "consent_to_referral",
        label="Do you want us to look at your referral?",
        help_text="If you say yes, we will look at what you told us. We will decide if you "
        "should be on the register.",
        choices=YES_NO,
        messages={"required": "Choose yes or no."},
    )

    def clean_consent_to_referral(self) -> str:
        value = self.cleaned_data["consent_to_referral"]
        if value == "no":
            raise ValidationError(NO_CONSENT_MESSAGE, code="no_consent")
        return value


class ShareForm(EasyReadForm):
    sections = [("", ["consent_to_share"])]

    consent_to_share = choice_field(
        YES_NO,
        required_message="Choose yes or no.",
        label="Can we share what you told us with people who help you?",
        help_text="For example, your doctor, your social worker, or your school or college. We "
        "only share what they need to know.",
    )


EASY_READ_STEPS: tuple[Step, ...] = (
    Step("name", NameForm, "What is your name?", "", picture="name.svg"),
    Step("birthday", BirthdayForm, "When were you born?", "", picture="birthday.svg"),
    Step(
        "disability",
        DisabilityForm,
        "Do you have a learning disability, autism or both?",
        "",
        picture="disability.svg",
    ),
    Step(
        "diagnosed",
        DiagnosedForm,
        "Has a doctor or nurse told you this?",
        "",
        picture="diagnosed.svg",
    ),
    Step("now", NowForm, "What is hard for you now?", "", picture="now.svg"),
    Step("help", HelpForm, "What would help you?", "", picture="help.svg"),
    Step("address", AddressForm, "Where do you live?", "", picture="address.svg"),
    Step("email", EmailForm, "What is your email address?", "", picture="email.svg"),
    Step("agree", AgreeForm, "Do you want us to look at your referral?", "", picture="agree.svg"),
    Step("share", ShareForm, "Can we share what you told us?", "", picture="share.svg"),
)

# What each picture shows, for people who cannot see it (and for static/easy-read/README.md).
PICTURE_ALT = {
    "name.svg": "A picture of a name badge.",
    "birthday.svg": "A picture of a calendar.",
    "disability.svg": "A picture of a person thinking.",
    "diagnosed.svg": "A picture of a doctor.",
    "now.svg": "A picture of a worried face.",
    "help.svg": "A picture of a hand holding a heart.",
    "address.svg": "A picture of a house.",
    "email.svg": "A picture of an envelope.",
    "agree.svg": "A picture of a tick.",
    "share.svg": "A picture of people sharing information.",
}


def _consent_basis(date_of_birth: datetime.date) -> str:
    today = timezone.localdate()
    birthday_to_come = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    age = today.year - date_of_birth.year - birthday_to_come
    if age >= OWN_CONSENT_AGE:
        return Referral.ConsentBasis.OWN_CONSENT.value
    return Referral.ConsentBasis.GILLICK.value


def build_easy_read_submission(
    kind: str, answers: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `fields` and `contacts` for `referral_submit` from every easy-read step's cleaned
    data. The person refers themselves and agrees themselves (a child under 16 as one who
    understands); the format asked for is easy read; the person is the one contact, with their
    email and postal address (postcode on its last line, as a letter needs it)."""
    name, birthday, disability, diagnosed, now, help_, address, email, agree, share = (
        answers[step.slug] for step in EASY_READ_STEPS
    )
    full_name = f"{name['given_name']} {name['family_name']}"[:SHORT_MAX]
    postal = "\n".join(part for part in (address["address"], address["postcode"]) if part)
    fields: dict[str, Any] = {
        "given_name": name["given_name"],
        "family_name": name["family_name"],
        "date_of_birth": birthday["date_of_birth"],
        "address": address["address"],
        "postcode": address["postcode"],
        "diagnosis": disability["diagnosis"],
        "diagnosis_status": diagnosed["diagnosis_status"],
        "risks": now["risks"],
        "would_help": help_["would_help"],
        "accessible_formats": [EASY_READ],
        "referrer_name": full_name,
        "referrer_email": email["email"],
        "referrer_address": postal,
        "outcome_to_referrer": True,
        "consent_to_referral": agree["consent_to_referral"] == "yes",
        "consent_to_share": share["consent_to_share"] == "yes",
        "consent_basis": _consent_basis(birthday["date_of_birth"]),
    }
    contacts = [
        {
            "role": ReferralContact.Role.PERSON,
            "name": full_name,
            "email": email["email"],
            "address": postal,
            "preferred_format": ReferralContact.Format.EASY_READ,
            "prefers_letter": not email["email"],
        }
    ]
    return fields, contacts
