"""Links for partners who own an action without an account (ACCESS.md "Action owner by link").

A link opens one page for one action: the short external summary the chair wrote for the
partner, the due date and the team's contact details, and a form to mark the action done or say
what is in the way. It expires, can be withdrawn (sending a new one, or changing the owner,
withdraws it), and every use is an ActionLinkUse row. The token is 64 hex characters made from
a random key and the secret key; only its SHA-256 is stored, and the email's link is made again
when the email is sent (as invitations do, dsr.accounts.invitations).
"""

import logging
import re
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dsr import tokens
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Person, User
from dsr.security.audit import current_request_id
from reviews.models import Action, ActionLink, ActionLinkUse
from reviews.notifications import notify_action_blocked, notify_action_link
from reviews.services.actions import action_close, action_links_withdraw

logger = logging.getLogger(__name__)

_TOKEN_SALT = "reviews.action_link"  # noqa: S105  (an HMAC salt, not a password)
DEFAULT_ACTION_LINK_DAYS = 28

# Words that give a health detail away in a summary read outside the NHS: the person's
# diagnoses, and admission to hospital.
_HEALTH_WORDS = re.compile(
    r"\b(autism|autistic|asd|learning disabilit\w*|diagnos\w*|mental health|sectioned|"
    r"mental health act|hospital|inpatient|admission|admitted|medication)\b",
    re.IGNORECASE,
)


def action_link_token(link: ActionLink) -> str:
    """The token of the link's email, made again from the secret key (or a fallback key, after
    a rotation). Raises RegisterError when no key gives the stored hash."""
    token = tokens.made_again(_TOKEN_SALT, str(link.key), link.token_hash)
    if token is not None:
        return token
    raise RegisterError("The link cannot be made again: send the owner a new one.")


def get_action_link(token: str) -> ActionLink | None:
    """The link whose email carries `token`, whatever its state (the token names one link, so
    one action, and the public URL carries no guessable id); None for a token that is not the
    right shape or belongs to no link."""
    rows = ActionLink.objects.select_related("action")
    return tokens.find(rows, token, field="token_hash", shape=tokens.KEYED)


def _dates(day: date) -> set[str]:
    formats = [
        "%d/%m/%Y",
        "%-d/%-m/%Y",
        "%d/%m/%y",
        "%d-%m-%Y",
        "%d.%m.%Y",
        "%Y-%m-%d",
        "%-d %B %Y",
        "%-d %b %Y",
        "%d %B %Y",
        "%B %-d %Y",
        "%-d %B",
    ]
    return {day.strftime(f).lower() for f in formats}


def summary_identifiers(summary: str, person: Person) -> list[str]:
    """What in `summary` would identify `person`, or give a health detail away, to someone
    outside the NHS: their names, NHS number, date of birth, postcode, or a health word."""
    text = " ".join(summary.lower().split())
    found = []
    for label, name in (("first name", person.given_name), ("last name", person.family_name)):
        name = name.strip().lower()
        if len(name) >= 2 and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            found.append(f"their {label}")
    digits = re.sub(r"\D", "", text)
    if person.nhs_number and person.nhs_number in digits:
        found.append("their NHS number")
    flat = re.sub(r"[,\s]+", " ", text)
    if any(day in flat for day in _dates(person.date_of_birth)):
        found.append("their date of birth")
    postcode = person.postcode.replace(" ", "").lower()
    if postcode and postcode in text.replace(" ", ""):
        found.append("their postcode")
    health = _HEALTH_WORDS.search(text)
    if health:
        found.append(f"a health detail (\u201c{health.group(0)}\u201d)")
    return found


def check_external_summary(summary: str, person: Person) -> None:
    """Refuse a summary that identifies the person or gives a health detail away."""
    if not summary.strip():
        raise RegisterError("Write a short summary of the action for the partner.")
    found = summary_identifiers(summary, person)
    if found:
        raise RegisterError(
            "The summary is read outside the NHS, so it must not identify the person. Take out "
            + ", ".join(found)
            + "."
        )


@transaction.atomic
def action_link_send(*, action: Action, summary: str, email: str, by: User) -> ActionLink:
    """Email the action's owner (a partner without an account) a link to their action.

    Refused for an owner with an account (they sign in), a closed action, or a summary that
    identifies the person (`check_external_summary`). A link already working is withdrawn: one
    works at a time. Queues one email, delivered after commit, whose link is made when it is
    sent."""
    action = Action.objects.select_for_update().select_related("person").get(pk=action.pk)
    if action.owner_id is not None:
        raise RegisterError("The owner has an account: they sign in to record the action.")
    if action.status != Action.Status.OPEN:
        raise RegisterError("This action is closed: reopen it before sending a link.")
    if not email.strip():
        raise RegisterError("Enter the owner's email address.")
    check_external_summary(summary, action.person)
    action_links_withdraw(action, by=by, reason="A new link was sent.")
    now = timezone.now()
    days = getattr(settings, "DSR_ACTION_LINK_DAYS", DEFAULT_ACTION_LINK_DAYS)
    link = ActionLink(
        action=action,
        summary=summary.strip(),
        sent_to_name=action.owner_name,
        sent_to_organisation=action.owner_organisation,
        email=email.strip(),
        key=uuid.uuid4(),
        expires_at=now + timedelta(days=days),
        sent_by=by,
    )
    link.token_hash = tokens.digest(tokens.keyed(_TOKEN_SALT, str(link.key)))
    set_change_reason(link, "Link sent to the action's owner", by=by)
    link.save()
    notify_action_link(link)
    logger.info("action link sent link=%s action=%s by=%s", link.pk, action.pk, by.pk)
    return link


@transaction.atomic
def action_link_withdraw(
    *, action: Action, by: User, reason: str = "Withdrawn by the team."
) -> int:
    """Stop the action's working link at once. Returns how many were withdrawn (0 when none
    was working)."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    withdrawn = action_links_withdraw(action, by=by, reason=reason)
    logger.info("action link withdrawn action=%s by=%s count=%s", action.pk, by.pk, withdrawn)
    return withdrawn


def _use(link: ActionLink, kind: str, note: str = "") -> ActionLinkUse:
    return ActionLinkUse.objects.create(
        link=link, kind=kind, note=note, request_id=current_request_id()
    )


@transaction.atomic
def action_link_open(*, link: ActionLink) -> str:
    """Record the page opened through the link (or refused, when the link no longer works) and
    return the link's state."""
    link = ActionLink.objects.select_for_update().get(pk=link.pk)
    state = link.state(timezone.now())
    _use(
        link,
        ActionLinkUse.Kind.OPENED
        if state == ActionLink.Status.ACTIVE
        else ActionLinkUse.Kind.REFUSED,
    )
    return state


def action_link_report(*, link: ActionLink, done: bool, note: str) -> Action:
    """The partner marks their action done (with an optional note) or says what is in the way
    (the note is required). Once the link has expired or been withdrawn it is refused, and the
    refusal is kept as a row; a closed action is refused too. Done closes the action naming the
    partner; what is in the way is a row the team sees on the action and the timeline, and an
    email to the team's mailbox."""
    with transaction.atomic():
        link = ActionLink.objects.select_for_update().get(pk=link.pk)
        working = link.state(timezone.now()) == ActionLink.Status.ACTIVE
        if not working:
            _use(link, ActionLinkUse.Kind.REFUSED)
        else:
            action = Action.objects.select_for_update().get(pk=link.action_id)
            if action.status != Action.Status.OPEN:
                raise RegisterError("This action is already closed: nothing more is needed.")
            if done:
                action = action_close(
                    action=action, status=Action.Status.DONE, note=note, by=None, link=link
                )
                _use(link, ActionLinkUse.Kind.DONE, note)
            else:
                if not note.strip():
                    raise RegisterError("Say what is in the way.")
                notify_action_blocked(_use(link, ActionLinkUse.Kind.BLOCKED, note))
            logger.info("action link used link=%s action=%s done=%s", link.pk, action.pk, done)
            return action
    # Outside the block: the refusal row stays.
    raise RegisterError("This link no longer works.")


def expiry_of(link: ActionLink) -> str:
    return f"{timezone.localtime(link.expires_at):%-d %B %Y}"
