"""The public referral journey: no account needed (ACCESS.md "Anonymous").

start -> who (people referring themselves or someone they care for) -> eight step pages ->
check your answers -> confirmation; and a printable form. The easy-read self-referral
(/refer/easy-read/) is a second `Journey` through the same step, check and submit code: its own
steps (referrals.forms.easy_read), pages and draft, the same limits and service.

The draft lives in the session only, as the raw values each step posted (JSON-serialisable),
and is re-bound to the step's form whenever it is shown or checked: nothing is written to the
database until the final submit. Every public page is `@public` and `never_cache`, because it
shows what someone typed. The rate limits, the honeypot, the submission token and the
confirmation kept in the session are the public forms' shared kit (dsr.nhsuk.intake).
"""

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from dsr.nhsuk.intake import Intake, submission_token
from dsr.queries import team_contact
from dsr.security.access import public
from referrals.forms.easy_read import EASY_READ_STEPS, PICTURE_ALT, build_easy_read_submission
from referrals.forms.public import (
    STEP_SLUGS,
    STEPS,
    Step,
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

# The easy-read journey shares the referral's limits (the same scopes, so one person's posts
# count once whichever way they refer) and keeps its own draft and confirmation.
EASY_READ_INTAKE = replace(
    INTAKE,
    log_name="easy-read referral",
    draft_key="referral_draft_easy_read",
    sent_key="referral_submitted_easy_read",
    confirmation="referrals:easy-read-confirmation",
    templates="referrals/easy_read/",
)

# Every POST of the journey is counted first (the check page's too: before its form is read).
_posts_allowed = INTAKE.posts_allowed


@dataclass(frozen=True)
class Journey:
    """One way through the referral's step pages to one referral: its steps, its pages and
    how its answers become a referral. The standard journey has the kind of referrer in its
    URLs; the easy-read one is for people referring themselves only."""

    intake: Intake
    steps: tuple[Step, ...]
    build: Callable[[str, Mapping[str, Mapping[str, Any]]], tuple[dict, list]]
    start_name: str  # URL names
    step_name: str
    check_name: str
    step_template: str
    check_template: str
    fixed_kind: str = ""  # the one kind of referrer, when the URLs do not carry it

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(step.slug for step in self.steps)

    def step_url(self, kind: str, slug: str) -> str:
        if self.fixed_kind:
            return reverse(self.step_name, kwargs={"step": slug})
        return reverse(self.step_name, kwargs={"kind": kind, "step": slug})

    def first_back_url(self, kind: str) -> str:
        if self.fixed_kind:
            return reverse(self.start_name)
        return reverse("referrals:start" if kind == PROFESSIONAL else "referrals:who")


STANDARD = Journey(
    intake=INTAKE,
    steps=STEPS,
    build=build_submission,
    start_name="referrals:start",
    step_name="referrals:step",
    check_name="referrals:check",
    step_template="referrals/public_step.html",
    check_template="referrals/public_check.html",
)
EASY_READ = Journey(
    intake=EASY_READ_INTAKE,
    steps=EASY_READ_STEPS,
    build=build_easy_read_submission,
    start_name="referrals:easy-read-start",
    step_name="referrals:easy-read-step",
    check_name="referrals:easy-read-check",
    step_template="referrals/easy_read/step.html",
    check_template="referrals/easy_read/check.html",
    fixed_kind=SELF,
)


# --- The draft in the session -----------------------------------------------------------------


def _draft(request: HttpRequest, journey: Journey = STANDARD) -> dict[str, Any]:
    draft = request.session.get(journey.intake.draft_key)
    return draft if isinstance(draft, dict) else {}


def _stored_steps(request: HttpRequest, journey: Journey, kind: str) -> RawSteps:
    """The answers stored for `kind`; none when the draft is for another kind of referrer."""
    draft = _draft(request, journey)
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


def _save_step(
    request: HttpRequest, journey: Journey, kind: str, slug: str, raw: dict[str, list[str]]
) -> None:
    draft = _draft(request, journey)
    if draft.get("kind") != kind:
        # Answering as another kind of referrer starts a new draft.
        draft = {"kind": kind, "steps": {}, "token": None}
    draft["steps"][slug] = raw
    request.session[journey.intake.draft_key] = draft


def _validate(
    journey: Journey, kind: str, stored: RawSteps, upto: int | None = None
) -> tuple[Answers, str | None]:
    """Clean the stored steps in order, up to (not including) index `upto`.

    Returns the cleaned answers by slug and the slug of the first step that is missing or no
    longer valid, or None when every step checked is answered and valid.
    """
    answers: Answers = {}
    for current in journey.steps[:upto]:
        raw = stored.get(current.slug)
        if raw is None:
            return answers, current.slug
        form = current.form_class(_as_querydict(raw), kind=kind, answers=answers)
        if not form.is_valid():
            return answers, current.slug
        answers[current.slug] = form.cleaned_data
    return answers, None


def _back_url(journey: Journey, kind: str, index: int, changing: bool) -> str:
    if changing:
        return reverse(journey.check_name)
    if index > 0:
        return journey.step_url(kind, journey.steps[index - 1].slug)
    return journey.first_back_url(kind)


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
    if kind not in KINDS:
        raise Http404
    return _step_page(request, STANDARD, kind, step)


def _step_page(request: HttpRequest, journey: Journey, kind: str, slug: str) -> HttpResponse:
    if slug not in journey.slugs:
        raise Http404
    if request.method == "POST" and not journey.intake.posts_allowed(request):
        return journey.intake.too_many(request)
    index = journey.slugs.index(slug)
    current = journey.steps[index]
    stored = _stored_steps(request, journey, kind)
    answers, first_missing = _validate(journey, kind, stored, upto=index)
    if first_missing is not None:
        return redirect(journey.step_url(kind, first_missing))
    changing = request.GET.get("change") == "1"
    own = _own_details(request, kind, slug) if journey is STANDARD else None
    if request.method == "POST":
        form = current.form_class(request.POST, kind=kind, answers=answers)
        if form.is_valid():
            _save_step(request, journey, kind, slug, _raw_values(form, request.POST))
            if changing or index == len(journey.steps) - 1:
                return redirect(journey.check_name)
            return redirect(journey.step_url(kind, journey.steps[index + 1].slug))
    else:
        raw = stored.get(slug)
        data = _as_querydict(raw) if raw is not None else None
        initial = own if raw is None else None
        form = current.form_class(data, kind=kind, answers=answers, initial=initial)
    context = {
        "form": form,
        "kind": kind,
        "slug": slug,
        "title": current.title(kind),
        "intro": INTROS.get((slug, kind), ""),
        "picture": f"easy-read/{current.picture}" if current.picture else "",
        "picture_alt": PICTURE_ALT.get(current.picture, ""),
        "step_number": index + 1,
        "step_count": len(journey.steps),
        # A signed-in referrer starts from their own list, so goes back to it.
        "back_url": reverse("referrals:mine")
        if own is not None and not changing
        else _back_url(journey, kind, index, changing),
    }
    return render(request, journey.step_template, context)


def _summary(journey: Journey, kind: str, stored: RawSteps, answers: Answers) -> list[dict]:
    sections = []
    so_far: Answers = {}
    for current in journey.steps:
        form = current.form_class(_as_querydict(stored[current.slug]), kind=kind, answers=so_far)
        form.is_valid()
        so_far[current.slug] = answers[current.slug]
        sections.append(
            {
                "title": current.title(kind),
                "rows": form.summary(),
                "change_url": journey.step_url(kind, current.slug) + "?change=1",
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
    return _check_page(request, STANDARD)


def _check_page(request: HttpRequest, journey: Journey) -> HttpResponse:
    intake = journey.intake
    if request.method == "POST":
        if not intake.posts_allowed(request):
            return intake.too_many(request)
        if (sent := intake.resent(request)) is not None:
            return sent
    draft = _draft(request, journey)
    kind = draft.get("kind")
    if kind not in KINDS or (journey.fixed_kind and kind != journey.fixed_kind):
        return redirect(journey.start_name)
    stored: RawSteps = draft.get("steps", {})
    answers, first_missing = _validate(journey, kind, stored)
    if first_missing is not None:
        return redirect(journey.step_url(kind, first_missing))
    token = submission_token(draft, "token")
    request.session[intake.draft_key] = draft

    def page(form: SubmitForm) -> HttpResponse:
        context = {
            "form": form,
            "kind": kind,
            "sections": _summary(journey, kind, stored, answers),
            "back_url": journey.step_url(kind, journey.slugs[-1]),
        }
        return render(request, journey.check_template, context)

    if request.method != "POST":
        return page(SubmitForm(initial={"submission_token": token}))
    form = SubmitForm(request.POST, request.FILES)
    return intake.submit(
        request,
        form,
        token=lambda: token,
        send=lambda token, saved: _submit(
            request, journey, kind, answers, token, form.cleaned_data["attachments"], saved
        ),
        again=lambda: page(form),
        changed=lambda _token: redirect(journey.check_name),
        log_detail=f" kind={kind}",
    )


def _submit(
    request: HttpRequest,
    journey: Journey,
    kind: str,
    answers: Answers,
    token: str,
    attachments: list[Any],
    saved: Callable[[Referral], None],
) -> Referral:
    fields, contacts = journey.build(kind, answers)
    referral = referral_submit(
        fields=fields,
        contacts=contacts,
        source=Referral.Source.ONLINE,
        referrer_kind=kind,
        submission_token=uuid.UUID(token),
        attachments=attachments,
        submitted_by=_submitted_by(request),
        saved=saved,
    )
    logger.info(
        "public referral submitted referral=%s kind=%s attachments=%s easy_read=%s",
        referral.pk,
        kind,
        len(attachments),
        journey is EASY_READ,
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


# --- The easy-read referral ------------------------------------------------------------------


@public
@never_cache
@require_GET
def easy_read_start(request: HttpRequest) -> HttpResponse:
    """The easy-read self-referral: what it is for and what we will ask, in short sentences."""
    return render(
        request,
        "referrals/easy_read/start.html",
        {"first_step": EASY_READ.step_url(SELF, EASY_READ.slugs[0])},
    )


@public
@never_cache
@require_http_methods(["GET", "POST"])
def easy_read_step(request: HttpRequest, step: str) -> HttpResponse:
    """One easy-read question, kept and checked as the standard journey's steps are."""
    return _step_page(request, EASY_READ, SELF, step)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def easy_read_check(request: HttpRequest) -> HttpResponse:
    """The easy-read answers to check, each with a change link, and the button to send."""
    return _check_page(request, EASY_READ)


@public
@never_cache
@require_GET
def easy_read_confirmation(request: HttpRequest) -> HttpResponse:
    """The reference and the decision date of the easy-read referral this session sent."""
    return EASY_READ_INTAKE.confirmation_page(
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
    # Where to send it: the addresses set for referrals, otherwise the DSR team's own.
    contact = team_contact()
    context = {
        "sections": sections,
        "team_contact": contact,
        "postal_address": getattr(settings, "REFERRAL_POSTAL_ADDRESS", "")
        or (f"{contact.address}\n{contact.postcode}" if contact else ""),
        "referral_email": getattr(settings, "REFERRAL_EMAIL", "")
        or (contact.email if contact else ""),
    }
    return render(request, "referrals/printable.html", context)
