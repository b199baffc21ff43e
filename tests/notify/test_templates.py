"""The Notify template texts in the repository (notify/templates/), filled with the
personalisation the service sends for each kind, are exactly what the service would send
itself; and the start-up check refuses Notify without a template for every kind."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from dsr.checks import notify_configured
from dsr.models import Notification, TeamContact
from dsr.outbox.delivery import render
from dsr.outbox.notify import (
    message_kinds,
    notify_template_names,
    personalisation,
    text_message_kinds,
)
from tests.notify.conftest import TEMPLATES, template_text
from tests.notify.server import fill
from tests.test_settings import PRODUCTION, run_settings

pytestmark = pytest.mark.django_db


def test_there_is_a_notify_template_text_for_every_kind_and_no_other():
    assert sorted(path.stem for path in TEMPLATES.glob("*.md")) == notify_template_names()
    assert "referral_outcome" in message_kinds()
    assert "referral_outcome_sms" in notify_template_names()
    assert "referral_outcome_easy_read" not in message_kinds()  # the same kind, another format


EMAILS = settings.BASE_DIR / "templates" / "emails"
# Each kind in each format it is sent in (easy read only where the kind has an easy-read text).
CASES = [
    (kind, accessible_format)
    for kind in message_kinds()
    for accessible_format in Notification.Format.values
    if accessible_format != Notification.Format.EASY_READ
    or (EMAILS / f"{kind}_easy_read.subject.txt").exists()
]


@pytest.mark.parametrize(("kind", "accessible_format"), CASES)
def test_each_notify_template_filled_is_what_the_service_sends(kind, accessible_format):
    message = Notification.objects.create(
        subject_type="tests.subject",
        subject_id=1,
        kind=kind,
        recipient_key="someone",
        recipient_name="Sam Jones",
        channel=Notification.Channel.EMAIL,
        email="sam@example.org",
        accessible_format=accessible_format,
        context={"reference": "DSR-0001", "person_first_name": "Alex", "count": 2},
    )
    rendered = render(message)
    subject, body = template_text(kind)

    sent = personalisation(rendered)

    assert fill(subject, sent) == rendered.subject
    assert fill(body, sent) == rendered.text
    assert rendered.subject and rendered.text.strip()


@pytest.mark.parametrize("kind", text_message_kinds())
@pytest.mark.parametrize("sent_by", [["email"], ["letter"], ["email", "letter"]])
@pytest.mark.parametrize("team_contact_set", [True, False])
def test_each_notify_text_message_template_filled_is_what_the_service_sends(
    kind, sent_by, team_contact_set
):
    if team_contact_set:
        TeamContact.objects.create(
            phone="01632 960001",
            email="dsr@nhs.example",
            address="1 High Street\nNorwich",
            postcode="NR1 2DH",
            opening_hours="Monday to Friday, 9am to 5pm",
            complaints="Write to us.",
        )
    message = Notification.objects.create(
        subject_type="tests.subject",
        subject_id=1,
        kind=kind,
        recipient_key="someone-text",
        recipient_name="Sam Jones",
        channel=Notification.Channel.SMS,
        phone="07700 900982",
        context={"reference": "DSR-0001", "sent_by": sent_by},
    )
    rendered = render(message)
    _, body = template_text(f"{kind}_sms")

    assert fill(body, {"body": rendered.text}) == rendered.text
    assert "DSR-0001" in rendered.text
    assert {"email": "an email", "letter": "a letter"}[sent_by[-1]] in rendered.text
    assert ("01632 960001" in rendered.text) == team_contact_set
    # One text message (160 characters), with nothing about the person or the decision.
    assert len(rendered.text) <= 160, rendered.text
    assert "Sam" not in rendered.text and "\n" not in rendered.text


def test_the_easy_read_texts_are_among_those_checked():
    assert ("referral_outcome", Notification.Format.EASY_READ) in CASES


ALL_SET = {
    name: f"00000000-0000-0000-0000-{n:012d}" for n, name in enumerate(notify_template_names())
}


def test_the_start_up_check_asks_for_a_template_for_every_kind(settings):
    settings.DSR_MESSAGES = "notify"
    settings.NOTIFY_API_KEY = "key-name-" + "0" * 36 + "-" + "1" * 36
    settings.NOTIFY_TEMPLATES = {k: v for k, v in ALL_SET.items() if k != "referral_outcome"}

    [error] = notify_configured()

    assert error.id == "dsr.E002"
    assert error.msg == "No GOV.UK Notify template is set for: referral_outcome."
    with pytest.raises(SystemCheckError, match="referral_outcome"):
        call_command("check")

    settings.NOTIFY_TEMPLATES = ALL_SET
    assert notify_configured() == []


def test_the_start_up_check_asks_for_a_key(settings):
    settings.DSR_MESSAGES = "notify"
    settings.NOTIFY_API_KEY = ""
    settings.NOTIFY_TEMPLATES = ALL_SET

    assert [error.id for error in notify_configured()] == ["dsr.E001"]


def test_without_notify_nothing_is_asked(settings):
    assert settings.DSR_MESSAGES == "django"
    settings.NOTIFY_TEMPLATES = {}
    assert notify_configured() == []


def test_the_notify_settings_are_read_from_the_environment():
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DSR_MESSAGES, s.NOTIFY_TEMPLATES, s.NOTIFY_BASE_URL]))"
    )
    templates = {"referral_received": "f33517ff-2a88-4f6e-b855-c550268ce08a"}
    env = {"DSR_MESSAGES": "notify", "NOTIFY_TEMPLATES": json.dumps(templates)}

    result = run_settings({**PRODUCTION, **env}, code)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "notify",
        templates,
        "https://api.notifications.service.gov.uk",
    ]


def test_an_unknown_way_of_sending_messages_is_refused_at_start_up():
    result = run_settings({**PRODUCTION, "DSR_MESSAGES": "carrier-pigeon"})

    assert result.returncode != 0
    assert 'DSR_MESSAGES must be "django" or "notify".' in result.stderr
