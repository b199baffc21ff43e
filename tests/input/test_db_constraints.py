"""The database backs every business rule the services enforce on a record's own state
(RELIABILITY C-4, ASVS v5.0.0-2.2.3): for each one, a row breaking it is written straight
through the ORM (create, update, a copy of a row), skipping forms and services, and PostgreSQL
must refuse it with an IntegrityError.

The rules come from the services' RegisterError refusals and the models' constraints. Rules that
depend on today's date (no date in the future), on other tables (Blue only while in hospital,
an action's owner able to see the person) or on who is acting cannot be a row constraint and
are not listed. The few rules listed without a constraint are marked xfail(strict): they fail
the run as soon as a constraint is added, so the mark must go with it.
"""

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr.models import (
    CetrException,
    PersonNeed,
    Rating,
    Reminder,
    User,
)
from escalation.models import EscalationNote, EscalationTransition
from referrals.models import ReferralTransition
from tests.figures import record

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 10)
DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    constraint: str  # the constraint (or part of its name) that must refuse the row
    write: Callable[[dict[str, Any]], Any]
    gap: str = ""  # why no constraint backs it yet (xfail), or "" when one does


def _copy(obj, **changes):
    """A second row like `obj` (a new primary key), with `changes`."""
    model = type(obj)
    fields = {
        f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields if not f.primary_key
    }
    return model._base_manager.create(**(fields | changes))


def _update(obj, **changes):
    return type(obj)._base_manager.filter(pk=obj.pk).update(**changes)


def _entry(o):
    return o["north_red"].register_entries.get()


def _consent(o):
    return o["north_red"].consents.get(ended_on__isnull=True)


def _admission(o):
    return o["north_blue"].admissions.get()


def _referral(o, **fields):
    from tests.referrals.factories import ReviewedReferralFactory

    return ReviewedReferralFactory(local_authority=o["north_red"].local_authority, **fields)


RULES = [
    # --- The register (dsr) ---------------------------------------------------------------------
    Rule(
        "a person's NHS number is theirs alone",
        "person_nhs_number_unique",
        lambda o: (
            _update(o["north_red"], nhs_number="9434765919"),
            _update(o["south_green"], nhs_number="9434765919"),
        ),
    ),
    Rule(
        "an NHS number is ten digits",
        "person_nhs_number_ten_digits",
        lambda o: _update(o["north_red"], nhs_number="94347"),
    ),
    Rule(
        "only a parent or carer has parental responsibility",
        "contact_parental_responsibility_only_for_parents",
        lambda o: _update(o["north_contact"], has_parental_responsibility=True),
    ),
    Rule(
        "a best-interests decision names the decision maker and the assessment",
        "best_interests_names_decision_maker_and_assessment",
        lambda o: _update(_consent(o), basis="best_interests", decision_maker=""),
    ),
    Rule("one active consent per person", "one_active_consent", lambda o: _copy(_consent(o))),
    Rule(
        "an ended consent says when, by whom and why",
        "consent_end_is_complete",
        lambda o: _update(_consent(o), ended_on=TODAY),
    ),
    Rule(
        "consent ends on or after the day it was given",
        "consent_ends_after_it_was_given",
        lambda o: _update(
            _consent(o),
            ended_on=_consent(o).given_on - DAY,
            ended_by=o["clerk"],
            end_reason="withdrawn",
        ),
    ),
    Rule(
        "one open register entry per person",
        "one_open_entry_per_person",
        lambda o: _copy(_entry(o)),
    ),
    Rule(
        "an open entry has a consent and a rating",
        "open_entry_has_consent_and_rating",
        lambda o: _update(_entry(o), rating=""),
    ),
    Rule(
        "an entry closes on or after it opens",
        "entry_closes_after_it_opens",
        lambda o: _update(
            _entry(o),
            status="closed",
            closed_on=_entry(o).opened_on - DAY,
            closed_by=o["clerk"],
            closure_reason="no_longer_needed",
        ),
    ),
    Rule(
        "a closed entry says when, by whom and why",
        "entry_closure_is_complete",
        lambda o: _update(_entry(o), status="closed"),
    ),
    Rule(
        "a rating has its rationale",
        "rating_has_rationale",
        lambda o: _update(Rating.objects.filter(entry=_entry(o)).first(), rationale=""),
    ),
    Rule(
        "one open admission per person",
        "one_open_admission_per_person",
        lambda o: _copy(_admission(o)),
    ),
    Rule(
        "a discharge is on or after the admission, and says by whom",
        "discharge_after_admission",
        lambda o: _update(
            _admission(o),
            discharged_on=_admission(o).admitted_on - DAY,
            discharged_by=o["clerk"],
        ),
    ),
    Rule(
        "a root-cause analysis is completed on or after the admission",
        "root_cause_analysis_after_admission",
        lambda o: _update(_admission(o), rca_completed_on=_admission(o).admitted_on - DAY),
    ),
    Rule(
        "a C(E)TR exception gives its reason",
        "cetr_exception_has_reason",
        lambda o: CetrException.objects.create(
            person=o["north_red"],
            meeting_kind=CetrException.MeetingKind.values[0],
            held_on=TODAY,
            reason="",
            recorded_by=o["clerk"],
        ),
    ),
    Rule(
        "one open need of a kind per person",
        "one_open_need_of_a_kind",
        lambda o: [
            PersonNeed.objects.create(
                person=o["north_red"],
                need="housing",
                source=PersonNeed.Source.values[0],
                noted_on=TODAY,
                noted_by=o["clerk"],
            )
            for _ in range(2)
        ],
    ),
    Rule(
        "a met need says when and by whom",
        "met_need_says_when_and_who",
        lambda o: PersonNeed.objects.create(
            person=o["north_red"],
            need="housing",
            source=PersonNeed.Source.values[0],
            noted_on=TODAY,
            noted_by=o["clerk"],
            met_on=TODAY,
        ),
    ),
    Rule(
        "an email address names one account, whatever its case",
        "user_email_ci_unique",
        lambda o: _copy(o["clerk"], email=o["clerk"].email.upper()),
    ),
    # --- The outbox and reminders ---------------------------------------------------------------
    Rule(
        "one message per subject, kind and recipient",
        "one_message_per_subject_kind_recipient",
        lambda o: _copy(o["notification"]),
    ),
    Rule(
        "an email message has an address",
        "email_has_an_address",
        lambda o: _update(o["notification"], channel="email", email=""),
    ),
    Rule(
        "a letter has a postal address",
        "letter_has_an_address",
        lambda o: _update(o["notification"], channel="letter", postal_address=""),
    ),
    Rule(
        "a sent message says when",
        "sent_has_a_time",
        lambda o: _update(o["notification"], status="sent"),
    ),
    Rule(
        "one reminder per subject, kind and stage",
        "one_reminder_per_subject_kind_stage",
        lambda o: [
            Reminder.objects.create(
                subject_type="reviews.action",
                subject_id=o["action"].pk,
                kind="action_due",
                stage="due",
                due_on=TODAY,
            )
            for _ in range(2)
        ],
    ),
    # --- Referrals ------------------------------------------------------------------------------
    Rule(
        "not eligible gives the reason and where else to get help",
        "not_eligible_has_reason_and_signposting",
        lambda o: _referral(
            o, status="not_eligible", decided_at=timezone.now(), decided_by=o["clerk"]
        ),
    ),
    Rule(
        "added gives the initial rating",
        "added_has_a_rating",
        lambda o: _referral(o, status="added", decided_at=timezone.now(), decided_by=o["clerk"]),
    ),
    Rule(
        "a decision says who made it and when",
        "decision_has_who_and_when",
        lambda o: _referral(o, status="withdrawn", withdrawn_reason="Moved away."),
    ),
    Rule(
        "added or not eligible only after the review with education and social care",
        "decision_follows_a_review",
        lambda o: _update(
            o["referral"],
            status="added",
            initial_rating="RED",
            decided_at=timezone.now(),
            decided_by=o["clerk"],
        ),
    ),
    Rule(
        "withdrawn gives the reason",
        "withdrawn_has_a_reason",
        lambda o: _referral(
            o, status="withdrawn", decided_at=timezone.now(), decided_by=o["clerk"]
        ),
    ),
    Rule(
        "asking for more information says what is needed",
        "more_info_says_what_is_needed",
        lambda o: _update(o["referral"], status="more_info", more_info_request=""),
    ),
    Rule(
        "a referral moves only as its transition table allows",
        "referral_transition_allowed",
        lambda o: ReferralTransition.objects.create(
            referral=o["referral"], from_status="added", to_status="received", at=timezone.now()
        ),
    ),
    Rule(
        "changing who is told gives the reason",
        "contact_override_has_reason",
        lambda o: _update(o["referral_contact"], override="exclude", override_reason=""),
    ),
    Rule(
        "a contact has a way to reach them",
        "contact_has_a_way_to_reach_them",
        lambda o: _update(o["referral_contact"], email="", address="", phone=""),
    ),
    Rule(
        "one referral per submission token",
        "submission_token",
        lambda o: _referral(o, submission_token=o["referral"].submission_token),
    ),
    Rule(
        "a referral reference is unique",
        "reference",
        lambda o: _referral(o, reference=o["referral"].reference),
    ),
    # --- Meetings and actions -------------------------------------------------------------------
    Rule(
        "a cancelled meeting gives the reason",
        "cancelled_meeting_has_reason",
        lambda o: _update(o["meeting"], status="cancelled", cancelled_reason=""),
    ),
    Rule(
        "a held meeting records when",
        "held_meeting_has_time_recorded",
        lambda o: _update(o["meeting"], status="held"),
    ),
    Rule(
        "one agenda item per person per meeting", "one_agenda_item_each", lambda o: _copy(o["item"])
    ),
    Rule(
        "a discussion says who recorded it",
        "discussion_says_who",
        lambda o: _update(o["item"], discussed_at=timezone.now(), discussion="Discussed."),
    ),
    Rule(
        "a discussion recorded has its summary",
        "discussion_has_a_summary",
        lambda o: _update(
            o["item"], discussed_at=timezone.now(), discussed_by=o["clerk"], discussion=""
        ),
    ),
    Rule(
        "an action says what is to be done",
        "action_has_description",
        lambda o: _update(o["action"], description=""),
    ),
    Rule(
        "an action has an owner",
        "action_has_owner",
        lambda o: _update(o["action"], owner=None, owner_name=""),
    ),
    Rule(
        "a closed action says when and by whom",
        "closed_action_says_when_and_who",
        lambda o: _update(o["action"], status="done"),
    ),
    Rule(
        "a cancelled action says why",
        "cancelled_action_says_why",
        lambda o: _update(
            o["action"],
            status="cancelled",
            closed_on=TODAY,
            closed_by=o["clerk"],
            completion_note="",
        ),
    ),
    Rule(
        "an action is agreed at a meeting, a C(E)TR or a visit, and linked to it",
        "action_source_matches_its_link",
        lambda o: _update(o["action"], source="cetr", cetr=None),
    ),
    # --- C(E)TRs --------------------------------------------------------------------------------
    Rule(
        "a hospital C(E)TR has its admission",
        "hospital_cetr_has_admission",
        lambda o: _update(o["cetr"], kind="inpatient", admission=None),
    ),
    Rule(
        "a completed C(E)TR has its date, who completed it, and the four findings",
        "completed_cetr_has_findings",
        lambda o: _update(o["cetr"], status="completed", held_on=TODAY, completed_by=o["clerk"]),
    ),
    Rule(
        "consent evidence says the basis, the evidence, when and who",
        "cetr_consent_evidence_is_complete",
        lambda o: _update(o["cetr"], consent_evidence=""),
    ),
    Rule(
        "a cancelled C(E)TR gives the reason",
        "cancelled_cetr_has_reason",
        lambda o: _update(o["cetr"], status="cancelled", cancelled_reason=""),
    ),
    Rule(
        "a C(E)TR report is sent on or after the review",
        "cetr_report_sent_after_the_review",
        lambda o: _update(o["cetr"], held_on=TODAY, report_sent_on=TODAY - DAY),
    ),
    Rule(
        "one planned C(E)TR of a kind per person",
        "one_planned_cetr_of_a_kind",
        lambda o: _copy(o["cetr"]),
    ),
    Rule(
        "only the chair is a delegated chair",
        "only_a_chair_is_delegated",
        lambda o: _update(o["seat"], delegated_chair=True),
    ),
    Rule("one panel seat per account", "one_seat_each", lambda o: _copy(o["seat"])),
    Rule(
        "an oversight visit records what it found",
        "visit_has_findings",
        lambda o: _update(o["visit"], findings=""),
    ),
    Rule(
        "a request answered by email has the email address",
        "request_by_email_has_email",
        lambda o: _update(o["cetr_request"], contact_by="email", requester_email=""),
    ),
    Rule(
        "a request answered by letter has the postal address",
        "request_by_letter_has_address",
        lambda o: _update(o["cetr_request"], contact_by="letter", requester_address=""),
    ),
    Rule(
        "a triaged request says when, and what was arranged or why it was declined",
        "request_triage_is_complete",
        lambda o: _update(o["cetr_request"], status="declined", triaged_at=timezone.now()),
    ),
    Rule(
        "one C(E)TR request per submission token",
        "submission_token",
        lambda o: _copy(o["cetr_request"], reference="CETR-DUPLICATE"),
    ),
    # --- Escalations ----------------------------------------------------------------------------
    Rule(
        "one escalation per triggering event",
        "one_escalation_per_event",
        lambda o: _copy(o["escalation"], status="open"),
    ),
    Rule(
        "escalation levels start at 1",
        "escalation_level_from_1",
        lambda o: _update(o["escalation"], level=0),
    ),
    Rule(
        "escalation levels stop at the top of the ladder",
        "",
        lambda o: _update(o["escalation"], level=99),
        gap="escalation: the ladder's length comes from settings (rules.levels()); a CHECK "
        "(level <= N) would need a migration whenever the ladder changes",
    ),
    Rule(
        "an escalation raised again links the one resolved before",
        "raised_again_links_the_one_before",
        lambda o: _update(o["escalation"], raise_number=2),
    ),
    Rule(
        "an acknowledged escalation says who and when",
        "acknowledged_says_who_and_when",
        lambda o: _update(o["escalation"], status="acknowledged"),
    ),
    Rule(
        "a resolved escalation says when and the outcome",
        "resolved_says_when_and_outcome",
        lambda o: _update(o["escalation"], status="resolved", outcome=""),
    ),
    Rule(
        "one raised row per escalation",
        "one_raised_row",
        lambda o: EscalationTransition.objects.create(
            escalation=o["escalation"], from_status="", to_status="open", to_level=1
        ),
    ),
    Rule(
        "a note has text",
        "note_has_text",
        lambda o: EscalationNote.objects.create(escalation=o["escalation"], by=o["clerk"], text=""),
    ),
]

BACKED = [rule for rule in RULES if not rule.gap]
TRIED: dict[str, bool] = {}


@pytest.fixture
def objects(matrix_objects):
    clerk = User.objects.get(email="register_staff@nhs.example")
    return {**matrix_objects, "clerk": clerk}


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(
            rule,
            marks=[pytest.mark.xfail(strict=True, raises=AssertionError, reason=rule.gap)]
            if rule.gap
            else [],
            id=rule.name,
        )
        for rule in RULES
    ],
)
def test_the_database_refuses_a_row_that_breaks_the_rule(objects, rule):
    refusal = ""
    try:
        with transaction.atomic():
            rule.write(objects)
    except IntegrityError as error:
        refusal = str(error)

    assert refusal, f"the database accepted a row breaking: {rule.name}"
    # Refused by this rule's constraint, not by another that the bad row happened to break.
    assert f'"{rule.constraint}' in refusal or (
        rule.constraint in ("reference", "submission_token") and rule.constraint in refusal
    ), refusal
    TRIED[rule.name] = True
    record(
        "C-4 invariants backed by a constraint",
        f"{sum(TRIED.get(r.name, False) for r in RULES)} of {len(RULES)}",
    )


def test_the_rules_without_a_constraint_are_few_and_named():
    gaps = [rule.name for rule in RULES if rule.gap]

    assert len(RULES) == len({rule.name for rule in RULES})
    assert len(gaps) == 1, gaps
