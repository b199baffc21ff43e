"""Filters for the list pages, each doing once what a row or a request used to do again
(dsr.rendering; docs/adr/0010-rendering-the-lists.md)."""

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

from dsr import rendering

register = template.Library()


@register.filter
def rating_tag(rating: Any) -> SafeString:
    """`{{ entry.rating|rating_tag }}`: the rating's NHS.UK tag."""
    return rendering.rating_tag(rating)


@register.filter(expects_localtime=True)
def short_date(value: Any) -> str:
    """`{{ day|short_date }}`: the same as `{{ day|date:"j M Y" }}`, without the format look-up."""
    return rendering.short_date(value)


@register.simple_tag
def url_once(name: str) -> str:
    """`{% url_once "pages:cookies" %}`: `{% url "pages:cookies" %}` for a route without
    arguments, reversed once."""
    return rendering.reverse_once(name)


@register.filter
def url_with_pk(pk: Any, name: str) -> str:
    """`{{ person.pk|url_with_pk:"dsr:person-detail" }}`: the route reversed once, this pk
    filled in."""
    return rendering.url_with_pk(pk, name)


@register.simple_tag
def url_with_pks(name: str, *pks: Any) -> str:
    """`{% url_with_pks "dsr:person-contact-edit" contact.person_id contact.pk %}`: the route
    reversed once, these integer arguments filled in."""
    return rendering.url_with_pks(name, *pks)


@register.filter
def crispy_once(form: forms.Form) -> SafeString:
    """`{{ form|crispy_once }}`: `{{ form|crispy }}`, kept for the next request with the same
    choices, values and errors when the form holds no personal data."""
    return rendering.render_form_once(form)


@register.simple_tag
def rows(template_name: str, rows: Any) -> SafeString:
    """`{% rows "dsr/register_rows.jinja" rows %}`: a busy list's rows, rendered by Jinja2."""
    return rendering.render_rows(template_name, rows)
