"""Cheap rendering for the list pages (docs/adr/0010-rendering-the-lists.md).

A 50-row list rendered through Django's template engine spent most of its time on work that is
the same for every row or every request: an include per row for a rating tag, a URL reversed
per row, a localised date format looked up per cell, and the filter form's NHS.UK field
templates (about 40 includes) rendered again for the same choices and values. The helpers here
do that work once and give the same HTML:

- `rating_tag`: the NHS.UK tag of a rating (the markup of templates/includes/rating_tag.html);
- `short_date`: a date as `|date:"j M Y"` writes it ("6 Dec 2026");
- `reverse_once`: a route with no arguments (the header's, the footer's), reversed once;
- `url_with_pk`: a route with one integer `pk`, reversed once and filled in per row;
  `url_with_pks` the same for a route with integer arguments in order (a person and one of
  their rows);
- `render_form_once`: a form's NHS.UK (crispy) rendering, kept in this process and keyed by
  everything the field templates read, for forms that hold no personal data;
- `render_rows`: the rows of a busy list from a Jinja2 template (templates/jinja2/), which
  renders a row about four times faster than Django's engine; the same markup, escaped the same.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django import forms
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import pluralize
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

# --- Rating tags -----------------------------------------------------------------------------

# Colour and text, never colour alone.
_RATING_TAGS = {
    rating: format_html('<strong class="nhsuk-tag nhsuk-tag--{}">{}</strong>', colour, text)
    for rating, colour, text in (
        ("RED", "red", "Red"),
        ("AMBER", "orange", "Amber"),
        ("GREEN", "green", "Green"),
        ("BLUE", "blue", "Blue"),
    )
}
_NOT_ON_REGISTER = format_html(
    '<strong class="nhsuk-tag nhsuk-tag--grey">{}</strong>', "Not on the register"
)


def rating_tag(rating: Any) -> SafeString:
    """The NHS.UK tag for a rating (RED, AMBER, GREEN, BLUE); anything else is "Not on the
    register"."""
    return _RATING_TAGS.get(rating, _NOT_ON_REGISTER)


# --- Dates -----------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(value: Any) -> str:
    """`date_filter(value, "j M Y")` for the service's one language (en-GB): "6 Dec 2026".
    The template filter is registered with `expects_localtime`, as Django's date filter is, so a
    date-time reaches it in local time. Anything else goes to the date filter."""
    if isinstance(value, date):  # and so a datetime
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    return date_filter(value, "j M Y")


# --- URLs ------------------------------------------------------------------------------------

_URLS: dict[tuple[Any, str, str], str] = {}


def _url_key(name: str) -> tuple[Any, str, str]:
    # The URL configuration in use (tests swap it) and the script prefix (a service under a
    # path) both change what a name reverses to.
    return (get_resolver(get_urlconf()), get_script_prefix(), name)


def reverse_once(name: str) -> str:
    """`reverse(name)` for a route without arguments, reversed once per URL configuration and
    script prefix."""
    key = _url_key(name)
    url = _URLS.get(key)
    if url is None:
        url = _URLS[key] = reverse(name)
    return url


# A pk no row has, so that it appears once in the reversed URL and can be cut out.
_PLACEHOLDER = 2_147_483_647
_URL_PARTS: dict[tuple[Any, str, str], tuple[str, str]] = {}


def url_with_pk(pk: Any, name: str) -> str:
    """`reverse(name, kwargs={"pk": pk})` for an integer pk, reversed once per route (and per
    URL configuration and script prefix, so tests that swap them get their own)."""
    key = _url_key(name)
    parts = _URL_PARTS.get(key)
    if parts is None:
        url = reverse(name, kwargs={"pk": _PLACEHOLDER})
        before, placeholder, after = url.partition(str(_PLACEHOLDER))
        if not placeholder or str(_PLACEHOLDER) in after:
            raise ValueError(f"{name} does not take one integer pk")
        parts = _URL_PARTS[key] = (before, after)
    return f"{parts[0]}{int(pk)}{parts[1]}"


# Placeholders for the arguments in turn: none a row has, each found once in the URL.
_ARG_PLACEHOLDERS = tuple(str(_PLACEHOLDER - n) for n in range(4))
_ARGS_URL_PARTS: dict[tuple[Any, str, str, int], tuple[str, ...]] = {}


def url_with_pks(name: str, *pks: Any) -> str:
    """`reverse(name, args=pks)` for a route whose arguments are integers in order, reversed
    once per route and number of arguments (and per URL configuration and script prefix)."""
    key = (*_url_key(name), len(pks))
    parts = _ARGS_URL_PARTS.get(key)
    if parts is None:
        placeholders = _ARG_PLACEHOLDERS[: len(pks)]
        rest = reverse(name, args=[int(p) for p in placeholders])
        found: list[str] = []
        for placeholder in placeholders:
            before, seen, rest = rest.partition(placeholder)
            if not seen or placeholder in rest:
                raise ValueError(f"{name} does not take {len(pks)} integer arguments")
            found.append(before)
        parts = _ARGS_URL_PARTS[key] = (*found, rest)
    return "".join(f"{part}{int(pk)}" for part, pk in zip(parts, pks, strict=False)) + parts[-1]


# --- Forms rendered once ---------------------------------------------------------------------

FORMS_KEPT = 256
_forms_rendered: OrderedDict[str, SafeString] = OrderedDict()
_forms_lock = threading.Lock()


def holds_no_personal_data(form_class: type[forms.Form]) -> type[forms.Form]:
    """Mark a form whose fields and values never identify anyone (a list's filters), so its
    rendering may be kept and shared between users once bound."""
    form_class.holds_no_personal_data = True  # type: ignore[attr-defined]
    return form_class


def _choices(field: forms.Field) -> Any:
    if not hasattr(field, "choices"):
        return None
    if isinstance(field, forms.ModelChoiceField):
        # Read the choices once, for the key and the rendering alike: one query. (Through
        # iter(): list() of the iterator itself would first ask its len(), a COUNT query.)
        field.choices = list(iter(field.choices))
    return [(str(value), str(label)) for value, label in field.choices]


def _field_key(bound: forms.BoundField) -> tuple:
    field = bound.field
    widget = field.widget
    return (
        bound.html_name,
        bound.auto_id,
        str(bound.label),
        str(bound.help_text),
        field.required,
        field.disabled,
        field.show_hidden_initial,
        type(widget).__module__,
        type(widget).__qualname__,
        widget.template_name,
        getattr(widget, "input_type", None),
        getattr(widget, "allow_multiple_selected", None),
        sorted((str(k), repr(v)) for k, v in widget.attrs.items()),
        repr(bound.value()),
        [str(error) for error in bound.errors],
        _choices(field),
        repr(getattr(field, "conditional", None)),
    )


def form_key(form: forms.Form) -> str | None:
    """Everything the NHS.UK field templates read from `form`, or None when it may not be kept:
    a bound form whose values could identify someone."""
    if form.is_bound and not getattr(form, "holds_no_personal_data", False):
        return None
    return repr(
        (
            type(form).__module__,
            type(form).__qualname__,
            form.prefix,
            form.auto_id,
            form.is_bound,
            form.use_required_attribute,
            [_field_key(bound) for bound in form],
        )
    )


def render_form_once(form: forms.Form) -> SafeString:
    """`form|crispy`, rendered once for each set of choices, values and errors and then kept (at
    most FORMS_KEPT renderings in each process, the least recently used dropped first)."""
    from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form

    key = form_key(form)
    if key is None:
        return as_crispy_form(form)
    with _forms_lock:
        html = _forms_rendered.get(key)
        if html is not None:
            _forms_rendered.move_to_end(key)
            return html
    html = as_crispy_form(form)
    with _forms_lock:
        _forms_rendered[key] = html
        while len(_forms_rendered) > FORMS_KEPT:
            _forms_rendered.popitem(last=False)
    return html


# --- Rows rendered by Jinja2 ------------------------------------------------------------------


def jinja_environment(**options: Any) -> Any:
    """The Jinja2 environment of the TEMPLATES setting: autoescaped (Django's backend turns it
    on), with the filters the rows use, each giving what its Django namesake gives."""
    import jinja2

    # A missing value is blank, as in Django's engine, in development too (Django's backend
    # would print DebugUndefined's marker into the page when DEBUG is on).
    options["undefined"] = jinja2.Undefined
    options.pop("autoescape", None)  # always on, whatever the setting says
    environment = jinja2.Environment(autoescape=True, **options)
    environment.filters.update(
        # Django's engine hands the date filter a date-time in local time; Jinja2 does not.
        short_date=lambda value: short_date(template_localtime(value)),
        rating_tag=rating_tag,
        url_with_pk=url_with_pk,
        pluralize=pluralize,
    )
    return environment


def render_rows(template_name: str, rows: Iterable[Any], **context: Any) -> SafeString:
    """The rows of a list, rendered by the Jinja2 template `template_name` with `rows` and
    `context` (escaped by Jinja2's autoescape)."""
    html = engines["jinja2"].get_template(template_name).render({"rows": rows, **context})
    # Every value in it was escaped by the environment's autoescape, which cannot be turned off.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703
