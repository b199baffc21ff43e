"""What people are told about a referral, as the rules decide it: a letter needs a postcode, the
reasons for "not eligible" go only by letter (or the team records how it gave them), the
decision page says who gets what before the decision, the referral page never contradicts
itself about the referrer, and easy-read letters carry their pictures while emails do not."""

import pytest
from django.urls import reverse

from dsr.exceptions import RegisterError
from dsr.models import Notification
from dsr.nhsuk.validators import postal_address, postcode_in
from dsr.outbox import message, outbox_add
from dsr.outbox.delivery import deliver_due, render
from dsr.outbox.letters import letter_html
from referrals.models import Referral
from referrals.recipients import outcome_recipients
from tests.conftest import PERSONAS_BUILT_ONCE
from tests.referrals.factories import (
    ReferralContactFactory,
    ReferralFactory,
    ReviewedReferralFactory,
)
from tests.referrals.test_staff_views import _errors, _not_eligible, _state, _url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

ADDRESS = "2 Low Road\nNorwich\nNR2 4AB"
# The decision page, whatever the referral: one figure for the page (measured).
QUERIES_DECISION_PAGE = 12


@pytest.fixture
def north(areas):
    return areas["north"]


# --- A postal address a letter can be sent to ---------------------------------------------------


@pytest.mark.parametrize(
    ("address", "postcode"),
    [
        ("1 High Street\nNorwich\nNR1 2DH", "NR1 2DH"),
        ("1 High Street, Norwich nr12dh", "NR1 2DH"),
        ("Flat 3, 10 Long Road\nLondon\nSW1A 1AA,", "SW1A 1AA"),
        ("1 High Street\nNorwich", ""),
        ("1 High Street\nNR1\n", ""),  # an outward code alone is not a postcode
        ("NR1 2DH\n1 High Street", ""),  # not on the last line
        ("", ""),
    ],
)
def test_a_postcode_is_read_from_the_last_line_of_an_address(address, postcode):
    assert postcode_in(address) == postcode


def test_a_separately_kept_postcode_becomes_the_last_line():
    assert postal_address("1 High Street\nNorwich", "nr1 2dh") == "1 High Street\nNorwich\nNR1 2DH"
    assert postal_address("1 High St, Norwich NR1 2DH", "NR1 2DH") == "1 High St, Norwich NR1 2DH"
    assert postal_address("", "NR1 2DH") == ""


def test_a_letter_without_a_postcode_is_refused_and_nothing_is_queued(areas):
    with pytest.raises(RegisterError, match="no postcode on its last line"):
        outbox_add(
            [
                message(
                    subject_type="referrals.referral",
                    subject_id=1,
                    kind="referral_outcome",
                    recipient_key="person",
                    recipient_name="Ada",
                    letter=True,
                    postal_address="1 High Street\nNorwich",
                )
            ]
        )

    assert not Notification.objects.exists()


def test_someone_with_only_an_address_without_a_postcode_cannot_be_reached(north):
    referral = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")
    ReferralContactFactory(referral=referral, email="", address="1 High Street\nNorwich")

    [recipient] = outcome_recipients(referral)

    assert not recipient.reachable and not recipient.can_post


@pytest.mark.parametrize(
    ("url", "field", "extra"),
    [
        (
            "referrals:step",
            "carer_address",
            {"has_carer": "yes", "carer_name": "Jo Carer", "carer_email": ""},
        ),
        ("reviews:request-public", "requester_address", {"contact_by": "letter"}),
    ],
)
def test_a_public_form_asks_for_the_postcode_on_an_address(client, areas, url, field, extra):
    from tests.referrals.helpers import answers_for, step_url, walk
    from tests.reviews.test_requests import _send

    if url == "referrals:step":
        walk(client, "self", answers_for("self", areas["north"].pk), until="outcome")
        answers = answers_for("self", areas["north"].pk)["outcome"] | extra
        response = client.post(step_url("self", "outcome"), {**answers, field: "1 High Street"})
    else:
        response = _send(client, areas["north"], **extra, **{field: "1 High Street"})

    assert "Enter the postcode on the last line of the address, like NR1 2DH." in _errors(response)


# --- The reasons for "not eligible" go by letter, or the team says how it gave them -----------


def test_not_eligible_with_nobody_to_post_the_reasons_to_is_refused_and_changes_nothing(
    staff_client, north
):
    referral = ReviewedReferralFactory(local_authority=north)  # told by email only
    before = _state(referral)

    response = staff_client.post(_url("decide", referral), _not_eligible())

    assert _errors(response) == [
        "The reasons go only in a letter, and nobody who would be told has a postal address "
        "with a postcode. Add one, or record how the team told them the reasons."
    ]
    assert _state(referral) == before
    assert (
        "Nobody who would be told has a postal address with a postcode"
        in staff_client.get(_url("decide", referral)).text
    )


def test_not_eligible_is_recorded_with_how_the_team_gave_the_reasons(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north)
    how = "Phoned the person on 10 March and explained the reasons."

    response = staff_client.post(_url("decide", referral), _not_eligible(reasons_told_how=how))

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.reasons_told_how) == ("not_eligible", how)
    outcome = Notification.objects.get(kind="referral_outcome")
    assert outcome.channel == "email"
    text = render(outcome).text
    assert "Alex is not at risk" not in text  # never the reasons by email
    assert "To hear them, contact the DSR team" in text


def test_not_eligible_posts_the_reasons_to_someone_told_by_email_who_has_an_address(
    staff_client, north
):
    referral = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")
    ReferralContactFactory(referral=referral, email="ada@example.org", address=ADDRESS)

    staff_client.post(_url("decide", referral), _not_eligible())

    email = Notification.objects.get(kind="referral_outcome", channel="email")
    letter = Notification.objects.get(kind="referral_outcome", channel="letter")
    assert (email.email, letter.postal_address) == ("ada@example.org", ADDRESS)
    assert "sending you a letter with the reasons" in render(email).text
    assert "Alex is not at risk of going into hospital." in letter_html(letter)


def test_the_decision_page_says_who_gets_what_for_each_decision(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")
    ReferralContactFactory(
        referral=referral, name="Ada Person", email="ada@example.org", address=ADDRESS
    )
    ReferralContactFactory(
        referral=referral,
        role="parent_carer",
        name="Chris Carer",
        relationship="aunt",
        named_by_person=True,
        email="",
        address="3 Mill Lane\nNorwich NR3 1HG",
        preferred_format="easy_read",
    )

    page = staff_client.get(_url("decide", referral)).text

    plans = {label: messages for label, _, messages in page_plans(staff_client, referral)}
    assert [(m.recipient.name, m.letter, m.gives_reasons) for m in plans["Not eligible"]] == [
        ("Ada Person", False, False),
        ("Ada Person", True, True),
        ("Chris Carer", True, True),
    ]
    assert [(m.recipient.name, m.letter) for m in plans["Added to the register"]] == [
        ("Ada Person", False),
        ("Chris Carer", True),
    ]
    assert "If not eligible" in page
    assert "Email to ada@example.org" in page
    assert "It says a letter with the reasons is on its way." in page
    assert "Letter to 3 Mill Lane<br>Norwich NR3 1HG" in page
    assert "Easy read" in page
    assert "Aunt" in page  # the relationship the referrer gave, not the contact's kind


def page_plans(client, referral):
    return client.get(_url("decide", referral)).context["plans"]


def test_the_decision_page_names_who_cannot_be_reached(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")
    ReferralContactFactory(
        referral=referral, name="Ada Person", email="", address="1 High St", phone="01632 960001"
    )

    page = staff_client.get(_url("decide", referral)).text

    assert "Someone cannot be reached" in page
    assert "The rule says to tell Ada Person" in page


# --- The referral page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "agreed", "says"),
    [
        ("professional", False, "Yes: a professional who refers is always told"),
        ("family", True, "Yes: the person agrees"),
        ("family", False, "No: the person has not agreed"),
        ("self", True, "The person referred themselves"),
    ],
)
def test_the_referral_page_agrees_with_the_rule_about_the_referrer(
    staff_client, north, kind, agreed, says
):
    referral = ReviewedReferralFactory(
        local_authority=north, referrer_kind=kind, outcome_to_referrer=agreed
    )

    page = staff_client.get(_url("detail", referral))

    told = {r.key for r in page.context["page"].recipients}
    assert says in page.text
    if kind != "self":  # someone referring themselves is told as the person
        assert ("referrer" in told) == says.startswith("Yes")
    assert "Referrer may be told the outcome" not in page.text


def test_the_referral_page_lists_the_acknowledgement_before_any_decision(staff_client, north):
    from referrals.notifications import notify_referral_received

    referral = ReviewedReferralFactory(local_authority=north)
    notify_referral_received(referral)

    page = staff_client.get(_url("detail", referral))

    assert referral.status == Referral.Status.UNDER_REVIEW
    assert [n.kind for n in page.context["page"].notifications] == ["referral_received"]
    assert "Acknowledgement" in page.text


# --- Easy read ----------------------------------------------------------------------------------


def test_an_easy_read_letter_has_its_pictures_and_the_email_has_none(north):
    from referrals.notifications import notify_referral_received

    referral = ReviewedReferralFactory(
        local_authority=north, accessible_formats=["easy_read"], referrer_email=""
    )
    ReferralContactFactory(
        referral=referral,
        role="parent_carer",
        named_by_person=True,
        email="",
        address=ADDRESS,
        preferred_format="easy_read",
    )
    notify_referral_received(referral)

    letter = Notification.objects.get(channel="letter")
    email = Notification.objects.get(channel="email")
    html = letter_html(letter)
    assert letter.accessible_format == email.accessible_format == "easy_read"
    assert '<body class="easy-read">' in html
    assert 'class="easy-read-picture" src="file://' in html and 'alt="A clock"' in html
    assert "<img" not in render(email).html
    # Their mother referred them: the email to them says so.
    assert "Someone sent us a referral about you." in render(email).text
    assert reverse("pages:deciding-easy-read") in render(email).text


# --- One person, told once -------------------------------------------------------------------


def test_a_second_referral_for_the_same_person_tells_only_people_not_already_told(
    areas, frozen_now
):
    from referrals.services import referral_decide
    from tests.dsr.factories import UserFactory
    from tests.referrals.test_services import reviewed, submit

    staff = UserFactory()
    first = submit(areas)
    again = submit(areas)  # the same answers sent a second time
    aunt = submit(
        areas,
        referrer_name="Aunt Bea",
        referrer_kind="family",
        referrer_email="bea@example.com",
        outcome_to_referrer=True,
    )
    assert again.duplicate_of == aunt.duplicate_of == first

    def told(referral, kind):
        rows = Notification.objects.filter(subject_id=referral.pk, kind=kind)
        return sorted(row.email or row.postal_address for row in rows)

    assert told(first, "referral_received") == ["ada@example.com", "sam.reid@nhs.example"]
    assert told(again, "referral_received") == []
    assert told(aunt, "referral_received") == ["bea@example.com"]

    referral_decide(
        reviewed(first, staff),
        decision="not_eligible",
        reason="Low risk.",
        signposting="GP.",
        by=staff,
    )

    # The person by email and, with the reasons, by letter; the referrer by email.
    assert told(first, "referral_outcome") == [
        "1 High Street\nNorwich\nNR1 2DH",
        "ada@example.com",
        "sam.reid@nhs.example",
    ]
    assert told(again, "referral_outcome") == []
    assert told(aunt, "referral_outcome") == ["bea@example.com"]
    again.refresh_from_db()
    assert again.status == "not_eligible"


def test_the_outbox_names_each_message_in_words(staff_client, north):
    from referrals.notifications import notify_referral_received

    referral = ReviewedReferralFactory(local_authority=north, contact=False, referrer_email="")
    ReferralContactFactory(referral=referral, email="", address=ADDRESS)
    notify_referral_received(referral)
    deliver_due()  # a letter is listed to post once delivery has rendered it

    page = staff_client.get(reverse("dsr:outbox") + "?show=letters").text

    assert "Referral acknowledgement" in page
    assert "Referral received" not in page


# --- Who the review was held with ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("education", "social_care", "standard", "easy_read"),
    [
        (
            "Sam Lee, SENCo",
            "Jo Bell, social worker",
            "We have looked at the referral with social care and education.",
            "We talked about the referral with people from social care and education.",
        ),
        (
            "",
            "Jo Bell, social worker",
            "We have looked at the referral with social care.",
            "We talked about the referral with people from social care.",
        ),
        (
            "Sam Lee, SENCo",
            "",
            "We have looked at the referral with education.",
            "We talked about the referral with people from education.",
        ),
        ("", "", "We have looked at the referral.", ""),
    ],
)
def test_the_outcome_names_only_the_services_that_took_part_in_the_review(
    staff_client, north, education, social_care, standard, easy_read
):
    referral = ReviewedReferralFactory(
        local_authority=north,
        contact=False,
        referrer_email="",
        education_participant=education,
        education_absent_reason="" if education else "Not in education (adult)",
        social_care_participant=social_care,
        social_care_absent_reason="" if social_care else "Not known to social care",
    )
    ReferralContactFactory(referral=referral, email="ada@example.org", address=ADDRESS)
    ReferralContactFactory(
        referral=referral,
        role="parent_carer",
        named_by_person=True,
        email="chris@example.org",
        preferred_format="easy_read",
    )

    staff_client.post(_url("decide", referral), _not_eligible())

    messages = Notification.objects.filter(kind="referral_outcome")
    standard_messages = [m for m in messages if m.accessible_format == "standard"]
    [easy_read_email] = [m for m in messages if m.accessible_format == "easy_read"]
    assert len(standard_messages) == 2  # an email and the letter with the reasons
    for sent in standard_messages:
        text = render(sent).text
        assert standard in text and standard in render(sent).html
        if not (education and social_care):
            assert "social care and education" not in text
            assert "education and social care" not in text
    text = render(easy_read_email).text
    if easy_read:
        assert easy_read in text and easy_read in render(easy_read_email).html
    else:
        assert "We talked about the referral" not in text
        assert "People talking round a table" not in render(easy_read_email).html
    if not (education and social_care):
        assert "social care and education" not in text


# --- Who the acknowledgement says made the referral ----------------------------------------------

FAMILY, PROFESSIONAL, SELF = (Referral.ReferrerKind.FAMILY, "professional", "self")


def _acknowledgements(referrer_kind):
    """The acknowledgement of a referral made by `referrer_kind`, each recipient's in the standard
    and the easy-read words: {recipient name: (standard text, easy-read text)}."""
    from referrals.notifications import notify_referral_received

    referral = ReferralFactory(
        given_name="Jamie",
        referrer_kind=referrer_kind,
        contact=False,
        outcome_to_referrer=True,
        **{
            FAMILY: {
                "referrer_name": "Pat Parent",
                "referrer_role": "Mother",
                "referrer_email": "pat@example.org",
                "referrer_address": ADDRESS,
            },
            PROFESSIONAL: {
                "referrer_name": "Nina Nurse",
                "referrer_role": "Community nurse",
                "referrer_organisation": "Norfolk Community Health",
                "referrer_email": "nina@nhs.example",
            },
            SELF: {"referrer_name": "Jamie Person", "referrer_role": "", "referrer_email": ""},
        }[referrer_kind],
    )
    ReferralContactFactory(
        referral=referral, name="Jamie Person", email="jamie@example.org", address=ADDRESS
    )
    if referrer_kind == FAMILY:  # the referring parent, as the family form lists them
        ReferralContactFactory(
            referral=referral,
            role="parent_carer",
            name="Pat Parent",
            email="pat@example.org",
            address=ADDRESS,
            named_by_person=True,
        )
    # A second parent at the same home, who did not make the referral.
    ReferralContactFactory(
        referral=referral,
        role="parent_carer",
        name="Sam Parent",
        email="",
        address=ADDRESS,
        named_by_person=True,
    )
    notify_referral_received(referral)
    told = {}
    for sent in Notification.objects.filter(kind="referral_received"):
        texts = []
        for accessible_format in ("standard", "easy_read"):
            sent.accessible_format = accessible_format
            rendered = render(sent)
            texts.append(" ".join(rendered.text.split()))
        told[sent.recipient_name] = tuple(texts)
    return told


YOUR_REFERRAL = ("We have received your referral to the", "We got your referral.")
YOUR_REFERRAL_FOR = (
    "We have received your referral for Jamie to the",
    "We got your referral for Jamie.",
)
NAMED = (
    "We have received the referral for Jamie to the dynamic support register (DSR). We are "
    "writing to you because the referral names you as someone to tell about it.",
    "We got the referral for Jamie. The referral says we should tell you about it.",
)


@pytest.mark.parametrize(
    ("referrer_kind", "recipient", "expected", "not_said"),
    [
        (SELF, "Jamie Person", YOUR_REFERRAL, ["Someone sent us", "named"]),
        (SELF, "Sam Parent", NAMED, ["your referral"]),
        (
            FAMILY,
            "Jamie Person",
            (
                "We have received a referral about you to the dynamic support register (DSR). "
                "It was sent by someone who gave their role as: Mother.",
                "Someone sent us a referral about you. Who sent it: Mother",
            ),
            ["your referral", "Jamie"],
        ),
        (FAMILY, "Pat Parent", YOUR_REFERRAL_FOR, ["should tell you", "names you"]),
        (FAMILY, "Sam Parent", NAMED, ["your referral"]),
        (
            PROFESSIONAL,
            "Jamie Person",
            (
                "We have received a referral about you to the dynamic support register (DSR). "
                "It was sent by someone who gave their role as: Community nurse, Norfolk "
                "Community Health.",
                "Someone sent us a referral about you. "
                "Who sent it: Community nurse, Norfolk Community Health",
            ),
            ["your referral", "Jamie"],
        ),
        (PROFESSIONAL, "Nina Nurse", YOUR_REFERRAL_FOR, ["should tell you", "names you"]),
        (PROFESSIONAL, "Sam Parent", NAMED, ["your referral"]),
    ],
)
def test_the_acknowledgement_says_truly_who_made_the_referral(
    referrer_kind, recipient, expected, not_said
):
    told = _acknowledgements(referrer_kind)

    for text, words in zip(told[recipient], expected, strict=True):
        assert words in text, text
        for wrong in not_said:
            assert wrong not in text.split("Dear ")[-1].split("Hello ")[-1].split(",", 1)[1]


# --- Letters read as letters ------------------------------------------------------------------


@pytest.mark.parametrize("accessible_format", ["easy_read", "standard"])
@pytest.mark.parametrize("kind", ["referral_received", "referral_outcome"])
def test_a_letter_says_the_web_address_in_words_without_the_scheme(kind, accessible_format):
    letter = Notification.objects.create(
        subject_type="tests.subject",
        subject_id=1,
        kind=kind,
        recipient_key="person",
        recipient_name="Priya Shah",
        channel=Notification.Channel.LETTER,
        postal_address=ADDRESS,
        accessible_format=accessible_format,
        context={"reference": "DSR-2026-613063", "person_first_name": "Priya", "outcome": "added"},
    )
    page = reverse(
        "pages:deciding-easy-read" if accessible_format == "easy_read" else "pages:deciding"
    )

    html = letter_html(letter)
    email_html = render(Notification(**{**_fields(letter), "channel": "email"})).html

    assert "http://" not in html and "https://" not in html  # no raw web address on paper
    assert f"dsr.test{page}" in html and "our website" in html.lower()
    # An email links the words instead of showing the address.
    assert f'href="https://dsr.test{page}"' in email_html
    assert f">https://dsr.test{page}<" not in email_html


def _fields(notification):
    return {
        f.name: getattr(notification, f.name)
        for f in Notification._meta.concrete_fields
        if f.name != "id"
    }


def test_the_outcome_letter_has_a_plain_heading_and_the_reference_in_its_reference_block():
    letter = Notification.objects.create(
        subject_type="tests.subject",
        subject_id=1,
        kind="referral_outcome",
        recipient_key="person",
        recipient_name="Priya Shah",
        channel=Notification.Channel.LETTER,
        postal_address=ADDRESS,
        context={
            "reference": "DSR-2026-613063",
            "person_first_name": "Priya",
            "outcome": "not_eligible",
            "outcome_label": "Not eligible",
            "to_the_person": True,
            "reason": "Her support at home keeps her safe.",
            "signposting": "The learning disability team.",
        },
    )

    html = letter_html(letter)
    sender = html.split('<div class="sender">', 1)[1].split("</div>", 1)[0]
    heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]

    assert "Our reference: DSR-2026-613063" in sender
    assert heading == "Your referral to the dynamic support register"
    assert "DSR-2026-613063: not eligible" not in html
    email = render(Notification(**{**_fields(letter), "channel": "email"}))
    assert "Our reference: DSR-2026-613063" in email.html and email.text


# --- The decision page -------------------------------------------------------------------------


def _conditional(page: str, decision: str) -> str:
    """The block a decision's radio reveals, with its opening tag: up to the next decision's
    radio (or, for the last, the question after the decisions)."""
    number = ["added", "not_eligible", "withdrawn"].index(decision)
    start = page.index(f'id="conditional-id_decision_{number}"')
    start = page.rindex("<div", 0, start)
    end = min(
        (
            i
            for i in (page.find(f'id="id_decision_{number + 1}"'), page.find('name="next_steps"'))
            if i > start
        ),
    )
    return page[start:end]


def test_the_decision_page_shows_each_decisions_questions_under_its_radio_written_to_the_person(
    staff_client, north, django_assert_max_num_queries
):
    referral = ReviewedReferralFactory(local_authority=north, given_name="Priya")
    ReferralContactFactory(referral=referral, role="parent_carer", named_by_person=True)
    url = _url("decide", referral)
    staff_client.get(url)

    with django_assert_max_num_queries(QUERIES_DECISION_PAGE):
        page = staff_client.get(url).text
    for _ in range(3):  # the same number of queries however many are told
        ReferralContactFactory(referral=referral, role="other", named_by_person=True)
    with django_assert_max_num_queries(QUERIES_DECISION_PAGE):
        staff_client.get(url)

    not_eligible = _conditional(page, "not_eligible")
    assert "nhsuk-radios__conditional--hidden" in not_eligible  # until it is chosen
    assert 'name="ineligible_reason"' in not_eligible and 'name="signposting"' in not_eligible
    assert 'name="rating"' not in not_eligible and 'name="withdrawn_reason"' not in not_eligible
    assert 'name="rating"' in _conditional(page, "added")
    assert 'name="withdrawn_reason"' in _conditional(page, "withdrawn")
    assert 'data-aria-controls="conditional-id_decision_1"' in page
    for name in ("ineligible_reason", "signposting", "rating", "withdrawn_reason", "next_steps"):
        assert page.count(f'name="{name}"') == (3 if name == "rating" else 1), name
    # The reasons go word for word into a letter to the person: the hint says so, by name.
    assert "This goes word for word into the letter to Priya." in page
    assert "Write to Priya, using \u2018you\u2019" in page
    assert "Use plain English." in page

    # Chosen and sent back with an error, the decision's questions show.
    response = staff_client.post(url, {"decision": "not_eligible", "signposting": "The hub."})
    assert _errors(response) == ["Enter why the person is not eligible."]
    assert "nhsuk-radios__conditional--hidden" not in _conditional(response.text, "not_eligible")
    assert "nhsuk-radios__conditional--hidden" in _conditional(response.text, "added")


def test_the_decision_hint_says_when_the_person_is_not_sent_the_letter(staff_client, north):
    referral = ReviewedReferralFactory(local_authority=north, given_name="Priya", contact=False)
    ReferralContactFactory(referral=referral, role="parent_carer", named_by_person=True)

    page = staff_client.get(_url("decide", referral)).text

    assert "Priya is not sent the letter: write to their family about Priya by name." in page
    assert "using \u2018you\u2019" not in page
