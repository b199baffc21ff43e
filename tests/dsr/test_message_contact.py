"""How a message lets its reader reach the DSR team: a reply to any email goes to the team, the
team's phone and email are links in an HTML email, and a printed letter keeps the team's contact
block on one page and signs off from the team."""

import pytest
from django.core import mail
from django.utils.html import escape
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import TextBox

from dsr.models import Notification
from dsr.outbox import message, outbox_add
from dsr.outbox.delivery import deliver_due, render
from dsr.outbox.letters import LETTER_CSS, letter_html
from dsr.services import team_contact_save
from reviews.notifications import notify_cetr_requester
from tests.conftest import make_persona
from tests.referrals.test_services import reviewed, submit
from tests.reviews.factories import CetrRequestFactory

pytestmark = pytest.mark.django_db

TEAM_EMAIL = "dsr.team@nhs.example"
COMPLAINTS = "Write to us and ask us to look at the decision again."


@pytest.fixture
def lead(organisations):
    return make_persona("dsr_lead", organisations)


@pytest.fixture
def saved(lead):
    return team_contact_save(
        by=lead,
        phone="01632 960 001",
        email=TEAM_EMAIL,
        address="DSR team\n1 Example Street\nNorwich",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday, 9am to 5pm",
        complaints=COMPLAINTS,
    )


@pytest.fixture
def decided(areas, frozen_now):
    """A referral decided not eligible: its outcome to the person by letter and to the referrer
    by email, in the outbox and not yet sent."""
    from referrals.services import referral_decide
    from tests.dsr.factories import UserFactory

    clerk = UserFactory()
    referral = reviewed(
        submit(
            areas,
            contacts=[{"role": "person", "name": "Ada", "address": "1 High St, Norwich NR1 2DH"}],
        ),
        clerk,
    )
    referral_decide(
        referral, decision="not_eligible", reason="No diagnosis yet.", signposting="GP.", by=clerk
    )
    return referral


@pytest.fixture
def every_kind(decided):
    """One email of each kind a member of the public is sent (a referral's acknowledgement and
    outcome, the C(E)TR
    request acknowledgement, arranged and declined) and one a member of staff is sent (a
    referral's deadline reminder to its reviewer), waiting in the outbox."""
    request = CetrRequestFactory()
    notify_cetr_requester(request, "cetr_request_received")
    notify_cetr_requester(request, "cetr_request_arranged")
    notify_cetr_requester(request, "cetr_request_declined", reason="Not now.")
    outbox_add(
        [
            message(
                subject_type="referrals.referral",
                subject_id=decided.pk,
                kind="referral_day14",
                recipient_key="reviewer",
                recipient_name="Sam Reviewer",
                recipient_role="Reviewer",
                email="reviewer@nhs.example",
            )
        ]
    )
    return {
        "referral_received",
        "referral_outcome",
        "cetr_request_received",
        "cetr_request_arranged",
        "cetr_request_declined",
        "referral_day14",
    }


def _sent_by_kind() -> dict[str, mail.EmailMessage]:
    deliver_due()
    sent = {}
    for notification in Notification.objects.filter(channel="email"):
        assert notification.status == "sent", notification.error
        [email] = [
            m
            for m in mail.outbox
            if m.extra_headers["X-DSR-Reference"].endswith(f"-{notification.pk}")
        ]
        sent[notification.kind] = email
    return sent


def test_a_reply_to_any_email_goes_to_the_dsr_teams_email(every_kind, lead, saved):
    # Changed after the messages were queued: a reply goes where the team reads it now.
    team_contact_save(by=lead, email="dsr.replies@nhs.example")

    sent = _sent_by_kind()

    assert set(sent) == every_kind
    for kind, email in sent.items():
        assert email.reply_to == ["dsr.replies@nhs.example"], kind
        assert "Reply-To: dsr.replies@nhs.example" in email.message().as_string(), kind


def test_without_the_teams_details_a_reply_goes_to_the_team_mailbox(every_kind, settings):
    settings.DSR_TEAM_EMAIL = "dsr.mailbox@nhs.example"

    sent = _sent_by_kind()

    assert set(sent) == every_kind
    assert {tuple(email.reply_to) for email in sent.values()} == {("dsr.mailbox@nhs.example",)}


def test_the_teams_phone_and_email_are_links_in_an_html_email(every_kind, saved):
    for notification in Notification.objects.filter(channel="email").exclude(kind="referral_day14"):
        html = render(notification).html

        assert '<a href="tel:01632960001">01632 960 001</a>' in html, notification.kind
        assert f'<a href="mailto:{TEAM_EMAIL}">{TEAM_EMAIL}</a>' in html, notification.kind


def test_every_html_email_is_a_whole_document_in_british_english(every_kind, saved):
    # A screen reader in a mail client reads the message in the language the document names.
    sent = _sent_by_kind()

    assert set(sent) == every_kind
    for kind, email in sent.items():
        html, mime = email.alternatives[0]
        assert mime == "text/html"
        assert html.startswith('<!DOCTYPE html>\n<html lang="en-GB">'), kind
        assert f"<title>{escape(email.subject)}</title>" in html, kind
        assert html.rstrip().endswith("</html>"), kind


def test_a_cetr_request_message_says_how_to_contact_the_team(saved):
    notify_cetr_requester(CetrRequestFactory(), "cetr_request_received")

    rendered = render(Notification.objects.get())

    for text in (rendered.text, rendered.html):
        assert "How to contact the DSR team" in text
        assert "01632 960 001" in text and COMPLAINTS in text
    assert rendered.text.rstrip().endswith("The dynamic support register team")


def _letter_pages(notification: Notification) -> list[str]:
    """The text of each printed page of a letter, as the outbox's PDF lays it out."""
    document = HTML(string=letter_html(notification)).render(
        stylesheets=[CSS(filename=str(LETTER_CSS))]
    )
    return [
        " ".join(
            " ".join(box.text.split())
            for box in page._page_box.descendants()
            if isinstance(box, TextBox) and box.text.strip()
        )
        for page in document.pages
    ]


def test_a_letter_keeps_the_contact_block_and_the_sign_off_each_on_one_page(
    decided, saved, settings
):
    letter = Notification.objects.get(channel="letter", kind="referral_outcome")
    crossed_a_page = False
    # However long the reason, and so wherever the block falls, it is never split.
    for lines in range(1, 41):
        letter.context["reason"] = "\n".join(f"Reason line {n}." for n in range(lines))
        pages = _letter_pages(letter)
        crossed_a_page |= len(pages) > 1
        [contact_page] = [page for page in pages if "How to contact the DSR team" in page]
        assert "Phone: 01632 960 001" in contact_page, lines
        assert COMPLAINTS in contact_page, lines
        [sign_off_page] = [page for page in pages if "Yours sincerely," in page]
        assert sign_off_page.rstrip().endswith(settings.ICB_NAME), lines
    assert crossed_a_page


def test_a_letter_signs_off_from_the_team_and_the_icb(decided, saved, settings):
    settings.ICB_NAME = "NHS Example Integrated Care Board"

    html = letter_html(Notification.objects.get(channel="letter", kind="referral_outcome"))

    assert html.index("How to contact the DSR team") < html.index("Yours sincerely,")
    assert "<p>The dynamic support register team<br>NHS Example Integrated Care Board</p>" in html
    assert "Norfolk and Waveney" not in html  # the sender block names the ICB set, too


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        ("cetr_request_received", {}),
        ("cetr_request_arranged", {}),
        ("cetr_request_declined", {"reason": "Not now."}),
    ],
)
def test_a_cetr_request_letter_signs_off_once(saved, kind, context):
    request = CetrRequestFactory(
        contact_by="letter", requester_address="1 High St, Norwich NR1 2DH"
    )
    notify_cetr_requester(request, kind, **context)

    html = letter_html(Notification.objects.get())

    assert html.count("The dynamic support register team<") == 1
    assert "Yours sincerely," in html and COMPLAINTS in html
