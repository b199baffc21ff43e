"""Forms for escalations: the queue's filters (in the URL: none identifies anyone), and the
acknowledge, resolve, note and raise forms."""

from typing import Any

from django import forms

from dsr.forms import local_authority_filter, set_local_authority_choices
from dsr.nhsuk.forms import choose_from_list, text_field
from escalation import rules


class QueueFilterForm(forms.Form):
    local_authority = local_authority_filter()
    organisation = forms.TypedChoiceField(
        label="Organisation",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages=choose_from_list("an organisation"),
    )
    level = forms.TypedChoiceField(
        label="Escalation level",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages=choose_from_list("a level"),
    )
    past_deadline = forms.BooleanField(
        label="Past the deadline to acknowledge only",
        required=False,
    )

    def __init__(self, *args: Any, choices: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_local_authority_choices(self.fields["local_authority"], choices["local_authorities"])
        self.fields["organisation"].choices = [("", "Any")] + [
            (o.pk, o.name) for o in choices["organisations"]
        ]
        self.fields["level"].choices = [("", "Any")] + choices["levels"]


class AcknowledgeForm(forms.Form):
    note = text_field(
        "Note", required=False, help_text="What you are doing about it, if you know yet."
    )


class AcknowledgeAllForm(forms.Form):
    """Every escalation about a person waiting for this user, with one note. `shown` carries
    the ids of those listed on the page (the service refuses if another has come since)."""

    note = text_field(
        "Note",
        required=False,
        help_text="What you are doing about them, if you know yet. It is kept on each one.",
    )
    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_shown(self) -> list[int]:
        parts = [part for part in self.cleaned_data["shown"].split(",") if part]
        if not all(part.isdigit() and len(part) <= 18 for part in parts):
            # Not the user's doing (the field is hidden): said at the top, not on a field.
            self.add_error(None, "The list of escalations was changed: open the page again.")
            return []
        return [int(part) for part in parts]


class ResolveForm(forms.Form):
    # The reason it was resolved: shown on the escalation the rules raise again if the cause is
    # still there after the cooling-off period (DSR_ESCALATION_RERAISE_DAYS).
    outcome = text_field(
        "Why it can be resolved",
        help_text="What was done, what happened, and why the escalation is no longer needed. "
        "If the cause is still there later, it will be raised again with this reason.",
        required_message="Say why the escalation can be resolved.",
    )


class NoteForm(forms.Form):
    text = text_field("Action taken or note")


class RaiseForm(forms.Form):
    level = forms.TypedChoiceField(
        label="Level",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a level.", **choose_from_list("a level")},
    )
    note = text_field("Why you are raising it")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [
            (n, f"Level {n}: {rules.level_name(n)}") for n in range(1, rules.top_level() + 1)
        ]
