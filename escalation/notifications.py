"""The messages escalations owe (STYLE point 8): emails to the owners at an escalation's level,
and to oversight for an admission to a hospital rated inadequate. They carry the level and the
deadline, never the person or the reason (emails carry no health details)."""

from django.conf import settings

from dsr.outbox import message, outbox_add
from escalation import rules
from escalation.models import Escalation
from escalation.queries import owners_for

SUBJECT = "escalation.escalation"


def notify_escalation_owners(escalations: list[Escalation], kind: str) -> int:
    """An email to each owner at each escalation's level: the level and the deadline, never the
    person or the reason (emails carry no health details)."""
    owners = owners_for((e.local_authority_id, e.level) for e in escalations)
    return len(
        outbox_add(
            (
                message(
                    subject_type=SUBJECT,
                    subject_id=escalation.pk,
                    local_authority_id=escalation.local_authority_id,
                    kind=kind,
                    recipient_key=f"user-{user.pk}-level-{escalation.level}",
                    recipient_name=user.full_name,
                    recipient_role=rules.level_name(escalation.level),
                    email=user.email,
                )
                for escalation in escalations
                for user in owners[(escalation.local_authority_id, escalation.level)]
            ),
            ignore_conflicts=True,
        )
    )


def notify_inadequate_hospital_admission(escalations: list[Escalation]) -> int:
    """DOMAIN rule 13: an admission to a hospital the CQC rates inadequate is notified to the
    ICB's chief executive, the NHS England region and the host commissioner: the addresses in
    `DSR_INADEQUATE_HOSPITAL_RECIPIENTS` ((name, email) pairs), one message each, no personal
    details in it."""
    recipients = getattr(settings, "DSR_INADEQUATE_HOSPITAL_RECIPIENTS", [])
    return len(
        outbox_add(
            (
                message(
                    subject_type=SUBJECT,
                    subject_id=escalation.pk,
                    local_authority_id=escalation.local_authority_id,
                    kind="inadequate_hospital_admission",
                    recipient_key=f"oversight-{number}",
                    recipient_name=name,
                    recipient_role="Oversight",
                    email=email,
                )
                for escalation in escalations
                for number, (name, email) in enumerate(recipients)
            ),
            ignore_conflicts=True,
        )
    )
