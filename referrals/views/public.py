"""The public referral journey: no account needed (ACCESS.md "Anonymous").

start -> who (people referring themselves or someone they care for) -> eight step pages ->
check your answers -> confirmation; and a printable form.

The draft lives in the session only, as the raw values each step posted (JSON-serialisable),
and is re-bound to the step's form whenever it is shown or checked: nothing is written to the
database until the final submit. Every public page is `@public` and `never_cache`, because it
shows what someone typed. The rate limits, the honeypot, the submission token and the
confirmation kept in the session are the public forms' shared kit (dsr.nhsuk.intake).
"""

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from dsr.nhsuk.intake import Intake, submission_token
from dsr.security.access import public
from referrals.forms.public import (
    STEP_SLUGS,
    STEPS,
    STEPS_BY_SLUG,
    SubmitForm,
    WhoForm,
    build_submission,
)
from referrals.forms.steps import FAMILY, KINDS, PROFESSIONAL, SELF, StepForm
from referrals.models import Referral
from referrals.services import referral_submit

logger = logging.getLogger(__name__)

DRAFT = "referral_draft"
SUBMITTED = "referral_submitted"

Answers = dict[str, dict[str, Any]]
RawSteps = dict[str, dict[str, list[str]]]


INTAKE = Intake(
    noun="referral",
    logger=logger,
    log_name="referral",
    post_scope="referral-post",
    post_setting="REFERRAL_POSTS_PER_HOUR",
    submit_scope="referral-submit",
    submit_setting="REFERRAL_SUBMISSIONS_PER_HOUR",
    draft_key=DRAFT,
    sent_key=SUBMITTED,
    confirmation="referrals:confirmation",
    templates="referrals/",
)

# Every POST of the journey is counted first (the check page's too: before its form is read).
_posts_allowed = INTAKE.posts_allowed


# --- The draft in the session -----------------------------------------------------------------


def _draft(request: HttpRequest) -> dict[str, Any]:
    draft = request.session.get(DRAFT)
    return draft if isinstance(draft, dict) else {}


def _stored_steps(request: HttpRequest, kind: str) -> RawSteps:
    """The answers stored for `kind`; none when the draft is for another kind of referrer."""
    draft = _draft(request)
    return draft.get("steps", {}) if draft.get("kind") == kind else {}


def _as_querydict(raw: Mapping[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in raw.items():
        data.setlist(key, list(values))
    return data


def _raw_values(form: StepForm, post: QueryDict) -> dict[str, list[str]]:
    """The posted values that belong to the form's fields (a date's parts are name_day...)."""
    names = set(form.fields)
    return {
        key: post.getlist(key) for key in post if key in names or key.rsplit("_", 1)[0] in names
    }


def _save_step(request: HttpRequest, kind: str, slug: str, raw: dict[str, list[str]]) -> None:
    draft = _draft(request)
    if draft.get("kind") != kind:
        # Answering as another kind of referrer starts a new draft.
        draft = {"kind": kind, "steps": {}, "token": None}
    draft["steps"][slug] = raw
    request.session[DRAFT] = draft


def _validate(kind: str, stored: RawSteps, upto: int | None = None) -> tuple[Answers, str | None]:
    """Clean the stored steps in order, up to (not including) index `upto`.

    Returns the cleaned answers by slug and the slug of the first step that is missing or no
    longer valid, or None when every step checked is answered and valid.
    """
    answers: Answers = {}
    for current in STEPS[:upto]:
        raw = stored.get(current.slug)
        if raw is None:
            return answers, current.slug
        form = current.form_class(_as_querydict(raw), kind=kind, answers=answers)
        if not form.is_valid():
            return answers, current.slug
        answers[current.slug] = form.cleaned_data
    return answers, None


def _back_url(kind: str, index: int, changing: bool) -> str:
    if changing:
        return reverse("referrals:check")
    if index > 0:
        return reverse("referrals:step", kwargs={"kind": kind, "step": STEPS[index - 1].slug})
    return reverse("referrals:start" if kind == PROFESSIONAL else "referrals:who")


# --- Pages ------------------------------------------------------------------------------------


@public
@never_cache
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    """Who can refer, what happens next, and the two ways in."""
    return render(request, "referrals/public_start.html")


@public
@never_cache
@require_http_methods(["GET", "POST"])
def who(request: HttpRequest) -> HttpResponse:
    """Someone referring themselves, or someone they care for: sends them into the steps."""
    if request.method == "POST":
        if not _posts_allowed(request):
            return INTAKE.too_many(request)
        form = WhoForm(request.POST)
        if form.is_valid():
            kind = form.cleaned_data["who"]
            return redirect("referrals:step", kind=kind, step=STEP_SLUGS[0])
    else:
        kind = _draft(request).get("kind")
        form = WhoForm(initial={"who": kind} if kind in (SELF, FAMILY) else None)
    return render(request, "referrals/public_who.html", {"form": form})


INTROS = {
    ("about-you", PROFESSIONAL): "We will contact you if we need to know more, and tell you "
    "what we decide.",
    ("about-you", FAMILY): "We will contact you if we need to know more.",
    ("about-you", SELF): "We will contact you if we need to know more, and to tell you what we "
    "decide.",
    ("outcome", SELF): "We will write to you when we have decided. This is usually within 4 weeks.",
    ("outcome", FAMILY): "We tell the person, and anyone with parental responsibility for a "
    "child under 18. We tell you too if the person agrees.",
    ("outcome", PROFESSIONAL): "We will always tell you. We also tell the person, and anyone "
    "with parental responsibility for a child under 18.",
}


@public
@never_cache
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, kind: str, step: str) -> HttpResponse:
    """One question page. Answers are kept in the session when valid; an earlier step still
    unanswered sends the user back to it; `?change=1` returns to the check page."""
    if kind not in KINDS or step not in STEPS_BY_SLUG:
        raise Http404
    if request.method == "POST" and not _posts_allowed(request):
        return INTAKE.too_many(request)
    index = STEP_SLUGS.index(step)
    current = STEPS[index]
    stored = _stored_steps(request, kind)
    answers, first_missing = _validate(kind, stored, upto=index)
    if first_missing is not None:
        return redirect("referrals:step", kind=kind, step=first_missing)
    changing = request.GET.get("change") == "1"
    own = _own_details(request, kind, step)
    if request.method == "POST":
        form = current.form_class(request.POST, kind=kind, answers=answers)
        if form.is_valid():
            _save_step(request, kind, step, _raw_values(form, request.POST))
            if changing or index == len(STEPS) - 1:
                return redirect("referrals:check")
            return redirect("referrals:step", kind=kind, step=STEPS[index + 1].slug)
    else:
        raw = stored.get(step)
        data = _as_querydict(raw) if raw is not None else None
        initial = own if raw is None else None
        form = current.form_class(data, kind=kind, answers=answers, initial=initial)
    context = {
        "form": form,
        "kind": kind,
        "slug": step,
        "title": current.title(kind),
        "intro": INTROS.get((step, kind), ""),
        "step_number": index + 1,
        "step_count": len(STEPS),
        # A signed-in referrer starts from their own list, so goes back to it.
        "back_url": reverse("referrals:mine")
        if own is not None and not changing
        else _back_url(kind, index, changing),
    }
    return render(request, "referrals/public_step.html", context)


def _summary(kind: str, stored: RawSteps, answers: Answers) -> list[dict[str, Any]]:
    sections = []
    so_far: Answers = {}
    for current in STEPS:
        form = current.form_class(_as_querydict(stored[current.slug]), kind=kind, answers=so_far)
        form.is_valid()
        so_far[current.slug] = answers[current.slug]
        sections.append(
            {
                "title": current.title(kind),
                "rows": form.summary(),
                "change_url": reverse("referrals:step", kwargs={"kind": kind, "step": current.slug})
                + "?change=1",
            }
        )
    return sections


def _submitted_by(request: HttpRequest) -> Any:
    """The signed-in, verified professional referrer submitting, or None (anonymous)."""
    user = request.user
    if user.is_authenticated and user.is_verified() and user.has_perm("dsr.submit_referral"):
        return user
    return None


def _own_details(request: HttpRequest, kind: str, step: str) -> dict[str, str] | None:
    """A signed-in professional referrer's own details from their account, to start the
    professional "about you" page with (they can change them there, and go back to their list
    from it); None for anyone else."""
    if kind != PROFESSIONAL or step != STEP_SLUGS[0]:
        return None
    user = _submitted_by(request)
    if user is None:
        return None
    return {
        "referrer_name": user.full_name,
        "referrer_role": user.job_title,
        "referrer_organisation": user.organisation.name if user.organisation else "",
        "referrer_email": user.email,
        "referrer_phone": user.phone,
    }


@public
@never_cache
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    """Check your answers, attach documents and send.

    The form carries a submission token made when this page is first shown; the same token
    sent again (a double click, a resubmitted page, two requests at once) ends on the same
    confirmation with one referral, as `referral_submit` returns the first one for a token.
    """
    if request.method == "POST":
        if not _posts_allowed(request):
            return INTAKE.too_many(request)
        if (sent := INTAKE.resent(request)) is not None:
            return sent
    draft = _draft(request)
    kind = draft.get("kind")
    if kind not in KINDS:
        return redirect("referrals:start")
    stored: RawSteps = draft.get("steps", {})
    answers, first_missing = _validate(kind, stored)
    if first_missing is not None:
        return redirect("referrals:step", kind=kind, step=first_missing)
    token = submission_token(draft, "token")
    request.session[DRAFT] = draft

    def page(form: SubmitForm) -> HttpResponse:
        context = {
            "form": form,
            "kind": kind,
            "sections": _summary(kind, stored, answers),
            "back_url": reverse("referrals:step", kwargs={"kind": kind, "step": STEP_SLUGS[-1]}),
        }
        return render(request, "referrals/public_check.html", context)

    if request.method != "POST":
        return page(SubmitForm(initial={"submission_token": token}))
    form = SubmitForm(request.POST, request.FILES)
    return INTAKE.submit(
        request,
        form,
        token=lambda: token,
        send=lambda token: _submit(request, kind, answers, token, form.cleaned_data["attachments"]),
        again=lambda: page(form),
        changed=lambda _token: redirect("referrals:check"),
        log_detail=f" kind={kind}",
    )


def _submit(
    request: HttpRequest, kind: str, answers: Answers, token: str, attachments: list[Any]
) -> Referral:
    fields, contacts = build_submission(kind, answers)
    referral = referral_submit(
        fields=fields,
        contacts=contacts,
        source=Referral.Source.ONLINE,
        referrer_kind=kind,
        submission_token=uuid.UUID(token),
        attachments=attachments,
        submitted_by=_submitted_by(request),
    )
    logger.info(
        "public referral submitted referral=%s kind=%s attachments=%s",
        referral.pk,
        kind,
        len(attachments),
    )
    return referral


@public
@never_cache
@require_GET
def confirmation(request: HttpRequest) -> HttpResponse:
    """The reference and the decision date only: no name, no date of birth (RELIABILITY A-5).

    Shows the referral this session just sent; without one, a page saying there is nothing to
    show.
    """
    return INTAKE.confirmation_page(
        request, Referral.objects.all(), "reference", "received_at", "decision_due"
    )


# --- The printable form ----------------------------------------------------------------------


def _printable_question(field: Any) -> dict[str, Any]:
    """How one question looks on paper: tick boxes, a line, lines or date boxes."""
    widget = field.field.widget
    question: dict[str, Any] = {"label": field.label, "hint": field.help_text}
    input_type = getattr(widget, "input_type", "")
    if input_type in ("radio", "checkbox") and hasattr(field.field, "choices"):
        question["kind"] = "choices"
        question["choices"] = [label for _, label in field.field.choices]
        question["many"] = widget.input_type == "checkbox"
    elif input_type == "checkbox":
        question["kind"] = "tick"
    elif getattr(widget, "use_fieldset", False):
        question["kind"] = "date"
    elif widget.template_name.endswith("textarea.html"):
        question["kind"] = "lines"
        question["lines"] = range(6 if field.field.max_length > 1000 else 3)
    else:
        question["kind"] = "line"
    return question


@public
@never_cache
@require_GET
def printable(request: HttpRequest) -> HttpResponse:
    """The self-referral questions on paper, worded for someone referring a person they care
    for (and read as "you" by someone referring themselves), with where to send it."""
    sections = []
    for current in STEPS:
        form = current.form_class(kind=FAMILY)
        groups = [
            {"heading": heading, "questions": [_printable_question(f) for f in fields]}
            for heading, _, fields in form.grouped()
        ]
        if current.slug == STEP_SLUGS[0]:
            # On paper the one form serves professionals too: add their questions.
            professional = current.form_class(kind=PROFESSIONAL)
            for name in ("referrer_organisation", "referrer_role"):
                question = _printable_question(professional[name])
                question["label"] = f"{question['label']} (professionals only)"
                groups[0]["questions"].insert(1, question)
        sections.append({"title": current.title(FAMILY), "groups": groups})
    context = {
        "sections": sections,
        "postal_address": getattr(settings, "REFERRAL_POSTAL_ADDRESS", ""),
        "referral_email": getattr(settings, "REFERRAL_EMAIL", ""),
    }
    return render(request, "referrals/printable.html", context)
