"""A person's page and the forms that change their record.

Reading: register staff and the DSR lead see everyone in their area; senior managers see people
rated Red or Amber in theirs (PersonQuerySet.visible_to). Every read writes an access-log row.
Changing: only roles with dsr.change_register. Each form view gets the person through
`get_person_for_user` (404 out of scope), validates the form, calls one service, shows a
service refusal on the form, and redirects to the person page.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from dsr import forms as dsr_forms
from dsr import services
from dsr.models import (
    RAG,
    RAG_MEANINGS,
    AccessEvent,
    AccessibleFormat,
    Person,
    PersonContact,
)
from dsr.next_steps import cetr_name
from dsr.nhsuk.edits import EditGuard, EditRefused, model_form_writes
from dsr.nhsuk.form_page import form_page
from dsr.panels import person_panels
from dsr.queries import (
    get_person_for_user,
    local_authorities_for,
    person_page,
    responsible_icb_for,
)
from dsr.queries import person_placements as person_placements_for
from dsr.security.access import role_required
from dsr.security.audit import access_log_record

logger = logging.getLogger(__name__)

# The executive lead reads the people behind top-level escalations (ACCESS.md): the Escalation
# app's visibility rule gives them those people, and nobody else.
CAN_READ = ("dsr.view_register", "dsr.view_escalation_queue", "dsr.view_escalation_summary")
CAN_CHANGE = "dsr.change_register"


# The history page shows the latest events, and the rest on request: a record with years of
# reviews stays quick to open, as the page reads only the events it shows (dsr.timeline).
TIMELINE_SHOWN = 50
# The placements page lists the current ones and the newest that have ended.
PLACEMENTS_SHOWN = 100


def _read(request: HttpRequest, person: Person, page: str = "") -> None:
    access_log_record(
        user=request.user,
        person=person,
        action=AccessEvent.Action.VIEW_PERSON,
        path=request.path,
        detail={"page": page} if page else None,
    )


@role_required(*CAN_READ)
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The person page: what register staff look at most, from the rows that say where the
    person is now. Who they are, their rating and why, what is due (overdue first), what can be
    done, their live escalations, open actions and C(E)TRs, current placements and the people
    around them. What happened before (the whole timeline, past placements, closed actions) is
    one click away, on the history and placements pages, so a long history costs no more to
    open than a short one (docs/architecture.md, "The person page")."""
    person = get_person_for_user(request.user, pk)
    today = timezone.localdate()
    page = person_page(person, today, timeline=False)
    _read(request, person)
    context = {
        "person": person,
        "page": page,
        "today": today,
        "age": person.age(today),
        "age_group": person.age_group(today),
        "cetr_name": cetr_name(person, today),
        "can_change": request.user.has_perm(CAN_CHANGE),
        "key_people": [c for c in page.contacts if c.role not in PersonContact.FAMILY_ROLES],
        "family": [c for c in page.contacts if c.role in PersonContact.FAMILY_ROLES],
        "rating_meaning": f"{RAG_MEANINGS[page.entry.rating]}. " if page.entry else "",
        "formats": ", ".join(AccessibleFormat(f).label.lower() for f in person.accessible_formats),
        "panels": person_panels(request, person, today),
    }
    return render(request, "dsr/person_detail.html", context)


@role_required(*CAN_READ)
def person_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's timeline: the latest TIMELINE_SHOWN events, or every one on request."""
    person = get_person_for_user(request.user, pk)
    today = timezone.localdate()
    whole_history = request.GET.get("history") == "all"
    page = person_page(person, today, timeline_limit=None if whole_history else TIMELINE_SHOWN)
    _read(request, person, "history")
    context = {"person": person, "page": page, "whole_history": whole_history}
    return render(request, "dsr/person_history.html", context)


@role_required("dsr.view_register")
def person_placements(request: HttpRequest, pk: int) -> HttpResponse:
    """Every placement and care package, current first and then the newest ended ones (as the
    person page's section, for the register team)."""
    person = get_person_for_user(request.user, pk)
    placements, more = person_placements_for(person, limit=PLACEMENTS_SHOWN)
    _read(request, person, "placements")
    context = {
        "person": person,
        "more": more,
        "shown": PLACEMENTS_SHOWN,
        "can_change": request.user.has_perm(CAN_CHANGE),
        "placement_groups": [
            ([p for p in placements if p.ended_on is None], "Current"),
            ([p for p in placements if p.ended_on is not None], "Past"),
        ],
    }
    return render(request, "dsr/person_placements.html", context)


@role_required(CAN_CHANGE)
def person_create(request: HttpRequest) -> HttpResponse:
    """Record a new person (someone referred on paper, or already known to the ICB)."""
    form = dsr_forms.PersonForm(
        request.POST or None, local_authorities=local_authorities_for(request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        icb = responsible_icb_for(data["local_authority"])
        if icb is None:
            form.add_error("local_authority", "No ICB covers this local authority yet.")
        else:
            try:
                person = services.person_create(by=request.user, responsible_icb=icb, **data)
            except services.RegisterError as exc:
                form.add_error("nhs_number", str(exc))
            else:
                messages.success(request, "Person recorded. Record their consent next.")
                return redirect(person)
    return render(request, "dsr/person_form.html", {"form": form, "title": "Add a person"})


@role_required(CAN_CHANGE)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    title = f"Change {person.full_name}'s details"
    if request.method == "GET":
        access_log_record(
            user=request.user,
            person=person,
            action=AccessEvent.Action.VIEW_PERSON,
            path=request.path,
            detail={"page": "edit"},
        )
    form = dsr_forms.PersonForm(
        request.POST or None, instance=person, local_authorities=local_authorities_for(request.user)
    )
    # Only the details that differ from the record are written (compared with it as it is now,
    # so the guard also sees a detail someone else changed since the page was drawn).
    guard = EditGuard(person, writes=lambda d: {name: d[name] for name in form.changed_data})
    if request.method == "POST" and form.is_valid():
        try:
            guard.save(
                request,
                form,
                lambda d: services.person_update(
                    person=person, by=request.user, **{n: d[n] for n in form.changed_data}
                ),
            )
        except EditRefused as exc:
            # About the whole page (a conflict, a page that could not be checked, a removed
            # record): the error summary, not one field.
            form.add_error(None, str(exc))
        except services.RegisterError as exc:
            form.add_error("nhs_number", str(exc))
        else:
            messages.success(request, "Details saved.")
            return redirect(person)
    context = {"form": form, "title": title, "person_pk": pk, **guard.context(request)}
    return render(request, "dsr/person_form.html", context)


def _person_action(
    request: HttpRequest,
    person: Person,
    *,
    form: Any,
    title: str,
    button: str,
    done: str,
    act: Callable[[dict], Any],
    intro: str = "",
    guard: EditGuard | None = None,
) -> HttpResponse:
    """A register form about one person: back to, and on to, the person page."""
    return form_page(
        request,
        form=form,
        title=title,
        act=act,
        done=done,
        back_url=person.get_absolute_url(),
        back_label=f"Back to {person.full_name}",
        caption=person.full_name,
        intro=intro,
        button=button,
        person=person,
        guard=guard,
    )


def _today() -> dict:
    return {"effective_from": timezone.localdate()}


@role_required(CAN_CHANGE)
def register_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.RatingForm(
        request.POST or None, ratings=[RAG.RED, RAG.AMBER, RAG.GREEN], initial=_today()
    )
    return _person_action(
        request,
        person,
        form=form,
        title=f"Add {person.full_name} to the register",
        button="Add to the register",
        done="Added to the register.",
        intro="Choose the first rating. Someone in hospital is rated blue once the admission "
        "is recorded.",
        act=lambda d: services.register_open(
            person=person,
            rating=d["rating"],
            rationale=d["rationale"],
            risk_factors=d["risk_factors"],
            risk_notes=d["risk_notes"],
            opened_on=d["effective_from"],
            by=request.user,
        ),
    )


@role_required(CAN_CHANGE)
def rating_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Change or confirm the rating. In hospital, the only rating is Blue (confirm it)."""
    person = get_person_for_user(request.user, pk)
    entry = get_object_or_404(person.register_entries, status="open")
    in_hospital = person.admissions.filter(discharged_on__isnull=True).exists()
    ratings = [RAG.BLUE] if in_hospital else [RAG.RED, RAG.AMBER, RAG.GREEN]
    initial = {**_today(), "rating": entry.rating}
    form = dsr_forms.RatingForm(request.POST or None, ratings=ratings, initial=initial)
    return _person_action(
        request,
        person,
        form=form,
        title="Review or change the rating",
        button="Save the rating",
        done="Rating saved.",
        intro="Keeping the same rating records that it was reviewed and confirmed.",
        act=lambda d: services.rating_change(
            entry=entry,
            rating=d["rating"],
            rationale=d["rationale"],
            risk_factors=d["risk_factors"],
            risk_notes=d["risk_notes"],
            effective_from=d["effective_from"],
            early_step_down=d["early_step_down"],
            by=request.user,
        ),
    )


@role_required(CAN_CHANGE)
def consent_record(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.ConsentForm(request.POST or None)
    return _person_action(
        request,
        person,
        form=form,
        title="Record consent",
        button="Save consent",
        done="Consent recorded.",
        intro="Recording consent again replaces the current record, for example at the yearly "
        "check or when someone turns 16 or 18.",
        act=lambda d: services.consent_record(person=person, by=request.user, **d),
    )


@role_required(CAN_CHANGE)
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.WithdrawConsentForm(request.POST or None)
    return _person_action(
        request,
        person,
        form=form,
        title="Record that consent was withdrawn",
        button="Withdraw consent and take off the register",
        done="Consent withdrawn. The person is no longer on the register.",
        intro="The person will come off the register today. Their record is kept as the "
        "retention schedule says.",
        act=lambda d: services.consent_withdraw(
            person=person, withdrawn_on=d["withdrawn_on"], note=d["note"], by=request.user
        ),
    )


@role_required(CAN_CHANGE)
def admission_record(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.AdmissionForm(request.POST or None)
    return _person_action(
        request,
        person,
        form=form,
        title="Record an admission to hospital",
        button="Record the admission",
        done="Admission recorded. The rating is now blue.",
        intro="The rating becomes blue while the person is in hospital.",
        act=lambda d: services.admission_record(person=person, by=request.user, **d),
    )


@role_required(CAN_CHANGE)
def placement_record(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.PlacementForm(request.POST or None)
    return _person_action(
        request,
        person,
        form=form,
        title="Record a placement or care package",
        button="Record the placement",
        done="Placement recorded.",
        intro="Where the person lives or is placed outside hospital, and its weekly cost and "
        "funder where the ICB records them. The costs appear in the planning figures only "
        "as totals that no one person's package can be worked out from.",
        act=lambda d: services.placement_record(person=person, by=request.user, **d),
    )


@role_required(CAN_CHANGE)
def placement_end(request: HttpRequest, pk: int, placement_pk: int) -> HttpResponse:
    """End one of the person's open placements (404 for anyone else's, or one already ended)."""
    person = get_person_for_user(request.user, pk)
    placement = get_object_or_404(person.placements, pk=placement_pk, ended_on__isnull=True)
    form = dsr_forms.PlacementEndForm(
        request.POST or None, placement=placement, initial={"ended_on": timezone.localdate()}
    )
    return _person_action(
        request,
        person,
        form=form,
        title=f"End this placement: {placement}",
        button="End the placement",
        done="Placement ended.",
        intro="The last day of the placement or care package, between its start and today. "
        "Its weekly cost counts in the planning figures up to this day.",
        act=lambda d: services.placement_end(
            placement=placement, ended_on=d["ended_on"], by=request.user
        ),
    )


@role_required(CAN_CHANGE)
def admission_discharge(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    admission = get_object_or_404(person.admissions, discharged_on__isnull=True)
    form = dsr_forms.DischargeForm(
        request.POST or None, initial={"rating": RAG.RED, "discharged_on": timezone.localdate()}
    )
    return _person_action(
        request,
        person,
        form=form,
        title=f"Record the discharge from {admission.hospital_name}",
        button="Record the discharge",
        done="Discharge recorded.",
        intro="After a discharge the rating is red for at least 14 days, unless you give a "
        "reason for another rating.",
        act=lambda d: services.admission_discharge(
            admission=admission,
            discharged_on=d["discharged_on"],
            rating=d["rating"],
            rationale=d["rationale"],
            by=request.user,
        ),
    )


@role_required(CAN_CHANGE)
def admission_rca(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    admission = get_object_or_404(person.admissions, discharged_on__isnull=True)
    form = dsr_forms.RootCauseAnalysisForm(request.POST or None)
    return _person_action(
        request,
        person,
        form=form,
        title="Record the root-cause analysis",
        button="Save",
        done="Root-cause analysis recorded.",
        intro="A child or young person admitted without a community CETR needs a root-cause "
        "analysis.",
        act=lambda d: services.admission_rca_record(
            admission=admission, completed_on=d["completed_on"], by=request.user
        ),
    )


@role_required(CAN_CHANGE)
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.ContactForm(request.POST or None, instance=PersonContact(person=person))
    return _person_action(
        request,
        person,
        form=form,
        title="Add someone to the person's key people",
        button="Add",
        done="Contact added.",
        act=lambda d: services.contact_save(contact=form.instance, by=request.user),
    )


def _contact(person: Person, contact_pk: int) -> PersonContact:
    return get_object_or_404(PersonContact, Q(person=person), pk=contact_pk)


@role_required(CAN_CHANGE)
def contact_edit(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    contact = _contact(person, contact_pk)
    form = dsr_forms.ContactForm(request.POST or None, instance=contact)
    return _person_action(
        request,
        person,
        form=form,
        title=f"Change {contact.name}'s details",
        button="Save",
        done="Contact saved.",
        act=lambda d: services.contact_save(contact=form.instance, by=request.user),
        guard=EditGuard(contact, writes=model_form_writes(form)),
    )


@role_required(CAN_CHANGE)
def contact_remove(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    contact = _contact(person, contact_pk)
    form = dsr_forms.ConfirmForm(request.POST or None)
    return _person_action(
        request,
        person,
        form=form,
        title=f"Remove {contact.name} ({contact.get_role_display().lower()})",
        button="Remove",
        done="Contact removed.",
        intro="The record of what was held about them stays in the history.",
        act=lambda d: services.contact_remove(contact=contact, by=request.user),
    )


@role_required(CAN_CHANGE)
def register_close(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    entry = get_object_or_404(person.register_entries, status="open")
    form = dsr_forms.CloseEntryForm(
        request.POST or None, initial={"closed_on": timezone.localdate()}
    )
    return _person_action(
        request,
        person,
        form=form,
        title=f"Take {person.full_name} off the register",
        button="Take off the register",
        done="Taken off the register.",
        act=lambda d: services.register_close(
            entry=entry,
            reason=d["reason"],
            note=d["note"],
            closed_on=d["closed_on"],
            by=request.user,
        ),
    )


@role_required(CAN_CHANGE)
def cetr_exception(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.CetrExceptionForm(request.POST or None)
    name = cetr_name(person, timezone.localdate())
    return _person_action(
        request,
        person,
        form=form,
        title=f"Record why there is no community {name}",
        button="Save",
        done="Exception recorded.",
        intro=f"When a full community {name} cannot be held in time, an urgent LAEP or Blue "
        "Light meeting is held instead.",
        act=lambda d: services.cetr_exception_record(person=person, by=request.user, **d),
    )


@role_required(CAN_CHANGE)
def keyworker_referral(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    form = dsr_forms.KeyworkerReferralForm(
        request.POST or None, initial={"referred_on": timezone.localdate()}
    )
    return _person_action(
        request,
        person,
        form=form,
        title="Record a key worker referral",
        button="Save",
        done="Key worker referral recorded.",
        act=lambda d: services.keyworker_referral_record(
            person=person, referred_on=d["referred_on"], by=request.user
        ),
    )


@role_required(CAN_CHANGE)
def needs_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The person's unmet needs and barriers now, for commissioning (counted, never named, in
    the reports)."""
    person = get_person_for_user(request.user, pk)
    current = list(person.needs.filter(met_on__isnull=True).values_list("need", flat=True))
    form = dsr_forms.NeedsForm(request.POST or None, initial={"needs": current})
    return _person_action(
        request,
        person,
        form=form,
        title="Unmet needs and barriers",
        button="Save",
        done="Needs saved.",
        intro="Reports count these by area, so commissioners can see what to commission where.",
        act=lambda d: services.needs_note(
            person=person,
            needs=d["needs"],
            by=request.user,
            source="register",
            close_others=True,
        ),
    )
