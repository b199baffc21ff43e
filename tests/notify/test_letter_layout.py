"""A letter sent through GOV.UK Notify keeps to Notify's precompiled-letter specification
(static/css/letter-notify.css, docs/adr/0007-notify-letters.md), measured on the PDF's laid-out
text in millimetres from the sheet's edges."""

import pytest
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import ParentBox, TextBox
from weasyprint.layout.absolute import AbsolutePlaceholder

from dsr.models import Notification
from dsr.outbox.letters import LETTER_CSS, NOTIFY_LETTER_CSS, letter_html

pytestmark = pytest.mark.django_db

MM = 25.4 / 96  # WeasyPrint lays out in CSS pixels
# left, top, right, bottom: the stricter of two sets of figures in versions of Notify's template
# preview (39.5mm to 66.3mm from the top in some, 40mm to 66.2mm in others).
ADDRESS = (24.6, 40.0, 120.0, 66.2)
SEVEN_LINES = "Flat 10, Riverside Court\n25 Long Road\nThorpe St Andrew\nNorwich\nNorfolk\nNR7 0AB"


def _text_boxes(box):
    """Every text box in `box`, inside absolutely positioned boxes too (the address)."""
    if isinstance(box, AbsolutePlaceholder):
        box = box._box
    if isinstance(box, TextBox):
        yield box
    elif isinstance(box, ParentBox):
        for child in box.children:
            yield from _text_boxes(child)


def _text(notification: Notification, sheets: list) -> list[list[tuple]]:
    """Each page's text boxes as (left, top, right, bottom, text) in mm."""
    document = HTML(string=letter_html(notification)).render(
        stylesheets=[CSS(filename=str(sheet)) for sheet in sheets]
    )
    return [
        [
            (
                box.position_x * MM,
                box.position_y * MM,
                (box.position_x + box.width) * MM,
                (box.position_y + box.height) * MM,
                box.text,
            )
            for box in _text_boxes(page._page_box)
            if box.text.strip()
        ]
        for page in document.pages
    ]


def _letter(accessible_format: str) -> Notification:
    return Notification.objects.create(
        subject_type="tests.subject",
        subject_id=1,
        kind="referral_received",
        recipient_key="referrer",
        recipient_name="Samantha Jones-Whitworth",
        channel=Notification.Channel.LETTER,
        postal_address=SEVEN_LINES,
        accessible_format=accessible_format,
        context={"reference": "DSR-0001", "person_first_name": "Alex"},
    )


def _inside(box, area) -> bool:
    left, top, right, bottom = area
    return box[0] >= left and box[1] >= top and box[2] <= right and box[3] <= bottom


def _overlaps(box, area) -> bool:
    left, top, right, bottom = area
    return box[0] < right and box[2] > left and box[1] < bottom and box[3] > top


@pytest.mark.parametrize("accessible_format", [f.value for f in Notification.Format])
def test_a_notify_letter_keeps_to_notifys_layout(accessible_format):
    letter = _letter(accessible_format)
    address_lines = [letter.recipient_name, *SEVEN_LINES.splitlines()]

    pages = _text(letter, [LETTER_CSS, NOTIFY_LETTER_CSS])

    first = pages[0]
    address = [box for box in first if box[4].strip() in address_lines]
    assert [box[4].strip() for box in address] == address_lines
    assert all(_inside(box, ADDRESS) for box in address), address
    others = [box for box in first if box[4].strip() not in address_lines]
    assert not [box for box in others if _overlaps(box, ADDRESS)]
    # The sender's details right of 125mm; the letter itself from 95mm down.
    assert all(box[0] >= 125 for box in others if box[1] < 95)
    assert any(box[1] >= 95 for box in others)
    for page in pages:  # nothing in Notify's margins
        assert all(_inside(box, (15, 5, 195, 292)) for box in page)


def test_the_printed_letter_is_laid_out_as_before():
    letter = _letter(Notification.Format.STANDARD)

    [first, *_] = _text(letter, [LETTER_CSS])

    [name] = [box for box in first if box[4] == letter.recipient_name]
    assert name[0] > 25 and name[1] > 50  # below the sender's details, as printed before


SIGN_OFF = ("Yours sincerely,", "The dynamic support register team")


@pytest.mark.parametrize("accessible_format", ["easy_read", "standard"])
def test_the_sign_off_is_never_on_a_page_of_its_own(accessible_format):
    """However long the letter, the sign-off shares its page with the end of the letter."""
    from django.conf import settings

    from dsr.models import TeamContact

    sign_off = (*SIGN_OFF, settings.ICB_NAME)

    TeamContact.objects.create(
        phone="01632 960 001",
        email="dsr.team@dsr.example",
        address="Dynamic support register team\nNHS Norfolk\n1 Example Street\nNorwich",
        postcode="NR1 2DH",
        opening_hours="Monday to Friday, 9am to 5pm (not bank holidays)",
        complaints="If you are unhappy with a decision, or with how we made it, tell the DSR team"
        " and ask us to look at it again. We will reply within 10 working days.",
    )
    alone = []
    for extra in range(24):
        letter = Notification.objects.create(
            subject_type="tests.subject",
            subject_id=extra,
            kind="referral_outcome",
            recipient_key="person",
            recipient_name="Priya Shah",
            channel=Notification.Channel.LETTER,
            postal_address="4 Station Road\nGreat Yarmouth\nNR30 1AA",
            accessible_format=accessible_format,
            context={
                "reference": "DSR-2026-624235",
                "person_first_name": "Priya",
                "to_the_person": True,
                "outcome": "not_eligible",
                "reviewed_with": "social care",
                "reason": "Right now her support at home is keeping her safe and well.",
                "signposting": "\n".join(
                    ["Norfolk Community Learning Disability Team, phone 01603 000222."] * extra
                ),
            },
        )
        pages = _text(letter, [LETTER_CSS])
        [last] = [page for page in pages if any("Yours sincerely" in box[4] for box in page)]
        if not [box for box in last if not any(box[4].startswith(s) for s in sign_off)]:
            alone.append(extra)
    # The sign-off and the ICB's name are all on its page, so the letter's end is too.
    assert alone == []
