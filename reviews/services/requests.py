"""Writes for C(E)TR requests: received, arranged or declined, and the requester told."""

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from dsr.deadlines import cetr_request_decision_due
from dsr.exceptions import RegisterError
from dsr.history import set_change_reason
from dsr.models import Person, User
from dsr.nhsuk.intake import submission_save
from reviews.models import (
    Cetr,
    CetrRequest,
)
from reviews.notifications import notify_cetr_requester
from reviews.services.cetrs import cetr_plan
from reviews.services.transitions import status_move

logger = logging.getLogger(__name__)


def cetr_request_submit(
    *,
    fields: dict[str, Any],
    channel: str,
    submission_token: uuid.UUID,
    entered_by: User | None = None,
    saved: Callable[[CetrRequest], None] | None = None,
) -> CetrRequest:
    """Save a C(E)TR request and acknowledge it to the requester, all or nothing. The same
    submission token twice returns the first request and writes nothing more. `saved(request)`
    runs last in the same transaction (the public form writes its visitor's session there)."""
    # No look for the token first: the insert is refused on it, and `submission_save` then
    # returns the request that has it (one round trip fewer for every request sent).
    received_at = timezone.now()

    def save(reference: str) -> CetrRequest:
        request = CetrRequest(
            **fields,
            reference=reference,
            submission_token=submission_token,
            channel=channel,
            received_at=received_at,
            entered_by=entered_by,
        )
        set_change_reason(request, "C(E)TR request received", by=entered_by)
        request.save()
        notify_cetr_requester(
            request,
            "cetr_request_received",
            received_on=f"{timezone.localdate(received_at):%-d %B %Y}",
            decision_due=f"{cetr_request_decision_due(received_at):%-d %B %Y}",
        )
        return request

    return submission_save(
        CetrRequest,
        submission_token=submission_token,
        prefix="CR",
        year=timezone.localdate(received_at).year,
        save=save,
        refused="The request could not be saved: check how we should contact you.",
        saved=saved,
    )


@transaction.atomic
def cetr_request_arrange(*, request: CetrRequest, person: Person, kind: str, by: User) -> Cetr:
    """Accept a request: plan the C(E)TR for the person it is about and tell the requester."""
    request = CetrRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != CetrRequest.Status.RECEIVED:
        raise RegisterError("This request has already been triaged.")
    cetr = cetr_plan(person=person, kind=kind, by=by)
    status_move(request, to=CetrRequest.Status.ARRANGED, by=by)
    request.person = person
    request.cetr = cetr
    request.triaged_at = timezone.now()
    request.triaged_by = by
    set_change_reason(request, "C(E)TR request arranged", by=by)
    request.save()
    notify_cetr_requester(request, "cetr_request_arranged")
    return cetr


@transaction.atomic
def cetr_request_decline(
    *, request: CetrRequest, reason: str, by: User, person: Person | None = None
) -> CetrRequest:
    """Decline a request and tell the requester: the reason, written for them, goes in a
    letter; an email says only that no review is being arranged."""
    request = CetrRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != CetrRequest.Status.RECEIVED:
        raise RegisterError("This request has already been triaged.")
    if not reason.strip():
        raise RegisterError("Give the reason, written for the person who asked.")
    status_move(request, to=CetrRequest.Status.DECLINED, by=by, reason=reason)
    request.decline_reason = reason
    request.person = person
    request.triaged_at = timezone.now()
    request.triaged_by = by
    set_change_reason(request, "C(E)TR request declined", by=by)
    request.save()
    # Emails carry no details beyond the outcome (ACCESS.md): the reason goes in a letter.
    # Someone who asked by email and gave no address hears the reason from the team.
    notify_cetr_requester(request, "cetr_request_declined", reason=reason)
    if request.contact_by == CetrRequest.ContactBy.EMAIL and request.requester_address:
        notify_cetr_requester(request, "cetr_request_declined", letter=True, reason=reason)
    return request
