"""H-1: two people load the same edit page and both save. The first wins; the second sees what
the first changed (their value and theirs), keeps what they typed, and writes nothing.

Every page that overwrites a record is tried, through the HTTP client, with the form posted as a
browser would post it (every control of the page as drawn, one answer changed).
"""

import html
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dsr.models import Person
from dsr.nhsuk.edits import CONFLICT_MESSAGE, FIELD, STALE_MESSAGE
from tests.figures import record

PAIRS = {"tried": 0, "lost": 0}


class _FormReader(HTMLParser):
    """The values a browser would post from the page's main form (the one with a submit
    button after the CSRF token): text boxes, text areas, ticked boxes and chosen options."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._in_form = True
            self.forms.append([])
        if not self._in_form:
            return
        values = self.forms[-1]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    values.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                values.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            values.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.forms[-1].append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


def form_values(response) -> dict[str, Any]:
    """The page's edit form as a browser would post it (lists for repeated names)."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    chosen = next(f for f in reader.forms if any(name == FIELD for name, _ in f))
    values: dict[str, Any] = {}
    for name, value in chosen:
        if name in values:
            values[name] = [*(values[name] if isinstance(values[name], list) else [values[name]])]
            values[name].append(value)
        else:
            values[name] = value
    values.pop("csrfmiddlewaretoken", None)
    return values


@dataclass
class Case:
    """One edit page: its URL, the record it overwrites, what the first and second writers
    type, the model field that shows it and how both values read on the conflict page."""

    name: str
    url: str
    record: Any
    first: dict[str, Any]
    second: dict[str, Any]
    field: str
    theirs: str
    yours: str
    base: dict[str, Any] = field(default_factory=dict)


def _stored(case: "Case") -> Any:
    model = type(case.record)
    return getattr(
        model._base_manager.get(pk=case.record.pk), model._meta.get_field(case.field).attname
    )


def _history_count(record) -> int:
    return type(record).history.filter(id=record.pk).count()


def run_pair(case: Case, first: Client, second: Client) -> None:
    """Both load the page; the first saves, then the second. Asserts the outcome of H-1."""
    page_a, page_b = first.get(case.url), second.get(case.url)
    assert page_a.status_code == page_b.status_code == 200, case.name
    data_a = {**form_values(page_a), **case.base, **case.first}
    data_b = {**form_values(page_b), **case.base, **case.second}
    before = _history_count(case.record)

    saved = first.post(case.url, data_a)
    assert saved.status_code == 302, (case.name, saved.context and saved.context["form"].errors)
    after_first = _history_count(case.record)
    stored = _stored(case)

    refused = second.post(case.url, data_b)
    PAIRS["tried"] += 1
    now = _stored(case)
    if refused.status_code != 200 or now != stored:
        PAIRS["lost"] += 1
    assert refused.status_code == 200, case.name
    page = refused.content.decode()
    assert "Someone else changed this record while you were editing it" in page
    assert CONFLICT_MESSAGE.split(".")[0] in page
    changes = {c.field: c for c in refused.context["edit_changes"]}
    assert case.field in changes, (case.name, changes)
    assert (changes[case.field].theirs, changes[case.field].yours) == (case.theirs, case.yours)
    assert "What they changed" in page and case.theirs in page and case.yours in page
    # What they typed is still in the form, and the database keeps the first writer's values.
    kept = form_values(refused)
    for name, value in case.second.items():
        assert kept.get(name) == value, (case.name, name)
    assert now == stored
    assert _history_count(case.record) == after_first > before
    # The conflict page carries the new version: saving again is a deliberate choice.
    assert kept[FIELD] != data_b[FIELD]


def _record_pairs() -> None:
    """After a test's asserts: the pairs tried so far in this run, and the updates lost."""
    assert PAIRS["lost"] == 0
    record("H-1 concurrent edit pairs, lost updates", f"{PAIRS['tried']}, {PAIRS['lost']}")


def _url(name: str, **kwargs) -> str:
    return reverse(name, kwargs=kwargs)


def cases(objects, users) -> list[Case]:
    person, contact = objects["north_red"], objects["north_contact"]
    referral, recipient = objects["referral"], objects["referral_contact"]
    meeting, attendee, item = objects["meeting"], objects["attendee"], objects["item"]
    action, cetr, seat = objects["action"], objects["cetr"], objects["seat"]
    staff, lead = users["register_staff"], users["dsr_lead"]
    review = {
        "education_participant": "Sam Lee, SENCo",
        "social_care_participant": "Jo Khan, social worker",
    }
    return [
        Case(
            "person details",
            _url("dsr:person-edit", pk=person.pk),
            person,
            {"address": "1 First Street"},
            {"address": "2 Second Street"},
            "address",
            "1 First Street",
            "2 Second Street",
        ),
        Case(
            "key person",
            _url("dsr:person-contact-edit", pk=person.pk, contact_pk=contact.pk),
            contact,
            {"organisation": "First Trust"},
            {"organisation": "Second Trust"},
            "organisation",
            "First Trust",
            "Second Trust",
        ),
        Case(
            "referral review",
            _url("referrals:review", pk=referral.pk),
            referral,
            {"notes": "Agreed to add."},
            {"notes": "Needs more information."},
            "review_notes",
            "Agreed to add.",
            "Needs more information.",
            base=review,
        ),
        Case(
            "referral reviewer",
            _url("referrals:assign", pk=referral.pk),
            referral,
            # Recording the review (the case before) made its first writer the reviewer, so the
            # first writer here hands it on.
            {"reviewer": str(lead.pk)},
            {"reviewer": str(staff.pk)},
            "assigned_to",
            lead.full_name,
            staff.full_name,
        ),
        Case(
            "referral area",
            _url("referrals:area", pk=referral.pk),
            referral,
            {"local_authority": str(objects["south_green"].local_authority_id)},
            {"local_authority": str(referral.local_authority_id)},
            "local_authority",
            "Southshire",
            "Northshire",
        ),
        Case(
            "outcome list",
            _url("referrals:recipient-change", pk=referral.pk, contact_pk=recipient.pk),
            recipient,
            {"include": "no", "reason": "Asked not to be told."},
            {"include": "yes", "reason": "Wants a letter."},
            "override",
            "Do not tell",
            "Tell",
        ),
        Case(
            "meeting details",
            _url("reviews:meeting-edit", pk=meeting.pk),
            meeting,
            {"location": "Room 1"},
            {"location": "Room 2"},
            "location",
            "Room 1",
            "Room 2",
        ),
        Case(
            "attendee",
            _url("reviews:attendee-edit", pk=meeting.pk, attendee_pk=attendee.pk),
            attendee,
            {"organisation": "First Council"},
            {"organisation": "Second Council"},
            "organisation",
            "First Council",
            "Second Council",
        ),
        Case(
            "discussion record",
            _url("reviews:item-discuss", pk=meeting.pk, item_pk=item.pk),
            item,
            {"discussion": "Settled at home."},
            {"discussion": "Placement at risk."},
            "discussion",
            "Settled at home.",
            "Placement at risk.",
        ),
        Case(
            "action",
            _url("reviews:action-update", pk=action.pk),
            action,
            {"description": "Arrange respite for May."},
            {"description": "Arrange respite for June."},
            "description",
            "Arrange respite for May.",
            "Arrange respite for June.",
        ),
        Case(
            "C(E)TR arrangements",
            _url("reviews:cetr-arrange", pk=cetr.pk),
            cetr,
            {"scheduled_on_day": "20", "scheduled_on_month": "4", "scheduled_on_year": "2026"},
            {"scheduled_on_day": "27", "scheduled_on_month": "4", "scheduled_on_year": "2026"},
            "scheduled_on",
            "20 April 2026",
            "27 April 2026",
        ),
        Case(
            "C(E)TR findings",
            _url("reviews:cetr-findings", pk=cetr.pk),
            cetr,
            {"finding_safe": "Safe with two staff."},
            {"finding_safe": "Not safe at night."},
            "finding_safe",
            "Safe with two staff.",
            "Not safe at night.",
        ),
        Case(
            "panel member",
            _url("reviews:panel-edit", pk=cetr.pk, member_pk=seat.pk),
            seat,
            {"organisation": "Experts Together"},
            {"organisation": "Voices Group"},
            "organisation",
            "Experts Together",
            "Voices Group",
        ),
    ]


@pytest.fixture
def two_clients(personas):
    users = personas["users"]
    return users, personas["clients"]["register_staff"], personas["clients"]["dsr_lead"]


def test_every_edit_page_shows_the_second_writer_what_changed_and_writes_nothing(
    matrix_objects, two_clients
):
    users, first, second = two_clients
    for case in cases(matrix_objects, users):
        run_pair(case, first, second)
    _record_pairs()


def test_twenty_pairs_on_a_person_lose_no_update(matrix_objects, two_clients):
    users, first, second = two_clients
    person = matrix_objects["north_red"]
    url = _url("dsr:person-edit", pk=person.pk)
    for n in range(20):
        before = _history_count(person)
        run_pair(
            Case(
                f"pair {n}",
                url,
                person,
                {"communication_needs": f"Short sentences ({n})"},
                {"communication_needs": f"Pictures ({n})"},
                "communication_needs",
                f"Short sentences ({n})",
                f"Pictures ({n})",
            ),
            first,
            second,
        )
        assert _history_count(person) == before + 1  # one change: the first writer's
    assert Person.objects.get(pk=person.pk).communication_needs == "Short sentences (19)"
    _record_pairs()


def test_saving_again_after_the_conflict_page_keeps_the_typed_values(matrix_objects, two_clients):
    users, first, second = two_clients
    meeting = matrix_objects["meeting"]
    case = Case(
        "meeting",
        _url("reviews:meeting-edit", pk=meeting.pk),
        meeting,
        {"location": "Room 1"},
        {"location": "Room 2"},
        "location",
        "Room 1",
        "Room 2",
    )
    run_pair(case, first, second)
    conflict = second.post(case.url, {**form_values(second.get(case.url)), "location": "Room 2"})
    # A fresh page carries the new version: it saves.
    assert conflict.status_code == 302
    meeting.refresh_from_db()
    assert meeting.location == "Room 2"


def test_a_field_the_page_writes_is_checked_even_when_left_as_loaded(matrix_objects, two_clients):
    users, first, second = two_clients
    meeting = matrix_objects["meeting"]
    url = _url("reviews:meeting-edit", pk=meeting.pk)
    data_a, data_b = form_values(first.get(url)), form_values(second.get(url))
    assert first.post(url, {**data_a, "location": "Room 1"}).status_code == 302
    # The second writer changes only the notes, but saving would put the old location back.
    response = second.post(url, {**data_b, "notes": "Bring the plan."})
    assert response.status_code == 200
    assert [c.field for c in response.context["edit_changes"]] == ["location"]
    meeting.refresh_from_db()
    assert (meeting.location, meeting.notes) == ("Room 1", "")


def test_a_change_the_page_does_not_write_is_no_conflict(matrix_objects, two_clients):
    users, first, second = two_clients
    person = matrix_objects["north_red"]
    edit = _url("dsr:person-edit", pk=person.pk)
    data = form_values(second.get(edit))
    referral = _url("dsr:person-keyworker-referral", pk=person.pk)
    today = timezone.localdate()
    keyworker = {
        "referred_on_day": today.day,
        "referred_on_month": today.month,
        "referred_on_year": today.year,
    }
    assert first.post(referral, keyworker).status_code == 302
    assert second.post(edit, {**data, "postcode": "NR1 1AA"}).status_code == 302
    person.refresh_from_db()
    assert person.postcode == "NR1 1AA" and person.keyworker_referred_on is not None


def test_a_page_shown_again_for_a_mistake_still_checks_against_when_it_was_drawn(
    matrix_objects, two_clients
):
    users, first, second = two_clients
    meeting = matrix_objects["meeting"]
    url = _url("reviews:meeting-edit", pk=meeting.pk)
    data_b = form_values(second.get(url))
    assert first.post(url, {**form_values(first.get(url)), "location": "Room 1"}).status_code == 302
    mistake = second.post(url, {**data_b, "location": "Room 2", "day_day": "40"})
    assert mistake.status_code == 200 and "edit_changes" in mistake.context
    assert mistake.context["edit_changes"] == []  # the form's own error, not yet the conflict
    kept = form_values(mistake)
    assert kept[FIELD] == data_b[FIELD]
    fixed = second.post(url, {**kept, "day_day": data_b["day_day"]})
    assert [c.field for c in fixed.context["edit_changes"]] == ["location"]
    meeting.refresh_from_db()
    assert meeting.location == "Room 1"


def test_an_altered_version_is_refused_and_writes_nothing(matrix_objects, two_clients):
    users, first, _ = two_clients
    meeting = matrix_objects["meeting"]
    other = matrix_objects["action"]
    url = _url("reviews:meeting-edit", pk=meeting.pk)
    data = form_values(first.get(url))
    stolen = form_values(first.get(_url("reviews:action-update", pk=other.pk)))[FIELD]
    before = _history_count(meeting)
    for version in ("nonsense", stolen, data[FIELD][:-2] + "xx"):
        response = first.post(url, {**data, "location": "Room 9", FIELD: version})
        assert response.status_code == 200
        assert STALE_MESSAGE in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.location != "Room 9" and _history_count(meeting) == before


def test_a_form_posted_without_its_version_is_refused_and_writes_nothing(
    matrix_objects, two_clients
):
    """A submission that leaves out the version (a crafted POST; a browser always sends it)
    cannot overwrite a newer save on any edit page: the page says it could not be checked,
    nothing is written, and the page drawn again carries the version now saved."""
    users, first, second = two_clients
    for case in cases(matrix_objects, users):
        page_b = second.get(case.url)
        data_a = {**form_values(first.get(case.url)), **case.base, **case.first}
        assert first.post(case.url, data_a).status_code == 302, case.name
        stored, history = _stored(case), _history_count(case.record)
        data_b = {**form_values(page_b), **case.base, **case.second}
        del data_b[FIELD]

        response = second.post(case.url, data_b)

        assert response.status_code == 200, case.name
        assert STALE_MESSAGE in response.content.decode(), case.name
        assert _stored(case) == stored, case.name
        assert _history_count(case.record) == history, case.name
        assert form_values(response)[FIELD], case.name


def _post_together(url: str, posts: dict[Client, dict]) -> dict[Client, int]:
    """Post each client's data at the same moment, one thread (and connection) each."""
    barrier = threading.Barrier(len(posts))
    answers: dict[Client, int] = {}

    def save(client: Client) -> None:
        try:
            barrier.wait()
            answers[client] = client.post(url, posts[client]).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(c,)) for c in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_lose_no_update(matrix_objects, two_clients):
    """Both requests reach the server together (threads, two PostgreSQL connections): one
    saves, the other is shown the conflict, whatever order the row lock gives them."""
    users, first, second = two_clients
    person = matrix_objects["north_red"]
    url = _url("dsr:person-edit", pk=person.pk)
    for n in range(5):
        data = {
            first: {**form_values(first.get(url)), "communication_needs": f"Signs ({n})"},
            second: {**form_values(second.get(url)), "communication_needs": f"Photos ({n})"},
        }
        before = _history_count(person)
        answers = _post_together(url, data)

        PAIRS["tried"] += 1
        assert sorted(answers.values()) == [200, 302]
        winner = next(c for c, status in answers.items() if status == 302)
        saved = Person.objects.get(pk=person.pk).communication_needs
        if saved != data[winner]["communication_needs"]:
            PAIRS["lost"] += 1
        assert saved == data[winner]["communication_needs"]
        assert _history_count(person) == before + 1
    _record_pairs()


def test_a_person_page_that_cannot_be_checked_says_so_in_the_error_summary(
    matrix_objects, two_clients
):
    """The guard's refusals are about the whole page, so they go in the NHS.UK error summary,
    not under the NHS number (where a duplicate NHS number's error goes)."""
    _, first, _ = two_clients
    person = matrix_objects["north_red"]
    url = _url("dsr:person-edit", pk=person.pk)
    data = form_values(first.get(url))
    response = first.post(url, {**data, "given_name": "Changed", FIELD: "nonsense"})
    form = response.context["form"]
    assert form.non_field_errors() == [STALE_MESSAGE]
    assert "nhs_number" not in form.errors
    page = response.content.decode()
    summary = page[page.index("nhsuk-error-summary") :]
    assert html.escape(STALE_MESSAGE, quote=False)[:40] in summary
    person.refresh_from_db()
    assert person.given_name != "Changed"
