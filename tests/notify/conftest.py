"""The small GOV.UK Notify (tests/notify/server.py) on a free port, with the repository's Notify
template texts (notify/templates/) loaded under an id per kind, and the service set to send
through it."""

import uuid
from pathlib import Path

import pytest

from tests.notify.server import NotifyServer, Template

TEMPLATES = Path(__file__).resolve().parents[2] / "notify" / "templates"


def template_text(kind: str) -> tuple[str, str]:
    """The subject and message of a Notify template text (notify/README.md: "Subject: ..."
    on the first line, then a line "---", then the message; a text message's template,
    "<kind>_sms", is the message alone, with no subject)."""
    text = (TEMPLATES / f"{kind}.md").read_text()
    if kind.endswith("_sms"):
        return "", text.rstrip("\n")
    head, _, body = text.partition("\n---\n")
    assert head.startswith("Subject: "), kind
    return head.removeprefix("Subject: ").strip(), body.rstrip("\n")


def load_templates(fake) -> dict[str, str]:
    """Every Notify template text of the repository, added to the small Notify `fake` under a new
    id each; returns the ids by kind, as NOTIFY_TEMPLATES holds them."""
    ids = {}
    for path in sorted(TEMPLATES.glob("*.md")):
        subject, body = template_text(path.stem)
        ids[path.stem] = str(uuid.uuid4())
        kind = "sms" if path.stem.endswith("_sms") else "email"
        fake.templates[ids[path.stem]] = Template(type=kind, subject=subject, body=body)
    return ids


@pytest.fixture
def notify_server():
    server = NotifyServer()
    yield server
    server.stop()


@pytest.fixture
def notify(notify_server, settings):
    """The service sending through the small Notify; returns its state (FakeNotify)."""
    fake = notify_server.notify
    ids = load_templates(fake)
    settings.DSR_MESSAGES = "notify"
    settings.NOTIFY_API_KEY = fake.api_key
    settings.NOTIFY_BASE_URL = notify_server.base_url
    settings.NOTIFY_TEMPLATES = ids
    return fake
