"""H-3: every status machine, every (from, to) pair, through the services.

Escalations are tried with every role of ACCESS.md at each level of the ladder; the other
machines (meetings, actions, C(E)TRs, C(E)TR requests, register entries) with a member of the
register team, since their roles are checked by the pages (tests/test_route_matrix.py). The
expected answer of each try is written here from DOMAIN.md and ACCESS.md, not read from the
code's tables. A refused move raises, and writes nothing: no status change, no transition or
note row, no history row. (Referrals: tests/referrals/test_services.py.)
"""

import datetime
import itertools
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from dsr.services import RegisterError, register_close
from escalation.models import Escalation, EscalationNote, EscalationTransition
from escalation.services import escalation_acknowledge, escalation_resolve
from reviews import services as reviews
from reviews.models import Action, Agency, Cetr, CetrRequest, Meeting, PanelMember
from tests.conftest import PERSONAS_BUILT_ONCE, ROLE_PERSONAS
from tests.figures import record

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures(PERSONAS_BUILT_ONCE)]

TRIED = {"moves": 0, "illegal_accepted": 0}

# --- Escalations: the ladder's owners (ACCESS.md) -------------------------------------------------
# Who may acknowledge or resolve an escalation about someone in Northshire at each level: the
# owners of that level or a higher one, in whose area it is. The DSR lead owns level 1, the
# senior managers level 2, the executive lead level 3, and the executive lead sees only level 3.
MAY_ACT = {
    1: {"dsr_lead", "senior_manager_health", "senior_manager_la"},
    2: {"senior_manager_health", "senior_manager_la"},
    3: {"executive_lead"},
}
# DOMAIN.md 8: raised open; acknowledged by an owner (it stops climbing); resolved with an
# outcome, from either. Nothing leaves "resolved", and nothing goes back to "open".
ESCALATION_MOVES = {("open", "acknowledged"), ("open", "resolved"), ("acknowledged", "resolved")}
STATUSES = ["open", "acknowledged", "resolved"]


def _escalation(person, level: int, status: str, someone) -> Escalation:
    now = timezone.now()
    escalation = Escalation.objects.create(
        reason="by_hand",
        trigger_type="test",
        trigger_id=uuid.uuid4().int >> 70,
        person=person,
        local_authority=person.local_authority,
        level=level,
        status=status,
        acknowledged_at=now if status == "acknowledged" else None,
        acknowledged_by=someone if status == "acknowledged" else None,
        resolved_at=now if status == "resolved" else None,
        outcome="Done." if status == "resolved" else "",
    )
    EscalationTransition.objects.create(
        escalation=escalation, from_status="", to_status="open", to_level=level
    )
    return escalation


def _snapshot(obj) -> tuple:
    model = type(obj)
    fresh = model._base_manager.get(pk=obj.pk)
    return (
        tuple(getattr(fresh, f.attname) for f in model._meta.concrete_fields),
        model.history.filter(id=obj.pk).count(),
    )


def _try(move, obj, *, allowed: bool, extra_rows=lambda: 0) -> None:
    """Make one move and check its outcome; a refused move must leave everything as it was."""
    TRIED["moves"] += 1
    before, rows_before = _snapshot(obj), extra_rows()
    try:
        with transaction.atomic():
            move(obj)
        accepted = True
    except RegisterError:
        accepted = False
    changed = _snapshot(obj) != before or extra_rows() != rows_before
    if not allowed and (accepted or changed):
        TRIED["illegal_accepted"] += 1
    assert accepted == allowed
    assert changed == allowed


def _record_moves() -> None:
    assert TRIED["illegal_accepted"] == 0
    record(
        "H-3 moves tried, illegal moves accepted",
        f"{TRIED['moves']}, {TRIED['illegal_accepted']}",
    )


def test_only_an_owner_makes_only_the_moves_the_ladder_allows(personas, register_objects):
    person = register_objects["north_red"]
    users = personas["users"]
    moves = {
        "acknowledged": lambda user: (
            lambda e: escalation_acknowledge(escalation=e, by=user, note="Looking into it.")
        ),
        "resolved": lambda user: (
            lambda e: escalation_resolve(escalation=e, by=user, outcome="Support agreed.")
        ),
    }
    tried = 0
    for level, start, (to, move), role in itertools.product(
        (1, 2, 3), STATUSES, moves.items(), ROLE_PERSONAS
    ):
        escalation = _escalation(person, level, start, users["dsr_lead"])
        rows = lambda e=escalation: (  # noqa: E731
            EscalationTransition.objects.filter(escalation=e).count()
            + EscalationNote.objects.filter(escalation=e).count()
        )
        allowed = (start, to) in ESCALATION_MOVES and role in MAY_ACT[level]
        if start == to == "acknowledged" and role in MAY_ACT[level]:
            # Acknowledging what an owner acknowledged a moment before keeps the note only.
            escalation_acknowledge(escalation=escalation, by=users[role], note="Me too.")
            assert Escalation.objects.get(pk=escalation.pk).status == "acknowledged"
            assert EscalationTransition.objects.filter(escalation=escalation).count() == 1
            continue
        _try(move(users[role]), escalation, allowed=allowed, extra_rows=rows)
        tried += 1
        if allowed:
            moved = escalation.transitions.order_by("-id").first()
            assert (moved.from_status, moved.to_status, moved.by) == (start, to, users[role])
    assert tried == 3 * 3 * 2 * len(ROLE_PERSONAS) - sum(len(m) for m in MAY_ACT.values())
    _record_moves()


# --- The other machines, through their services --------------------------------------------------


def _clerk(personas):
    return personas["users"]["register_staff"]


def _meeting(clerk, status: str) -> Meeting:
    meeting = reviews.meeting_create(
        kind=Meeting.Kind.URGENT,
        held_at=timezone.now() - datetime.timedelta(hours=1),
        chair=clerk,
        by=clerk,
    )
    if status == "held":
        reviews.meeting_mark_held(meeting=meeting, by=clerk)
    elif status == "cancelled":
        reviews.meeting_cancel(meeting=meeting, reason="No quorum.", by=clerk)
    return meeting


def _action(clerk, person, status: str) -> Action:
    item = reviews.agenda_add(meeting=_meeting(clerk, "planned"), person=person, by=clerk)
    action = reviews.action_create(
        person=person,
        agenda_item=item,
        description="Arrange respite.",
        owner=reviews.Owner(name="Jo", organisation="Council"),
        agency=Agency.SOCIAL_CARE,
        due_on=timezone.localdate(),
        by=clerk,
    )
    if status != "open":
        reviews.action_close(action=action, status=status, note="Not needed.", by=clerk)
    return action


def _cetr(clerk, person, status: str) -> Cetr:
    for planned in Cetr.objects.filter(person=person, status="planned"):
        reviews.cetr_cancel(cetr=planned, reason="Replaced.", by=clerk)
    cetr = reviews.cetr_plan(person=person, kind=Cetr.Kind.COMMUNITY, by=clerk)
    for role in ("chair", "clinical_expert", "expert_by_experience"):
        reviews.panel_member_save(
            member=PanelMember(
                cetr=cetr,
                role=role,
                name=role,
                conflicts_declared=True,
                professional_registration="NMC 1",
            ),
            by=clerk,
        )
    reviews.cetr_findings_record(
        cetr=cetr,
        by=clerk,
        finding_safe="Yes.",
        finding_good_care="Yes.",
        finding_future="Yes.",
        finding_community="Yes.",
    )
    if status == "completed":
        reviews.cetr_complete(cetr=cetr, held_on=timezone.localdate(), by=clerk)
    elif status == "cancelled":
        reviews.cetr_cancel(cetr=cetr, reason="Not needed.", by=clerk)
    return cetr


def _request(clerk, person, status: str) -> CetrRequest:
    request = reviews.cetr_request_submit(
        fields={
            "relationship": "family",
            "requester_name": "Rhian",
            "requester_email": "rhian@example.org",
            "contact_by": "email",
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "local_authority": person.local_authority,
            "in_hospital": "no",
            "reason": "Harder at home.",
            "person_knows": True,
        },
        channel="online",
        submission_token=uuid.uuid4(),
    )
    for planned in Cetr.objects.filter(person=person, status="planned"):
        reviews.cetr_cancel(cetr=planned, reason="Replaced.", by=clerk)
    if status == "arranged":
        reviews.cetr_request_arrange(
            request=request, person=person, kind=Cetr.Kind.COMMUNITY, by=clerk
        )
    elif status == "declined":
        reviews.cetr_request_decline(request=request, reason="Held last month.", by=clerk)
    return request


def _free_of_planned_cetrs(clerk, person):
    for planned in Cetr.objects.filter(person=person, status="planned"):
        reviews.cetr_cancel(cetr=planned, reason="Replaced.", by=clerk)


MACHINES = {
    # DOMAIN 7: a meeting is planned, then held (minutes final) or cancelled with a reason.
    "meeting": (
        ["planned", "held", "cancelled"],
        {("planned", "held"), ("planned", "cancelled")},
    ),
    # DOMAIN rule 11: an action is done or cancelled (with why), and may be reopened.
    "action": (
        ["open", "done", "cancelled"],
        {("open", "done"), ("open", "cancelled"), ("done", "open"), ("cancelled", "open")},
    ),
    # DOMAIN 6 and rule 9: a C(E)TR is planned, then completed or cancelled; both are final.
    "cetr": (
        ["planned", "completed", "cancelled"],
        {("planned", "completed"), ("planned", "cancelled")},
    ),
    # DOMAIN 2: a C(E)TR request is triaged once: arranged or declined.
    "cetr request": (
        ["received", "arranged", "declined"],
        {("received", "arranged"), ("received", "declined")},
    ),
}


def test_every_other_machine_makes_only_its_documented_moves(personas, register_objects):
    clerk = _clerk(personas)
    person = register_objects["north_red"]
    today = timezone.localdate()
    makers = {
        "meeting": lambda s: _meeting(clerk, s),
        "action": lambda s: _action(clerk, person, s),
        "cetr": lambda s: _cetr(clerk, person, s),
        "cetr request": lambda s: _request(clerk, person, s),
    }
    moves = {
        "meeting": {
            "held": lambda m: reviews.meeting_mark_held(meeting=m, by=clerk),
            "cancelled": lambda m: reviews.meeting_cancel(meeting=m, reason="Off.", by=clerk),
        },
        "action": {
            "done": lambda a: reviews.action_close(action=a, status="done", note="", by=clerk),
            "cancelled": lambda a: reviews.action_close(
                action=a, status="cancelled", note="Not needed.", by=clerk
            ),
            "open": lambda a: reviews.action_reopen(action=a, by=clerk),
        },
        "cetr": {
            "completed": lambda c: reviews.cetr_complete(cetr=c, held_on=today, by=clerk),
            "cancelled": lambda c: reviews.cetr_cancel(cetr=c, reason="Off.", by=clerk),
        },
        "cetr request": {
            "arranged": lambda r: (
                _free_of_planned_cetrs(clerk, person),
                reviews.cetr_request_arrange(
                    request=r, person=person, kind=Cetr.Kind.COMMUNITY, by=clerk
                ),
            ),
            "declined": lambda r: reviews.cetr_request_decline(
                request=r, reason="Held last month.", by=clerk
            ),
        },
    }
    for machine, (statuses, allowed) in MACHINES.items():
        for start, (to, move) in itertools.product(statuses, moves[machine].items()):
            made = makers[machine](start)
            obj = type(made)._base_manager.get(pk=made.pk)
            assert obj.status == start
            rows = lambda o=obj: o.transitions.count()  # noqa: E731
            _try(move, obj, allowed=(start, to) in allowed, extra_rows=rows)
            if (start, to) in allowed:
                assert type(obj)._base_manager.get(pk=obj.pk).status == to
                # Each move is a row: from, to, who.
                moved = obj.transitions.order_by("-id").first()
                assert (moved.from_status, moved.to_status, moved.by) == (start, to, clerk)

    # A register entry is open until closed with a reason; a closed one stays closed.
    entry = person.register_entries.get(status="open")
    for allowed in (True, False):  # open to closed, then closed to closed
        _try(
            lambda e: register_close(entry=e, reason="risk_reduced", by=clerk),
            entry,
            allowed=allowed,
        )
    _record_moves()


ROWS = {
    "meeting": ("reviews", "MeetingTransition", "meeting"),
    "action": ("reviews", "ActionTransition", "action"),
    "cetr": ("reviews", "CetrTransition", "cetr"),
    "cetr request": ("reviews", "CetrRequestTransition", "request"),
}


def test_the_database_refuses_a_row_for_any_move_the_machine_does_not_make(
    personas, register_objects
):
    """Every (from, to) pair of every machine, as a row written straight to its table: only
    the documented moves are accepted, so no code path can record an illegal one."""
    from django.apps import apps
    from django.db import IntegrityError

    clerk = _clerk(personas)
    person = register_objects["north_red"]
    objects = {
        "meeting": _meeting(clerk, "planned"),
        "action": _action(clerk, person, "open"),
        "cetr": _cetr(clerk, person, "planned"),
        "cetr request": _request(clerk, person, "received"),
    }
    tried = 0
    for machine, (statuses, allowed) in MACHINES.items():
        app, model, field = ROWS[machine]
        rows = apps.get_model(app, model)
        for start, to in itertools.product(statuses, statuses):
            tried += 1
            row = {field: objects[machine], "from_status": start, "to_status": to, "by": clerk}
            if (start, to) in allowed:
                with transaction.atomic():
                    rows.objects.create(**row)
                    transaction.set_rollback(True)
            else:
                with pytest.raises(IntegrityError), transaction.atomic():
                    rows.objects.create(**row)
    assert tried == sum(len(statuses) ** 2 for statuses, _ in MACHINES.values())
