"""The referral's questions, one form per page: the base every step form shares, and the steps
about the person referred (who they are, their diagnosis, risks, support and communication).
The steps about the referrer, who is told the decision and consent are in
referrals.forms.contact_steps; the journey that strings them together in referrals.forms.public.

Each step form asks one topic. It takes `kind` (who is referring: "professional", "self" or
"family"), which words the questions ("you" for self, "the person" otherwise) and decides which
questions apply, and `answers`: the cleaned data of the earlier steps by slug, for the few
checks that span pages. Forms check field shape and cross-field consistency only; they never
touch the request, so the staff entry page (referrals.forms.staff) asks the same questions.
"""

import copy
import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateformat import format as format_date

from dsr.models import AccessibleFormat, CoOccurring, Diagnosis, LocalAuthority, RiskFactor
from dsr.nhsuk.forms import (
    TEXT_LIMIT,
    NHSDateField,
    TextField,
    check_date_of_birth,
    checkboxes,
    choice_field,
)
from dsr.nhsuk.validators import optional_nhs_number, optional_postcode
from referrals.models import Referral

PROFESSIONAL = Referral.ReferrerKind.PROFESSIONAL.value
SELF = Referral.ReferrerKind.SELF.value
FAMILY = Referral.ReferrerKind.FAMILY.value
KINDS = (PROFESSIONAL, SELF, FAMILY)

NAME_MAX = 100
SHORT_MAX = 150
ADDRESS_MAX = 500

NOT_SURE = "not_sure"


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

    @classmethod
    def question(
        cls,
        name: str,
        *,
        label: str,
        help_text: str = "",
        noun: str = "",
        required: bool | None = None,
        widget_attrs: dict[str, Any] | None = None,
        messages: dict[str, str] | None = None,
        **attributes: Any,
    ) -> forms.Field:
        """This step's question `name` as another form (the staff entry page) asks it.

        A copy of the declared field, so it keeps the step's checks (hidden characters, line
        breaks in a one-line answer, names, lengths), with the other form's label and hint;
        `noun` words a text field's messages for that label, `required` and `widget_attrs`
        change the field and its box, `messages` replaces single messages and `attributes` sets
        others (choices, initial). What `word()` sets for a kind of referrer is not copied, nor
        the box's autocomplete: there the answer is about someone other than the person typing,
        and a browser must not offer their own details.
        """
        field = copy.deepcopy(cls.base_fields[name])
        field.widget.attrs.pop("autocomplete", None)
        field.label = label
        field.help_text = help_text
        if noun:
            field.name_answer(noun)
        if required is not None:
            field.required = field.widget.is_required = required
        field.widget.attrs.update(widget_attrs or {})
        for attribute, value in attributes.items():
            setattr(field, attribute, value)
        field.error_messages.update(messages or {})
        return field

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


# --- The steps about the person ------------------------------------------------------------


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
        # Longer than any NHS number: the message says what one is.
        too_long="An NHS number must be 10 digits.",
        required=False,
        label="NHS number (optional)",
        help_text="This is a 10 digit number, like 485 777 3456. You can find it on letters "
        "from the NHS, on a prescription or in the NHS App.",
    )
    address = TextField(noun="Address", max_length=ADDRESS_MAX, multiline=True, label="Address")
    # Longer than any postcode, so a wrong one gets the postcode message, not a length error.
    postcode = TextField(
        noun="Postcode",
        max_length=20,
        too_long="Enter a real postcode, like NR1 2DH.",
        label="Postcode",
    )
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
        # Read once, whole: the answer is checked against these choices and then cleaned to
        # the area itself (clean_local_authority) without reading it again.
        self._areas = {str(la.pk): la for la in LocalAuthority.objects.all()}
        area.choices = [(pk, la.name) for pk, la in self._areas.items()] + [
            (NOT_SURE, "I'm not sure")
        ]

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
        area = self._areas.get(value)
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


# The risk factors in plain words, for the public (staff see RiskFactor's own labels).
PUBLIC_RISK_FACTORS = {
    RiskFactor.CRISIS: "In crisis now (the person or their family)",
    RiskFactor.NOT_MANAGED: "The support they have now cannot keep them or others safe",
    RiskFactor.MENTAL_HEALTH: "A mental health condition that is getting worse or is not treated",
    RiskFactor.BEHAVIOUR: "Behaviour that puts them or others at risk of harm",
    RiskFactor.ENVIRONMENT: "Big changes at home, or support staff changing often",
    RiskFactor.CRISIS_LAST_MONTH: "Went to A&E or needed a crisis team in the last month",
    RiskFactor.UNPLANNED_LAST_YEAR: "Went to A&E, needed a crisis team or went into hospital "
    "without it being planned, in the last year",
    RiskFactor.BREAKDOWN: "At risk of having to leave their family home or care home",
    RiskFactor.CRIMINAL_JUSTICE: "In trouble with the police or the courts",
    RiskFactor.TRANSITION: "A big change coming, such as leaving school, moving home or "
    "moving from children's to adults' services",
    RiskFactor.SERVICES_EXHAUSTED: "Local services have tried everything they can and "
    "nothing has worked",
    RiskFactor.RECENT_DISCHARGE: "Came out of hospital recently",
}


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
        self.fields["risk_factors"].choices = [
            (value, PUBLIC_RISK_FACTORS.get(value, label)) for value, label in RiskFactor.choices
        ]
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
        noun="Support from social care",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
        label="Support from social care (optional)",
    )
    other_professionals = TextField(
        noun="Other professionals involved",
        max_length=TEXT_LIMIT,
        required=False,
        multiline=True,
        label="Other professionals involved (optional)",
        help_text="Their names, jobs and organisations. For example, a community learning "
        "disability nurse or a worker from children and young people's mental health services "
        "(CAMHS).",
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
