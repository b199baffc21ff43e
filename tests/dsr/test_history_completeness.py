"""H-4: every audited row's current state is its latest history row, and no history row lacks
an actor (a user, or a change reason naming the job: dsr/history.py).

The mutating paths are driven first (the services of every app, a sample of pages, the Celery
sweeps with the clock moved on, the demo loader command); then every row of every tracked table
is compared, field by field, with its latest history row.
"""

import datetime
import functools
import io
import uuid

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from dsr import services as register
from dsr.models import RAG, Admission, Person, PersonContact
from escalation import services as escalation
from escalation.models import Escalation, EscalationTransition
from escalation.sweeps import RAISED_BY_SWEEP
from referrals import services as referrals
from reviews import services as reviews
from reviews.models import Agency, Cetr, Meeting, PanelMember
from tests.conftest import signed_in_client
from tests.figures import record

CHECKED = {"rows": 0, "mismatches": 0}

# Project tables without a history table, and why their rows are audited otherwise. A new model
# must be audited (dsr.history.audited) or named here.
UNTRACKED = {
    "dsr.Rating": "append-only: each rating decision is its own row, never updated",
    "dsr.AccessEvent": "append-only access log: it is itself the audit of reads",
    "dsr.Notification": "outbox: delivery bookkeeping; the decision it tells is audited",
    "dsr.Reminder": "a sweep's idempotency key: written once, never changed",
    "dsr.Heartbeat": "scheduler bookkeeping, no personal data",
    "dsr.RetentionRun": "append-only log of retention runs, counts only",
    "dsr.PasswordResetRequest": "job bookkeeping, deleted a day after it is handled",
    "dsr.ImportRow": (
        "an import's working copy of a sheet row and its dry-run findings; every record it "
        "writes to the register is audited, naming the import and the file's checksum"
    ),
    "referrals.ReferralTransition": "append-only: each status move, with who and why",
    "referrals.ReferralAttachment": "written once with its referral, never changed",
    "escalation.EscalationTransition": "append-only: each move, with who and why",
    "escalation.EscalationNote": "append-only notes, with who and when",
    "escalation.QueuePlace": "the escalation queue's order, worked out from the escalations and "
    "ratings (each audited) and rebuilt by the hourly check",
    "dsr.ProviderSession": "an identity provider's session id, for back-channel logout; it goes "
    "with the service's session",
    "reports.ApiCall": "append-only log of the read feed's calls: token, path, status, when",
    "reviews.ActionLinkUse": "append-only: each use of a partner's link, itself the audit",
    "reviews.MeetingTransition": "append-only: each status move, with who and why",
    "reviews.ActionTransition": "append-only: each status move, with who and why",
    "reviews.CetrTransition": "append-only: each status move, with who and why",
    "reviews.CetrRequestTransition": "append-only: each status move, with who and why",
}


def tracked_models() -> list:
    return [
        model
        for model in apps.get_models()
        if getattr(model._meta, "simple_history_manager_attribute", None)
    ]


def _project_models() -> list:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in {"dsr", "referrals", "reviews", "escalation", "reports"}
        and not model.__name__.startswith("Historical")
    ]


def baseline() -> dict:
    return {
        model: model.history.order_by("-history_id").values_list("history_id", flat=True).first()
        or 0
        for model in tracked_models()
    }


def check_history(since: dict) -> tuple[int, list[str], list[str]]:
    """(rows checked, rows whose state is not their latest history row, history rows written
    after `since` without an actor)."""
    rows, mismatched, anonymous = 0, [], []
    for model in tracked_models():
        history = model.history.model
        fields = [f.attname for f in history.tracked_fields]
        latest = {
            h.id: h for h in model.history.order_by("id", "-history_id").distinct("id").iterator()
        }
        for obj in model._base_manager.all().iterator():
            rows += 1
            last = latest.get(obj.pk)
            if last is None or last.history_type == "-":
                mismatched.append(f"{model._meta.label} {obj.pk}: no history")
                continue
            differ = [name for name in fields if getattr(obj, name) != getattr(last, name)]
            if differ:
                mismatched.append(f"{model._meta.label} {obj.pk}: {', '.join(differ)}")
        anonymous += [
            f"{model._meta.label} {h.id} ({h.history_type}) history {h.history_id}"
            for h in history.objects.filter(
                history_id__gt=since.get(model, 0), history_user_id__isnull=True
            ).filter(Q(history_change_reason__isnull=True) | Q(history_change_reason=""))
        ]
    return rows, mismatched, anonymous


def _record(rows: int) -> None:
    CHECKED["rows"] += rows
    record("H-4 tracked rows checked, mismatches", f"{CHECKED['rows']}, {CHECKED['mismatches']}")


def test_every_project_table_is_audited_or_says_why_not():
    untracked = {model._meta.label for model in _project_models() if model not in tracked_models()}
    assert untracked == set(UNTRACKED)


# --- Driving every mutating path ----------------------------------------------------------------


def _referral_journey(areas, staff, lead):
    """A professional's referral through review to the register; a second one withdrawn."""
    fields = {
        "given_name": "Nia",
        "family_name": "Audit",
        "date_of_birth": datetime.date(2012, 4, 2),
        "nhs_number": "9434765919",
        "address": "3 Mill Lane\nNorwich NR3 1HG",
        "local_authority": areas["north"],
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "risks": "Placement at risk.",
        "referrer_name": "Dr Sam Reid",
        "referrer_email": "sam.reid@nhs.example",
        "consent_to_referral": True,
        "consent_to_share": True,
        "consent_basis": "parental_responsibility",
    }
    contacts = [
        {
            "role": "parent_carer",
            "name": "Rhian Audit",
            "email": "rhian@example.org",
            "has_parental_responsibility": True,
        }
    ]
    referral = referrals.referral_submit(
        fields=fields,
        contacts=contacts,
        source="online",
        referrer_kind="professional",
        submission_token=uuid.uuid4(),
    )
    referrals.referral_assign(referral, to=staff, by=lead)
    referrals.referral_start_review(referral, by=staff)
    referrals.referral_request_information(referral, request="The care plan.", by=staff)
    referrals.referral_record_review(
        referral,
        held_on=timezone.localdate(),
        education_participant="SENCo",
        social_care_participant="Social worker",
        by=staff,
    )
    extra = referrals.referral_contact_add(
        referral, reason="Grandmother cares at weekends.", by=staff, name="Gran", email="g@e.org"
    )
    referrals.referral_contact_override(extra, include=False, reason="Not needed.", by=staff)
    referrals.referral_decide(
        referral, decision="added", rating=RAG.RED, rationale="Placement at risk.", by=staff
    )
    other = referrals.referral_submit(
        fields={
            **fields,
            "nhs_number": "",
            "given_name": "Ola",
            "family_name": "Withdrawn",
            "date_of_birth": datetime.date(1990, 1, 1),
        },
        contacts=[{"role": "person", "name": "Ola", "email": "ola@example.org"}],
        source="paper",
        referrer_kind="self",
        submission_token=uuid.uuid4(),
        entered_by=staff,
    )
    referrals.referral_set_area(other, local_authority=areas["south"], by=staff)
    referrals.referral_decide(other, decision="withdrawn", reason="Moved away.", by=staff)
    return Person.objects.get(nhs_number="9434765919")


def _register_journey(person, staff):
    contact = PersonContact(person=person, role="key_worker", name="Kit Keyworker")
    register.contact_save(contact=contact, by=staff)
    register.person_update(person=person, by=staff, postcode="NR1 1AA", out_of_area=True)
    register.needs_note(person=person, needs=["housing", "respite"], by=staff, source="register")
    register.needs_note(
        person=person, needs=["respite"], by=staff, source="register", close_others=True
    )
    register.keyworker_referral_record(person=person, referred_on=timezone.localdate(), by=staff)
    register.cetr_exception_record(
        person=person,
        meeting_kind="laep",
        held_on=timezone.localdate(),
        reason="No panel in time.",
        by=staff,
    )
    admission = register.admission_record(
        person=person,
        hospital_name="Far Hospital",
        hospital_ods_code="rxx01",
        cqc_rating=Admission.CqcRating.INADEQUATE,
        admitted_on=timezone.localdate(),
        ward_security=Admission.WardSecurity.GENERAL,
        community_cetr_before_admission=False,
        by=staff,
    )
    register.admission_rca_record(admission=admission, completed_on=timezone.localdate(), by=staff)
    register.contact_remove(contact=contact, by=staff)
    return admission


def _reviews_journey(person, staff, panellist, manager):
    meeting = reviews.meeting_create(
        kind=Meeting.Kind.DSR_REVIEW, held_at=timezone.now(), chair=staff, by=staff
    )
    reviews.meeting_update(meeting=meeting, by=staff, location="Room 4")
    attendee = reviews.attendee_save(
        attendee=meeting.attendees.model(meeting=meeting, name="Ann", agency=Agency.HEALTH),
        by=staff,
    )
    attendee.attendance = "present"
    reviews.attendee_save(attendee=attendee, by=staff)
    item = meeting.items.filter(person=person).first() or reviews.agenda_add(
        meeting=meeting, person=person, by=staff
    )
    reviews.discussion_record(
        item=item,
        by=staff,
        risk_factors=["crisis"],
        risk_notes="Reviewed.",
        discussion="Agreed a plan.",
        needs=["housing"],
    )
    action = reviews.action_create(
        person=person,
        agenda_item=item,
        description="Find a placement.",
        owner=reviews.Owner(name="Jo Patel", organisation="Housing"),
        agency=Agency.SOCIAL_CARE,
        due_on=timezone.localdate(),
        by=staff,
    )
    reviews.action_change(
        action=action,
        by=staff,
        description="Find a placement near home.",
        owner=reviews.Owner(user=staff),
        agency=Agency.SOCIAL_CARE,
        due_on=timezone.localdate(),
    )
    reviews.action_close(action=action, status="done", note="Found.", by=staff)
    reviews.action_reopen(action=action, by=staff)
    reviews.meeting_mark_held(meeting=meeting, by=staff)
    other = reviews.meeting_create(
        kind=Meeting.Kind.URGENT,
        held_at=timezone.now() + datetime.timedelta(days=3),
        chair=staff,
        by=staff,
    )
    reviews.agenda_add(meeting=other, person=person, by=staff)
    reviews.agenda_remove(item=other.items.get(), by=staff)
    reviews.meeting_cancel(meeting=other, reason="No quorum.", by=staff)

    cetr = reviews.cetr_plan(person=person, kind=Cetr.Kind.POST_ADMISSION, by=staff)
    reviews.cetr_arrange(
        cetr=cetr,
        by=staff,
        scheduled_on=timezone.localdate(),
        invitations_sent_on=timezone.localdate(),
        pack_sent_at=None,
    )
    # The person is a child: consent through someone with parental responsibility (the
    # register's consent rules, which a C(E)TR's consent follows).
    reviews.cetr_consent_record(
        cetr=cetr,
        basis="parental_responsibility",
        evidence="Form.",
        recorded_on=timezone.localdate(),
        by=staff,
    )
    reviews.cetr_consent_withdraw(cetr=cetr, note="Asked to stop.", by=staff)
    reviews.cetr_consent_record(
        cetr=cetr,
        basis="parental_responsibility",
        evidence="Again.",
        recorded_on=timezone.localdate(),
        by=staff,
    )
    seats = [
        ("chair", "Chair", None),
        ("clinical_expert", "Dr Expert", None),
        ("expert_by_experience", "Expert", panellist),
        ("other", "Extra", None),
    ]
    members = [
        reviews.panel_member_save(
            member=PanelMember(
                cetr=cetr,
                role=role,
                name=name,
                user=user,
                conflicts_declared=True,
                professional_registration="GMC 1",
            ),
            by=staff,
        )
        for role, name, user in seats
    ]
    reviews.panel_member_remove(member=members[-1], by=staff)
    reviews.cetr_findings_record(
        cetr=cetr,
        by=panellist,
        finding_safe="Yes.",
        finding_good_care="Yes.",
        finding_future="Yes.",
        finding_community="Yes.",
    )
    reviews.cetr_complete(cetr=cetr, held_on=timezone.localdate(), by=staff)
    reviews.cetr_report_sent(cetr=cetr, sent_on=timezone.localdate(), by=staff)
    visit = reviews.visit_record(
        person=person,
        visited_on=timezone.localdate(),
        visited_by="Case manager",
        findings="Settled.",
        concerns=True,
        by=staff,
    )
    reviews.action_create(
        person=person,
        visit=visit,
        description="Check the ward.",
        owner=reviews.Owner(name="Lee", organisation="ICB"),
        agency=Agency.HEALTH,
        due_on=timezone.localdate() + datetime.timedelta(days=2),
        by=staff,
    )
    request_fields = {
        "relationship": "family",
        "requester_name": "Rhian Audit",
        "requester_email": "rhian@example.org",
        "requester_address": "3 Mill Lane\nNorwich NR3 1HG",
        "contact_by": "email",
        "given_name": "Nia",
        "family_name": "Audit",
        "date_of_birth": person.date_of_birth,
        "local_authority": person.local_authority,
        "in_hospital": "yes",
        "reason": "Harder on the ward.",
        "person_knows": True,
    }
    for outcome in ("arrange", "decline"):
        request = reviews.cetr_request_submit(
            fields=request_fields, channel="online", submission_token=uuid.uuid4()
        )
        if outcome == "arrange":
            reviews.cetr_request_arrange(
                request=request, person=person, kind=Cetr.Kind.INPATIENT, by=staff
            )
        else:
            reviews.cetr_request_decline(request=request, reason="One is arranged.", by=staff)


def _escalation_journey(person, staff, lead, manager):
    by_hand = escalation.escalation_raise_by_hand(
        person=person, level=1, note="Family in crisis.", by=staff
    )
    escalation.escalation_note_add(escalation=by_hand, by=staff, text="Called the family.")
    escalation.escalation_acknowledge(escalation=by_hand, by=lead, note="On it.")
    escalation.escalation_resolve(escalation=by_hand, by=lead, outcome="Support in place.")


def _pages(client, person, meeting_action):
    """A sample of the pages that write, through the HTTP client (the request's user acts)."""
    from tests.dsr.test_edits import form_values

    edit = reverse("dsr:person-edit", kwargs={"pk": person.pk})
    response = client.post(edit, {**form_values(client.get(edit)), "postcode": "NR2 2BB"})
    assert response.status_code == 302
    action = reverse("reviews:action-update", kwargs={"pk": meeting_action.pk})
    response = client.post(
        action, {**form_values(client.get(action)), "description": "Changed on the page."}
    )
    assert response.status_code == 302


def test_history_is_complete_after_every_mutating_path(personas, matrix_objects, areas):
    users = personas["users"]
    staff, lead, panellist = users["register_staff"], users["dsr_lead"], users["panel_member"]
    manager = users["senior_manager_health"]
    client = signed_in_client(staff)  # signing in is not a change under test
    since = baseline()

    person = _referral_journey(areas, staff, lead)
    _register_journey(person, staff)
    _reviews_journey(person, staff, panellist, manager)
    _escalation_journey(person, staff, lead, manager)
    _pages(client, person, matrix_objects["action"])

    # The scheduled jobs, as Celery runs them, today and again a month on (the ladder climbs,
    # causes clear, deadlines pass).
    from dsr.tasks import sweep_register_reviews_task
    from escalation.tasks import sweep_escalations_task
    from referrals.tasks import sweep_referral_deadlines_task
    from reviews.tasks import sweep_action_reminders_task

    tasks = [
        sweep_register_reviews_task,
        sweep_referral_deadlines_task,
        sweep_action_reminders_task,
        sweep_escalations_task,
    ]
    for task in tasks:
        task()
    # A referral left undecided, for the referral sweep to escalate a month on.
    late = referrals.referral_submit(
        fields={
            "given_name": "Late",
            "family_name": "Referral",
            "date_of_birth": datetime.date(1990, 1, 1),
            "local_authority": areas["north"],
            "diagnosis": "autism",
            "diagnosis_status": "confirmed",
            "risks": "Risks.",
            "referrer_name": "Dr Reid",
            "referrer_email": "reid@nhs.example",
            "consent_to_referral": True,
            "consent_to_share": True,
            "consent_basis": "own_consent",
        },
        contacts=[],
        source="online",
        referrer_kind="professional",
        submission_token=uuid.uuid4(),
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(days=35), tick=False):
        for task in tasks:
            task()
        for task in tasks:
            task()

    # The set-based writes of the sweeps wrote their history rows too.
    swept = Escalation.objects.get(reason="referral_overdue", trigger_id=late.pk)
    reasons = list(
        swept.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert reasons[:2] == [RAISED_BY_SWEEP, "Acknowledgement clock started"]
    assert EscalationTransition.objects.filter(from_level__lt=F("to_level")).exists()

    rows, mismatched, anonymous = check_history(since)
    CHECKED["mismatches"] += len(mismatched)
    assert mismatched == []
    assert anonymous == []
    assert rows > 50
    _record(rows)


def test_the_demo_loader_writes_complete_history(settings, monkeypatch, db):
    """The demo loader command, on an empty register (a smaller one, for time)."""
    from dsr import demo
    from dsr.management.commands import seed_demo

    settings.DEBUG = True
    monkeypatch.setattr(seed_demo, "seed_register", functools.partial(demo.seed_register, 25))
    since = baseline()

    call_command("seed_demo", stdout=io.StringIO())

    assert Person.objects.count() == 25 and Escalation.objects.exists()
    rows, mismatched, anonymous = check_history(since)
    CHECKED["mismatches"] += len(mismatched)
    assert mismatched == []
    assert anonymous == []
    _record(rows)


@pytest.fixture(autouse=True)
def _history_check_uses_postgres(db):
    from django.db import connection

    assert connection.vendor == "postgresql"  # DISTINCT ON, as the check reads the history
