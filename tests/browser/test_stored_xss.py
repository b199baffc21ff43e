"""Stored XSS end to end (RELIABILITY C-3): script, markup, javascript: URLs and template syntax
typed into every free-text field of the public self-referral form, then every page that shows
them opened in Chromium: the answers being checked, the queue and the referral page as staff
see them, the outbox, the outcome email and letter, the person's page and timeline once the
referral is accepted. Nothing may run (no marker set, no dialog, no element or handler made from
the text), nothing may break the Content Security Policy, and the text is shown as typed.

The email and the letter are loaded without the site's Content Security Policy, as a mail
program or the PDF renderer would show them, so only escaping stands between them and a script.
"""

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from dsr.models import Notification
from dsr.nhsuk.forms import PhoneField, TextField
from dsr.nhsuk.validators import refuse_non_name_characters
from dsr.outbox.delivery import render
from dsr.outbox.letters import letter_html
from dsr.roles import Role
from referrals.forms.public import STEPS
from referrals.models import Referral
from referrals.services import referral_decide, referral_record_review
from tests.browser.helpers import fill_step, sign_in
from tests.conftest import account
from tests.figures import record
from tests.referrals.helpers import answers_for

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '"><img src=x onerror=window.__xss=2>',
    "javascript:window.__xss=3",
    "<svg onload=window.__xss=4>",
    "</textarea><script>window.__xss=5</script>",
    '\'><iframe srcdoc="<script>parent.__xss=6</script>">',
    "<img src=x onerror=alert(7)>",
    "{{7*7}} {% now 'Y' %} ${7*7}",
]
EVERY_PAYLOAD = " ".join(PAYLOADS)

# Elements or attributes that the text would have made had it been read as markup: a script or
# frame carrying the marker, any inline event handler, any javascript: link.
MADE_FROM_TEXT = """() => [...document.querySelectorAll("*")].filter((element) =>
    (["SCRIPT", "IFRAME"].includes(element.tagName)
        && (element.textContent + (element.getAttribute("srcdoc") || "")).includes("__xss"))
    || [...element.attributes].some((attribute) => attribute.name.startsWith("on"))
    || ["href", "src", "action", "formaction"].some((name) =>
        (element.getAttribute(name) || "").trim().toLowerCase().startsWith("javascript:"))
).map((element) => element.outerHTML.slice(0, 120))"""

# What the page shows as text: the rendered text and the values of its fields.
SHOWN_TEXT = """() => document.body.innerText + "\\n" + [...document.querySelectorAll(
    "input, textarea")].map((field) => field.value).join("\\n")"""


def free_text_fields(kind: str) -> dict[str, dict[str, int]]:
    """Each step's free-text fields (name -> most characters): text boxes whose answer is not a
    name and has no format of its own to check (email, phone, postcode)."""
    fields = {}
    for step in STEPS:
        form = step.form_class(kind=kind, answers={})
        fields[step.slug] = {
            name: field.max_length
            for name, field in form.fields.items()
            if isinstance(field, TextField)
            and not isinstance(field, PhoneField)  # a phone number has its own format
            and refuse_non_name_characters not in field.validators
            and not hasattr(form, f"clean_{name}")
        }
    return fields


# Postal addresses, whose last line must be a postcode (dsr.nhsuk.validators.postcode_in).
POSTAL = {"carer_address", "referrer_address"}


def hostile_answers(kind: str, area_pk: int) -> tuple[dict, list[str]]:
    """Valid answers with every free-text field holding payloads: all of them where they fit,
    one each in turn where the field is short. Returns the answers and the fields filled."""
    answers = answers_for(kind, area_pk)
    # A carer with only a postal address, so the outcome goes to them by letter too.
    answers["outcome"] |= {"has_carer": "yes", "carer_email": "", "carer_phone": ""}
    one_each = itertools.cycle(PAYLOADS)
    filled = []
    for slug, fields in free_text_fields(kind).items():
        for name, most in fields.items():
            value = EVERY_PAYLOAD if len(EVERY_PAYLOAD) <= most else next(one_each)
            if name in POSTAL:
                value = f"{value}\nNR1 2DH"  # a letter needs the postcode on the last line
            assert len(value) <= most, name
            answers[slug][name] = value
            filled.append(name)
    return answers, filled


class Inspector:
    """Opens pages and checks that nothing in them ran; counts the pages checked."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.executed: list[str] = []
        self.pages = 0
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))

    def check(self, where: str) -> set[str]:
        """Nothing ran on the page just loaded; returns the payloads it shows as text."""
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # let an image's error event, had there been one, fire
        self.pages += 1
        marker = page.evaluate("typeof window.__xss === 'undefined' ? null : window.__xss")
        made = page.evaluate(MADE_FROM_TEXT)
        if marker is not None or made or self.dialogs:
            self.executed.append(f"{where}: marker={marker} made={made} dialogs={self.dialogs}")
        text = page.evaluate(SHOWN_TEXT)
        return {payload for payload in PAYLOADS if payload in text}


@pytest.mark.django_db(transaction=True)
def test_payloads_in_a_self_referral_never_run_on_any_page(
    page, browser, live_server, organisations, areas
):
    answers, filled = hostile_answers("self", areas["north"].pk)
    assert {"address", "risks", "would_help", "communication_needs", "carer_address"} <= set(filled)
    inspector = Inspector(page)
    url = live_server.url

    # The public form, typed in as a member of the public would.
    page.goto(url + reverse("referrals:who"))
    page.get_by_label("I am referring myself").check()
    page.get_by_role("button", name="Continue").click()
    for step in STEPS:
        fill_step(page, answers[step.slug])
        for name in free_text_fields("self")[step.slug]:
            assert page.locator(f'[name="{name}"]').input_value() == answers[step.slug][name]
        page.get_by_role("button", name="Continue").click()
    assert inspector.check("check your answers") == set(PAYLOADS)
    # Changing an answer shows the stored text back in its boxes.
    page.goto(url + reverse("referrals:step", args=["self", "risks"]) + "?change=1")
    assert inspector.check("changing an answer") == set(PAYLOADS)
    page.goto(url + reverse("referrals:check"))
    page.get_by_role("button", name="Send referral").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Referral sent"
    inspector.check("confirmation")
    referral = Referral.objects.get()
    assert referral.risks == EVERY_PAYLOAD and referral.address == EVERY_PAYLOAD

    # Staff: the queue and the referral page.
    staff = account(organisations["icb"], Role.REGISTER_STAFF, full_name="Sam Staff")
    page.context.clear_cookies()
    sign_in(page, url + reverse("referrals:queue"), staff, staff.totpdevice_set.get())
    assert referral.reference in page.get_by_role("main").inner_text()
    inspector.check("referral queue")
    page.get_by_role("link", name=referral.reference).click()
    assert inspector.check("referral page") == set(PAYLOADS)

    # Accepted onto the register: the referral page with its outcome, the outbox, the person.
    referral_record_review(
        referral,
        by=staff,
        held_on=timezone.localdate(),
        education_participant="Jo Smith, SENCo",
        education_absent_reason="",
        social_care_participant="Ravi Patel, social worker",
        social_care_absent_reason="",
        notes="",
    )
    # What happens next is staff's own text, sent in every outcome message: payloads there too.
    referral = referral_decide(
        referral,
        decision="added",
        rating="AMBER",
        rationale="Rising distress.",
        next_steps=EVERY_PAYLOAD,
        by=staff,
    )
    page.reload()
    assert inspector.check("referral page, decided") == set(PAYLOADS)
    for show in ("waiting", "letters"):
        page.goto(url + reverse("dsr:outbox") + f"?show={show}")
        inspector.check(f"outbox {show}")
    page.goto(url + referral.person.get_absolute_url())
    assert referral.person.address == EVERY_PAYLOAD
    shown_on_person = inspector.check("person page")
    # The timeline is one click away, on the history page.
    page.goto(url + reverse("dsr:person-history", args=[referral.person.pk]))
    shown_on_person |= inspector.check("person history")
    assert shown_on_person == set(PAYLOADS)
    assert page.locator(".dsr-timeline").count() == 1
    csp_violations = list(page.csp_violations)
    # The letter staff download to print is made from the same text, and still renders.
    letter = Notification.objects.get(
        subject_id=referral.pk, channel="letter", kind="referral_outcome"
    )
    pdf = page.request.get(url + reverse("dsr:outbox-letter", args=[letter.pk]))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"

    # The outcome messages as their readers see them: no Content Security Policy there.
    messages = list(Notification.objects.filter(subject_id=referral.pk, kind="referral_outcome"))
    channels = {message.channel for message in messages}
    assert channels == {Notification.Channel.EMAIL, Notification.Channel.LETTER}
    reader = browser.new_page()
    inspector_outside = Inspector(reader)
    for message in messages:
        if message.channel == Notification.Channel.EMAIL:
            reader.set_content(render(message).html)
        else:
            reader.set_content(letter_html(message))
        assert inspector_outside.check(f"{message.channel} to {message.recipient_name}") == set(
            PAYLOADS
        )
    reader.close()

    executed = inspector.executed + inspector_outside.executed
    assert executed == []
    assert inspector.dialogs == [] and inspector_outside.dialogs == []
    assert csp_violations == []
    assert page.broken == []
    pages = inspector.pages + inspector_outside.pages
    record("C-3 payloads x pages checked, executed", f"{len(PAYLOADS)} x {pages}, {len(executed)}")


def test_the_checks_see_payloads_that_do_run(browser):
    """The same checks on a page that puts the payloads in as markup: each way of running is
    seen, so a page that let them run could not pass."""
    reader = browser.new_page()
    inspector = Inspector(reader)
    reader.set_content(f"<p>{EVERY_PAYLOAD}</p><a href='{PAYLOADS[2]}'>link</a>")
    inspector.check("payloads as markup")
    reader.close()

    assert len(inspector.executed) == 1
    found = inspector.executed[0]
    assert "marker=" in found and "marker=None" not in found
    assert "onerror" in found and "onload" in found and "javascript:" in found
    assert inspector.dialogs == ["7"]
