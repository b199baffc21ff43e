"""Template filters for the NHS.UK crispy-forms pack."""

from typing import Any

from django import template

register = template.Library()


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
