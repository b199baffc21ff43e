"""Escalation pages.

- The queue: roles with dsr.view_escalation_queue (senior managers, and the register team), only
  people in their scope; filters in the URL; keyset pages.
- The summary: the executive lead (dsr.view_escalation_summary): counts by level and age, and
  the escalations at the top level with their people.
- An escalation: anyone who may see it (Escalation.objects.visible_to; 404 otherwise).
  Acknowledging and resolving: dsr.act_on_escalations, and only an owner at its level or above
  (the service refuses on the page). Every escalation about a person at once: the same owners,
  from the queue or an escalation's page. Notes: owners and the register team. Raising by
  hand: the register team, from the person's page.

Every page that names people writes access-log rows.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dsr.models import AccessEvent, Notification
from dsr.nhsuk.form_page import form_page
from dsr.queries import get_person_for_user
from dsr.security.access import role_required
from dsr.security.audit import access_log_people, access_log_record
from dsr.views.paging import query_of
from escalation import forms, queries, rules, services
from escalation.fixes import fix_for
from escalation.models import Escalation
from escalation.notifications import SUBJECT
from escalation.permissions import can_act
from escalation.queries import (
    TOP_LIST,
    QueueFilters,
    get_escalation_for_user,
    queue_choices,
    queue_page,
    summary_for,
)

QUEUE = "dsr.view_escalation_queue"
SUMMARY = "dsr.view_escalation_summary"
ACT = "dsr.act_on_escalations"
FILTERS = ("local_authority", "organisation", "level", "past_deadline")


@require_GET
@role_required(QUEUE)
def queue(request: HttpRequest) -> HttpResponse:
    form = forms.QueueFilterForm(request.GET or None, choices=queue_choices(request.user))
    filters = QueueFilters()
    if form.is_bound and form.is_valid():
        filters = QueueFilters(
            **{name: form.cleaned_data[name] or None for name in FILTERS}  # unticked: no filter
        )
    page = queue_page(request.user, filters, after=request.GET.get("after", ""))
    access_log_people(
        user=request.user,
        people_ids=[row.person.pk for row in page.rows],
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"page": "escalation queue", **filters.as_detail()},
    )
    level = rules.level_for(request.user)
    may_act = request.user.has_perm(ACT) and level > 0
    # The escalations the user owns (their level, or the level it was raised to: can_act,
    # without a query per escalation; the page's scope is the user's already).
    mine = {
        e.pk
        for row in page.rows
        for e in row.escalations
        if may_act and (level >= e.level or e.raised_level <= level)
    }
    for row in page.rows:
        # How many of the person's waiting escalations the user may acknowledge at once.
        row.mine_waiting = sum(1 for e in row.waiting if e.pk in mine)
    context = {
        "form": form if form.is_bound and form.errors else None,
        "filter_form": form,
        "page": page,
        "counts": page.counts,
        "today": timezone.localdate(),
        "mine": mine,
        "next_url": f"?{query_of(request, FILTERS, after=page.next_after)}"
        if page.next_after
        else "",
        "first_url": f"?{query_of(request, FILTERS)}" if request.GET.get("after") else "",
        # The filters, for the acknowledge and resolve links to come back to.
        "return_query": query_of(request, FILTERS, **{"from": "queue"}),
    }
    return render(request, "escalation/queue.html", context)


@require_GET
@role_required(SUMMARY)
def summary(request: HttpRequest) -> HttpResponse:
    result = summary_for(request.user, timezone.localdate())
    access_log_people(
        user=request.user,
        people_ids=sorted({e.person_id for e in result.top_people if e.person_id}),
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"page": "escalation summary"},
    )
    context = {
        "summary": result,
        "top_name": rules.level_name(rules.top_level()),
        "top_limit": TOP_LIST,
    }
    return render(request, "escalation/summary.html", context)


@require_GET
@role_required(QUEUE, SUMMARY)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = get_escalation_for_user(request.user, pk)
    if escalation.person_id:
        access_log_record(
            user=request.user,
            person=escalation.person,
            action=AccessEvent.Action.VIEW_PERSON,
            path=request.path,
            detail={"escalation": escalation.pk},
        )
    owners = queries.owners_for([(escalation.local_authority_id, escalation.level)])
    moves = [("move", m.at, m) for m in escalation.transitions.select_related("by")]
    notes = [("note", n.at, n) for n in escalation.notes.select_related("by")]
    told = Notification.objects.filter(subject_type=SUBJECT, subject_id=escalation.pk).order_by(
        "created_at", "id"
    )
    context = {
        "escalation": escalation,
        "history": sorted(moves + notes, key=lambda row: row[1]),
        "told": list(told),
        "owners": owners[(escalation.local_authority_id, escalation.level)],
        "level_name": rules.level_name(escalation.level),
        "can_act": can_act(request.user, escalation),
        "can_note": can_act(request.user, escalation)
        or request.user.has_perm("dsr.change_register"),
        "today": timezone.localdate(),
        "fix": fix_for(escalation, request.user),
        # Others about the same person waiting too: they can be acknowledged in one step.
        "others_waiting": Escalation.objects.visible_to(request.user)
        .filter(person_id=escalation.person_id, status=Escalation.Status.OPEN)
        .exclude(pk=escalation.pk)
        .count()
        if escalation.person_id and escalation.status == Escalation.Status.OPEN
        else 0,
    }
    return render(request, "escalation/detail.html", context)


def _next(request: HttpRequest, escalation: Escalation) -> str:
    """Back to the queue when the user came from it (its links say so), otherwise to the
    escalation."""
    if request.GET.get("from") == "queue":
        filters = query_of(request, FILTERS)
        return reverse("escalation:queue") + (f"?{filters}" if filters else "")
    return escalation.get_absolute_url()


def _actable(request: HttpRequest, pk: int) -> Escalation:
    """An escalation the user may see and act on (its level and area), 404 otherwise: the role
    check before the view (403 for any id) is the function check; this one is about the object,
    so it answers as a missing id would."""
    escalation = get_escalation_for_user(request.user, pk)
    if not can_act(request.user, escalation):
        raise Http404
    return escalation


def _back(escalation: Escalation) -> dict:
    return {
        "back_url": escalation.get_absolute_url(),
        "back_label": "Back to the escalation",
        "caption": f"{escalation.get_reason_display()}, level {escalation.level}",
        "person": escalation.person,
        "log_detail": {"escalation": escalation.pk},
    }


@require_http_methods(["GET", "POST"])
@role_required(ACT)
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _actable(request, pk)
    return form_page(
        request,
        form=forms.AcknowledgeForm(request.POST or None),
        title="Acknowledge the escalation",
        intro="Acknowledging says you own it now: it stops moving up the ladder.",
        act=lambda d: services.escalation_acknowledge(
            escalation=escalation, by=request.user, note=d["note"]
        ),
        done="Escalation acknowledged.",
        button="Acknowledge",
        next_url=_next(request, escalation),
        **_back(escalation),
    )


@require_http_methods(["GET", "POST"])
@role_required(ACT)
def acknowledge_person(request: HttpRequest, pk: int) -> HttpResponse:
    """Every escalation about a person that waits for this user, acknowledged with one note in
    one step. A person out of scope, or with nothing live the user may act on, is 404 (the role
    check before the view is the 403)."""
    person = get_person_for_user(request.user, pk)
    live = list(
        Escalation.objects.visible_to(request.user)
        .live()
        .filter(person=person)
        .select_related("local_authority")
    )
    today = timezone.localdate()
    mine = [e for e in live if can_act(request.user, e)]
    if not mine:
        raise Http404
    for escalation in live:
        escalation.past_deadline = escalation.is_ack_overdue(today)
        escalation.is_mine = escalation in mine
        escalation.fix = fix_for(escalation, request.user)
    # As the queue lists them: past the deadline, waiting, acknowledged; then level and age.
    live.sort(
        key=lambda e: (
            not e.past_deadline,
            e.status != Escalation.Status.OPEN,
            -e.level,
            e.raised_at,
            e.pk,
        )
    )
    waiting = [e for e in live if e.is_mine and e.status == Escalation.Status.OPEN]
    form = forms.AcknowledgeAllForm(
        request.POST or None, initial={"shown": ",".join(str(e.pk) for e in waiting)}
    )
    from_queue = request.GET.get("from") == "queue"
    queue_url = reverse("escalation:queue")
    filters = query_of(request, FILTERS)
    count = len(waiting)
    return form_page(
        request,
        form=form,
        title=f"Acknowledge the escalations about {person.full_name}",
        caption="Escalations",
        intro="Acknowledging says you own them now: they stop moving up the ladder.",
        act=lambda d: services.escalation_acknowledge_all(
            person=person, by=request.user, note=d["note"], shown=d["shown"]
        ),
        done=f"{count} escalation{'s' if count != 1 else ''} acknowledged."
        if count
        else "Escalations acknowledged.",
        button=f"Acknowledge {count} escalation{'s' if count != 1 else ''}"
        if count > 1
        else "Acknowledge",
        back_url=queue_url + (f"?{filters}" if from_queue and filters else ""),
        back_label="Back to the escalation queue",
        next_url=(queue_url + (f"?{filters}" if filters else ""))
        if from_queue
        else person.get_absolute_url(),
        template="escalation/acknowledge_person.html",
        extra={"escalations": live, "waiting": waiting, "today": today},
        person=person,
        log_detail={"escalations": [e.pk for e in live]},
    )


@require_http_methods(["GET", "POST"])
@role_required(ACT)
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _actable(request, pk)
    return form_page(
        request,
        form=forms.ResolveForm(request.POST or None),
        title="Resolve the escalation",
        act=lambda d: services.escalation_resolve(
            escalation=escalation, by=request.user, outcome=d["outcome"]
        ),
        done="Escalation resolved.",
        button="Resolve",
        next_url=_next(request, escalation),
        **_back(escalation),
    )


@require_http_methods(["GET", "POST"])
@role_required(ACT, "dsr.change_register")
def note(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = get_escalation_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.NoteForm(request.POST or None),
        title="Add an action taken or a note",
        act=lambda d: services.escalation_note_add(
            escalation=escalation, by=request.user, text=d["text"]
        ),
        done="Note added.",
        next_url=escalation.get_absolute_url(),
        **_back(escalation),
    )


@require_http_methods(["GET", "POST"])
@role_required("dsr.change_register")
def raise_by_hand(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.RaiseForm(request.POST or None),
        title=f"Escalate {person.full_name}",
        caption=person.full_name,
        intro="The owners at the level you choose are told at once, and must acknowledge it.",
        act=lambda d: services.escalation_raise_by_hand(
            person=person, level=d["level"], note=d["note"], by=request.user
        ),
        done="Escalation raised.",
        button="Raise the escalation",
        back_url=person.get_absolute_url(),
        back_label=f"Back to {person.full_name}",
        next_url=lambda escalation: escalation.get_absolute_url(),
        person=person,
    )
