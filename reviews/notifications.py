"""The messages reviews owe (STYLE point 8): each `notify_<event>` adds them to the outbox."""

from typing import Any

from django.conf import settings
from django.db.backends.utils import CursorWrapper

from dsr.models import Notification
from dsr.outbox import Sql, message, outbox_add, outbox_add_selected
from reviews.models import ActionLink, ActionLinkUse, CetrRequest

REQUEST_SUBJECT = "reviews.cetrrequest"
ACTION_SUBJECT = "reviews.action"
ACTION_LINK_SUBJECT = "reviews.actionlink"


def notify_cetr_requester(
    request: CetrRequest, kind: str, *, letter: bool = False, **context: Any
) -> Notification:
    """One message to the requester, in the way they asked to be told (or by letter when
    `letter` is set)."""
    by_letter = letter or request.contact_by == CetrRequest.ContactBy.LETTER
    [notification] = outbox_add(
        [
            message(
                subject_type=REQUEST_SUBJECT,
                subject_id=request.pk,
                local_authority_id=request.local_authority_id,
                kind=kind,
                recipient_key="requester-letter" if letter else "requester",
                recipient_name=request.requester_name,
                recipient_role=request.get_relationship_display(),
                letter=by_letter,
                email=request.requester_email,
                postal_address=request.requester_address,
                context={
                    "reference": request.reference,
                    # Who the review is for: the requester themself, or someone they name.
                    "person_first_name": request.given_name,
                    "for_self": request.relationship == CetrRequest.Relationship.SELF,
                    **context,
                },
            )
        ]
    )
    return notification


def notify_action_owners(cursor: CursorWrapper, kind: str, source: str, params: list[Any]) -> int:
    """An email to the owner of each action in `source` (actions `s`, people `p`, owners `u`,
    joined): a user at their email, a named owner at theirs, otherwise the DSR team's mailbox.
    One per due date, so a new due date is reminded afresh."""
    return outbox_add_selected(
        cursor,
        source=source,
        params=params,
        subject_type=ACTION_SUBJECT,
        subject_id=Sql("s.id"),
        local_authority_id=Sql("p.local_authority_id"),
        kind=kind,
        recipient_key=Sql("'owner-' || CAST(s.due_on AS VARCHAR(20))"),
        recipient_name=Sql("COALESCE(u.full_name, s.owner_name)"),
        recipient_role="Action owner",
        email=Sql(
            "COALESCE(NULLIF(u.email, ''), NULLIF(s.owner_email, ''), %s)", settings.DSR_TEAM_EMAIL
        ),
    )


def notify_action_link(link: ActionLink) -> Notification:
    """The email with a partner's link to their action. It names neither the person nor the
    action's detail: the link and its expiry are made when it is sent (reviews.contributions.
    action_link_context), which refuses a link withdrawn meanwhile, so it is never sent."""
    [notification] = outbox_add(
        [
            message(
                subject_type=ACTION_LINK_SUBJECT,
                subject_id=link.pk,
                local_authority_id=link.action.person.local_authority_id,
                kind="action_link",
                recipient_key="owner",
                recipient_name=link.sent_to_name,
                recipient_role="Action owner (by link)",
                email=link.email,
            )
        ]
    )
    return notification


def notify_action_blocked(use: ActionLinkUse) -> Notification:
    """An email to the DSR team's mailbox: a partner says something is in the way of their
    action. It gives the action's number only; the team reads what they said after signing in."""
    link = use.link
    [notification] = outbox_add(
        [
            message(
                subject_type=ACTION_SUBJECT,
                subject_id=link.action_id,
                local_authority_id=link.action.person.local_authority_id,
                kind="action_blocked",
                recipient_key=f"team-blocked-{use.pk}",
                recipient_name="DSR team",
                recipient_role="DSR team",
                email=settings.DSR_TEAM_EMAIL,
                context={"partner": link.sent_to_label},
            )
        ]
    )
    return notification
