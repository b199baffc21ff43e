"""Property-based tests of the main staff forms, through the HTTP client as a signed-in member of
the register team (RELIABILITY C-1): person details, rating, referral decision, meeting,
discussion, action (agree and close), escalation (note and raise by hand) and C(E)TR findings.

Each example runs in a savepoint rolled back at its end, so every example starts from the same
records. Half the examples are valid answers, which must be saved exactly as typed (Django's
text boxes remove white space around a text; staff text areas keep CRLF line breaks); half have
hostile values in some fields, which must never give a 5xx, and when refused give a 200 with
the NHS.UK error summary and change nothing.
"""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from dsr.models import Need, Person, Rating, RiskFactor
from escalation import rules
from escalation.models import Escalation, EscalationNote
from escalation.services import escalation_raise
from referrals.models import Referral
from reviews import services as reviews
from reviews.models import Action, Agency, AgendaItem, Cetr, Meeting
from tests.conftest import signed_in_client
from tests.edit_pages import edit_version
from tests.figures import record
from tests.input.strategies import (
    FUZZ,
    MINIMUM_EXAMPLES,
    Tried,
    date_parts,
    email_address,
    free_text,
    hostile_changes,
    nhs_number,
    no_unescaped_markup,
    odd_date_parts,
    post_data,
    postcode,
    row_counts,
    short_text,
    subset,
)
from tests.referrals.factories import ReferralContactFactory, ReviewedReferralFactory

pytestmark = pytest.mark.django_db

ERROR_SUMMARY = '<h2 class="nhsuk-error-summary__heading">There is a problem</h2>'


class _RolledBack(Exception):
    pass


def _in_savepoint(attempt: Callable[[], None]) -> None:
    try:
        with transaction.atomic():
            attempt()
            raise _RolledBack
    except _RolledBack:
        pass


def _kept(value: str) -> str:
    """What a staff text box or area stores: the text without white space around it."""
    return value.strip()


def fuzz_staff_form(
    name: str,
    *,
    client,
    url: str,
    valid: st.SearchStrategy[dict[str, Any]],
    hostile: st.SearchStrategy[dict[str, Any]],
    counted: list,
    snapshot: Callable[[], Any],
    saved: Callable[[dict[str, Any], dict[str, int]], None],
    texts: Callable[[], dict[str, str]],
) -> None:
    """300 examples of `url`'s form: valid answers must be saved as `saved` checks; hostile
    ones never give a 5xx and, refused, leave `counted` rows and `snapshot()` unchanged;
    accepted, each text they changed is stored as typed (`texts()`: the stored text answers by
    field name, read after the post)."""
    tried = Tried()
    # A browser also sends the version an edit page carries (dsr.nhsuk.edits); every example starts
    # from the same record, so the version the page carries now holds for all of them.
    version = edit_version(client, url)

    @FUZZ
    @given(data=st.data(), is_hostile=st.booleans())
    def check(data, is_hostile):
        posted = data.draw(valid, label="valid")
        changes: dict[str, Any] = {}
        if is_hostile:
            changes = data.draw(hostile, label="hostile")
            posted = post_data(posted, changes)

        def attempt():
            before_rows = row_counts(*counted)
            before = snapshot()

            # Keys starting "_" carry what the valid answer must be stored as: not posted. A
            # browser always sends the page's CSRF token (the test client does not check it)
            # and the page's version.
            body = {k: v for k, v in posted.items() if k[0] != "_"}
            response = client.post(url, {"csrfmiddlewaretoken": "token"} | version | body)

            assert response.status_code < 500
            html = response.content.decode(errors="replace")
            if not is_hostile:
                assert response.status_code == 302, html[:4000]
            if response.status_code == 302:
                if is_hostile:
                    stored = texts()
                    for name, value in changes.items():
                        shown_with = f"initial-{name}"  # the answer the page was opened with
                        if name in stored and isinstance(value, str) and shown_with not in changes:
                            assert stored[name] == _kept(value), name
                else:
                    saved(posted, before_rows)
                tried.accepted += 1
            else:
                assert response.status_code in (200, 400)
                if response.status_code == 200:
                    assert ERROR_SUMMARY in html
                assert no_unescaped_markup(html)
                assert row_counts(*counted) == before_rows
                assert snapshot() == before

        _in_savepoint(attempt)
        tried.examples += 1

    check()

    assert tried.examples >= MINIMUM_EXAMPLES
    assert 0 < tried.accepted < tried.examples
    record(f"C-1 inputs tried: {name}", tried.examples)


def _dates(low: datetime.date, high: datetime.date, name: str) -> st.SearchStrategy:
    return st.dates(min_value=low, max_value=high).map(lambda d: date_parts(name, d))


def _date_from(posted: dict[str, Any], name: str) -> datetime.date:
    return datetime.date(
        int(posted[f"{name}_year"]), int(posted[f"{name}_month"]), int(posted[f"{name}_day"])
    )


def _hostile(names: list[str], *dates: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(hostile_changes(names), *(odd_date_parts(d) for d in dates))


def _merge(*parts: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    def join(*dicts):
        merged: dict[str, Any] = {}
        for d in dicts:
            merged |= d
        return merged

    return st.builds(join, *parts)


def _latest(model, fields: list[str], **filters: Any) -> dict[str, str]:
    return model.objects.filter(**filters).order_by("-id").values(*fields).first() or {}


@pytest.fixture
def team(staff_user):
    return {"user": staff_user, "client": signed_in_client(staff_user)}


# --- The register ------------------------------------------------------------------------------


def test_person_details(team, make_person, areas):
    person = make_person("AMBER")
    today = timezone.localdate()
    base = {
        "sex": person.sex,
        "ethnicity": person.ethnicity,
        "local_authority": str(person.local_authority_id),
        "diagnosis": person.diagnosis,
        "diagnosis_status": person.diagnosis_status,
        "placement_type": person.placement_type,
        "ehcp_local_authority": "",
    }
    typed = {
        "given_name": short_text(100, required=True),
        "family_name": short_text(100, required=True),
        "nhs_number": st.one_of(st.just(("", None)), nhs_number()),
        "address": free_text(500),
        "postcode": st.one_of(st.just(("", "")), postcode()),
        "gp_practice_code": st.sampled_from(["", "A81001", "b12345 "]),
        "gp_practice_name": short_text(150),
        "communication_needs": free_text(5000),
        "interpreter_language": short_text(60),
        "education_setting": short_text(150),
        "co_occurring": subset(["adhd", "epilepsy", "mental_health"]),
    }
    valid = _merge(
        st.just(base),
        st.fixed_dictionaries(typed),
        _dates(datetime.date(today.year - 119, 1, 1), today, "date_of_birth"),
    ).map(_person_post)
    names = [*base, *typed, "date_of_birth_day", "date_of_birth_month", "date_of_birth_year"]

    def snapshot():
        return Person.objects.filter(pk=person.pk).values().get()

    def saved(posted, before):
        now = Person.objects.get(pk=person.pk)
        for field in PERSON_TEXT:
            assert getattr(now, field) == _kept(posted[field]), field
        assert now.date_of_birth == _date_from(posted, "date_of_birth")
        assert now.nhs_number == posted["_stored_nhs_number"]
        assert now.postcode == posted["_stored_postcode"]
        assert now.gp_practice_code == posted["gp_practice_code"].strip().upper()
        assert now.co_occurring == posted.get("co_occurring", [])

    fuzz_staff_form(
        "person details",
        client=team["client"],
        url=reverse("dsr:person-edit", args=[person.pk]),
        valid=valid,
        hostile=_hostile(names, "date_of_birth"),
        counted=[Person],
        snapshot=snapshot,
        saved=saved,
        texts=lambda: Person.objects.filter(pk=person.pk).values(*PERSON_TEXT).get(),
    )


PERSON_TEXT = [
    "given_name",
    "family_name",
    "address",
    "communication_needs",
    "gp_practice_name",
    "interpreter_language",
    "education_setting",
]


def _person_post(data: dict[str, Any]) -> dict[str, Any]:
    """The (as typed, as stored) pairs split into the post and what must be stored."""
    data = dict(data)
    data["nhs_number"], data["_stored_nhs_number"] = data["nhs_number"]
    data["postcode"], data["_stored_postcode"] = data["postcode"]
    return data


def test_rating_change(team, make_person):
    person = make_person("AMBER")
    entry = person.register_entries.get()
    today = timezone.localdate()
    valid = _merge(
        st.fixed_dictionaries(
            {
                "rating": st.sampled_from(["RED", "AMBER", "GREEN"]),
                "rationale": free_text(5000, required=True),
                "risk_factors": subset(RiskFactor.values),
                "risk_notes": free_text(5000),
            }
        ),
        _dates(entry.rating_since, today, "effective_from"),
    )
    names = ["rating", "rationale", "risk_factors", "risk_notes", "early_step_down"]

    def saved(posted, before):
        # Every valid change or confirmation writes one rating (a confirmation is a review).
        assert Rating.objects.count() == before[Rating._meta.label] + 1
        rating = Rating.objects.filter(entry=entry).order_by("-id").first()
        assert rating.rating == posted["rating"]
        assert rating.rationale == _kept(posted["rationale"])
        assert rating.risk_notes == _kept(posted.get("risk_notes", ""))
        assert rating.risk_factors == list(posted.get("risk_factors", []))
        assert rating.effective_from == _date_from(posted, "effective_from")
        assert rating.set_by == team["user"]

    fuzz_staff_form(
        "rating change",
        client=team["client"],
        url=reverse("dsr:person-rating", args=[person.pk]),
        valid=valid,
        hostile=_hostile(names, "effective_from"),
        counted=[Rating],
        snapshot=lambda: list(entry.ratings.values_list("id", "rating", "rationale")),
        saved=saved,
        texts=lambda: _latest(Rating, ["rationale", "risk_notes"], entry=entry),
    )


# --- Referrals ---------------------------------------------------------------------------------


def test_referral_decision(team, areas, organisations):
    referral = ReviewedReferralFactory(local_authority=areas["north"], contact=False)
    # Someone to post the reasons to: "not eligible" needs a postal address with a postcode.
    ReferralContactFactory(referral=referral, address="1 High Street\nNorwich\nNR1 2DH")
    valid = st.one_of(
        st.fixed_dictionaries(
            {
                "decision": st.just("added"),
                "rating": st.sampled_from(["RED", "AMBER", "GREEN"]),
                "rationale": free_text(5000, required=True),
                "next_steps": free_text(5000),
            }
        ),
        st.fixed_dictionaries(
            {
                "decision": st.just("not_eligible"),
                "ineligible_reason": free_text(5000, required=True),
                "signposting": free_text(5000, required=True),
                "next_steps": free_text(5000),
            }
        ),
        st.fixed_dictionaries(
            {
                "decision": st.just("withdrawn"),
                "withdrawn_reason": free_text(5000, required=True),
                "next_steps": free_text(5000),
            }
        ),
    )
    names = ["decision", "rating", "rationale", "ineligible_reason", "signposting"]
    names += ["withdrawn_reason", "next_steps"]

    def saved(posted, before):
        now = Referral.objects.get(pk=referral.pk)
        decision = posted["decision"] if isinstance(posted["decision"], str) else None
        assert now.status == decision
        assert now.decided_by == team["user"]
        if decision == "added":
            assert now.initial_rating == posted["rating"]
            assert now.person is not None
        elif decision == "not_eligible":
            assert now.ineligible_reason == _kept(posted["ineligible_reason"])
            assert now.signposting == _kept(posted["signposting"])
        else:
            assert now.withdrawn_reason == _kept(posted["withdrawn_reason"])

    fuzz_staff_form(
        "referral decision",
        client=team["client"],
        url=reverse("referrals:decide", args=[referral.pk]),
        valid=valid,
        hostile=hostile_changes(names),
        counted=[Referral, Person],
        snapshot=lambda: Referral.objects.filter(pk=referral.pk).values().get(),
        saved=saved,
        texts=lambda: _decision_texts(referral.pk),
    )


def _decision_texts(pk: int) -> dict[str, str]:
    """The reasons the decision made stores (the others are not asked for it)."""
    referral = Referral.objects.get(pk=pk)
    names = {
        "not_eligible": ["ineligible_reason", "signposting"],
        "withdrawn": ["withdrawn_reason"],
    }.get(referral.status, [])
    return {name: getattr(referral, name) for name in names}


# --- Meetings, discussions and actions ---------------------------------------------------------


def test_meeting_create(team, areas):
    today = timezone.localdate()
    valid = _merge(
        st.fixed_dictionaries(
            {
                "kind": st.sampled_from(Meeting.Kind.values),
                "time": st.builds(
                    lambda h, m, sep: f"{h:02d}{sep}{m:02d}",
                    st.integers(0, 23),
                    st.integers(0, 59),
                    st.sampled_from([":", "."]),
                ),
                "location": short_text(200),
                "local_authority": st.sampled_from(
                    ["", str(areas["north"].pk), str(areas["south"].pk)]
                ),
                "chair": st.just(str(team["user"].pk)),
                "notes": free_text(5000),
            }
        ),
        _dates(today - datetime.timedelta(days=30), today + datetime.timedelta(days=60), "day"),
    )
    names = ["kind", "time", "location", "local_authority", "chair", "notes"]

    def saved(posted, before):
        assert Meeting.objects.count() == before[Meeting._meta.label] + 1
        meeting = Meeting.objects.order_by("-id").first()
        assert meeting.kind == posted["kind"]
        assert meeting.location == _kept(posted["location"])
        assert meeting.notes == _kept(posted["notes"])
        assert meeting.chair_id == int(posted["chair"])
        area = posted["local_authority"]
        assert meeting.local_authority_id == (int(area) if area else None)
        local = timezone.localtime(meeting.held_at)
        assert local.date() == _date_from(posted, "day")
        assert f"{local:%H}{posted['time'][2]}{local:%M}" == posted["time"]

    fuzz_staff_form(
        "meeting create",
        client=team["client"],
        url=reverse("reviews:meeting-create"),
        valid=valid,
        hostile=_hostile(names, "day"),
        counted=[Meeting, AgendaItem],
        snapshot=lambda: None,
        saved=saved,
        texts=lambda: _latest(Meeting, ["location", "notes"]),
    )


@pytest.fixture
def meeting_item(team, make_person):
    person = make_person("AMBER")
    meeting = reviews.meeting_create(
        kind="dsr_review",
        held_at=timezone.now() - datetime.timedelta(hours=1),
        chair=team["user"],
        by=team["user"],
    )
    return meeting, meeting.items.get(person=person)


def test_discussion_record(team, meeting_item):
    meeting, item = meeting_item
    valid = st.one_of(
        st.fixed_dictionaries(
            {
                "risk_factors": subset(RiskFactor.values),
                "risk_notes": free_text(5000),
                "discussion": free_text(5000, required=True),
                "needs": subset(Need.values),
                "rating": st.just(""),
                "rationale": free_text(5000),
            }
        ),
        st.fixed_dictionaries(
            {
                "discussion": free_text(5000, required=True),
                "rating": st.sampled_from(["RED", "AMBER", "GREEN"]),
                "rationale": free_text(5000, required=True),
            }
        ),
    )
    names = ["risk_factors", "risk_notes", "discussion", "needs", "rating", "rationale"]

    def saved(posted, before):
        now = AgendaItem.objects.get(pk=item.pk)
        assert now.discussion == _kept(posted["discussion"])
        assert now.risk_notes == _kept(posted.get("risk_notes", ""))
        assert now.risk_factors == list(posted.get("risk_factors", []))
        assert now.discussed_by == team["user"]
        if posted.get("rating"):
            rating = Rating.objects.order_by("-id").first()
            assert rating.meeting_id == meeting.pk
            assert rating.rating == posted["rating"]
            assert rating.rationale == _kept(posted["rationale"])

    fuzz_staff_form(
        "discussion record",
        client=team["client"],
        url=reverse("reviews:item-discuss", args=[meeting.pk, item.pk]),
        valid=valid,
        hostile=hostile_changes(names),
        counted=[Rating],
        snapshot=lambda: AgendaItem.objects.filter(pk=item.pk).values().get(),
        saved=saved,
        texts=lambda: (
            AgendaItem.objects.filter(pk=item.pk).values("discussion", "risk_notes").get()
        ),
    )


def test_action_create(team, meeting_item):
    meeting, item = meeting_item
    today = timezone.localdate()
    valid = _merge(
        st.fixed_dictionaries(
            {
                "description": free_text(5000, required=True),
                "owner": st.just(""),
                "owner_name": short_text(150, required=True),
                "owner_organisation": short_text(150),
                "owner_email": st.one_of(st.just(""), email_address()),
                "agency": st.sampled_from(Agency.values),
            }
        ),
        # From today: a due date in the past is refused.
        _dates(today, today + datetime.timedelta(days=3000), "due_on"),
    )
    names = ["description", "owner", "owner_name", "owner_organisation", "owner_email", "agency"]

    def saved(posted, before):
        assert Action.objects.count() == before[Action._meta.label] + 1
        action = Action.objects.order_by("-id").first()
        assert action.agenda_item_id == item.pk
        assert action.description == _kept(posted["description"])
        assert action.owner_name == _kept(posted["owner_name"])
        assert action.owner_organisation == _kept(posted["owner_organisation"])
        assert action.owner_email == _kept(posted["owner_email"])
        assert action.agency == posted["agency"]
        assert action.due_on == _date_from(posted, "due_on")

    fuzz_staff_form(
        "action create",
        client=team["client"],
        url=reverse("reviews:item-action-add", args=[meeting.pk, item.pk]),
        valid=valid,
        hostile=_hostile(names, "due_on"),
        counted=[Action],
        snapshot=lambda: None,
        saved=saved,
        texts=lambda: _latest(
            Action, ["description", "owner_name", "owner_organisation", "owner_email"]
        ),
    )


def test_action_close(team, meeting_item):
    meeting, item = meeting_item
    action = reviews.action_create(
        person=item.person,
        agenda_item=item,
        description="Arrange respite.",
        owner=reviews.Owner(name="Kim Lee"),
        agency=Agency.SOCIAL_CARE,
        due_on=timezone.localdate(),
        by=team["user"],
    )
    valid = st.one_of(
        st.fixed_dictionaries({"status": st.just("done"), "note": free_text(5000)}),
        st.fixed_dictionaries(
            {"status": st.just("cancelled"), "note": free_text(5000, required=True)}
        ),
    )

    def saved(posted, before):
        now = Action.objects.get(pk=action.pk)
        assert now.status == posted["status"]
        assert now.completion_note == _kept(posted.get("note", ""))
        assert now.closed_by == team["user"]

    fuzz_staff_form(
        "action close",
        client=team["client"],
        url=reverse("reviews:action-close", args=[action.pk]),
        valid=valid,
        hostile=hostile_changes(["status", "note"]),
        counted=[Action],
        snapshot=lambda: Action.objects.filter(pk=action.pk).values().get(),
        saved=saved,
        texts=lambda: {"note": Action.objects.get(pk=action.pk).completion_note},
    )


# --- Escalations -------------------------------------------------------------------------------


def test_escalation_note(team, make_person):
    person = make_person("RED")
    escalation = Escalation.objects.filter(person=person).first()
    if escalation is None:
        escalation, _ = escalation_raise(
            reason="red_rating",
            trigger_type="dsr.rating",
            trigger_id=person.register_entries.get().ratings.get().pk,
            person=person,
            level=1,
        )
    valid = st.fixed_dictionaries({"text": free_text(5000, required=True)})

    def saved(posted, before):
        assert EscalationNote.objects.count() == before[EscalationNote._meta.label] + 1
        note = EscalationNote.objects.order_by("-id").first()
        assert note.escalation_id == escalation.pk
        assert note.text == _kept(posted["text"])
        assert note.by == team["user"]

    fuzz_staff_form(
        "escalation note",
        client=team["client"],
        url=reverse("escalation:note", args=[escalation.pk]),
        valid=valid,
        hostile=hostile_changes(["text"]),
        counted=[EscalationNote],
        snapshot=lambda: None,
        saved=saved,
        texts=lambda: _latest(EscalationNote, ["text"]),
    )


def test_escalation_raised_by_hand(team, make_person):
    person = make_person("GREEN")
    valid = st.fixed_dictionaries(
        {
            "level": st.integers(1, rules.top_level()).map(str),
            "note": free_text(5000, required=True),
        }
    )

    def saved(posted, before):
        assert Escalation.objects.count() == before[Escalation._meta.label] + 1
        escalation = Escalation.objects.order_by("-id").first()
        assert escalation.person_id == person.pk
        assert escalation.reason == Escalation.Reason.BY_HAND
        assert escalation.level == int(posted["level"])
        assert escalation.note == _kept(posted["note"])
        assert escalation.raised_by == team["user"]

    fuzz_staff_form(
        "escalation raise by hand",
        client=team["client"],
        url=reverse("escalation:raise", args=[person.pk]),
        valid=valid,
        hostile=hostile_changes(["level", "note"]),
        counted=[Escalation],
        snapshot=lambda: None,
        saved=saved,
        texts=lambda: _latest(Escalation, ["note"]),
    )


# --- C(E)TR findings ---------------------------------------------------------------------------

FINDINGS = ["finding_safe", "finding_good_care", "finding_future", "finding_community"]


def test_cetr_findings(team, make_person):
    person = make_person("RED")
    cetr = reviews.cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=team["user"])
    # Each answer is posted with the one the page was opened with (show_hidden_initial).
    opened = {f"initial-{name}": "" for name in FINDINGS}
    valid = st.fixed_dictionaries({name: free_text(5000) for name in FINDINGS}).map(
        lambda answers: answers | opened
    )

    def saved(posted, before):
        now = Cetr.objects.get(pk=cetr.pk)
        for name in FINDINGS:
            assert getattr(now, name) == _kept(posted.get(name, "")), name

    fuzz_staff_form(
        "C(E)TR findings",
        client=team["client"],
        url=reverse("reviews:cetr-findings", args=[cetr.pk]),
        valid=valid,
        hostile=hostile_changes([*FINDINGS, *opened]),
        counted=[Cetr],
        snapshot=lambda: Cetr.objects.filter(pk=cetr.pk).values().get(),
        saved=saved,
        texts=lambda: Cetr.objects.filter(pk=cetr.pk).values(*FINDINGS).get(),
    )
