"""The kit the public intake forms share: the referral journey (referrals.views.public) and the
C(E)TR request form (reviews.views.requests). No account is needed for either (ACCESS.md
"Anonymous"), so each one:

- limits its POSTs, and its submissions, per address and session (dsr.security.ratelimit), with a
  "too many" page;
- refuses a filled honeypot with a generic 400 page;
- carries a submission token issued to the session, so the same page sent twice (a double click,
  a resubmitted page, two requests at once) ends on the same confirmation with one record (the
  service returns the first record for a token), and a token that is not this session's (an old
  tab, an expired session) asks the user to check and send again;
- keeps only the id and token of what the session sent, and shows on its confirmation just the
  reference and dates of that record, read by the id from the session, never from the request;
- is saved once per token with a random reference (`submission_save`, for the services), and
  the session, with what it sent, is written in the same transaction: one commit per POST.

Each form keeps what differs: its pages and steps, its service call, and its texts, in
templates that extend the shared pages in templates/includes/intake/.
"""

import logging
import secrets
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from dsr.exceptions import RegisterError
from dsr.security import ratelimit

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)


def submission_token(store: MutableMapping[str, Any], key: str) -> str:
    """The submission token kept in `store` (the session, or a draft kept in it) under `key`,
    made and stored the first time the page that sends it is shown."""
    token = store.get(key)
    if not token or not isinstance(token, str):
        token = str(uuid.uuid4())
        store[key] = token
    return token


@dataclass(frozen=True)
class Intake:
    """One public form: its limits, its session keys, its templates and its confirmation."""

    noun: str  # what is sent, in the page texts: "referral", "request"
    logger: logging.Logger  # the form's own, so its log lines keep their name
    log_name: str  # what is sent, in the log lines: "referral", "C(E)TR request"
    post_scope: str  # the rate limit on every POST, and the setting that holds it
    post_setting: str
    submit_scope: str  # the rate limit on submissions, and its setting
    submit_setting: str
    draft_key: str  # the session key of what is being written, with its token
    sent_key: str  # the session key of what this session sent: its id and token
    confirmation: str  # the URL name of the confirmation
    templates: str  # the prefix of the form's pages: public_too_many.html and the others

    def posts_allowed(self, request: HttpRequest) -> bool:
        return ratelimit.within_limit(request, scope=self.post_scope, setting=self.post_setting)

    def submission_allowed(self, request: HttpRequest) -> bool:
        return ratelimit.within_limit(request, scope=self.submit_scope, setting=self.submit_setting)

    def too_many(self, request: HttpRequest) -> HttpResponse:
        return ratelimit.too_many(request, f"{self.templates}public_too_many.html")

    def resent(self, request: HttpRequest) -> HttpResponse | None:
        """The confirmation again when this POST carries the token of what this session has
        already sent; None otherwise."""
        done = request.session.get(self.sent_key) or {}
        if done.get("token") and request.POST.get("submission_token") == done["token"]:
            return redirect(self.confirmation)
        return None

    def submit(
        self,
        request: HttpRequest,
        form: Any,
        *,
        token: Callable[[], str],
        send: Callable[[str, Callable[[Model], None]], Model | None],
        again: Callable[[], HttpResponse],
        changed: Callable[[str], HttpResponse],
        log_detail: str = "",
    ) -> HttpResponse:
        """The answer to the POST that sends the form, once it is bound.

        A filled honeypot gets the generic 400 page; invalid answers get `again` (the page with
        its errors). `token()` is then the session's token: a form carrying another gets
        `changed(token)`, after a message asking to check and send again. Past the submissions
        limit, the "too many" page. Otherwise `send(token)` calls the service: it returns the
        record, or None when the service refused and the refusal is on the form (then `again`).
        `send` passes its second argument to the service as `saved`: in the record's own
        transaction, the session forgets the draft, remembers what was sent and is written, so
        the POST commits once. The user then goes to the confirmation.
        """
        if form.is_bot:
            self.logger.info("%s refused: honeypot filled%s", self.log_name, log_detail)
            return render(request, f"{self.templates}public_rejected.html", status=400)
        if not form.is_valid():
            return again()
        session_token = token()
        if str(form.cleaned_data["submission_token"]) != session_token:
            messages.info(
                request,
                "This page had changed since you opened it. Check your answers, then send the "
                f"{self.noun}.",
            )
            return changed(session_token)
        if not self.submission_allowed(request):
            return self.too_many(request)
        session = request.session
        before = {key: session.get(key) for key in (self.draft_key, self.sent_key)}

        def saved(record: Model) -> None:
            # In the record's own transaction: the session forgets the draft and remembers what
            # was sent, and is written there, so the POST commits once.
            self._remember(session, record, session_token)
            save = getattr(session, "save_in_transaction", None)
            if save is not None:
                save()

        try:
            record = send(session_token, saved)
        except BaseException:
            self._restore(session, before)
            raise
        if record is None:
            self._restore(session, before)
            return again()
        # Again, for a record saved by another request with this token (two at once): the
        # session is then saved at the end of this request, as usual.
        self._remember(session, record, session_token)
        return redirect(self.confirmation)

    def _remember(self, session: Any, record: Model, token: str) -> None:
        session.pop(self.draft_key, None)
        session[self.sent_key] = {"id": record.pk, "token": token}

    def _restore(self, session: Any, before: dict[str, Any]) -> None:
        """Nothing was sent (the transaction rolled back): the session as it was."""
        for key, value in before.items():
            if value is None:
                session.pop(key, None)
            else:
                session[key] = value
        forget = getattr(session, "forget_saved", None)
        if forget is not None:
            forget()

    def confirmation_page(
        self, request: HttpRequest, records: QuerySet, *fields: str
    ) -> HttpResponse:
        """The record this session just sent, as `sent` (only `fields`: its reference and dates,
        never a name); without one, a page saying there is nothing to show."""
        done = request.session.get(self.sent_key) or {}
        sent = None
        if isinstance(done.get("id"), int):
            # The id comes from this session, never from the request, so no one reaches another
            # person's record here.
            sent = records.filter(pk=done["id"]).values(*fields).first()
        return render(
            request, f"{self.templates}public_confirmation.html", {"sent": sent, "noun": self.noun}
        )


# --- Saving a submission (for the services) ----------------------------------------------------

REFERENCE_ATTEMPTS = 5


def new_reference(prefix: str, year: int) -> str:
    """A random reference, not a sequential one: it must not give away how many there are or let
    anyone guess another. Uniqueness is the database's job (`submission_save` draws again)."""
    return f"{prefix}-{year}-{secrets.randbelow(900_000) + 100_000}"


def submission_save(
    model: type[M],
    *,
    submission_token: uuid.UUID,
    prefix: str,
    year: int,
    save: Callable[[str], M],
    refused: str,
    undo: Callable[[], None] = lambda: None,
    saved: Callable[[M], None] | None = None,
) -> M:
    """Run `save(reference)` in one transaction, with a fresh random reference, and return what
    it saved. The same `submission_token` already saved (two requests at once) returns that
    record. A reference already taken draws another, up to REFERENCE_ATTEMPTS times; any other
    database refusal raises RegisterError(`refused`), for the person using the page. `undo`
    clears up what a failed attempt left outside the database (stored files). `saved(record)`
    runs last in the same transaction (a public form writes its visitor's session there), not
    for a record another request saved with the token."""
    for _ in range(REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                record = save(new_reference(prefix, year))
                if saved is not None:
                    saved(record)
                return record
        except IntegrityError as exc:
            undo()
            existing = model._default_manager.filter(submission_token=submission_token).first()
            if existing is not None:
                return existing
            if "reference" not in str(exc):
                logger.warning(
                    "%s refused by a database rule: %s", model._meta.model_name, type(exc).__name__
                )
                raise RegisterError(refused) from exc
    raise RegisterError("It could not be saved just now. Try again.")
