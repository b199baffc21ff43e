"""Posting an edit page as a browser does: with the version of the record the page was drawn
from (dsr.nhsuk.edits), which its form sends back in a hidden field."""

import html
import re

from django.test import Client

from dsr.nhsuk.edits import FIELD

_VERSION = re.compile(rf'<input type="hidden" name="{FIELD}" value="([^"]*)">')


def edit_version(client: Client, url: str) -> dict[str, str]:
    """{FIELD: version} as the page at `url` carries it; {} for a page that carries none."""
    page = client.get(url)
    assert page.status_code == 200, url
    found = _VERSION.search(page.content.decode())
    return {FIELD: html.unescape(found.group(1))} if found else {}
