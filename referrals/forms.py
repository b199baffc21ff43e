"""The referral's questions, one form per page, and the helper that turns answers into a referral.

Each step form asks one topic. It takes `kind` (who is referring: "professional", "self" or
"family"), which words the questions ("you" for self, "the person" otherwise) and decides which
questions apply, and `answers`: the cleaned data of the earlier steps by slug, for the few
checks that span pages. Forms check field shape and cross-field consistency only; they never
touch the request, so the staff entry page can reuse them as they are.

`build_submission(kind, answers)` turns every step's cleaned data into the `fields` and
`contacts` that `referrals.services.referral_submit` takes.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateformat import format as format_date

from dsr.fill_time import MinimumFillTimeForm
from dsr.models import AccessibleFormat, CoOccurring, Diagnosis, LocalAuthority, RiskFactor
from dsr.nhsuk_forms import (
    TEXT_LIMIT,
    YES_NO,
    EmailField,
    NHSDateField,
    PhoneField,
    TextField,
    check_date_of_birth,
    checkboxes,
    choice_field,
)
from dsr.uploads import ALLOWED_EXTENSIONS, MAX_FILES, check_uploads
from dsr.validators import optional_nhs_number, optional_postcode
from referrals.models import Referral, ReferralContact

PROFESSIONAL = Referral.ReferrerKind.PROFESSIONAL.value
SELF = Referral.ReferrerKind.SELF.value
FAMILY = Referral.ReferrerKind.FAMILY.value
KINDS = (PROFESSIONAL, SELF, FAMILY)

NAME_MAX = 100
SHORT_MAX = 150
ADDRESS_MAX = 500

NOT_SURE = "not_sure"

# Free personal mail services: a professional refers from their work address.
PERSONAL_EMAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "btinternet.com",
        "gmail.com",
        "googlemail.com",
        "hotmail.co.uk",
        "hotmail.com",
        "icloud.com",
        "live.co.uk",
        "live.com",
        "mail.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "yahoo.co.uk",
        "yahoo.com",
        "ymail.com",
    }
)


class DateField(NHSDateField):
    """NHSDateField that refuses over-long boxes before converting them: a day, month or year
    of thousands of digits would otherwise reach int() and its digit limit."""

    def to_python(self, value: Any) -> datetime.date | None:
        if isinstance(value, list | tuple) and any(len(str(part or "")) > 10 for part in value):
            raise self._invalid(["day", "month", "year"])
        return super().to_python(value)


def _empty(value: Any) -> bool:
    return value in (None, "", [], ())


class StepForm(forms.Form):
    """One page of the referral.

    Subclasses set `sections`: (heading, field names) pairs in page order, a heading of ""
    for none; fields a kind does not ask are removed in `word()`. `summary()` gives the
    check-your-answers rows once the form is valid.
    """

    sections: ClassVar[list[tuple[str, list[str]]]] = []

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *args: Any,
        kind: str,
        answers: Mapping[str, Mapping[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"Unknown kind of referrer: {kind!r}")
        self.kind = kind
        self.answers: Mapping[str, Mapping[str, Any]] = answers or {}
        self.section_titles: dict[str, str] = {}
        self.section_intros: dict[str, str] = {}
        super().__init__(data, *args, **kwargs)
        self.word()

    def you(self, you: str, other: str) -> str:
        """`you` for a self-referral, `other` for anyone referring someone else."""
        return you if self.kind == SELF else other

    def word(self) -> None:
        """Set the labels, hints and messages for this kind of referrer."""

    def drop(self, *names: str) -> None:
        for name in names:
            self.fields.pop(name, None)

    def grouped(self) -> list[tuple[str, str, list[forms.BoundField]]]:
        """(heading, introduction, bound fields) by section, for the page template."""
        groups = []
        for heading, names in self.sections:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                title = self.section_titles.get(heading, heading)
                groups.append((title, self.section_intros.get(heading, ""), fields))
        return groups

    def skipped_in_summary(self) -> set[str]:
        return set()

    def summary(self) -> list[tuple[str, str]]:
        """(question, answer as text) for each question asked, in page order."""
        rows = []
        skipped = self.skipped_in_summary()
        for _, names in self.sections:
            for name in names:
                if name in self.fields and name not in skipped:
                    field = self.fields[name]
                    label = str(field.label or name).removesuffix(" (optional)")
                    rows.append((label, self._display(field, self.cleaned_data.get(name))))
        return rows

    @staticmethod
    def _display(field: forms.Field, value: Any) -> str:
        if isinstance(field, forms.BooleanField):
            return "Yes" if value else "No"
        if value is None and isinstance(field, forms.ChoiceField):
            # A choice cleaned to None is the "I'm not sure" answer where one is offered.
            return str(dict(field.choices).get(NOT_SURE, "Not given"))
        if _empty(value):
            return "Not given"
        if isinstance(value, datetime.date):
            return format_date(value, "j F Y")
        if isinstance(value, LocalAuthority):
            return value.name
        if isinstance(field, forms.ChoiceField):
            labels = dict(field.choices)
            if isinstance(value, list):
                return "\n".join(str(labels.get(v, v)) for v in value)
            return str(labels.get(value, value))
        return str(value)


# --- The steps ---------------------------------------------------------------------------------


class AboutYouForm(StepForm):
    """The referrer. Professionals give their job, organisation and a work email; family
    members their relationship; someone referring themselves only how to reach them (their
    name and address are asked with their other details)."""

    sections = [
        (
            "",
            [
                "referrer_name",
                "referrer_role",
                "referrer_organisation",
                "referrer_relationship",
                "referrer_email",
                "referrer_phone",
                "referrer_address",
            ],
        )
    ]

    referrer_name = TextField(
        noun="Your full name", max_length=NAME_MAX, name=True, label="Full name"
    )
    referrer_role = TextField(noun="Your job title", max_length=SHORT_MAX, label="Job title")
    referrer_organisation = TextField(
        noun="Your organisation",
        max_length=SHORT_MAX,
        label="Organisation",
        help_text="For example, the school, council team or NHS trust you work for.",
    )
    referrer_relationship = TextField(
        noun="Your relationship to the person",
        max_length=60,
        label="Your relationship to the person",
        help_text="For example, mother, grandparent or foster carer.",
    )
    referrer_email = EmailField(label="Email address (optional)")
    referrer_phone = PhoneField(label="Phone number (optional)")
    referrer_address = TextField(
        noun="Your postal address",
        max_length=ADDRESS_MAX,
        required=False,
        multiline=True,
        label="Postal address (optional)",
    )

    def word(self) -> None:
        # What each box asks about the user, for browsers to fill in (WCAG 1.3.5).
        purposes = {
            "referrer_name": "name",
            "referrer_role": "organization-title",
            "referrer_organisation": "organization",
            "referrer_phone": "tel",
            "referrer_address": "street-address",
        }
        for name, purpose in purposes.items():
            self.fields[name].widget.attrs["autocomplete"] = purpose
        if self.kind == PROFESSIONAL:
            self.drop("referrer_relationship")
            email = self.fields["referrer_email"]
            email.required = True
            email.label = "Work email address"
            email.help_text = "We will send our decision to this address."
            email.error_messages["required"] = "Enter your work email address."
            self.fields["referrer_address"].label = "Work postal address (optional)"
        elif self.kind == FAMILY:
            self.drop("referrer_role", "referrer_organisation")
            self.fields[
                "referrer_address"
            ].help_text = (
                "Give an email address or a postal address, so we can tell you our decision."
            )
        else:
            self.drop(
                "referrer_name",
                "referrer_role",
                "referrer_organisation",
                "referrer_relationship",
                "referrer_address",
            )
            self.fields["referrer_email"].help_text = (
                "We will send our decision here. If you do not give an email address, "
                "we will send you a letter."
            )

    def clean_referrer_email(self) -> str:
        email = self.cleaned_data.get("referrer_email", "")
        if email and self.kind == PROFESSIONAL:
            domain = email.rsplit("@", 1)[-1].lower()
            if domain in PERSONAL_EMAIL_DOMAINS:
                raise ValidationError(
                    "Enter your work email address, not a personal one, like name@nhs.net."
                )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            self.kind == FAMILY
            and not self.errors
            and not (data.get("referrer_email") or data.get("referrer_address"))
        ):
            self.add_error("referrer_email", "Enter your email address or your postal address.")
        return data


class PersonForm(StepForm):
    """The person referred: names, date of birth, NHS number, address and where they live."""

    sections = [
        ("", ["given_name", "family_name", "date_of_birth", "nhs_number"]),
        ("", ["address", "postcode", "local_authority", "gp_practice_name"]),
    ]

    given_name = TextField(noun="First name", max_length=NAME_MAX, name=True, label="First name")
    family_name = TextField(noun="Last name", max_length=NAME_MAX, name=True, label="Last name")
    date_of_birth = DateField(label="Date of birth", help_text="For example, 27 3 2008")
    nhs_number = TextField(
        noun="NHS number",
        max_length=20,
        required=False,
        label="NHS number (optional)",
        help_text="This is a 10 digit number, like 485 777 3456. You can find it on letters "
        "from the NHS, on a prescription or in the NHS App.",
    )
    address = TextField(noun="Address", max_length=ADDRESS_MAX, multiline=True, label="Address")
    # Longer than any postcode, so a wrong one gets the postcode message, not a length error.
    postcode = TextField(noun="Postcode", max_length=20, label="Postcode")
    local_authority = choice_field(
        [], required_message="Choose a council area, or choose I'm not sure."
    )
    gp_practice_name = TextField(
        noun="GP surgery",
        max_length=SHORT_MAX,
        required=False,
        label="GP surgery (optional)",
        help_text="The name of the surgery and the town it is in.",
    )

    def word(self) -> None:
        whose = self.you("your", "the person's")
        self.fields["given_name"].error_messages["required"] = f"Enter {whose} first name."
        self.fields["family_name"].error_messages["required"] = f"Enter {whose} last name."
        self.fields["date_of_birth"].error_messages["required"] = f"Enter {whose} date of birth."
        self.fields["address"].error_messages["required"] = f"Enter {whose} address."
        self.fields["postcode"].error_messages["required"] = f"Enter {whose} postcode."
        self.fields["address"].help_text = self.you(
            "Where you live now.", "Where the person lives now."
        )
        # Input longer than any NHS number or postcode gets the message about its format.
        too_long = {
            "nhs_number": "An NHS number must be 10 digits.",
            "postcode": "Enter a real postcode, like NR1 2DH.",
        }
        for name, message in too_long.items():
            self.fields[name].error_messages["max_length"] = message
        self.fields["nhs_number"].widget.attrs.update(
            {"inputmode": "numeric", "spellcheck": "false", "class": "nhsuk-input--width-10"}
        )
        self.fields["postcode"].widget.attrs.update({"class": "nhsuk-input--width-10"})
        if self.kind == SELF:
            # About the user themselves: let browsers fill them in (WCAG 1.3.5).
            purposes = {
                "given_name": "given-name",
                "family_name": "family-name",
                "address": "street-address",
                "postcode": "postal-code",
            }
            for name, purpose in purposes.items():
                self.fields[name].widget.attrs["autocomplete"] = purpose
        area = self.fields["local_authority"]
        area.label = self.you(
            "Which council area do you live in?", "Which council area does the person live in?"
        )
        area.help_text = "This is the council that runs social care and schools where " + (
            self.you("you live.", "they live.")
        )
        area.choices = [
            (str(pk), name) for pk, name in LocalAuthority.objects.values_list("pk", "name")
        ] + [(NOT_SURE, "I'm not sure")]

    def clean_date_of_birth(self) -> datetime.date:
        return check_date_of_birth(self.cleaned_data["date_of_birth"], today_too=True)

    def clean_nhs_number(self) -> str:
        return optional_nhs_number(self.cleaned_data.get("nhs_number"))

    def clean_postcode(self) -> str:
        return optional_postcode(self.cleaned_data.get("postcode"))

    def clean_local_authority(self) -> LocalAuthority | None:
        value = self.cleaned_data.get("local_authority")
        if value == NOT_SURE:
            return None
        area = LocalAuthority.objects.filter(pk=value).first()
        if area is None:  # removed since the page was shown
            raise ValidationError("Choose a council area, or choose I'm not sure.")
        return area


class DiagnosisForm(StepForm):
    sections = [("", ["diagnosis", "diagnosis_status", "co_occurring"])]

    diagnosis = choice_field(Diagnosis.choices, required_message="")
    diagnosis_status = choice_field(
        [
            ("confirmed", "Yes, it has been diagnosed"),
            ("clinically_understood", "No, but professionals agree it is likely"),
            ("awaiting_assessment", "No, an assessment is planned or being waited for"),
        ],
        required_message="Choose whether this has been diagnosed.",
        label="Has this been diagnosed?",
    )
    co_occurring = checkboxes(CoOccurring.choices, help_text="Select all that apply.")

    def word(self) -> None:
        diagnosis = self.fields["diagnosis"]
        diagnosis.label = self.you(
            "Do you have a learning disability, autism or both?",
            "Does the person have a learning disability, autism or both?",
        )
        diagnosis.error_messages["required"] = "Choose learning disability, autism, or both."
        self.fields["co_occurring"].label = self.you(
            "Do you have any of these as well? (optional)",
            "Does the person have any of these as well? (optional)",
        )


class RisksForm(StepForm):
    sections = [("", ["risk_factors", "risks", "tried", "would_help"])]

    risk_factors = checkboxes(
        RiskFactor.choices,
        label="Which of these are happening now? (optional)",
        help_text="Select all that apply.",
    )
    risks = TextField(
        noun="The description of the risks",
        max_length=TEXT_LIMIT,
        multiline=True,
        label="Tell us about the risks now",
    )
    tried = TextField(
        noun="The description of what has been tried",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
        label="What has been tried so far? (optional)",
    )
    would_help = TextField(
        noun="The description of what would help",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
        label="What would help? (optional)",
    )

    def word(self) -> None:
        self.fields["risks"].error_messages["required"] = "Tell us about the risks now."
        self.fields["risks"].help_text = self.you(
            "What is happening, how often, and what could happen if nothing changes. For "
            "example, a risk of going into hospital, or of your home breaking down.",
            "What is happening, how often, and what could happen if nothing changes. For "
            "example, a risk of going into hospital, or of their home or placement breaking "
            "down.",
        )


class SupportForm(StepForm):
    sections = [("", ["has_ehcp", "education_setting", "social_care", "other_professionals"])]

    has_ehcp = choice_field(
        Referral.YesNoUnsure.choices,
        required_message="",
        help_text="An EHCP is a plan from the council for children and young people up to "
        "25 who need more help with their education.",
    )
    education_setting = TextField(
        noun="School, college or other education setting",
        max_length=SHORT_MAX,
        required=False,
        label="School, college or other education setting (optional)",
    )
    social_care = TextField(
        noun="Social care involvement",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
        label="Social care involvement (optional)",
    )
    other_professionals = TextField(
        noun="Other professionals involved",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
        label="Other professionals involved (optional)",
        help_text="Their names, jobs and organisations. For example, a community learning "
        "disability nurse or a CAMHS worker.",
    )

    def word(self) -> None:
        ehcp = self.fields["has_ehcp"]
        ehcp.label = self.you(
            "Do you have an education, health and care plan (EHCP)?",
            "Does the person have an education, health and care plan (EHCP)?",
        )
        ehcp.error_messages["required"] = self.you(
            "Choose whether you have an EHCP.", "Choose whether the person has an EHCP."
        )
        self.fields["education_setting"].help_text = self.you(
            "Leave this empty if you are not in education.",
            "Leave this empty if they are not in education.",
        )
        self.fields["social_care"].help_text = self.you(
            "For example, a social worker, or support at home from the council.",
            "For example, a social worker, a care provider or short breaks.",
        )


class CommunicationForm(StepForm):
    sections = [("", ["communication_needs", "accessible_formats", "interpreter_language"])]

    communication_needs = TextField(
        noun="Communication needs",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
    )
    accessible_formats = checkboxes(AccessibleFormat.choices, help_text="Select all that apply.")
    interpreter_language = TextField(
        noun="Interpreter language",
        max_length=60,
        required=False,
        help_text="For example, Polish, or British Sign Language.",
    )

    def word(self) -> None:
        self.fields["communication_needs"].label = self.you(
            "How do you like to communicate? (optional)",
            "How does the person communicate? (optional)",
        )
        self.fields[
            "communication_needs"
        ].help_text = (
            "Anything that helps, for example Makaton, pictures, short sentences or extra time."
        )
        self.fields["accessible_formats"].label = self.you(
            "Do you need information in any of these ways? (optional)",
            "Does the person need information in any of these ways? (optional)",
        )
        self.fields["interpreter_language"].label = self.you(
            "If you need an interpreter, which language? (optional)",
            "If the person needs an interpreter, which language? (optional)",
        )


def _format_field(label: str) -> forms.ChoiceField:
    return choice_field(
        ReferralContact.Format.choices,
        required_message="Choose how we should write to them.",
        required=False,
        label=label,
    )


class OutcomeForm(StepForm):
    """Who is told the decision, and how.

    The person is always a contact: the rule in `referrals.recipients.outcome_recipients` decides
    at decision time whether they are told (16 or over, or a child who understands). A family
    member referring is a parent or carer contact; anyone may add one more parent or carer.
    """

    sections = [
        ("The person", ["person_email", "person_prefers_letter"]),
        (
            "You",
            [
                "referrer_parental_responsibility",
                "outcome_to_referrer",
                "referrer_format",
                "referrer_prefers_letter",
            ],
        ),
        ("Parent or carer", ["has_carer"]),
        (
            "Their details",
            [
                "carer_name",
                "carer_relationship",
                "carer_email",
                "carer_phone",
                "carer_address",
                "carer_parental_responsibility",
                "carer_format",
                "carer_prefers_letter",
            ],
        ),
    ]
    carer_fields = sections[3][1]

    person_email = EmailField(label="The person's email address (optional)")
    person_prefers_letter = forms.BooleanField(required=False)
    referrer_parental_responsibility = choice_field(
        YES_NO,
        inline=True,
        required_message="Choose whether you have parental responsibility for the person.",
        label="Do you have parental responsibility for the person?",
        help_text="Parents usually have parental responsibility for their children under 18.",
    )
    outcome_to_referrer = choice_field(
        YES_NO,
        inline=True,
        required_message="Choose whether the person agrees that we can tell you our decision.",
        label="Does the person agree that we can tell you our decision?",
    )
    referrer_format = _format_field("How should we write to you? (optional)")
    referrer_prefers_letter = forms.BooleanField(
        required=False, label="Send me a letter instead of an email"
    )
    has_carer = choice_field(YES_NO, inline=True, required_message="")
    carer_name = TextField(
        noun="The parent or carer's name",
        max_length=NAME_MAX,
        name=True,
        required=False,
        label="Their full name",
    )
    carer_relationship = TextField(
        noun="Their relationship to the person",
        max_length=60,
        required=False,
        label="Their relationship to the person",
        help_text="For example, father or foster carer.",
    )
    carer_email = EmailField(label="Their email address")
    carer_phone = PhoneField(label="Their phone number (optional)")
    carer_address = TextField(
        noun="Their postal address",
        max_length=ADDRESS_MAX,
        required=False,
        multiline=True,
        label="Their postal address",
        help_text="Give an email address, a postal address or both.",
    )
    carer_parental_responsibility = choice_field(
        YES_NO,
        inline=True,
        required=False,
        required_message="",
        label="Do they have parental responsibility for the person?",
    )
    carer_format = _format_field("How should we write to them? (optional)")
    carer_prefers_letter = forms.BooleanField(
        required=False, label="Send them a letter instead of an email"
    )

    def word(self) -> None:
        self.section_intros["Their details"] = (
            "Fill this in only if you answered yes to the question above."
        )
        if self.kind == SELF:
            self.section_titles["The person"] = ""
            self.drop("person_email", *self.sections[1][1])
            self.fields["person_prefers_letter"].label = "Send me a letter instead of an email"
        else:
            self.fields[
                "person_prefers_letter"
            ].label = "Send the person a letter instead of an email"
            self.fields["person_email"].help_text = (
                "We send the person our decision if they are 16 or over, or younger and able to "
                "understand it. Leave this empty and we will post it to their address."
            )
        if self.kind == PROFESSIONAL:
            self.drop(*self.sections[1][1])
        has_carer = self.fields["has_carer"]
        has_carer.label = {
            SELF: "Do you want us to tell a parent or carer as well?",
            FAMILY: "Should we tell another parent or carer as well?",
            PROFESSIONAL: "Should we tell a parent or carer as well?",
        }[self.kind]
        has_carer.help_text = self.you(
            "Only someone you want told, or who has parental responsibility for you.",
            "Only someone the person wants told, or who has parental responsibility for them.",
        )
        has_carer.error_messages["required"] = "Choose whether we should tell a parent or carer."

    def skipped_in_summary(self) -> set[str]:
        if self.cleaned_data.get("has_carer") != "yes":
            return set(self.carer_fields)
        return set()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("has_carer") == "yes":
            self._check_carer(data)
        if self.kind == FAMILY and data.get("referrer_prefers_letter"):
            about_you = self.answers.get("about-you", {})
            if not about_you.get("referrer_address"):
                self.add_error(
                    "referrer_prefers_letter",
                    "You asked for a letter but did not give a postal address. Add your "
                    "address on the About you page, or untick this box.",
                )
        return data

    def _check_carer(self, data: dict[str, Any]) -> None:
        if not data.get("carer_name") and "carer_name" not in self.errors:
            self.add_error("carer_name", "Enter the parent or carer's name.")
        if not data.get("carer_parental_responsibility"):
            self.add_error(
                "carer_parental_responsibility",
                "Choose whether the parent or carer has parental responsibility.",
            )
        reachable = data.get("carer_email") or data.get("carer_address")
        if not reachable and not {"carer_email", "carer_address"} & set(self.errors):
            self.add_error(
                "carer_email", "Enter the parent or carer's email address or postal address."
            )
        wants_letter = data.get("carer_prefers_letter") and not data.get("carer_address")
        if wants_letter and "carer_address" not in self.errors:
            self.add_error(
                "carer_address",
                "Enter their postal address, or untick Send them a letter instead of an email.",
            )


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


NO_CONSENT_MESSAGE = (
    "We cannot add anyone to the register without consent. You cannot send this referral "
    "until the person, or someone who can decide for them, agrees to it."
)


class ConsentForm(StepForm):
    sections = [
        ("", ["consent_to_referral", "consent_to_share", "consent_basis", "consent_given_by"])
    ]

    consent_to_referral = choice_field(YES_NO, inline=True, required_message="")
    consent_to_share = choice_field(YES_NO, inline=True, required_message="")
    consent_basis = choice_field(
        Referral.ConsentBasis.choices, required_message="Choose which of these is true."
    )
    consent_given_by = TextField(
        noun="Who gave consent",
        max_length=SHORT_MAX,
        required=False,
        label="Who gave consent? (if not the person)",
        help_text="Their name and how they know the person. For example, Sam Smith, mother.",
    )

    def word(self) -> None:
        to_referral = self.fields["consent_to_referral"]
        to_share = self.fields["consent_to_share"]
        basis = self.fields["consent_basis"]
        if self.kind == SELF:
            to_referral.label = "Do you agree to this referral?"
            to_referral.help_text = (
                "This means you agree to us looking at your referral and, if it is right for "
                "you, adding you to the register."
            )
            to_share.label = (
                "Do you agree that we can share information about you with education, health "
                "and social care services?"
            )
            basis.label = "Which of these is true?"
            basis.choices = [
                (Referral.ConsentBasis.OWN_CONSENT.value, "I am 16 or over and agree myself"),
                (
                    Referral.ConsentBasis.GILLICK.value,
                    "I am under 16 and I understand what this referral means",
                ),
            ]
            self.drop("consent_given_by")
        else:
            to_referral.label = (
                "Has the person, or someone who can decide for them, agreed to this referral?"
            )
            to_share.label = (
                "Have they agreed that we can share information with education, health and "
                "social care services?"
            )
            basis.label = "Which of these is true?"
        to_referral.error_messages["required"] = self.you(
            "Choose whether you agree to this referral.",
            "Choose whether the person, or someone who can decide for them, agreed.",
        )
        to_share.help_text = (
            "We share only what is needed to look at the referral and plan support."
        )
        to_share.error_messages["required"] = "Choose whether we can share information."

    def clean_consent_to_referral(self) -> str:
        value = self.cleaned_data["consent_to_referral"]
        if value == "no":
            raise ValidationError(NO_CONSENT_MESSAGE, code="no_consent")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        needs_who = (
            Referral.ConsentBasis.BEST_INTERESTS,
            Referral.ConsentBasis.PARENTAL_RESPONSIBILITY,
        )
        if (
            self.kind != SELF
            and data.get("consent_basis") in needs_who
            and not data.get("consent_given_by")
            and "consent_given_by" not in self.errors
        ):
            self.add_error("consent_given_by", "Enter who gave consent.")
        return data


# --- The journey -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    slug: str
    form_class: type[StepForm]
    title_self: str
    title_other: str
    title_professional: str = ""

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
    if kind == SELF:
        fields |= {
            "referrer_name": full_name[:SHORT_MAX],
            "referrer_role": "",
            "referrer_organisation": "",
            "referrer_address": person["address"],
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
            "address": person["address"],
            "preferred_format": _person_format(fields["accessible_formats"]),
            "prefers_letter": outcome["person_prefers_letter"],
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
    """Up to MAX_FILES files from one file input; each checked by `dsr.uploads`."""

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
    time the page was shown (sent too soon after it, the referral is not sent: dsr.fill_time)."""

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
