"""The shape every single-form page shares: validate, call one service, show its refusal on the
form as an NHS.UK error (the service's transaction has then written nothing), or redirect with
a confirmation."""

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dsr.exceptions import RegisterError
from dsr.models import AccessEvent
from dsr.nhsuk.edits import EditGuard
from dsr.security.audit import access_log_record

logger = logging.getLogger(__name__)


def form_page(
    request: HttpRequest,
    *,
    form: Any,
    title: str,
    act: Callable[[dict], Any],
    done: str,
    back_url: str,
    back_label: str,
    caption: str = "",
    intro: str = "",
    button: str = "Save",
    next_url: str | Callable[[Any], str] | None = None,
    extra: dict[str, Any] | None = None,
    template: str = "form_page.html",
    person: Any = None,
    log_detail: dict[str, Any] | None = None,
    guard: EditGuard | None = None,
    warn: Callable[[dict], list[str]] | None = None,
) -> HttpResponse:
    """`act` gets the cleaned data; after it succeeds the user goes to `next_url` (a URL, or a
    function of what `act` returned), or back where they came from. A page about `person`
    writes an access-log row each time it is shown (ACCESS.md: every read is logged). A page
    that overwrites a record passes its `guard` (dsr.nhsuk.edits): a change someone else saved since
    the page was drawn is shown instead of being overwritten.

    `warn` gives, from the cleaned data, what the user should check before it is saved (a
    likely mistake that is not an error): the page shows it and saves only when the same
    warnings come back confirmed, so changing the answers warns afresh."""
    warnings: list[str] = []
    warned = ""
    if request.method == "POST" and form.is_valid() and warn is not None:
        warnings = warn(form.cleaned_data)
        warned = _warnings_key(warnings) if warnings else ""
    if (
        request.method == "POST"
        and form.is_valid()
        and (not warnings or request.POST.get("warned") == warned)
    ):
        try:
            result = guard.save(request, form, act) if guard else act(form.cleaned_data)
        except RegisterError as exc:  # EditConflict too: the guard keeps what changed
            logger.info("action refused path=%s user=%s", request.path, request.user.pk)
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            target = next_url(result) if callable(next_url) else next_url
            return redirect(target or back_url)
    if person is not None:
        access_log_record(
            user=request.user,
            person=person,
            action=AccessEvent.Action.VIEW_PERSON,
            path=request.path,
            # Ids and page kinds only: never a title, which may carry the person's name.
            detail={"page": "form", **(log_detail or {})},
        )
    context = {
        "form": form,
        "title": title,
        "caption": caption,
        "intro": intro,
        "button": button,
        "back_url": back_url,
        "back_label": back_label,
        **(guard.context(request) if guard else {}),
        **(extra or {}),
    }
    if warnings:
        context["warnings"] = [*context.get("warnings", []), *warnings]
        context["warned"] = warned
    return render(request, template, context)


def _warnings_key(warnings: list[str]) -> str:
    """Names the warnings the page showed, so a confirmation counts only for those."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]
