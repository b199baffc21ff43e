"""Escalation's part of the DSR lead's settings page (dsr.register_settings): each rule on or
off, its level and its days; the working days to acknowledge; and which roles own each level.
Only roles ACCESS.md lets act on escalations may own a level."""

from typing import Any

from django import forms

from dsr.nhsuk.forms import whole_number_field
from dsr.register_settings import SettingsSection
from dsr.roles import Role
from dsr.services.team import ESCALATION_OWNER_ROLES
from escalation import rules
from escalation.models import Escalation

# What each rule's days count, for the rules that have days, and the fewest it may be: a
# review may be escalated on the day after it falls due (0 days past), the others need a day.
RULE_DAYS = {
    "amber_unreviewed": ("Days rated amber without a review", 1),
    "red_without_cetr": ("Days rated red without a community C(E)TR or an exception", 1),
    "rating_review_overdue": ("Days past the review date before escalating", 0),
}
ACK_RATINGS = (("RED", "Red"), ("AMBER", "Amber"), ("OTHER", "Anyone else"))

RULES_HINT = (
    "Used from the next escalation sweep (every 5 minutes). Escalations already raised keep "
    "their level. Turning a rule off raises no new escalations for it; those already open stay "
    "open until their cause is put right."
)
ACK_HINT = (
    "Working days to acknowledge an escalation, by the person's rating. Used when an "
    "escalation is next raised or moves up a level. An acknowledgement date already set stays "
    "as it is."
)
OWNERS_HINT = (
    "Only roles that may act on escalations can own a level. Used straight away for who sees "
    "and can act on each level's escalations, and from the next sweep for who is told."
)


def _level_field(rule_label: str) -> forms.TypedChoiceField:
    rule_label = rule_label[:1].lower() + rule_label[1:]
    levels = [(n, f"Level {n}: {rules.level_name(n)}") for n in range(1, rules.top_level() + 1)]
    return forms.TypedChoiceField(
        label="Level",
        choices=levels,
        coerce=int,
        error_messages={
            "required": f"Choose a level for {rule_label}",
            "invalid_choice": f"Choose a level that exists for {rule_label}",
        },
    )


def _owners_field(level: int) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=f"Level {level}: {rules.level_name(level)}",
        choices=[(role, Role(role).label) for role in ESCALATION_OWNER_ROLES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": f"Choose at least one role to own level {level}",
            "invalid_choice": f"Choose only roles that may act on escalations to own level {level}",
        },
    )


class EscalationSettingsForm(forms.Form):
    """Every rule of escalation.rules, the acknowledgement days and the levels' owners; the
    fields follow the ladder's height, so they are made for each form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in rules.DEFAULT_RULES:
            label = Escalation.Reason(name).label
            self.fields[f"rule_{name}_on"] = forms.BooleanField(
                label="Raise escalations for this", required=False
            )
            self.fields[f"rule_{name}_level"] = _level_field(label)
            if name in RULE_DAYS:
                noun, minimum = RULE_DAYS[name]
                self.fields[f"rule_{name}_days"] = whole_number_field(
                    noun, noun=noun, minimum=minimum
                )
        for key, label in ACK_RATINGS:
            self.fields[f"ack_{key.lower()}"] = whole_number_field(
                f"{label} (working days)",
                noun=f"Working days to acknowledge for {label.lower()}",
                maximum=60,
            )
        for level in range(1, rules.top_level() + 1):
            self.fields[f"owners_{level}"] = _owners_field(level)


def fieldsets(form: forms.Form) -> list[tuple[str, str, list[str]]]:
    groups = []
    for index, name in enumerate(rules.DEFAULT_RULES):
        fields = [f"rule_{name}_on", f"rule_{name}_level"]
        if name in RULE_DAYS:
            fields.append(f"rule_{name}_days")
        # The hint once, on the first rule: it holds for all of them.
        groups.append((Escalation.Reason(name).label, RULES_HINT if index == 0 else "", fields))
    groups.append(
        (
            "Working days to acknowledge",
            ACK_HINT,
            [f"ack_{key.lower()}" for key, _ in ACK_RATINGS],
        )
    )
    groups.append(
        (
            "Who owns each level",
            OWNERS_HINT,
            [f"owners_{level}" for level in range(1, rules.top_level() + 1)],
        )
    )
    return groups


def initial() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in rules.DEFAULT_RULES:
        rule = rules.rule(name)
        values[f"rule_{name}_on"] = rule.on
        values[f"rule_{name}_level"] = rule.level
        if name in RULE_DAYS:
            values[f"rule_{name}_days"] = rule.days
    ack = rules.ack_working_days()
    for key, _ in ACK_RATINGS:
        values[f"ack_{key.lower()}"] = ack[key]
    for level in range(1, rules.top_level() + 1):
        values[f"owners_{level}"] = [str(role) for role in rules.level_roles(level)]
    return values


def stored_values(data: dict[str, Any]) -> dict[str, Any]:
    rule_values = {}
    for name in rules.DEFAULT_RULES:
        rule = {"on": data[f"rule_{name}_on"], "level": data[f"rule_{name}_level"]}
        if name in RULE_DAYS:
            rule["days"] = data[f"rule_{name}_days"]
        rule_values[name] = rule
    return {
        "DSR_ESCALATION_RULES": rule_values,
        "DSR_ESCALATION_ACK_WORKING_DAYS": {
            key: data[f"ack_{key.lower()}"] for key, _ in ACK_RATINGS
        },
        "DSR_ESCALATION_LEVEL_ROLES": {
            str(level): list(data[f"owners_{level}"]) for level in range(1, rules.top_level() + 1)
        },
    }


SECTION = SettingsSection(
    order=20,
    title="Escalations",
    form=EscalationSettingsForm,
    fieldsets=fieldsets,
    names=(
        "DSR_ESCALATION_RULES",
        "DSR_ESCALATION_ACK_WORKING_DAYS",
        "DSR_ESCALATION_LEVEL_ROLES",
    ),
    initial=initial,
    values=stored_values,
)
