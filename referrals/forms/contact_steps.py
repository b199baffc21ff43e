"""The referral's steps about people other than the person referred: the referrer (about you),
who is told the decision and how (outcome), and consent. See referrals.forms.steps for how a
step form works."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dsr.nhsuk.forms import (
    YES_NO,
    EmailField,
    PhoneField,
    PostalAddressField,
    TextField,
    choice_field,
)
from dsr.nhsuk.validators import uk_mobile
from referrals.forms.steps import (
    ADDRESS_MAX,
    FAMILY,
    NAME_MAX,
    PROFESSIONAL,
    SELF,
    SHORT_MAX,
    StepForm,
)
from referrals.models import Referral, ReferralContact

# Free personal mail services: a professional refers from their work address.
# A letter cannot be posted without a postcode (dsr.nhsuk.validators.postcode_in).
POSTCODE_LAST = "Put the postcode on the last line."

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
    referrer_address = PostalAddressField(
        noun="Your postal address",
        max_length=ADDRESS_MAX,
        required=False,
        label="Postal address (optional)",
        help_text=POSTCODE_LAST,
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
            self.fields["referrer_address"].help_text = (
                "Give an email address or a postal address, so we can tell you our decision. "
                f"{POSTCODE_LAST}"
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


def _format_field(label: str) -> forms.ChoiceField:
    return choice_field(
        ReferralContact.Format.choices,
        required_message="Choose how we should write to them.",
        required=False,
        label=label,
    )


YOUR_TEXTS_NEED_A_MOBILE = (
    "You asked for text messages but did not give a UK mobile number. Add it on the About you "
    "page, or untick this box."
)
TEXTS_SAY_ONLY = (
    "It says only that we have sent an email or letter, never what it says. We need the mobile "
    "number you gave on the About you page for this."
)
TEXTS_NEED_A_MOBILE = (
    "Enter a UK mobile number, like 07700 900 982, to send text messages to, or untick the "
    "box asking for them."
)


def texts_need_a_mobile(
    form: forms.Form,
    wants: str,
    number: str | None,
    *,
    error_on: str,
    message: str = TEXTS_NEED_A_MOBILE,
) -> None:
    """Texts go only to a UK mobile: when the box `wants` is ticked but `number` is not a UK
    mobile number, `message` on the field `error_on` (unless that field has an error already)."""
    data = form.cleaned_data
    if data.get(wants) and not uk_mobile(number or "") and error_on not in form.errors:
        form.add_error(error_on, message)


class OutcomeForm(StepForm):
    """Who is told the decision, and how.

    The person is always a contact: the rule in `referrals.recipients.outcome_recipients` decides
    at decision time whether they are told (16 or over, or a child who understands). A family
    member referring is a parent or carer contact; anyone may add one more parent or carer.
    """

    sections = [
        ("The person", ["person_email", "person_prefers_letter", "person_wants_texts"]),
        (
            "You",
            [
                "referrer_parental_responsibility",
                "outcome_to_referrer",
                "referrer_format",
                "referrer_prefers_letter",
                "referrer_wants_texts",
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
                "carer_wants_texts",
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
    # Someone referring themselves, or a family member referring: a text as well, to the phone
    # number they gave on the About you page.
    person_wants_texts = forms.BooleanField(
        required=False,
        label="Also send me a text message each time we write to me",
        help_text=TEXTS_SAY_ONLY,
    )
    referrer_wants_texts = forms.BooleanField(
        required=False,
        label="Also send me a text message each time we write to me",
        help_text=TEXTS_SAY_ONLY,
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
    carer_wants_texts = forms.BooleanField(
        required=False,
        label="Also send them a text message each time we write to them",
        help_text="It says only that we have sent an email or letter, never what it says. "
        "We need their mobile number for this.",
    )
    carer_address = PostalAddressField(
        noun="Their postal address",
        max_length=ADDRESS_MAX,
        required=False,
        label="Their postal address",
        help_text=f"Give an email address, a postal address or both. {POSTCODE_LAST}",
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
            self.drop("person_wants_texts")
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
        your_number = self.answers.get("about-you", {}).get("referrer_phone")
        for field in ("person_wants_texts", "referrer_wants_texts"):
            texts_need_a_mobile(
                self, field, your_number, error_on=field, message=YOUR_TEXTS_NEED_A_MOBILE
            )
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
        texts_need_a_mobile(
            self, "carer_wants_texts", data.get("carer_phone"), error_on="carer_phone"
        )
        wants_letter = data.get("carer_prefers_letter") and not data.get("carer_address")
        if wants_letter and "carer_address" not in self.errors:
            self.add_error(
                "carer_address",
                "Enter their postal address, or untick Send them a letter instead of an email.",
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
