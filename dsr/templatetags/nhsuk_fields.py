"""Template filters for the NHS.UK crispy-forms pack."""

from typing import Any

from django import template
from django.db.models.fields import BLANK_CHOICE_DASH

register = template.Library()

_BLANK_DASH = BLANK_CHOICE_DASH[0]


@register.filter
def offered_choices(field: Any) -> list[Any]:
    """The radios or checkboxes of a choice field, less Django's blank "---------" choice (a
    model field's choices carry it when it has no default): as a radio button it reads as an
    answer. A blank choice with words of its own ("No rating decision") stays."""
    return [
        choice
        for choice in field.subwidgets
        if (str(choice.data["value"]), str(choice.data["label"])) != _BLANK_DASH
    ]


@register.filter
def opened_with(field: Any) -> Any:
    """The value a field with `show_hidden_initial` was first shown with: what the form posted
    as that value when it comes back with errors, otherwise the field's initial value. Posting
    it back lets a form save only what this person changed (Form.changed_data)."""
    form = field.form
    if form.is_bound and field.html_initial_name in form.data:
        return form.data[field.html_initial_name]
    initial = field.initial
    return "" if initial is None else initial


@register.filter
def revealed_by(field: Any, value: Any) -> list[Any]:
    """The bound fields a radio reveals when chosen (NHS.UK conditional radios): a choice field
    lists them as `conditional = {choice value: [field names]}`. Without JavaScript they all
    show, under their radio."""
    names = getattr(field.field, "conditional", {}).get(str(value), [])
    return [field.form[name] for name in names if name in field.form.fields]


@register.filter
def revealed_elsewhere(field: Any) -> bool:
    """Whether a radio of another field of the form reveals `field` (and so shows it there)."""
    return any(
        field.name in names
        for other in field.form.fields.values()
        for names in getattr(other, "conditional", {}).values()
    )
