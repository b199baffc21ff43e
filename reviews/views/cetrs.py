"""C(E)TR pages: the register team plans and runs C(E)TRs (arrangements, panel, consent
evidence, findings, recommendations, completion); a panel member reads the pack of a C(E)TR they
sit on, once consent evidence is recorded, and records findings (reviews.permissions); the
register team records oversight visits.

Every read of a person's C(E)TR or pack writes an access-log row.
"""

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dsr.forms import ConfirmForm
from dsr.models import AccessEvent, AccessibleFormat, PersonContact, RegisterEntry, RiskFactor, User
from dsr.next_steps import cetr_name
from dsr.nhsuk.edits import EditGuard, model_form_writes
from dsr.nhsuk.form_page import form_page
from dsr.queries import get_person_for_user
from dsr.security.access import role_required
from dsr.security.audit import access_log_people, access_log_record
from reviews import services
from reviews.forms import staff as forms
from reviews.models import AgendaItem, Cetr, OversightVisit, PanelMember
from reviews.permissions import (
    CHANGE,
    READ,
    SIT_ON_PANELS,
    get_cetr_for_findings,
    get_pack_for_user,
    packs_for,
)
from reviews.queries import get_cetr_for_user
from reviews.views.meetings import action_fields, action_owners, identical_warnings


def _log(request: HttpRequest, cetr: Cetr, page: str) -> None:
    access_log_record(
        user=request.user,
        person=cetr.person,
        action=AccessEvent.Action.VIEW_PERSON,
        path=request.path,
        detail={"cetr": cetr.pk, "page": page},
    )


def _back(cetr: Cetr) -> dict[str, Any]:
    """Where a C(E)TR form page goes back to, and the person whose read it logs."""
    return {
        "back_url": cetr.get_absolute_url(),
        "back_label": "Back to the C(E)TR",
        "person": cetr.person,
        "log_detail": {"cetr": cetr.pk},
    }


def _caption(cetr: Cetr) -> str:
    return f"{cetr.person.full_name}: {cetr}"


@require_GET
@role_required(READ)
def cetr_list(request: HttpRequest) -> HttpResponse:
    cetrs = Cetr.objects.visible_to(request.user).select_related("person")
    planned = list(
        cetrs.filter(status=Cetr.Status.PLANNED).order_by("due_on", "scheduled_on", "id")[:200]
    )
    done = list(cetrs.filter(status=Cetr.Status.COMPLETED).order_by("-held_on", "-id")[:50])
    access_log_people(
        user=request.user,
        people_ids=sorted({c.person_id for c in planned + done}),
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"page": "C(E)TRs"},
    )
    today = timezone.localdate()
    context = {
        "planned": [(c, services.cetr_warnings(c, today)) for c in planned],
        "done": done,
        "today": today,
    }
    return render(request, "reviews/cetr_list.html", context)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_create(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    in_hospital = person.admissions.filter(discharged_on__isnull=True).exists()
    kinds = (
        [Cetr.Kind.POST_ADMISSION, Cetr.Kind.INPATIENT] if in_hospital else [Cetr.Kind.COMMUNITY]
    )
    name = cetr_name(person, timezone.localdate())
    return form_page(
        request,
        form=forms.CetrPlanForm(request.POST or None, kinds=kinds),
        title=f"Plan a {name}",
        caption=person.full_name,
        intro=f"A {name}: "
        + (
            "the person is under 18, or a young person with an EHCP, so the review includes "
            "education."
            if name == "CETR"
            else "the person is an adult without an EHCP."
        ),
        act=lambda d: services.cetr_plan(
            person=person, kind=d["kind"], scheduled_on=d["scheduled_on"], by=request.user
        ),
        done="C(E)TR planned.",
        back_url=person.get_absolute_url(),
        back_label=f"Back to {person.full_name}",
        person=person,
        button="Plan the review",
        next_url=lambda cetr: cetr.get_absolute_url(),
    )


@require_GET
@role_required(READ)
def cetr_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    _log(request, cetr, "C(E)TR")
    panel = list(cetr.panel.select_related("user"))
    context = {
        "cetr": cetr,
        "person": cetr.person,
        "panel": panel,
        "gaps": services.panel_gaps(panel),
        "warnings": services.cetr_warnings(cetr, timezone.localdate()),
        "recommendations": list(
            cetr.recommendations.select_related("owner__organisation").order_by("due_on", "id")
        ),
        "can_change": request.user.has_perm(CHANGE),
        "today": timezone.localdate(),
    }
    return render(request, "reviews/cetr_detail.html", context)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_arrange(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    sent = timezone.localtime(cetr.pack_sent_at) if cetr.pack_sent_at else None
    initial = {
        "scheduled_on": cetr.scheduled_on,
        "invitations_sent_on": cetr.invitations_sent_on,
        "pack_sent_on": sent.date() if sent else None,
        "pack_sent_time": f"{sent:%H:%M}" if sent else "",
    }
    return form_page(
        request,
        form=forms.CetrArrangeForm(request.POST or None, initial=initial),
        title="Arrangements",
        caption=_caption(cetr),
        intro="Allow at least 2 weeks' notice where you can, and send the pre-reads by secure "
        "email at least 24 hours before the review.",
        act=lambda d: services.cetr_arrange(
            cetr=cetr,
            by=request.user,
            scheduled_on=d["scheduled_on"],
            invitations_sent_on=d["invitations_sent_on"],
            pack_sent_at=d["pack_sent_at"],
        ),
        done="Arrangements saved.",
        extra={"warnings": services.cetr_warnings(cetr, timezone.localdate())},
        guard=EditGuard(
            cetr,
            writes=lambda d: {
                name: d[name] for name in ("scheduled_on", "invitations_sent_on", "pack_sent_at")
            },
        ),
        **_back(cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_consent(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.CetrConsentForm(request.POST or None),
        title="Record consent evidence",
        caption=_caption(cetr),
        intro="Consent to a C(E)TR is separate from consent to the register. Until evidence "
        "of consent, or of a best-interests decision, is recorded, panel members cannot read "
        "the pack.",
        act=lambda d: services.cetr_consent_record(
            cetr=cetr,
            basis=d["basis"],
            evidence=d["evidence"],
            recorded_on=d["recorded_on"],
            decision_maker=d["decision_maker"],
            capacity_assessed_on=d["capacity_assessed_on"],
            by=request.user,
        ),
        done="Consent evidence recorded. Panel members with an account can now read the pack.",
        **_back(cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.ReasonForm(request.POST or None),
        title="Record that consent to the C(E)TR was withdrawn",
        caption=_caption(cetr),
        intro="The consent evidence is cleared, and panel members can no longer read the pack.",
        act=lambda d: services.cetr_consent_withdraw(cetr=cetr, note=d["reason"], by=request.user),
        done="Consent withdrawn. The pack is closed to the panel.",
        button="Record the withdrawal",
        **_back(cetr),
    )


def _panel_accounts() -> object:
    return (
        User.objects.filter(is_active=True, groups__permissions__codename="sit_on_panels")
        .distinct()
        .order_by("full_name")
    )


def _panel_page(request: HttpRequest, cetr: Cetr, member: PanelMember) -> HttpResponse:
    form = forms.PanelMemberForm(request.POST or None, instance=member, accounts=_panel_accounts())
    return form_page(
        request,
        form=form,
        title="Add a panel member" if member.pk is None else f"Change {member.name}",
        caption=_caption(cetr),
        act=lambda d: services.panel_member_save(member=form.save(commit=False), by=request.user),
        done="Panel member saved.",
        guard=None if member.pk is None else EditGuard(member, writes=model_form_writes(form)),
        **_back(cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def panel_add(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return _panel_page(request, cetr, PanelMember(cetr=cetr))


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def panel_edit(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return _panel_page(request, cetr, get_object_or_404(PanelMember, pk=member_pk, cetr=cetr))


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def panel_remove(request: HttpRequest, pk: int, member_pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    member = get_object_or_404(PanelMember, pk=member_pk, cetr=cetr)
    return form_page(
        request,
        form=ConfirmForm(request.POST or None),
        title=f"Take {member.name} off the panel",
        caption=_caption(cetr),
        act=lambda d: services.panel_member_remove(member=member, by=request.user),
        done="Panel member removed.",
        button="Remove",
        **_back(cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE, SIT_ON_PANELS)
def cetr_findings(request: HttpRequest, pk: int) -> HttpResponse:
    """The four key questions: register staff, or a panel member with the pack open to them."""
    today = timezone.localdate()
    cetr = get_cetr_for_findings(request.user, pk, today)
    back = _panel_back(request, cetr)
    initial = {name: getattr(cetr, name) for name in services.FINDINGS}
    form = forms.FindingsForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form=form,
        title="Findings",
        caption=_caption(cetr),
        intro="Record what the panel found for each of the four key questions.",
        # Only the answers this form changed: a panel member saving one finding never wipes
        # another's.
        act=lambda d: services.cetr_findings_record(
            cetr=cetr, by=request.user, **{name: d[name] for name in form.changed_data}
        ),
        done="Findings saved.",
        guard=EditGuard(cetr, writes=lambda d: {name: d[name] for name in form.changed_data}),
        **back,
    )


def _panel_back(request: HttpRequest, cetr: Cetr) -> dict[str, Any]:
    """Staff go back to the C(E)TR; a panel member to the pack."""
    if request.user.has_perm(CHANGE):
        return _back(cetr)
    return {
        **_back(cetr),
        "back_url": reverse("reviews:cetr-pack", kwargs={"pk": cetr.pk}),
        "back_label": "Back to the pack",
    }


@require_http_methods(["GET", "POST"])
@role_required(CHANGE, SIT_ON_PANELS)
def recommendation_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A recommendation with its owner and due date: register staff, or a panel member with
    the pack open to them."""
    cetr = get_cetr_for_findings(request.user, pk, timezone.localdate())
    return form_page(
        request,
        form=forms.ActionForm(request.POST or None, owners=action_owners(cetr.person)),
        title="Add a recommendation",
        caption=_caption(cetr),
        intro="Every recommendation names who is responsible and by when.",
        act=lambda d: services.action_create(
            person=cetr.person, cetr=cetr, by=request.user, **action_fields(d)
        ),
        done="Recommendation added.",
        **_panel_back(request, cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_complete(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.CetrCompleteForm(request.POST or None),
        title="Record the review as held",
        caption=_caption(cetr),
        intro="A C(E)TR is complete only with a chair, an independent clinical expert and an "
        "independent expert by experience, each with their conflicts of interest declared, and "
        "the four findings recorded."
        + (
            f" It was planned for {cetr.scheduled_on:%-d %B %Y}: if it was held earlier, say why."
            if cetr.scheduled_on
            else ""
        ),
        act=lambda d: services.cetr_complete(
            cetr=cetr,
            held_on=d["held_on"],
            report_sent_on=d["report_sent_on"],
            held_early_reason=d["held_early_reason"],
            by=request.user,
        ),
        done="C(E)TR recorded as held.",
        button="Record as held",
        **_back(cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_report_sent(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.ReportSentForm(request.POST or None),
        title="Record that the report was sent",
        caption=_caption(cetr),
        intro="Panel members can read the pack for 30 days after the report is sent.",
        act=lambda d: services.cetr_report_sent(cetr=cetr, sent_on=d["sent_on"], by=request.user),
        done="Report date saved.",
        **_back(cetr),
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def cetr_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    cetr = get_cetr_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.ReasonForm(request.POST or None),
        title="Cancel the C(E)TR",
        caption=_caption(cetr),
        act=lambda d: services.cetr_cancel(cetr=cetr, reason=d["reason"], by=request.user),
        done="C(E)TR cancelled.",
        button="Cancel the C(E)TR",
        **_back(cetr),
    )


@require_GET
@role_required(SIT_ON_PANELS)
def my_panels(request: HttpRequest) -> HttpResponse:
    """The C(E)TRs the panel member sits on, and whether each pack is open to them yet."""
    today = timezone.localdate()
    seats = list(
        PanelMember.objects.filter(user=request.user)
        .exclude(cetr__status=Cetr.Status.CANCELLED)
        .select_related("cetr__person")
        .order_by("-cetr__scheduled_on", "-id")[:100]
    )
    open_ids = set(packs_for(request.user, today).values_list("pk", flat=True))
    access_log_people(
        user=request.user,
        people_ids=sorted({seat.cetr.person_id for seat in seats if seat.cetr_id in open_ids}),
        action=AccessEvent.Action.LIST_REGISTER,
        path=request.path,
        detail={"page": "my panels"},
    )
    context = {"seats": [(seat, seat.cetr_id in open_ids) for seat in seats]}
    return render(request, "reviews/my_panels.html", context)


PACK_RATINGS = 10  # the latest rating decisions the pack lists
PACK_ADMISSION_YEARS = 3  # admissions ended within this many years, and any still open


@require_GET
@role_required(SIT_ON_PANELS)
def cetr_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """The pack, for a panel member of this C(E)TR only, and only with consent evidence: the
    minimum the panel needs (ACCESS.md; DOMAIN section 6)."""
    today = timezone.localdate()
    cetr = get_pack_for_user(request.user, pk, today)
    person = cetr.person
    _log(request, cetr, "pack")
    entry = person.register_entries.filter(status=RegisterEntry.Status.OPEN).first()
    ratings = list(entry.ratings.order_by("-effective_from", "-id")[:PACK_RATINGS]) if entry else []
    latest = ratings[0] if ratings else None
    context = {
        "cetr": cetr,
        "person": person,
        "age": person.age(today),
        "entry": entry,
        "rating": latest,
        # What a panel needs (DOMAIN section 6): how to communicate with the person, the rating
        # history, the risks last recorded, the current plan and recent admissions.
        "ratings": ratings,
        "risks": [
            RiskFactor(r).label
            for r in (latest.risk_factors if latest else [])
            if r in RiskFactor.values
        ],
        "formats": [
            AccessibleFormat(f).label
            for f in person.accessible_formats or []
            if f in AccessibleFormat.values
        ],
        "admissions": list(
            person.admissions.filter(
                Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=today - timedelta(days=365 * PACK_ADMISSION_YEARS))
            ).order_by("-admitted_on", "-id")
        ),
        "plan": AgendaItem.objects.filter(person=person, discussed_at__isnull=False)
        .select_related("meeting")
        .order_by("-discussed_at", "-id")
        .first(),
        "contacts": list(person.contacts.exclude(role=PersonContact.Role.PARENT_CARER)),
        "panel": list(cetr.panel.all()),
        "recommendations": list(
            cetr.recommendations.select_related("owner__organisation").order_by("due_on", "id")
        ),
        "actions": list(
            person.actions.filter(status="open")
            .select_related("owner__organisation")
            .order_by("due_on")
        ),
    }
    return render(request, "reviews/pack.html", context)


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def visit_add(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_person_for_user(request.user, pk)
    return form_page(
        request,
        form=forms.VisitForm(request.POST or None, initial={"visited_on": timezone.localdate()}),
        title="Record an oversight visit",
        caption=person.full_name,
        intro="On-site visits to someone in hospital out of area are due every 6 weeks for a "
        "child and every 8 weeks for an adult.",
        act=lambda d: services.visit_record(person=person, by=request.user, **d),
        done="Oversight visit recorded. Agree any actions it calls for.",
        next_url=lambda visit: reverse(
            "reviews:visit-action-add", kwargs={"pk": person.pk, "visit_pk": visit.pk}
        ),
        back_url=person.get_absolute_url(),
        back_label=f"Back to {person.full_name}",
        person=person,
    )


@require_http_methods(["GET", "POST"])
@role_required(CHANGE)
def visit_action_add(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """An action agreed after an oversight visit, with its owner and due date."""
    person = get_person_for_user(request.user, pk)
    visit = get_object_or_404(OversightVisit, pk=visit_pk, person=person)
    return form_page(
        request,
        form=forms.ActionForm(request.POST or None, owners=action_owners(person)),
        title="Agree an action from the oversight visit",
        caption=f"{person.full_name}: visit on {visit.visited_on:%-d %B %Y}",
        act=lambda d: services.action_create(
            person=person, visit=visit, by=request.user, **action_fields(d)
        ),
        done="Action agreed.",
        back_url=person.get_absolute_url(),
        back_label=f"Back to {person.full_name}",
        person=person,
        log_detail={"visit": visit.pk},
        warn=lambda d: identical_warnings(person, d["description"]),
    )
