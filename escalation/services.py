"""Writes for escalations: raising (by a rule's sweep or by hand), the acknowledgement clock and
the ladder, acknowledging, notes and resolving. Keyword-only arguments, the actor as `by`, one
transaction each; refusals raise RegisterError with a message for the person using the page.

Rules enforced here (DOMAIN.md section 8; rules 11, 13, 14): each rule of escalation.rules raises
once per triggering event and not at all when turned off; an escalation left unacknowledged past
its deadline (working days, by rating) moves up a level and its new owners are told; status
follows Escalation.ALLOWED_TRANSITIONS and every move is a row; only an owner at the
escalation's level or above acts on it.
"""

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from dsr.caching import changed
from dsr.history import set_change_reason
from dsr.models import LocalAuthority, Notification, Organisation, Person, RegisterEntry, User
from dsr.notifications import deliver_after_commit
from dsr.services import RegisterError
from escalation import rules
from escalation.models import Escalation, EscalationNote, EscalationTransition

logger = logging.getLogger(__name__)


def escalation_raise(
    *,
    reason: str,
    trigger_type: str,
    trigger_id: int,
    person: Person | None = None,
    local_authority: LocalAuthority | None = None,
    level: int = 1,
    note: str = "",
    by: User | None = None,
) -> tuple[Escalation, bool]:
    """Raise an escalation for a triggering event, once: the same reason and event never raise
    twice (a unique key backs it, so two callers at once still make one), and a new event
    raises anew. Returns the escalation and whether it was created now. Writes its "raised"
    transition row in the same transaction. The deadline sweeps raise in SQL to the same
    rules; this is the entry point for everything else (a member of staff, a rule in code)."""
    existing = Escalation.objects.filter(
        reason=reason, trigger_type=trigger_type, trigger_id=trigger_id
    ).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            escalation = Escalation(
                reason=reason,
                trigger_type=trigger_type,
                trigger_id=trigger_id,
                person=person,
                local_authority=local_authority or (person.local_authority if person else None),
                level=level,
                raised_at=timezone.now(),
                raised_by=by,
                note=note,
            )
            set_change_reason(escalation, "Raised", by=by)
            escalation.save()
            EscalationTransition.objects.create(
                escalation=escalation,
                from_status="",
                to_status="open",
                to_level=level,
                by=by,
                reason=note,
            )
            _start_clocks([escalation.pk])
    except IntegrityError:
        # Raised by another caller between the check and the insert: theirs stands.
        return (
            Escalation.objects.get(reason=reason, trigger_type=trigger_type, trigger_id=trigger_id),
            False,
        )
    logger.info("escalation raised escalation=%s reason=%s", escalation.pk, reason)
    return escalation, True


# --- Owners and messages -----------------------------------------------------------------------

SUBJECT = "escalation.escalation"


def owners_for(pairs: Iterable[tuple[int | None, int]]) -> dict[tuple[int | None, int], list[User]]:
    """The owners of each (local authority, level): active users holding one of the level's
    roles whose organisation covers the area (for an unknown area, the ICB's). Two queries."""
    pairs = set(pairs)
    labels = {
        str(role_label)
        for _, level in pairs
        for role_label in _role_labels(rules.level_roles(level))
    }
    if not pairs or not labels:
        return {pair: [] for pair in pairs}
    users = (
        User.objects.filter(is_active=True, groups__name__in=labels)
        .select_related("organisation")
        .prefetch_related("groups", "organisation__local_authorities")
        .distinct()
        .order_by("full_name", "id")
    )
    found: dict[tuple[int | None, int], list[User]] = defaultdict(list)
    for user in users:
        if user.organisation is None:
            continue
        held = {group.name for group in user.groups.all()}
        areas = {la.pk for la in user.organisation.local_authorities.all()}
        is_icb = user.organisation.kind == Organisation.Kind.ICB
        for area, level in pairs:
            if not held & set(_role_labels(rules.level_roles(level))):
                continue
            if (area is None and is_icb) or area in areas:
                found[(area, level)].append(user)
    return {pair: found.get(pair, []) for pair in pairs}


def _role_labels(values: Iterable[str]) -> list[str]:
    from dsr.roles import Role

    return [Role(value).label for value in values]


def _tell_owners(escalations: list[Escalation], kind: str) -> int:
    """An email to each owner at each escalation's level: the level and the deadline, never the
    person or the reason (emails carry no health details)."""
    owners = owners_for((e.local_authority_id, e.level) for e in escalations)
    rows = [
        Notification(
            subject_type=SUBJECT,
            subject_id=escalation.pk,
            local_authority_id=escalation.local_authority_id,
            kind=kind,
            recipient_key=f"user-{user.pk}-level-{escalation.level}",
            recipient_name=user.full_name,
            recipient_role=rules.level_name(escalation.level),
            channel=Notification.Channel.EMAIL,
            email=user.email,
        )
        for escalation in escalations
        for user in owners[(escalation.local_authority_id, escalation.level)]
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        deliver_after_commit(len(rows))
    return len(rows)


def _ratings(person_ids: Iterable[int]) -> dict[int, str]:
    return dict(
        RegisterEntry.objects.filter(
            person_id__in=set(person_ids), status=RegisterEntry.Status.OPEN
        ).values_list("person_id", "rating")
    )


def _start_clocks(ids: Iterable[int] | None = None) -> int:
    """Set the acknowledgement deadline of newly raised escalations (from the day raised, in
    working days by the person's rating) and tell their owners. Rows raised in SQL by a sweep
    have no deadline yet; this is where their clock starts."""
    waiting = Escalation.objects.select_for_update(skip_locked=True).filter(
        status=Escalation.Status.OPEN, ack_due_on__isnull=True
    )
    if ids is not None:
        waiting = waiting.filter(pk__in=list(ids))
    waiting = list(waiting)
    ratings = _ratings(e.person_id for e in waiting if e.person_id)
    for escalation in waiting:
        rating = ratings.get(escalation.person_id, "")
        escalation.ack_due_on = rules.ack_due(timezone.localdate(escalation.raised_at), rating)
    # One UPDATE and one history INSERT per batch, named for the job (RELIABILITY H-4).
    bulk_update_with_history(
        waiting,
        Escalation,
        ["ack_due_on"],
        default_change_reason="Acknowledgement clock started",
    )
    changed("escalation")  # a bulk update sends no signals
    _tell_owners(waiting, "escalation_raised")
    _tell_oversight([e for e in waiting if e.reason == Escalation.Reason.INADEQUATE_HOSPITAL])
    return len(waiting)


def _tell_oversight(escalations: list[Escalation]) -> int:
    """DOMAIN rule 13: an admission to a hospital the CQC rates inadequate is notified to the
    ICB's chief executive, the NHS England region and the host commissioner: the addresses in
    `DSR_INADEQUATE_HOSPITAL_RECIPIENTS` ((name, email) pairs), one message each, no personal
    details in it."""
    recipients = getattr(settings, "DSR_INADEQUATE_HOSPITAL_RECIPIENTS", [])
    rows = [
        Notification(
            subject_type=SUBJECT,
            subject_id=escalation.pk,
            local_authority_id=escalation.local_authority_id,
            kind="inadequate_hospital_admission",
            recipient_key=f"oversight-{number}",
            recipient_name=name,
            recipient_role="Oversight",
            channel=Notification.Channel.EMAIL,
            email=email,
        )
        for escalation in escalations
        for number, (name, email) in enumerate(recipients)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        deliver_after_commit(len(rows))
    return len(rows)


# --- Acting on an escalation -------------------------------------------------------------------


def can_act(user: User, escalation: Escalation) -> bool:
    """An owner at the escalation's level or above, or at the level it was raised to, in whose
    area it is (ACCESS.md: senior managers at their level, the DSR lead at level 1, the
    executive lead at the top)."""
    level = rules.level_for(user)
    if not user.has_perm("dsr.act_on_escalations") or level == 0:
        return False
    if level < escalation.level:
        # The owners it was raised to keep it when it climbs past them: they know the case.
        raised_at = (
            escalation.transitions.filter(from_status="").values_list("to_level", flat=True).first()
        )
        if raised_at is None or level < raised_at:
            return False
    return Escalation.objects.visible_to(user).filter(pk=escalation.pk).exists()


def _move(escalation: Escalation, to_status: str, *, by: User, reason: str) -> Escalation:
    if to_status not in Escalation.ALLOWED_TRANSITIONS[escalation.status]:
        raise RegisterError(
            f"This escalation is {escalation.get_status_display().lower()}: it cannot be "
            f"{Escalation.Status(to_status).label.lower()} now."
        )
    if not can_act(by, escalation):
        raise RegisterError(
            f"This escalation is at level {escalation.level} "
            f"({rules.level_name(escalation.level)}): only its owners can act on it."
        )
    EscalationTransition.objects.create(
        escalation=escalation,
        from_status=escalation.status,
        to_status=to_status,
        from_level=escalation.level,
        to_level=escalation.level,
        by=by,
        reason=reason,
    )
    escalation.status = to_status
    return escalation


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, by: User, note: str = "") -> Escalation:
    """Take ownership: the escalation stops climbing the ladder. Acknowledging what another
    owner acknowledged a moment before changes nothing (the note is still kept)."""
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.status == Escalation.Status.ACKNOWLEDGED and can_act(by, escalation):
        if note.strip():
            EscalationNote.objects.create(escalation=escalation, by=by, text=note)
        return escalation
    _move(escalation, Escalation.Status.ACKNOWLEDGED, by=by, reason="")
    escalation.acknowledged_at = timezone.now()
    escalation.acknowledged_by = by
    set_change_reason(escalation, "Acknowledged", by=by)
    escalation.save()
    if note.strip():
        EscalationNote.objects.create(escalation=escalation, by=by, text=note)
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, by: User, outcome: str) -> Escalation:
    escalation = Escalation.objects.select_for_update().get(pk=escalation.pk)
    if not outcome.strip():
        raise RegisterError("Say what was done and what happened.")
    _move(escalation, Escalation.Status.RESOLVED, by=by, reason=outcome)
    escalation.resolved_at = timezone.now()
    escalation.resolved_by = by
    escalation.outcome = outcome
    set_change_reason(escalation, "Resolved", by=by)
    escalation.save()
    return escalation


@transaction.atomic
def escalation_note_add(*, escalation: Escalation, by: User, text: str) -> EscalationNote:
    """Record an action taken. Owners, and the register team, may add notes."""
    if not text.strip():
        raise RegisterError("Write the note.")
    if escalation.status == Escalation.Status.RESOLVED:
        raise RegisterError("This escalation is resolved: raise a new one if it is needed.")
    if not (can_act(by, escalation) or by.has_perm("dsr.change_register")):
        raise RegisterError("Only the escalation's owners and the DSR team can add notes.")
    return EscalationNote.objects.create(escalation=escalation, by=by, text=text)


def escalation_raise_by_hand(*, person: Person, level: int, note: str, by: User) -> Escalation:
    """A member of staff raises an escalation about a person: each one is its own event."""
    if not note.strip():
        raise RegisterError("Say why you are raising it.")
    if not 1 <= level <= rules.top_level():
        raise RegisterError("Choose a level.")
    escalation, _ = escalation_raise(
        reason=Escalation.Reason.BY_HAND,
        trigger_type="escalation.by_hand",
        # A hand-raised escalation is its own triggering event, keyed on who raised it, about
        # whom, why and on which day: a double submit raises one, a new concern raises anew.
        trigger_id=int(
            hashlib.sha256(
                f"{person.pk}|{by.pk}|{note.strip()}|{timezone.localdate()}".encode()
            ).hexdigest()[:15],
            16,
        ),
        person=person,
        level=level,
        note=note,
        by=by,
    )
    return escalation


# --- The sweeps --------------------------------------------------------------------------------

_OPEN_ENTRY = (
    "FROM dsr_registerentry e JOIN dsr_person p ON p.id = e.person_id WHERE e.status = 'open'"
)
_LATEST_RATING = (
    "(SELECT r.id FROM dsr_rating r WHERE r.entry_id = e.id"
    " ORDER BY r.effective_from DESC, r.set_at DESC, r.id DESC LIMIT 1)"
)
_RED_SPELL_START = (
    "(SELECT r.id FROM dsr_rating r WHERE r.entry_id = e.id AND r.rating = 'RED'"
    " AND r.previous_rating <> 'RED' ORDER BY r.effective_from DESC, r.set_at DESC, r.id DESC"
    " LIMIT 1)"
)


def _rule_sources(today: date) -> list[tuple[str, str, str, str, list[Any]]]:
    """Each rule: (rule name, trigger type, trigger id expression, FROM ... WHERE ..., params).
    Every source names the person as `p`."""
    sources = []
    days = {name: rules.rule(name).days for name in rules.DEFAULT_RULES}
    sources.append(
        (
            "red_rating",
            "dsr.rating",
            _RED_SPELL_START,
            f"{_OPEN_ENTRY} AND e.rating = 'RED'",
            [],
        )
    )
    sources.append(
        (
            "amber_unreviewed",
            "dsr.rating",
            _LATEST_RATING,
            f"{_OPEN_ENTRY} AND e.rating = 'AMBER' AND e.rating_reviewed_on < %s",
            [today - timedelta(days=days["amber_unreviewed"])],
        )
    )
    sources.append(
        (
            "red_without_cetr",
            "dsr.rating",
            _RED_SPELL_START,
            f"{_OPEN_ENTRY} AND e.rating = 'RED' AND e.rating_since <= %s"  # noqa: S608  (constants)
            " AND NOT EXISTS (SELECT 1 FROM reviews_cetr c WHERE c.person_id = p.id"  # nosec B608  # constants
            " AND c.kind = 'community'"
            " AND (c.status = 'planned'"
            " OR (c.status = 'completed' AND c.held_on >= e.rating_since)))"
            " AND NOT EXISTS (SELECT 1 FROM dsr_cetrexception x WHERE x.person_id = p.id"
            " AND x.held_on >= e.rating_since)",
            [today - timedelta(days=days["red_without_cetr"])],
        )
    )
    sources.append(
        (
            "overdue_action",
            "reviews.action",
            "a.id",
            "FROM reviews_action a JOIN dsr_person p ON p.id = a.person_id"
            " JOIN dsr_registerentry e ON e.person_id = p.id AND e.status = 'open'"
            " WHERE a.status = 'open' AND a.due_on < %s AND e.rating IN ('RED', 'AMBER')",
            [today],
        )
    )
    admissions = (
        "FROM dsr_admission a JOIN dsr_person p ON p.id = a.person_id"
        " JOIN dsr_registerentry e ON e.person_id = p.id AND e.status = 'open'"
        " WHERE a.discharged_on IS NULL"
    )
    sources.append(
        (
            "admission_without_cetr",
            "dsr.admission",
            "a.id",
            f"{admissions} AND a.community_cetr_before_admission = %s",
            [False],
        )
    )
    sources.append(
        (
            "inadequate_hospital",
            "dsr.admission",
            "a.id",
            f"{admissions} AND a.cqc_rating = 'inadequate'",
            [],
        )
    )
    sources.append(
        (
            "rating_review_overdue",
            "dsr.rating",
            _LATEST_RATING,
            # Amber has its own rule (amber_unreviewed), on the same rating row.
            f"{_OPEN_ENTRY} AND e.rating <> 'AMBER' AND e.rating_review_due < %s",
            [today - timedelta(days=days["rating_review_overdue"])],
        )
    )
    return sources


def escalation_rules_sweep(*, today: date | None = None) -> dict[str, int]:
    """Raise, set-based, an escalation for every triggering event of every rule that is on (the
    referral rule runs in the referral deadline sweep). The unique key on (reason, trigger) makes
    a second run, or a resolved escalation's event, raise nothing; a new event raises anew.
    Then start the clocks of everything newly raised. Returns the rows raised by rule."""
    today = today or timezone.localdate()
    now = timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            for name, trigger_type, trigger, source, params in _rule_sources(today):
                rule = rules.rule(name)
                if not rule.on:
                    continue
                cursor.execute(
                    "INSERT INTO escalation_escalation (reason, trigger_type, trigger_id,"
                    " person_id, local_authority_id, level, status, raised_at, note)"
                    f" SELECT %s, %s, {trigger}, p.id, p.local_authority_id, %s, 'open', %s,"
                    f" 'Raised by the escalation rules.' {source}"
                    " ON CONFLICT (reason, trigger_type, trigger_id) DO NOTHING",
                    [name, trigger_type, rule.level, now, *params],
                )
                counts[name] = cursor.rowcount
            write_raised_rows(cursor, now)
        _start_clocks()
    logger.info("escalation rules sweep %s", counts)
    return counts


def write_raised_rows(cursor: Any, now: Any) -> int:
    """The "raised" transition row and the first history row of every escalation a sweep
    inserted in SQL just now (the sweep stamps them with `now`; one transition row each: a
    partial unique index backs it). Set-based, like the insert."""
    _write_raised_history(cursor, now)
    # Rows inserted in SQL send no signals: kept queue counts are counted afresh after commit.
    changed("escalation")
    cursor.execute(
        "INSERT INTO escalation_escalationtransition (escalation_id, from_status, to_status,"
        " from_level, to_level, by_id, at, reason) SELECT e.id, '', 'open', NULL, e.level, NULL,"
        " %s, 'Raised by the sweep.' FROM escalation_escalation e WHERE e.raised_at = %s"
        " AND NOT EXISTS"
        " (SELECT 1 FROM escalation_escalationtransition t WHERE t.escalation_id = e.id)"
        " ON CONFLICT (escalation_id) WHERE from_status = '' DO NOTHING",
        [now, now],
    )
    return cursor.rowcount


RAISED_BY_SWEEP = "Raised by a sweep"


def _write_raised_history(cursor: Any, now: Any) -> int:
    """History rows ("+", named for the sweep, no user) for the escalations inserted in SQL
    just now that have none yet: the SQL insert bypasses simple-history's signals."""
    quote = connection.ops.quote_name
    columns = [field.column for field in Escalation._meta.concrete_fields]
    history_table = quote(Escalation.history.model._meta.db_table)  # type: ignore[attr-defined]
    # Table and column names come from the model, quoted; the values are parameters.
    cursor.execute(
        f"INSERT INTO {history_table} ({', '.join(quote(c) for c in columns)}, history_date,"  # noqa: S608
        " history_change_reason, history_type, history_user_id, history_actor_email)"  # nosec B608
        f" SELECT {', '.join('e.' + quote(c) for c in columns)}, %s, %s, '+', NULL, ''"
        " FROM escalation_escalation e WHERE e.raised_at = %s"
        f" AND NOT EXISTS (SELECT 1 FROM {history_table} h WHERE h.id = e.id)",
        [now, RAISED_BY_SWEEP, now],
    )
    return cursor.rowcount


def _cleared_causes() -> dict[str, tuple[Any, str]]:
    """For each reason raised by a rule: the condition under which its cause still holds, and
    what to say when it no longer does."""
    from dsr.models import Admission, CetrException, Rating
    from referrals.models import Referral
    from reviews.models import Action, Cetr

    entry = RegisterEntry.objects.filter(
        person=OuterRef("person"), status=RegisterEntry.Status.OPEN
    )
    red = Exists(entry.filter(rating="RED"))
    cetr_or_exception = Exists(
        Cetr.objects.filter(person=OuterRef("person"), kind=Cetr.Kind.COMMUNITY).filter(
            Q(status=Cetr.Status.PLANNED)
            | Q(status=Cetr.Status.COMPLETED, held_on__gte=OuterRef("red_since"))
        )
    ) | Exists(
        CetrException.objects.filter(person=OuterRef("person"), held_on__gte=OuterRef("red_since"))
    )
    reviewed = Exists(
        Rating.objects.filter(entry_id=OuterRef("trigger_entry"), pk__gt=OuterRef("trigger_id"))
    ) | ~Exists(RegisterEntry.objects.filter(pk=OuterRef("trigger_entry"), status="open"))
    in_hospital = Exists(
        Admission.objects.filter(pk=OuterRef("trigger_id"), discharged_on__isnull=True)
    )
    live_referral = Exists(
        Referral.objects.filter(
            pk=OuterRef("trigger_id"),
            status__in=["received", "under_review", "more_info"],
        )
    )
    reason = Escalation.Reason
    return {
        reason.RED_RATING: (red, "the person is no longer rated red"),
        reason.RED_WITHOUT_CETR: (
            red & ~cetr_or_exception,
            "a community C(E)TR is planned or held, an exception is recorded, or the person is "
            "no longer rated red",
        ),
        reason.AMBER_UNREVIEWED: (~reviewed, "the rating has been reviewed"),
        reason.RATING_REVIEW_OVERDUE: (~reviewed, "the rating has been reviewed"),
        # As the rule raises it: an open action on a person on the register as red or amber.
        reason.OVERDUE_ACTION: (
            Exists(Action.objects.filter(pk=OuterRef("trigger_id"), status=Action.Status.OPEN))
            & Exists(entry.filter(rating__in=["RED", "AMBER"])),
            "the action is done or cancelled, or the person is no longer on the register as red "
            "or amber",
        ),
        reason.ADMISSION_WITHOUT_CETR: (in_hospital, "the person has been discharged"),
        reason.INADEQUATE_HOSPITAL: (in_hospital, "the person has been discharged"),
        reason.REFERRAL_OVERDUE: (live_referral, "the referral has been decided"),
    }


def _close_cleared(now: Any) -> int:
    """Resolve, as the rules, every live escalation whose cause has cleared (the rating was
    reviewed, the action done, the person discharged...): it leaves the queue and never climbs
    the ladder. A row per escalation says why."""
    from dsr.models import Rating

    closed = 0
    for reason, (holds, why) in _cleared_causes().items():
        cleared = list(
            Escalation.objects.select_for_update(skip_locked=True)
            .live()
            .filter(reason=reason)
            .annotate(
                red_since=Subquery(
                    RegisterEntry.objects.filter(
                        person=OuterRef("person"), status=RegisterEntry.Status.OPEN
                    ).values("rating_since")[:1]
                ),
                trigger_entry=Subquery(
                    Rating.objects.filter(pk=OuterRef("trigger_id")).values("entry_id")[:1]
                ),
            )
            .exclude(holds)
        )
        outcome = f"Closed by the rules: {why}."
        for escalation in cleared:
            EscalationTransition.objects.create(
                escalation=escalation,
                from_status=escalation.status,
                to_status=Escalation.Status.RESOLVED,
                from_level=escalation.level,
                to_level=escalation.level,
                reason=outcome,
            )
            escalation.status = Escalation.Status.RESOLVED
            escalation.resolved_at = now
            escalation.outcome = outcome
            set_change_reason(escalation, "Resolved by the rules", by=None)
            escalation.save()
        closed += len(cleared)
    return closed


def escalation_ladder_sweep(*, today: date | None = None) -> dict[str, int]:
    """Start the clock of anything raised without one; resolve what no longer holds; then move
    every escalation still not acknowledged after its deadline up one level (to the top at
    most), with a new deadline from today and a message to the new owners. Rows are claimed
    with SKIP LOCKED, so two sweeps at once move each escalation once."""
    today = today or timezone.localdate()
    moved: list[Escalation] = []
    with transaction.atomic():
        started = _start_clocks()
        cleared = _close_cleared(timezone.now())
        due = list(
            Escalation.objects.select_for_update(skip_locked=True).filter(
                status=Escalation.Status.OPEN,
                ack_due_on__lt=today,
                level__lt=rules.top_level(),
            )
        )
        ratings = _ratings(e.person_id for e in due if e.person_id)
        for escalation in due:
            from_level = escalation.level
            escalation.level += 1
            escalation.ack_due_on = rules.ack_due(today, ratings.get(escalation.person_id, ""))
            set_change_reason(
                escalation, f"Not acknowledged: moved to level {escalation.level}", by=None
            )
            escalation.save()
            EscalationTransition.objects.create(
                escalation=escalation,
                from_status=escalation.status,
                to_status=escalation.status,
                from_level=from_level,
                to_level=escalation.level,
                reason="Not acknowledged by the deadline: moved to "
                f"{rules.level_name(escalation.level)}.",
            )
            moved.append(escalation)
        _tell_owners(moved, "escalation_level_up")
    counts = {"started": started, "cleared": cleared, "moved_up": len(moved)}
    logger.info("escalation ladder sweep %s", counts)
    return counts
