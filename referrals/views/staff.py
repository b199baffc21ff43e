"""The staff referral pages: the queue, staff entry, a referral and the moves of its review, the
attachment download, and a professional referrer's own list (with the way to start another).

Reviewing and deciding: roles with dsr.manage_referrals (register staff and the DSR lead); every
other role gets 403 (`role_required`). Each page that shows or changes one referral gets it
through `get_referral_for_user` only, so a referral out of the user's scope answers 404. Each
action validates a form, calls one service, shows the service's refusal on the form as an NHS.UK
error (the service's transaction has then written nothing), or redirects to the referral page.
Reading a referral or downloading its attachment writes an access-log row.
"""

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.request import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dsr.models import (
    AccessEvent,
    AccessibleFormat,
    CoOccurring,
    Notification,
    RiskFactor,
)
from dsr.nhsuk.validators import format_nhs_number
from dsr.queries import local_authorities_for
from dsr.security.access import role_required
from dsr.security.audit import access_log_record
from dsr.views.paging import cursor_from, query_of
from referrals import queries, services
from referrals.forms.staff import StaffReferralForm
from referrals.forms.staff_review import (
    QueueFilterForm,
)
from referrals.models import Referral, ReferralAttachment, ReferralContact, ReferralTransition
from referrals.queries import QueueFilters, get_referral_for_user

logger = logging.getLogger(__name__)

MANAGE = "dsr.manage_referrals"
OWN = "dsr.view_own_referrals"

# Access-log actions for referrals. AccessEvent.Action does not list them yet (a model change
# is needed for their labels); the rows are written now so that no read goes unlogged.
VIEW_REFERRAL = AccessEvent.Action.VIEW_REFERRAL
DOWNLOAD_ATTACHMENT = AccessEvent.Action.DOWNLOAD_ATTACHMENT

# A referral id in the `after` cursor: ASCII digits only, short enough for a bigint.
# What a download name keeps of the name it was uploaded with: letters, digits, dot, dash,
# underscore and space; everything else (paths, quotes, control characters) becomes "_".
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
GENERIC_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


# --- Shared helpers --------------------------------------------------------------------------


def posted(request: HttpRequest) -> QueryDict | None:
    """The posted data to bind a form to, or None on GET. An empty POST still binds, so a
    form with nothing to fill in (or everything left blank) is validated, not redrawn."""
    return request.POST if request.method == "POST" else None


def _log_read(request: HttpRequest, referral: Referral, action: str, **detail: Any) -> None:
    access_log_record(
        user=request.user,
        person=referral.person,
        action=action,
        path=request.path,
        detail={"referral": referral.pk, **detail},
    )


# --- The queue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    """A referral in the queue with its days left worked out for today (never stored)."""

    referral: Referral
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def due_this_week(self) -> bool:
        return 0 <= self.days_left <= queries.DUE_SOON_DAYS


def _queue_filters(
    request: HttpRequest,
) -> tuple[QueueFilterForm, QueueFilters | None]:
    form = QueueFilterForm(request.GET, local_authorities=local_authorities_for(request.user))
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    area = data["local_authority"]
    return form, QueueFilters(
        status=data["status"],
        assigned=data["assigned"],
        due=data["due"],
        local_authority=area.pk if area else None,
        sort=data["sort"] or "due",
    )


@require_GET
@role_required(MANAGE)
def queue(request: HttpRequest) -> HttpResponse:
    """Every live referral in the user's areas that heads its own chain (duplicates show on
    their first referral's page), filtered and sorted by the query string, one keyset page at
    a time (`after` is the id of the last referral on the previous page).

    Invalid filters show the NHS.UK error summary and no rows. Runs the same number of queries
    whatever the number of referrals (T1): the count, the cursor, the page and the filter's
    local authority choices.
    """
    today = timezone.localdate()
    form, filters = _queue_filters(request)
    after = cursor_from(request)
    page = None
    rows: list[QueueRow] = []
    next_url = first_url = ""
    if filters is not None:
        page = queries.queue_page(request.user, filters, today, after=after)
        rows = [QueueRow(referral=r, days_left=r.days_left(today)) for r in page.rows]
        base = reverse("referrals:queue")
        names = QueueFilterForm.base_fields
        if page.next_after is not None:
            next_url = f"{base}?{query_of(request, names, after=str(page.next_after))}"
        if after is not None:
            query = query_of(request, names)
            first_url = f"{base}?{query}" if query else base
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "next_url": next_url,
        "first_url": first_url,
        "today": today,
    }
    return render(request, "referrals/staff_queue.html", context)


# --- Staff entry -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(MANAGE)
def create(request: HttpRequest) -> HttpResponse:
    """Enter a referral received on paper, by email or by phone, on the referrer's behalf.

    The hidden submission token makes a second post of the same page return the first
    referral (referral_submit), so a double click makes one referral.
    """
    form = StaffReferralForm(posted(request), local_authorities=local_authorities_for(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        referral = services.referral_submit(
            fields=form.referral_fields(),
            contacts=form.contacts(),
            source=data["source"],
            referrer_kind=data["referrer_kind"],
            submission_token=data["submission_token"],
            entered_by=request.user,
            received_at=data["received_at"],
        )
        logger.info("referral entered by staff referral=%s user=%s", referral.pk, request.user.pk)
        if referral.duplicate_of_id:
            messages.success(
                request,
                "Referral recorded. The person already has a live referral, so this one is "
                "linked to it.",
            )
        else:
            messages.success(request, "Referral recorded.")
        return redirect(referral)
    return render(request, "referrals/staff_create.html", {"form": form})


# --- The referral page -----------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    contact: ReferralContact
    told: bool


@dataclass(frozen=True)
class RecipientRow:
    name: str
    role: str
    channel: str
    format: str


@dataclass(frozen=True)
class TransitionRow:
    transition: ReferralTransition
    from_label: str
    to_label: str


def _labels(values: list[str], choices: Any) -> str:
    """Stored codes as their labels, in the order given ("easy_read" -> "Easy read")."""
    names = dict(choices)
    return ", ".join(str(names.get(value, value)) for value in values)


def _status_label(status: str) -> str:
    return Referral.Status(status).label if status else "New"


def _detail_context(request: HttpRequest, referral: Referral) -> dict[str, Any]:
    today = timezone.localdate()
    page = queries.referral_page(referral, request.user)
    told = {recipient.key for recipient in page.recipients}
    formats = dict(ReferralContact.Format.choices)
    live = referral.is_live
    return {
        "referral": referral,
        "page": page,
        "today": today,
        "due": QueueRow(referral=referral, days_left=referral.days_left(today)),
        "nhs_number": format_nhs_number(referral.nhs_number),
        "co_occurring": _labels(referral.co_occurring, CoOccurring.choices),
        "risk_factors": _labels(referral.risk_factors, RiskFactor.choices),
        "accessible_formats": _labels(referral.accessible_formats, AccessibleFormat.choices),
        "contact_rows": [ContactRow(c, f"contact-{c.pk}" in told) for c in page.contacts],
        "recipient_rows": [
            RecipientRow(
                name=r.name,
                role=r.role,
                channel=Notification.Channel(r.channel).label,
                format=formats.get(r.accessible_format, r.accessible_format),
            )
            for r in page.recipients
        ],
        "transition_rows": [
            TransitionRow(t, _status_label(t.from_status), _status_label(t.to_status))
            for t in page.transitions
        ],
        "can_start_review": referral.can_transition(Referral.Status.UNDER_REVIEW),
        "can_request_information": referral.can_transition(Referral.Status.MORE_INFO),
        "can_record_review": live,
        "can_assign": live,
        "can_decide": any(referral.can_transition(d) for d in Referral.DECISIONS),
        "can_change_recipients": live,
    }


@require_GET
@role_required(MANAGE)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything submitted, the duplicate guard, the history of moves, who will be told the
    outcome (and, once decided, the outbox messages), and the moves the table allows now.
    A constant number of queries whatever the number of contacts or transitions."""
    referral = get_referral_for_user(request.user, pk)
    context = _detail_context(request, referral)
    _log_read(request, referral, VIEW_REFERRAL)
    return render(request, "referrals/staff_detail.html", context)


# --- Attachments -----------------------------------------------------------------------------


def download_name(original: str) -> str:
    """A safe name to offer for download: the last path part of the uploaded name, with
    anything but letters, digits, dot, dash, underscore and space replaced, at most 100
    characters, never hidden or empty."""
    name = original.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" .")
    if len(name) > 100:
        stem, dot, extension = name.rpartition(".")
        name = (
            f"{stem[: 99 - len(extension)]}.{extension}"
            if dot and len(extension) <= 10
            else name[:100]
        )
    return name or "attachment"


@require_GET
@role_required(MANAGE)
def attachment(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """Stream one attachment of a referral the user may see, always as a download (never shown
    in the browser), under a sanitised name and the content type checked at upload."""
    referral = get_referral_for_user(request.user, pk)
    try:
        stored: ReferralAttachment = queries.get_attachment_for_referral(referral, attachment_pk)
    except ReferralAttachment.DoesNotExist as exc:
        raise Http404 from exc
    content_type = stored.content_type.strip().lower()
    if not _CONTENT_TYPE.fullmatch(content_type):
        content_type = GENERIC_CONTENT_TYPE
    _log_read(request, referral, DOWNLOAD_ATTACHMENT, attachment=stored.pk)
    logger.info(
        "referral attachment downloaded referral=%s attachment=%s user=%s",
        referral.pk,
        stored.pk,
        request.user.pk,
    )
    response = FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=download_name(stored.original_name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- A professional referrer's own referrals -------------------------------------------------


# Where a referral stands, in the words its referrer is told.
OWN_STATUS = {
    Referral.Status.RECEIVED: "Received, not yet reviewed",
    Referral.Status.UNDER_REVIEW: "Being reviewed",
    Referral.Status.MORE_INFO: "We have asked for more information",
    Referral.Status.ADDED: "Added to the register",
    Referral.Status.NOT_ELIGIBLE: "Not eligible for the register",
    Referral.Status.WITHDRAWN: "Withdrawn",
}


@dataclass(frozen=True)
class OwnRow:
    """One of a referrer's referrals, its status in plain words and whether its decision is
    late today (worked out when read)."""

    referral: Referral
    status: str
    late: bool


@require_GET
@role_required(OWN)
def mine(request: HttpRequest) -> HttpResponse:
    """The referrals the user submitted: reference, the person as they named them, dates and
    where each stands in plain words. Nothing else about the person, and no one else's
    referrals (ACCESS.md). One query for the rows, whatever their number."""
    today = timezone.localdate()
    after = cursor_from(request)
    page = queries.own_referrals_page(request.user, after=after)
    base = reverse("referrals:mine")
    context = {
        "rows": [OwnRow(r, OWN_STATUS[r.status], r.is_overdue(today)) for r in page.rows],
        "start_url": queries.start_url_for(request.user),
        "next_url": f"{base}?after={page.next_after}" if page.next_after is not None else "",
        "first_url": base if after is not None else "",
    }
    return render(request, "referrals/staff_mine.html", context)
