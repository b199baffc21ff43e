"""Logging and audit (RELIABILITY E-1 to E-7): sign-in events and refusals on the "dsr.audit"
logger, the access log for record reads, no personal data in logs or error reports, no forged
log lines, append-only audit tables, and the correlation id on the error page."""

import io
import json
import logging
import re
from datetime import date, datetime, timedelta

import pytest
from celery.app.task import Task
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.test import Client, override_settings
from django.urls import resolve, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from log_request_id.filters import RequestIDFilter

from dsr import services
from dsr.models import AccessEvent, Person
from dsr.roles import Role
from dsr.security.access import PUBLIC, access_rule_of
from dsr.security.audit import Event, access_log_record
from dsr.security.logs import JsonFormatter, PlainFormatter
from dsr.tasks import deliver_notifications_task
from dsr.views.accounts import SETUP_KEY
from escalation.sweeps import escalation_rules_sweep
from referrals.models import Referral
from tests.conftest import ALL_PERSONAS, PASSWORD, signed_in_client
from tests.dsr.factories import TOTPDeviceFactory, UserFactory
from tests.edit_pages import edit_version
from tests.figures import record
from tests.password_resets import reset_jobs, run_reset_jobs
from tests.referrals.helpers import answers_for, small_pdf, submit, token_from, walk
from tests.test_route_matrix import MATRIX, SIGN_IN, VERIFY, _outcome

pytestmark = pytest.mark.django_db

AUDIT = "dsr.audit"
SIGN_IN_URL = reverse("accounts:sign-in")
VERIFY_URL = reverse("accounts:verify")


def audit_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == AUDIT]


def code_for(device) -> str:
    return f"{totp(device.bin_key, t0=device.t0, step=device.step):06d}"


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(SIGN_IN_URL, {"username": email, "password": password})


# --- E-1: authentication events ---------------------------------------------------------------


@pytest.fixture
def member(organisations):
    user = UserFactory(
        email="member@nhs.example",
        full_name="Morgan Member",
        organisation=organisations["icb"],
        roles=[Role.REGISTER_STAFF],
    )
    TOTPDeviceFactory(user=user)
    return user


class AuditTrail:
    """Runs one step and checks it wrote exactly the expected audit records, with every field."""

    def __init__(self, caplog):
        self.caplog = caplog
        self.seen: set[str] = set()

    def step(self, action, *expected: tuple[Event, int | None, str | None]) -> None:
        self.caplog.clear()
        action()
        # Records of one request come in the order the signal receivers run: compare by event.
        found = sorted(audit_records(self.caplog), key=lambda r: r.event)
        expected = tuple(sorted(expected, key=lambda e: e[0].value))
        assert [r.event for r in found] == [event.value for event, _, _ in expected]
        for found_record, (event, user_id, route) in zip(found, expected, strict=True):
            assert found_record.user_id == user_id, event
            assert found_record.route == route, event
            assert found_record.client_ip == ("127.0.0.1" if route else None), event
            when = datetime.fromisoformat(found_record.at)
            assert when.utcoffset() == timedelta(0), event
            # Never the email address or the name, whatever was typed.
            text = found_record.getMessage() + json.dumps(found_record.__dict__, default=str)
            assert "member@nhs.example" not in text
            assert "Morgan" not in text
            self.seen.add(event.value)


def test_each_authentication_event_writes_one_audit_record_with_all_its_fields(
    caplog, member, organisations, frozen_now
):
    caplog.set_level(logging.INFO, logger=AUDIT)
    trail = AuditTrail(caplog)
    client = Client()
    device = member.totpdevice_set.get()
    right = code_for(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    at_sign_in = "accounts:sign-in"

    trail.step(
        lambda: sign_in(client, "MEMBER@nhs.example", "not the password"),
        (Event.SIGN_IN_FAILURE, member.pk, at_sign_in),
    )
    trail.step(
        lambda: sign_in(client, "nobody@nhs.example"),
        (Event.SIGN_IN_FAILURE, None, at_sign_in),
    )
    trail.step(
        lambda: sign_in(client, member.email), (Event.SIGN_IN_SUCCESS, member.pk, at_sign_in)
    )
    trail.step(
        lambda: client.post(VERIFY_URL, {"token": wrong}),
        (Event.SECOND_FACTOR_FAILURE, member.pk, "accounts:verify"),
    )
    frozen_now.shift(timedelta(seconds=5))  # past django-otp's throttle after a wrong code
    trail.step(
        lambda: client.post(VERIFY_URL, {"token": right}),
        (Event.SECOND_FACTOR_SUCCESS, member.pk, "accounts:verify"),
    )
    trail.step(
        lambda: client.post(reverse("accounts:sign-out")),
        (Event.SIGN_OUT, member.pk, "accounts:sign-out"),
    )

    # Password reset: asked for, then completed through the emailed link (its job run as the
    # worker runs it).
    cache.clear()  # the per-address limit counts every request from the test client
    with reset_jobs() as jobs:
        trail.step(
            lambda: client.post(reverse("accounts:password-reset"), {"email": member.email}),
            (Event.PASSWORD_RESET_REQUESTED, member.pk, "accounts:password-reset"),
        )
    run_reset_jobs(jobs)
    link = re.search(r"https?://[^/]+(/accounts/password-reset/\S+/)", mail.outbox[-1].body)
    form_page = client.get(link.group(1), follow=True)
    new_password = "a brand new long passphrase"
    trail.step(
        lambda: client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": new_password, "new_password2": new_password},
        ),
        (Event.PASSWORD_RESET_COMPLETED, member.pk, "accounts:password-reset-confirm"),
    )

    # Lockout: the failure that reaches the limit is logged, and so is the lockout.
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        sign_in(client, member.email, "still not the password")
    trail.step(
        lambda: sign_in(client, member.email, "still not the password"),
        (Event.SIGN_IN_FAILURE, member.pk, at_sign_in),
        (Event.SIGN_IN_LOCKED_OUT, member.pk, at_sign_in),
    )

    # A first sign-in sets up the authenticator app.
    newcomer = UserFactory(organisation=organisations["icb"], roles=[Role.REGISTER_STAFF])
    other = Client()
    sign_in(other, newcomer.email)
    other.get(reverse("accounts:setup"))
    new_device = TOTPDevice(key=other.session[SETUP_KEY])
    trail.step(
        lambda: other.post(reverse("accounts:setup"), {"token": code_for(new_device)}),
        (Event.SECOND_FACTOR_SET_UP, newcomer.pk, "accounts:setup"),
    )

    # Switching an account off; saving it again, or saving its last sign-in, is not an event.
    def deactivate():
        newcomer.is_active = False
        newcomer.save()
        newcomer.save()
        newcomer.save(update_fields=["last_login"])

    trail.step(deactivate, (Event.ACCOUNT_DEACTIVATED, newcomer.pk, None))

    # Through an NHS identity provider: a return without the state this session kept, and a
    # back-channel logout call without a logout token. (A sign-in, a first link, an identity
    # without an account and a back-channel logout need a real provider: each is checked with
    # its fields in tests/dsr/test_nhs_identity.py.)
    anyone = Client()
    trail.step(
        lambda: anyone.get(reverse("accounts:provider-return", kwargs={"provider": "cis2"})),
        (Event.PROVIDER_SIGN_IN_REFUSED, None, "accounts:provider-return"),
    )
    trail.step(
        lambda: anyone.post(reverse("accounts:back-channel-logout", kwargs={"provider": "cis2"})),
        (Event.BACK_CHANNEL_LOGOUT_REFUSED, None, "accounts:back-channel-logout"),
    )

    # An administrator removes the member's link to an NHS identity.
    from dsr.models import ProviderIdentity
    from tests.conftest import make_persona, signed_in_client

    administrator = make_persona("administrator", organisations)
    administering = signed_in_client(administrator)
    link = ProviderIdentity.objects.create(
        user=member, provider="cis2", subject="cis2-uid-member", name="cis2"
    )
    trail.step(
        lambda: administering.post(
            reverse("admin:dsr_user_identity_remove", args=[member.pk, link.pk])
        ),
        (Event.PROVIDER_IDENTITY_REMOVED, administrator.pk, "admin:dsr_user_identity_remove"),
    )

    with_a_real_provider = {
        Event.PROVIDER_SIGN_IN.value,
        Event.PROVIDER_IDENTITY_LINKED.value,
        Event.PROVIDER_UNKNOWN_IDENTITY.value,
        Event.BACK_CHANNEL_LOGOUT.value,
    }
    expected = {event.value for event in Event} - {Event.ACCESS_REFUSED.value}
    assert trail.seen == expected - with_a_real_provider
    record("E-1 authentication event types with one complete record each", len(trail.seen))


# --- E-2: every refusal is logged -----------------------------------------------------------

REFUSALS = {401: 401, 403: 403, 404: 404, SIGN_IN: 302, VERIFY: 302}


def _is_refusal(answer, url: str) -> bool:
    """A 401 (the read feed without a token), a 403 or 404, or a redirect to a sign-in step that
    the access rule made (the set-up page's own redirect to the code page, for someone who has an
    app, is not a refusal)."""
    if answer in (401, 403, 404):
        return True
    rule = access_rule_of(resolve(url).func)
    return (answer == SIGN_IN and rule != PUBLIC) or (answer == VERIFY and rule is None)


def _refusal_sample() -> list[tuple[str, str]]:
    """For every GET route of the matrix: one persona for each kind of refusal it gives, and one
    persona it lets through (which must write no refusal)."""
    cells = []
    for name, row in MATRIX.items():
        if row.method != "get":
            continue
        by_answer: dict = {}
        for persona in ALL_PERSONAS:
            by_answer.setdefault(row.expect[persona], persona)
        cells += [(name, persona) for persona in by_answer.values()]
    return cells


def test_every_refused_cell_of_the_route_matrix_writes_one_refusal_record(
    caplog, personas, matrix_objects
):
    caplog.set_level(logging.INFO, logger=AUDIT)
    refused = logged = 0
    wrong = []
    for name, persona in _refusal_sample():
        row = MATRIX[name]
        caplog.clear()
        url = row.url(name, matrix_objects)
        response = personas["clients"][persona].get(url)
        answer = _outcome(response)
        records = [r for r in audit_records(caplog) if r.event == Event.ACCESS_REFUSED]
        if not _is_refusal(answer, url):
            if records:
                wrong.append(f"{name} as {persona}: {answer} but logged as refused")
            continue
        refused += 1
        user = personas["users"][persona]
        signed_in = persona not in ("anonymous", "deactivated")
        expected = (REFUSALS[answer], name, user.pk if signed_in else None)
        got = [(r.status, r.route, r.user_id) for r in records]
        if got == [expected]:
            logged += 1
        else:
            wrong.append(f"{name} as {persona}: expected [{expected}], got {got}")
    assert wrong == []
    assert refused > 200
    record("E-2 refused cells with one refusal record", f"{logged} of {refused} (100%)")


# --- E-3: reads of a person's record are in the access log ----------------------------------


class _Seen(dict):
    """The matrix objects, noting which ones a row's URL is built from."""

    def __init__(self, objects):
        super().__init__(objects)
        self.used: list[str] = []

    def __getitem__(self, key):
        self.used.append(key)
        return super().__getitem__(key)


def _person_behind(row, objects) -> Person | None:
    """The person whose record the row's URL names: a person, or a record about one person (a
    C(E)TR, an action, an agenda item, a visit, an escalation, a contact)."""
    seen = _Seen(objects)
    if callable(row.kwargs):
        row.kwargs(seen)
    subjects = [objects[key] for key in seen.used]
    people = {s if isinstance(s, Person) else getattr(s, "person", None) for s in subjects}
    people.discard(None)
    return people.pop() if len(people) == 1 else None


# Routes about one person's record that show nothing of it, and why.
NOT_A_RECORD_READ = {
    # The partner's page for their action: only the summary the chair wrote for them (checked
    # for the person's identifiers), the due date and the team's details; each use is an
    # ActionLinkUse row, the link's own audit (ACCESS.md "Action owner by link").
    "reviews:action-link",
}


def test_every_person_record_read_route_writes_one_access_event_for_that_person(
    personas, matrix_objects
):
    routes = logged = 0
    wrong = []
    for name, row in MATRIX.items():
        person = _person_behind(row, matrix_objects)
        allowed = [p for p in ALL_PERSONAS if row.expect[p] == 200]
        if row.method != "get" or person is None or not allowed or name in NOT_A_RECORD_READ:
            continue
        routes += 1
        before = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = personas["clients"][allowed[0]].get(row.url(name, matrix_objects))
        rows = list(AccessEvent.objects.filter(id__gt=before, person=person))
        request_ids = {r.request_id for r in rows}
        if (
            response.status_code == 200
            and len(rows) == 1
            and request_ids == {response["X-Request-ID"]}
        ):
            logged += 1
        else:
            wrong.append(f"{name}: {len(rows)} rows for the person, ids {request_ids}")
    assert wrong == []
    assert routes >= 40  # the people, C(E)TR, action, meeting item and escalation pages
    record("E-3 record-read routes logged", f"{logged} of {routes}")


# --- E-4: no personal data or secrets in logs, error reports or task arguments --------------

GIVEN = "Qxsentgiven"
FAMILY = "Qxsentfamily"
NHS_NUMBER = "7382046192"
FREE_TEXT = "Qxsentfreetext"
FILE_NAME = "Qxsentfile"
REFERRER_EMAIL = "qxsent.referrer@example.org"
TYPED_PASSWORD = "Qxsentpassword-typed"  # noqa: S105


def _sentinel_referral(client: Client, area) -> Referral:
    answers = answers_for("self", area.pk)
    answers["person"] |= {
        "given_name": GIVEN,
        "family_name": FAMILY,
        "nhs_number": NHS_NUMBER,
        "date_of_birth_day": "23",
        "date_of_birth_month": "6",
        "date_of_birth_year": "1987",
    }
    answers["risks"]["risks"] = f"{FREE_TEXT} risks at home."
    answers["about-you"]["referrer_email"] = REFERRER_EMAIL
    client.post(reverse("referrals:who"), {"who": "self"})
    walk(client, "self", answers)
    pdf = SimpleUploadedFile(f"{FILE_NAME}.pdf", small_pdf(), content_type="application/pdf")
    submit(client, token_from(client), attachments=[pdf])
    return Referral.objects.get(family_name=FAMILY)


def _decide(staff: Client, referral: Referral) -> None:
    staff.get(reverse("referrals:detail", args=[referral.pk]))
    review = reverse("referrals:review", args=[referral.pk])
    staff.post(
        review,
        {
            **edit_version(staff, review),
            "held_on_day": "10",
            "held_on_month": "3",
            "held_on_year": "2026",
            "education_participant": "Jo Smith, SENCo",
            "social_care_participant": "Ravi Patel, social worker",
        },
    )
    staff.post(
        reverse("referrals:decide", args=[referral.pk]),
        {
            "decision": "not_eligible",
            "ineligible_reason": f"{FREE_TEXT} reason.",
            "signposting": "Your GP.",
        },
    )
    referral.refresh_from_db()
    assert referral.status == Referral.Status.NOT_ELIGIBLE


def _rating(rationale: str, rating: str = "AMBER") -> dict:
    return {
        "rating": rating,
        "rationale": rationale,
        "effective_from_day": "10",
        "effective_from_month": "3",
        "effective_from_year": "2026",
    }


@pytest.fixture
def everything_logged(caplog):
    """Every record at DEBUG, from the root and from the loggers settings quieten."""
    for name in (None, "django", "django.request", "axes", "dsr", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def task_calls(monkeypatch):
    """Every Celery task sent (delay goes through apply_async), kept here rather than sent."""
    calls = []

    def keep(task, args=None, kwargs=None, **options):
        calls.append((task.name, args, kwargs))

    monkeypatch.setattr(Task, "apply_async", keep)
    return calls


@override_settings(ADMINS=[("Service desk", "service.desk@nhs.example")])
def test_no_sentinel_reaches_logs_error_reports_or_task_arguments(
    everything_logged,
    task_calls,
    monkeypatch,
    personas,
    areas,
    make_person,
    django_capture_on_commit_callbacks,
    frozen_now,
):
    staff = personas["clients"]["register_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        # A self-referral through the public form, then decided by staff.
        referral = _sentinel_referral(Client(), areas["north"])
        _decide(staff, referral)
        # A person on the register found by search, and their rating changed.
        person = make_person(
            "GREEN",
            given_name=GIVEN,
            family_name=FAMILY,
            nhs_number=NHS_NUMBER,
            date_of_birth=date(1987, 6, 23),
        )
        staff.post(reverse("dsr:register-search"), {"name": FAMILY})
        rating_url = reverse("dsr:person-rating", kwargs={"pk": person.pk})
        assert staff.post(rating_url, _rating(f"{FREE_TEXT} rationale.", "RED"))["Location"]
        # A failed sign-in with a typed password and an address that is no account.
        sign_in(Client(), REFERRER_EMAIL, TYPED_PASSWORD)
        # A password reset asked for that address: its job is queued with the request's id.
        cache.clear()  # the per-address limit counts every request from the test client
        reset = Client().post(reverse("accounts:password-reset"), {"email": REFERRER_EMAIL})
        assert reset["Location"] == reverse("accounts:password-reset-sent")
        # The scheduled jobs: the Red rating is escalated, its owners told through the outbox.
        escalation_rules_sweep()
    deliver_notifications_task()

    # An error while saving a rating: the error page, the logged error and the report mailed.
    def broken(**kwargs):
        raise RuntimeError("the rating store is unavailable")

    monkeypatch.setattr(services, "rating_change", broken)
    failing = signed_in_client(personas["users"]["register_staff"])
    failing.raise_request_exception = False
    assert failing.post(rating_url, _rating(f"{FREE_TEXT} second.")).status_code == 500
    session_key = failing.cookies[settings.SESSION_COOKIE_NAME].value

    reports = [m for m in mail.outbox if "service.desk@nhs.example" in m.to]
    assert len(reports) == 1  # the error was reported, so its report was searched
    assert task_calls  # the outbox delivery was queued, so task arguments were searched
    assert "dsr.tasks.queue_password_reset_task" in {name for name, _, _ in task_calls}
    json_format, plain_format = JsonFormatter(), PlainFormatter()
    texts = [json_format.format(r) + plain_format.format(r) for r in everything_logged.records]
    texts += [f"{m.subject}\n{m.body}\n{m.alternatives}" for m in reports]
    texts += [repr(call) for call in task_calls]
    sentinels = [
        GIVEN,
        FAMILY,
        NHS_NUMBER,
        "738 204 6192",
        "1987-06-23",
        "23/06/1987",
        "23 June 1987",
        "23 Jun 1987",
        FREE_TEXT,
        FILE_NAME,
        REFERRER_EMAIL,
        TYPED_PASSWORD,
        session_key,
    ]
    leaks = sorted({s for s in sentinels for text in texts if s.lower() in text.lower()})
    assert leaks == []
    record("E-4 sentinel leaks", len(leaks))
    record(
        "E-4 searched",
        f"{len(everything_logged.records)} log records, {len(reports)} error report, "
        f"{len(task_calls)} task calls",
    )


# --- E-5: no forged log lines -----------------------------------------------------------------

FORGED = "FORGED dsr.security.audit sign_in_success user=1"
HOSTILE = f"x\r\n2026-01-01T00:00:00.000Z INFO {FORGED}\x1b[2J\u2028{FORGED}"


@pytest.fixture
def log_output():
    """The lines both log formats write for everything logged during the test."""
    streams = {"json": io.StringIO(), "plain": io.StringIO()}
    formatters = {"json": JsonFormatter(), "plain": PlainFormatter("%(asctime)s %(message)s")}
    handlers = []
    for name, stream in streams.items():
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatters[name])
        handler.addFilter(RequestIDFilter())
        handlers.append(handler)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.INFO)
    for handler in handlers:
        root.addHandler(handler)
    yield streams
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(old_level)


def _forged_lines(streams) -> int:
    forged = 0
    for line in streams["json"].getvalue().splitlines():
        try:
            json.loads(line)
        except ValueError:
            forged += 1
    for line in streams["plain"].getvalue().split("\n"):
        if line and not re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z |    ", line):
            forged += 1
    text = streams["json"].getvalue() + streams["plain"].getvalue()
    forged += sum(text.count(c) for c in ("\r", "\x1b", "\u2028"))
    return forged


def test_user_controlled_values_never_forge_a_log_line(log_output, member, staff_client):
    # Typed at sign-in, in a path, in a search, and in a message and an exception of our own.
    sign_in(Client(), HOSTILE, HOSTILE)
    sign_in(Client(), f"member@nhs.example{HOSTILE}", HOSTILE)
    Client().get("/people/%0d%0a2026-01-01%20INFO%20" + FORGED.replace(" ", "%20") + "/")
    staff_client.post(reverse("dsr:register-search"), {"name": HOSTILE})
    logger = logging.getLogger("dsr.test")
    logger.warning("upload refused name=%s", f"{HOSTILE}.pdf")
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logger.exception("search failed term=%s", HOSTILE)

    written = log_output["plain"].getvalue()
    assert "Not Found: /people/" in written  # the hostile path was logged, escaped
    assert "\\x0d\\x0a" in written
    assert written.count("search failed") == 1
    forged = _forged_lines(log_output)
    assert forged == 0
    record("E-5 forged log lines", forged)


# --- E-6: audit tables are append-only --------------------------------------------------------

PROTECTED = re.compile(
    r"^(dsr|referrals|reviews|escalation|reports)_(historical\w*|\w*transition|accessevent|apicall)$"
)


def _protected_tables() -> set[str]:
    return {t for t in connection.introspection.table_names() if PROTECTED.match(t)}


def _tables_with_trigger() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = 'dsr_audit_append_only' AND NOT t.tgisinternal"
        )
        return {name for (name,) in cursor.fetchall()}


def _update(model, pk) -> int:
    field = next(f for f in model._meta.concrete_fields if not f.primary_key)
    return model._base_manager.filter(pk=pk).update(**{field.attname: F(field.attname)})


def _delete(model, pk) -> int:
    deleted, _ = model._base_manager.filter(pk=pk).delete()
    return deleted


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the triggers are PostgreSQL's")
def test_audit_rows_change_only_inside_the_retention_service(personas, matrix_objects):
    access_log_record(
        user=personas["users"]["register_staff"],
        action=AccessEvent.Action.VIEW_PERSON,
        path="/people/1/",
        person=matrix_objects["north_red"],
    )
    tables = _protected_tables()
    assert len(tables) >= 25
    assert tables - _tables_with_trigger() == set()  # a new history table needs its trigger

    models = [m for m in apps.get_models() if m._meta.db_table in tables]
    rows = {m: m._base_manager.order_by("pk").values_list("pk", flat=True).first() for m in models}
    with_rows = {m: pk for m, pk in rows.items() if pk is not None}
    kinds = {m._meta.db_table for m in with_rows}
    assert {"dsr_accessevent", "referrals_referraltransition"} <= kinds
    assert {"escalation_escalationtransition", "dsr_historicalperson"} <= kinds
    assert len(with_rows) >= 15

    counts_before = {m: m._base_manager.count() for m in with_rows}
    for model, pk in with_rows.items():
        for change in (_update, _delete):
            with (
                pytest.raises(DatabaseError, match="audit rows are append-only"),
                transaction.atomic(),
            ):
                change(model, pk)
    assert {m: m._base_manager.count() for m in with_rows} == counts_before

    # The retention service's contract: with dsr.retention on for the transaction, it may.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dsr.retention', 'on', true)")
        for model, pk in with_rows.items():
            assert _update(model, pk) == 1
            assert _delete(model, pk) == 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dsr.retention', '', true)")
    for model in with_rows:
        assert model._base_manager.count() == counts_before[model] - 1
    record(
        "E-6 audit tables protected",
        f"{len(tables)} tables with the trigger; UPDATE and DELETE refused on {len(with_rows)} "
        "with rows, 0 rows changed",
    )


# --- E-7: the error page and its correlation id -----------------------------------------------


@pytest.fixture
def console_output():
    """What the configured console handler (settings.LOGGING) writes during the test."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


def test_an_error_shows_the_generic_page_with_the_id_that_is_on_the_logged_error(
    console_output, monkeypatch, personas, register_objects
):
    def broken(**kwargs):
        raise RuntimeError("the rating store is unavailable SECRET_KEY")

    monkeypatch.setattr(services, "rating_change", broken)
    client = signed_in_client(personas["users"]["register_staff"])
    client.raise_request_exception = False
    url = reverse("dsr:person-rating", kwargs={"pk": register_objects["north_red"].pk})

    response = client.post(url, _rating("Settled at home."))

    assert settings.DEBUG is False
    assert response.status_code == 500
    page = response.content.decode()
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert "Sorry, there is a problem with the service" in page
    assert f'<strong id="error-reference">{request_id}</strong>' in page
    # Shared with the 413 page: an NHS.UK header and footer that need nothing from the request.
    assert '<span class="nhsuk-header__service-name">Dynamic support register</span>' in page
    assert 'class="nhsuk-footer"' in page
    assert 'rel="icon" href="/static/nhsuk/assets/images/favicon.ico"' in page
    assert "service desk" not in page
    for secret in ("Traceback", "RuntimeError", "rating store", "SECRET_KEY", "Zyxwvut"):
        assert secret not in page
    errors = [json.loads(line) for line in console_output.getvalue().splitlines()]
    logged = [e for e in errors if e["levelname"] == "ERROR" and e["name"] == "django.request"]
    assert len(logged) == 1
    assert logged[0]["request_id"] == request_id
    assert "RuntimeError" in logged[0]["exc_info"]
    record("E-7 500 page shows the logged correlation id; stack traces in it", "yes; 0")


def test_each_request_gets_its_own_id_and_a_trusted_header_is_used_only_when_configured():
    first = Client().get(reverse("pages:start"))
    second = Client().get(reverse("pages:start"), headers={"X-Request-ID": "from-the-client"})
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert second["X-Request-ID"] != "from-the-client"

    with override_settings(LOG_REQUEST_ID_HEADER="HTTP_X_REQUEST_ID"):
        proxied = Client().get(reverse("pages:start"), headers={"X-Request-ID": "lb-1234.abcd"})
        forged = Client().get(reverse("pages:start"), headers={"X-Request-ID": "a\r\nb"})
    assert proxied["X-Request-ID"] == "lb-1234.abcd"
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])
