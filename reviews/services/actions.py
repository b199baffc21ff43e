"""Writes for agreed actions: each has an owner and a due date, reminded before and on the day
(rule 11)."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Person, User
from reviews.models import (
    Action,
    ActionLink,
    AgendaItem,
    Cetr,
    Meeting,
    OversightVisit,
)
from reviews.models.actions import THROUGH_THEIR_LINK
from reviews.notifications import notify_action_owners
from reviews.services.transitions import status_move

logger = logging.getLogger(__name__)


DEFAULT_ACTION_REMINDER_DAYS = 3


@dataclass(frozen=True)
class Owner:
    """Who owns an action: a user, or a named person and organisation without an account."""

    user: User | None = None
    name: str = ""
    organisation: str = ""
    email: str = ""


def _check_owner(owner: Owner, person: Person) -> None:
    if owner.user is None and not owner.name.strip():
        raise RegisterError("Choose who owns the action, or give their name and organisation.")
    if owner.user is not None and any(
        value.strip() for value in (owner.name, owner.organisation, owner.email)
    ):
        # Never drop what was typed in silence: the user meant one of the two.
        raise RegisterError(
            "Choose an owner with an account, or enter the name of someone without one, not both."
        )
    if (
        owner.user is not None
        and not Person.objects.visible_to(owner.user).filter(pk=person.pk).exists()
    ):
        raise RegisterError(
            f"{owner.user.full_name} cannot see {person.full_name}'s record, so cannot own this "
            "action. Name them without an account instead."
        )


@transaction.atomic
def action_create(
    *,
    person: Person,
    description: str,
    owner: Owner,
    agency: str,
    due_on: date,
    by: User,
    agenda_item: AgendaItem | None = None,
    cetr: Cetr | None = None,
    visit: OversightVisit | None = None,
) -> Action:
    """Agree an action (rule 11: an owner and a due date, always)."""
    if not description.strip():
        raise RegisterError("Describe the action.")
    _check_owner(owner, person)
    if agenda_item is not None:
        source = Action.Source.MEETING
        if not Meeting.objects.filter(
            pk=agenda_item.meeting_id, status=Meeting.Status.PLANNED
        ).exists():
            raise RegisterError(
                "The minutes of a meeting that has been held or cancelled are final: agree the "
                "action at the next meeting."
            )
    elif cetr is not None:
        source = Action.Source.CETR
        if cetr.status == Cetr.Status.CANCELLED:
            raise RegisterError("This C(E)TR was cancelled.")
    elif visit is not None:
        source = Action.Source.OVERSIGHT_VISIT
    else:
        raise RegisterError("An action is agreed at a meeting, a C(E)TR or an oversight visit.")
    action = Action(
        person=person,
        source=source,
        agenda_item=agenda_item,
        cetr=cetr,
        visit=visit,
        description=description,
        owner=owner.user,
        owner_name="" if owner.user else owner.name,
        owner_organisation="" if owner.user else owner.organisation,
        owner_email="" if owner.user else owner.email,
        agency=agency,
        due_on=due_on,
        created_by=by,
    )
    set_change_reason(action, "Action agreed", by=by)
    action.save()
    return action


def action_links_withdraw(action: Action, *, by: User, reason: str) -> int:
    """Stop the action's working link to a partner (reviews.services.links), if any; returns
    how many were withdrawn. Callers hold a transaction and the action's row lock."""
    withdrawn = 0
    for link in ActionLink.objects.select_for_update().filter(
        action=action, status=ActionLink.Status.ACTIVE
    ):
        link.status = ActionLink.Status.WITHDRAWN
        link.withdrawn_at = timezone.now()
        link.withdrawn_by = by
        link.withdrawn_reason = reason
        set_change_reason(link, f"Link withdrawn: {reason}"[:100], by=by)
        link.save()
        withdrawn += 1
    return withdrawn


@transaction.atomic
def action_change(
    *, action: Action, by: User, description: str, owner: Owner, agency: str, due_on: date
) -> Action:
    action = Action.objects.select_related("person").select_for_update().get(pk=action.pk)
    if action.status != Action.Status.OPEN:
        raise RegisterError("This action is closed: reopen it to change it.")
    _check_owner(owner, action.person)
    new_owner = (owner.user.pk, "", "") if owner.user else (None, owner.name, owner.organisation)
    if new_owner != (action.owner_id, action.owner_name, action.owner_organisation):
        # The old owner's link must not close an action that is no longer theirs.
        action_links_withdraw(action, by=by, reason="The action's owner changed.")
    action.description = description
    action.owner = owner.user
    action.owner_name = "" if owner.user else owner.name
    action.owner_organisation = "" if owner.user else owner.organisation
    action.owner_email = "" if owner.user else owner.email
    action.agency = agency
    action.due_on = due_on
    set_change_reason(action, "Action changed", by=by)
    action.save()
    return action


@transaction.atomic
def action_close(
    *,
    action: Action,
    status: str,
    note: str,
    by: User | None,
    on: date | None = None,
    link: ActionLink | None = None,
) -> Action:
    """Mark an action done (with an optional completion note) or cancelled (with the reason),
    by a user, or by the partner who owns it through their `link` (reviews.services.links),
    whom the record and its history then name."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status != Action.Status.OPEN:
        raise RegisterError("This action is already closed.")
    if status not in (Action.Status.DONE, Action.Status.CANCELLED):
        raise RegisterError("Choose done or cancelled.")
    if status == Action.Status.CANCELLED and not note.strip():
        raise RegisterError("Give the reason for cancelling the action.")
    status_move(action, to=status, by=by, reason=note, link=link)
    action.completion_note = note
    action.closed_on = on or timezone.localdate()
    action.closed_by = by
    action.closed_by_partner = link.sent_to_label if link is not None else ""
    reason = f"Action {action.get_status_display().lower()}"
    if link is not None:
        reason = f"{reason} by {link.sent_to_label} {THROUGH_THEIR_LINK}"[:100]
    set_change_reason(action, reason, by=by)
    action.save()
    return action


@transaction.atomic
def action_reopen(*, action: Action, by: User) -> Action:
    action = Action.objects.select_for_update().get(pk=action.pk)
    if action.status == Action.Status.OPEN:
        raise RegisterError("This action is already open.")
    status_move(action, to=Action.Status.OPEN, by=by)
    action.closed_on = None
    action.closed_by = None
    action.closed_by_partner = ""
    set_change_reason(action, "Action reopened", by=by)
    action.save()
    return action


def action_reminder_sweep(*, today: date | None = None) -> dict[str, int]:
    """Insert, set-based, a reminder and an email to the owner for each open action coming due
    within `DSR_ACTION_REMINDER_DAYS` (3) days ("before"), and for each due today ("due"). An
    action entered already overdue is not told it is due today: it shows as overdue in "my
    actions", on the dashboard and on the agenda. The stage carries the due date, so a new due
    date is reminded afresh; unique keys make a second run add nothing. The owner is a user
    (their email), or a named owner with an email; an owner without one is reminded through
    the DSR team's mailbox."""
    today = today or timezone.localdate()
    now = timezone.now()
    days = getattr(settings, "DSR_ACTION_REMINDER_DAYS", DEFAULT_ACTION_REMINDER_DAYS)
    counts = {"reminders": 0, "notifications": 0}
    base = (
        "FROM reviews_action s JOIN dsr_person p ON p.id = s.person_id"
        " LEFT JOIN dsr_user u ON u.id = s.owner_id"
        " WHERE s.status = 'open'"
    )
    stages = [
        (
            "before",
            "action_due_soon",
            f"{base} AND s.due_on > %s AND s.due_on <= %s",
            [today, today + timedelta(days=days)],
        ),
        ("due", "action_due", f"{base} AND s.due_on = %s", [today]),
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for stage, kind, source, params in stages:
            cursor.execute(
                "INSERT INTO dsr_reminder (subject_type, subject_id, kind, stage, due_on,"
                " created_at) SELECT 'reviews.action', s.id, %s,"
                " %s || '-' || CAST(s.due_on AS VARCHAR(20)), s.due_on, %s"
                f" {source} ON CONFLICT (subject_type, subject_id, kind, stage) DO NOTHING",
                ["action_due", stage, now, *params],
            )
            counts["reminders"] += cursor.rowcount
            counts["notifications"] += notify_action_owners(cursor, kind, source, params)
    logger.info("action reminder sweep %s", counts)
    return counts
