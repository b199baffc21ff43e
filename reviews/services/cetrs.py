"""Writes for C(E)TRs: planning (rules 6 to 8, 15), consent, the panel (rule 9), findings,
completion and the report (rule 10)."""

import logging
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr import deadlines
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Admission, Consent, Person, User
from dsr.next_steps import cetr_name
from dsr.queries import open_admission, open_entry
from dsr.services import consent_basis_check
from reviews.models import (
    Cetr,
    OversightVisit,
    PanelMember,
)
from reviews.queries import hospital_due
from reviews.services.transitions import status_move

logger = logging.getLogger(__name__)


NOTICE_DAYS = 14  # DOMAIN section 6: allow ideally at least two weeks' notice
PRE_READ_HOURS = 24  # pre-reads at least 24 hours before


def _last_hospital_cetr(admission: Admission) -> date | None:
    return (
        Cetr.objects.filter(admission=admission, status=Cetr.Status.COMPLETED)
        .order_by("-held_on")
        .values_list("held_on", flat=True)
        .first()
    )


def _last_visit(admission: Admission) -> date | None:
    return (
        OversightVisit.objects.filter(admission=admission)
        .order_by("-visited_on")
        .values_list("visited_on", flat=True)
        .first()
    )


def _due_in_hospital(person: Person, admission: Admission, today: date):
    return hospital_due(
        admission,
        date_of_birth=person.date_of_birth,
        out_of_area=person.out_of_area,
        last_hospital_cetr=_last_hospital_cetr(admission),
        last_visit=_last_visit(admission),
        today=today,
    )


@transaction.atomic
def cetr_plan(*, person: Person, kind: str, by: User, scheduled_on: date | None = None) -> Cetr:
    """Plan a C(E)TR. A community C(E)TR is for someone not in hospital; a post-admission one
    only when no community C(E)TR preceded the admission (rule 7) and none is held yet; an
    inpatient one repeats on the cadence of rule 8. The due date comes from dsr.deadlines and
    the CETR or CTR choice from age and EHCP (rule 15)."""
    Person.objects.select_for_update().get(pk=person.pk)
    today = timezone.localdate()
    if open_entry(person) is None:
        raise RegisterError(f"{person.full_name} is not on the register.")
    if Cetr.objects.filter(person=person, kind=kind, status=Cetr.Status.PLANNED).exists():
        raise RegisterError("A C(E)TR of this type is already planned: change that one.")
    admission = open_admission(person)
    due_on = None
    if kind == Cetr.Kind.COMMUNITY:
        if admission is not None:
            raise RegisterError(
                "This person is in hospital: plan a post-admission or inpatient C(E)TR."
            )
    else:
        if admission is None:
            raise RegisterError("A hospital C(E)TR needs an admission: record the admission first.")
        due = _due_in_hospital(person, admission, today)
        if kind == Cetr.Kind.POST_ADMISSION and not due.post_admission_owed:
            raise RegisterError(
                "No post-admission C(E)TR is owed: a community C(E)TR happened before the "
                "admission, or one has been held since. Plan an inpatient C(E)TR."
            )
        if kind == Cetr.Kind.INPATIENT and due.post_admission_owed:
            raise RegisterError(
                "A post-admission C(E)TR is owed first: there was no community C(E)TR before "
                "the admission."
            )
        due_on = due.cetr_due
    cetr = Cetr(
        person=person,
        kind=kind,
        education_element=cetr_name(person, today) == "CETR",
        admission=admission if kind != Cetr.Kind.COMMUNITY else None,
        due_on=due_on,
        scheduled_on=scheduled_on,
        created_by=by,
    )
    set_change_reason(cetr, "C(E)TR planned", by=by)
    cetr.save()
    return cetr


def cetr_warnings(cetr: Cetr, today: date) -> list[str]:
    """What the C(E)TR's arrangements fall short of (rule 10): shown, not enforced, because a
    C(E)TR must not wait for paperwork when the person needs it (DOMAIN section 6)."""
    warnings = []
    if cetr.status != Cetr.Status.PLANNED:
        return warnings
    if cetr.due_on and cetr.due_on < today:
        warnings.append(f"This C(E)TR was due on {cetr.due_on:%-d %B %Y}.")
    if cetr.scheduled_on:
        if cetr.due_on and cetr.scheduled_on > cetr.due_on:
            warnings.append(f"The review date is after the due date ({cetr.due_on:%-d %B %Y}).")
        notice_from = cetr.invitations_sent_on or today
        if (cetr.scheduled_on - notice_from).days < NOTICE_DAYS:
            warnings.append(
                "Less than 2 weeks' notice: allow at least 2 weeks for consent, invitations and "
                "planners where you can."
            )
        start = timezone.make_aware(datetime.combine(cetr.scheduled_on, datetime.min.time()))
        if cetr.pack_sent_at is None:
            if timezone.now() > start - timedelta(hours=PRE_READ_HOURS):
                warnings.append(
                    "The pre-reads have not been sent, and the review is within 24 hours."
                )
        elif cetr.pack_sent_at > start - timedelta(hours=PRE_READ_HOURS):
            warnings.append("The pre-reads went out less than 24 hours before the review.")
    if not cetr.has_consent_evidence:
        warnings.append(
            "No consent evidence yet: the panel cannot read the pack until it is recorded."
        )
    return warnings


@transaction.atomic
def cetr_arrange(
    *,
    cetr: Cetr,
    by: User,
    scheduled_on: date | None,
    invitations_sent_on: date | None,
    pack_sent_at: datetime | None,
) -> Cetr:
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("This C(E)TR is closed.")
    cetr.scheduled_on = scheduled_on
    cetr.invitations_sent_on = invitations_sent_on
    cetr.pack_sent_at = pack_sent_at
    set_change_reason(cetr, "C(E)TR arrangements changed", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_consent_record(
    *,
    cetr: Cetr,
    basis: str,
    evidence: str,
    recorded_on: date,
    by: User,
    decision_maker: str = "",
    capacity_assessed_on: date | None = None,
) -> Cetr:
    """Attach the evidence of consent (or of a best-interests decision) for this C(E)TR; from
    then on its panel members can read the pack (rule 10). The basis must fit the person's age
    on the day it was given, by the register's own consent rules
    (dsr.services.consent_basis_check): Gillick and parental responsibility only for children,
    a best-interests decision only from 16, with its decision maker and date."""
    cetr = Cetr.objects.select_for_update().select_related("person").get(pk=cetr.pk)
    if cetr.status == Cetr.Status.CANCELLED:
        raise RegisterError("This C(E)TR was cancelled.")
    if not evidence.strip():
        raise RegisterError("Describe the consent evidence and where it is kept.")
    consent_basis_check(
        cetr.person,
        basis,
        recorded_on,
        decision_maker=decision_maker.strip(),
        capacity_assessed_on=capacity_assessed_on,
    )
    best_interests = basis == Consent.Basis.BEST_INTERESTS
    cetr.consent_basis = basis
    cetr.consent_evidence = evidence
    cetr.consent_recorded_on = recorded_on
    cetr.consent_recorded_by = by
    cetr.consent_decision_maker = decision_maker.strip() if best_interests else ""
    cetr.consent_capacity_assessed_on = capacity_assessed_on if best_interests else None
    set_change_reason(cetr, "C(E)TR consent evidence recorded", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_consent_withdraw(*, cetr: Cetr, note: str, by: User) -> Cetr:
    """Consent to the C(E)TR withdrawn: the evidence is cleared (history keeps it) and the
    panel can no longer read the pack."""
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.has_consent_evidence:
        raise RegisterError("No consent evidence is recorded for this C(E)TR.")
    if not note.strip():
        raise RegisterError("Say how and when consent was withdrawn.")
    cetr.consent_basis = ""
    cetr.consent_evidence = ""
    cetr.consent_recorded_on = None
    cetr.consent_recorded_by = None
    cetr.consent_decision_maker = ""
    cetr.consent_capacity_assessed_on = None
    set_change_reason(cetr, f"C(E)TR consent withdrawn: {note}"[:100], by=by)
    cetr.save()
    return cetr


@transaction.atomic
def panel_member_save(*, member: PanelMember, by: User) -> PanelMember:
    # The C(E)TR's row lock orders panel changes against cetr_complete.
    member.cetr = Cetr.objects.select_for_update().get(pk=member.cetr_id)
    if not member.cetr.is_planned:
        raise RegisterError("The panel of a completed or cancelled C(E)TR is final.")
    if member.role != PanelMember.Role.CHAIR:
        member.delegated_chair = False
    if member.user_id is not None and not member.user.has_perm("dsr.sit_on_panels"):
        raise RegisterError(
            f"{member.user.full_name} has no panel member account: name them without one."
        )
    set_change_reason(member, "Panel member recorded", by=by)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise RegisterError("This account already has a seat on the panel.") from None
    return member


@transaction.atomic
def panel_member_remove(*, member: PanelMember, by: User) -> None:
    member.cetr = Cetr.objects.select_for_update().get(pk=member.cetr_id)
    if not member.cetr.is_planned:
        raise RegisterError("The panel of a completed or cancelled C(E)TR is final.")
    set_change_reason(member, "Panel member removed", by=by)
    member.delete()


FINDINGS = ("finding_safe", "finding_good_care", "finding_future", "finding_community")


@transaction.atomic
def cetr_findings_record(*, cetr: Cetr, by: User, **findings: str) -> Cetr:
    """Record the four key questions' findings (register staff, or a panel member through the
    pack page)."""
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("The findings of a completed or cancelled C(E)TR are final.")
    for name in FINDINGS:
        if name in findings:
            setattr(cetr, name, findings[name])
    set_change_reason(cetr, "C(E)TR findings recorded", by=by)
    cetr.save()
    return cetr


def panel_gaps(panel: list[PanelMember]) -> list[str]:
    """What the panel lacks for a C(E)TR to be completed (rule 9)."""
    roles = {member.role for member in panel}
    gaps = [
        needed
        for role, needed in [
            (PanelMember.Role.CHAIR, "a chair"),
            (PanelMember.Role.CLINICAL_EXPERT, "an independent clinical expert"),
            (PanelMember.Role.EXPERT_BY_EXPERIENCE, "an independent expert by experience"),
        ]
        if role not in roles
    ]
    unregistered = [
        m.name
        for m in panel
        if m.role == PanelMember.Role.CLINICAL_EXPERT and not m.professional_registration.strip()
    ]
    if unregistered:
        gaps.append("the current professional registration of " + ", ".join(unregistered))
    undeclared = [m.name for m in panel if not m.conflicts_declared]
    if undeclared:
        gaps.append("conflicts of interest declared by " + ", ".join(undeclared))
    return gaps


@transaction.atomic
def cetr_complete(
    *,
    cetr: Cetr,
    held_on: date,
    by: User,
    report_sent_on: date | None = None,
    held_early_reason: str = "",
) -> Cetr:
    """Mark a C(E)TR held. Refused without the required panel (rule 9) or the four findings,
    and, when held before the date it was planned for, without saying why.
    For someone still in hospital the next inpatient C(E)TR falls due on the cadence of rule 8."""
    cetr = Cetr.objects.select_for_update(of=("self",)).select_related("person").get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("This C(E)TR is already closed.")
    today = timezone.localdate()
    if held_on > today:
        raise RegisterError("The C(E)TR cannot be completed before it is held.")
    if report_sent_on and not held_on <= report_sent_on <= today:
        raise RegisterError("The report is sent on or after the review, and not in the future.")
    early = cetr.scheduled_on is not None and held_on < cetr.scheduled_on
    if early and not held_early_reason.strip():
        raise RegisterError(
            f"The review was planned for {cetr.scheduled_on:%-d %B %Y}: say why it was held "
            "earlier, or correct the date it was held."
        )
    gaps = panel_gaps(list(cetr.panel.all()))
    if gaps:
        raise RegisterError("The C(E)TR cannot be completed without " + "; ".join(gaps) + ".")
    missing = [
        Cetr._meta.get_field(name).verbose_name
        for name in FINDINGS
        if not getattr(cetr, name).strip()
    ]
    if missing:
        raise RegisterError("Record the findings first: " + " ".join(missing))
    status_move(cetr, to=Cetr.Status.COMPLETED, by=by)
    cetr.held_on = held_on
    cetr.held_early_reason = held_early_reason.strip() if early else ""
    cetr.report_sent_on = report_sent_on
    cetr.completed_by = by
    # In hospital, inpatient C(E)TRs repeat (rule 8); a community C(E)TR has no cycle.
    admission = open_admission(cetr.person) if cetr.admission_id else None
    cetr.next_due_on = (
        deadlines.inpatient_cetr_next_due(
            held_on, is_child=cetr.person.age(held_on) < 18, secure=admission.is_secure
        )
        if admission is not None and admission.pk == cetr.admission_id
        else None
    )
    set_change_reason(cetr, "C(E)TR completed", by=by)
    cetr.save()
    return cetr


# A C(E)TR held before the register: what each finding says, as none was recorded here.
NOT_RECORDED = "Not recorded on the register: {source} gives only the date it was held."


@transaction.atomic
def cetr_record_held(
    *, person: Person, held_on: date, next_due_on: date | None, source: str, by: User
) -> Cetr:
    """Record a C(E)TR held before the register knew of it (the ICB's earlier register, brought
    across from its spreadsheet): the date it was held and when the next is due, which are what
    the register shows as the last C(E)TR and the next one due. Its panel, findings and report
    were never recorded here, so it does not move through planning and completion; each
    finding says it was not recorded, naming `source`, rather than inventing one.

    Held in hospital when held on or after the open admission's date (post-admission when no
    community C(E)TR came before it and none is recorded since, inpatient otherwise), in the
    community before that."""
    Person.objects.select_for_update().get(pk=person.pk)
    if held_on > timezone.localdate():
        raise RegisterError("The C(E)TR cannot be recorded as held in the future.")
    if next_due_on is not None and next_due_on < held_on:
        raise RegisterError("The next C(E)TR cannot be due before the last one was held.")
    admission = open_admission(person)
    kind = Cetr.Kind.COMMUNITY
    if admission is not None and held_on >= admission.admitted_on:
        owed = (
            not admission.community_cetr_before_admission and _last_hospital_cetr(admission) is None
        )
        kind = Cetr.Kind.POST_ADMISSION if owed else Cetr.Kind.INPATIENT
    else:
        admission = None
    note = NOT_RECORDED.format(source=source)
    cetr = Cetr(
        person=person,
        kind=kind,
        education_element=cetr_name(person, held_on) == "CETR",
        admission=admission,
        status=Cetr.Status.COMPLETED,
        held_on=held_on,
        next_due_on=next_due_on,
        completed_by=by,
        created_by=by,
        **dict.fromkeys(FINDINGS, note),
    )
    set_change_reason(cetr, "C(E)TR held before the register recorded", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_report_sent(*, cetr: Cetr, sent_on: date, by: User) -> Cetr:
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if cetr.status != Cetr.Status.COMPLETED:
        raise RegisterError("Complete the C(E)TR before recording that its report was sent.")
    if sent_on < cetr.held_on or sent_on > timezone.localdate():
        raise RegisterError("The report is sent on or after the review, and not in the future.")
    cetr.report_sent_on = sent_on
    set_change_reason(cetr, "C(E)TR report sent", by=by)
    cetr.save()
    return cetr


@transaction.atomic
def cetr_cancel(*, cetr: Cetr, reason: str, by: User) -> Cetr:
    cetr = Cetr.objects.select_for_update().get(pk=cetr.pk)
    if not cetr.is_planned:
        raise RegisterError("Only a planned C(E)TR can be cancelled.")
    if not reason.strip():
        raise RegisterError("Give the reason for cancelling.")
    status_move(cetr, to=Cetr.Status.CANCELLED, by=by, reason=reason)
    cetr.cancelled_reason = reason
    set_change_reason(cetr, "C(E)TR cancelled", by=by)
    cetr.save()
    return cetr
