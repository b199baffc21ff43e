"""Pictures for easy-read letters: `{% easy_read_picture "register" "A list" %}` is the picture
static/easy-read/register.svg with its text alternative, when the message is printed as a
letter (`picture_base` set by dsr.outbox.letters.letter_html), and nothing in an email, where
many mail programs would not show it."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def easy_read_picture(context: template.Context, name: str, alt: str) -> SafeString | str:
    base = context.get("picture_base")
    if not base:
        return ""
    return format_html('<img class="easy-read-picture" src="{}/{}.svg" alt="{}">', base, name, alt)
