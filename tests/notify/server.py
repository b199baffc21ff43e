"""A small GOV.UK Notify for the tests: a real HTTP server on 127.0.0.1, written from Notify's
published API documentation (docs.notifications.service.gov.uk, REST API v2), that the official
client talks to exactly as it talks to Notify.

It checks each request's JSON Web Token (HS256, signed with the API key's secret, `iss` the
service id, `iat` within 30 seconds), answers the send and list calls with Notify's documented
bodies, fills templates' ((placeholders)) and refuses a send whose personalisation leaves one
out, and answers with Notify's documented error bodies when told to (`fail_next`). It records
every request it was sent, and can post a delivery receipt to a callback URL (`send_callback`).
"""

import base64
import binascii
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

import jwt

PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")
CLOCK_SKEW_SECONDS = 30

# Notify's documented error bodies, by the failure a test asks for.
ERRORS: dict[str, tuple[int, str, str]] = {
    "bad_request": (
        400,
        "BadRequestError",
        "Can't send to this recipient using a team-only API key",
    ),
    "auth": (403, "AuthError", "Invalid token: API key not found"),
    "rate_limit": (
        429,
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    ),
    "too_many": (429, "TooManyRequestsError", "Exceeded send limits (250000) for today"),
    "server": (500, "Exception", "Internal server error"),
}


def fill(text: str, personalisation: dict[str, Any]) -> str:
    """A Notify template's text with its ((placeholders)) filled (as Notify fills them)."""
    return PLACEHOLDER.sub(lambda match: str(personalisation[match.group(1).strip()]), text)


def placeholders(text: str) -> set[str]:
    return {name.strip() for name in PLACEHOLDER.findall(text)}


@dataclass
class Template:
    type: str  # "email" or "sms"
    body: str
    subject: str = ""
    version: int = 1


@dataclass
class Received:
    method: str
    path: str
    body: dict[str, Any]
    claims: dict[str, Any]
    query: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class FakeNotify:
    """The server's state: its key, templates, what it was sent and what it accepted."""

    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    templates: dict[str, Template] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # Seconds to wait, once a send is accepted, before answering it: the window in which the
    # sender can die after Notify has the message but before it hears so.
    answer_delay: float = 0.0
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_key(self) -> str:
        """A key in Notify's format: its name, the service id and the secret."""
        return f"dsr_tests-{self.service_id}-{self.secret}"

    def fail_next(self, failure: str, times: int = 1) -> None:
        """Answer the next `times` requests with one of ERRORS."""
        with self.lock:
            self.failures.extend([failure] * times)

    def sent(self, path: str = "") -> list[Received]:
        """The sends it accepted or refused (POSTs), optionally only to `path`."""
        return [r for r in self.received if r.method == "POST" and r.path.endswith(path)]

    def accepted(self, reference: str) -> list[dict[str, Any]]:
        return [n for n in self.notifications if n["reference"] == reference]

    def set_status(self, notification_id: str, status: str) -> None:
        """Move a notification it accepted on, as Notify does (for example a letter to
        "received" once printed and posted, or "validation-failed")."""
        with self.lock:
            notification = next(n for n in self.notifications if n["id"] == notification_id)
            notification["status"] = status
            notification["completed_at"] = _now()

    def send_callback(self, url: str, bearer_token: str, notification_id: str, status: str) -> int:
        """Post a delivery receipt for an email or text message it accepted to `url`, as Notify
        posts to a service's callback (a JSON body, `Authorization: Bearer <token>`); returns
        the HTTP status the service answered. Notify sends delivery receipts only for emails and
        text messages (its callbacks documentation)."""
        notification = next(n for n in self.notifications if n["id"] == notification_id)
        if notification["type"] not in ("email", "sms"):
            raise ValueError("Notify sends delivery receipts only for emails and text messages")
        self.set_status(notification_id, status)
        now = _now()
        body = {
            "id": notification["id"],
            "reference": notification["reference"],
            "to": notification.get("email_address")
            or notification.get("phone_number")
            or notification.get("line_1", ""),
            "status": status,
            "created_at": notification["created_at"],
            "completed_at": now,
            "sent_at": now,
            "notification_type": notification["type"],
            "template_id": notification["template"]["id"],
            "template_version": notification["template"]["version"],
        }
        return _post(url, bearer_token, body)

    def send_returned_letter_callback(
        self, url: str, bearer_token: str, notification_id: str
    ) -> int:
        """Post Notify's returned-letter callback for a letter it accepted to `url`, with the
        fields its callbacks documentation lists; returns the HTTP status the service answered."""
        letter = next(n for n in self.notifications if n["id"] == notification_id)
        body = {
            "notification_id": letter["id"],
            "reference": letter["reference"],
            "date_sent": letter["created_at"],
            "sent_by": None,
            "template_name": "Provided as PDF",
            "template_id": letter["template"]["id"],
            "template_version": letter["template"]["version"],
            "spreadsheet_file_name": None,
            "spreadsheet_row_number": None,
            "upload_letter_file_name": None,
        }
        return _post(url, bearer_token, body)

    # What the handler calls: (status, JSON body).

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers, raw: bytes):
        body: dict[str, Any] = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return _error(400, "BadRequestError", "Invalid JSON supplied in POST data")
        claims, refusal = self._authorise(headers.get("Authorization", ""))
        with self.lock:
            self.received.append(Received(method, path, body, claims, query))
            failure = self.failures.pop(0) if self.failures else None
        if refusal:
            return refusal
        if failure:
            return _error(*ERRORS[failure])
        if method == "POST" and path in ("/v2/notifications/email", "/v2/notifications/sms"):
            return self._answer_later(self._send_templated(path.rsplit("/", 1)[1], body))
        if method == "POST" and path == "/v2/notifications/letter":
            return self._answer_later(self._send_precompiled_letter(body))
        if method == "GET" and path == "/v2/notifications":
            return self._list(query)
        if method == "GET" and path.startswith("/v2/notifications/"):
            return self._one(path.removeprefix("/v2/notifications/"))
        return _error(404, "ResourceNotFound", "Not found")

    def _answer_later(self, answer: tuple[int, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        if answer[0] == 201 and self.answer_delay:
            time.sleep(self.answer_delay)
        return answer

    def _authorise(self, header: str):
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return {}, _error(
                401, "AuthError", "Unauthorized: authentication token must be provided"
            )
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"require": ["iss", "iat"], "verify_iat": False},
            )
        except jwt.InvalidTokenError:
            return {}, _error(403, "AuthError", "Invalid token: signature, api token not found")
        if claims["iss"] != self.service_id:
            return claims, _error(403, "AuthError", "Invalid token: service not found")
        if abs(time.time() - claims["iat"]) > CLOCK_SKEW_SECONDS:
            return claims, _error(
                403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds"
            )
        return claims, None

    def _send_templated(self, kind: str, body: dict[str, Any]):
        to_field = "email_address" if kind == "email" else "phone_number"
        if not body.get(to_field):
            return _error(400, "ValidationError", f"{to_field} is a required property")
        if kind == "email" and "@" not in body[to_field]:
            return _error(400, "ValidationError", "email_address Not a valid email address")
        if kind == "sms" and (refusal := _phone_refusal(str(body[to_field]))):
            return _error(400, "ValidationError", f"phone_number {refusal}")
        template = self.templates.get(body.get("template_id", ""))
        if template is None or template.type != kind:
            return _error(400, "BadRequestError", "Template not found")
        personalisation = body.get("personalisation") or {}
        missing = sorted(placeholders(template.subject + template.body) - set(personalisation))
        if missing:
            return _error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        content = {"body": fill(template.body, personalisation)}
        if kind == "email":
            content |= {
                "subject": fill(template.subject, personalisation),
                "from_email": "dsr@notifications.service.gov.uk",
            }
        else:
            content["from_number"] = "GOVUK"
        notification = self._accept(
            kind,
            body.get("reference"),
            {to_field: body[to_field]},
            template={"id": body["template_id"], "version": template.version},
            content=content,
        )
        return 201, {
            "id": notification["id"],
            "reference": notification["reference"],
            "content": content,
            "uri": notification["uri"],
            "template": notification["template"],
            "scheduled_for": None,
        }

    def _send_precompiled_letter(self, body: dict[str, Any]):
        if not body.get("reference"):
            return _error(400, "ValidationError", "reference is a required property")
        try:
            pdf = base64.b64decode(body.get("content", ""), validate=True)
        except binascii.Error:
            return _error(400, "ValidationError", "Cannot decode letter content (base64)")
        if not pdf.startswith(b"%PDF"):
            return _error(400, "ValidationError", "Letter content is not a valid PDF")
        postage = body.get("postage", "second")
        notification = self._accept(
            "letter",
            body["reference"],
            {"line_1": "Provided as PDF", "postage": postage},
            template={"id": str(uuid.UUID(int=0)), "version": 1},
            content={"body": ""},
        )
        notification["pdf"] = pdf
        return 201, {
            "id": notification["id"],
            "reference": notification["reference"],
            "postage": postage,
        }

    def _accept(self, kind: str, reference, recipient, *, template, content) -> dict[str, Any]:
        notification_id = str(uuid.uuid4())
        template = {**template, "uri": f"{self.base_url}/v2/template/{template['id']}"}
        notification = {
            "id": notification_id,
            "reference": reference,
            "type": kind,
            # Notify's first status: a precompiled letter waits for its virus check.
            "status": "pending-virus-check" if kind == "letter" else "created",
            "template": template,
            "body": content.get("body", ""),
            "subject": content.get("subject"),
            "created_at": _now(),
            "sent_at": None,
            "completed_at": None,
            "uri": f"{self.base_url}/v2/notifications/{notification_id}",
            **recipient,
        }
        with self.lock:
            self.notifications.append(notification)
        return notification

    def _one(self, notification_id: str):
        """GET /v2/notifications/{id}: the notification, or Notify's documented errors."""
        try:
            uuid.UUID(notification_id)
        except ValueError:
            return _error(400, "ValidationError", "notification_id is not a valid UUID")
        found = [n for n in self.notifications if n["id"] == notification_id]
        if not found:
            return _error(404, "NoResultFound", "No result found")
        return 200, {k: v for k, v in found[0].items() if k not in ("uri", "pdf")}

    def _list(self, query: dict[str, list[str]]):
        found = list(reversed(self.notifications))
        if "reference" in query:
            found = [n for n in found if n["reference"] == query["reference"][0]]
        if "template_type" in query:
            found = [n for n in found if n["type"] == query["template_type"][0]]
        shown = [{k: v for k, v in n.items() if k not in ("uri", "pdf")} for n in found]
        return 200, {
            "notifications": shown,
            "links": {"current": f"{self.base_url}/v2/notifications", "next": None},
        }


def _phone_refusal(number: str) -> str:
    """Notify's documented reason for refusing a UK number ("" when it takes it; international
    numbers, which a service must be allowed to send to, are not taken here)."""
    compact = re.sub(r"[\s()\-]", "", number)
    if not re.fullmatch(r"\+?[0-9]+", compact):
        return "Must not contain letters or symbols"
    national = re.sub(r"^(\+44|0044|0)", "", compact)
    if len(national) > 10:
        return "Too many digits"
    if len(national) < 10:
        return "Not enough digits"
    if not national.startswith("7"):
        return "Not a UK mobile number"
    return ""


def _post(url: str, bearer_token: str, body: dict[str, Any]) -> int:
    request = Request(  # noqa: S310  (a URL the test gives)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {bearer_token}"},
    )
    try:
        with urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except OSError as exc:  # an HTTPError carries the status
        return getattr(exc, "code", 0)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _error(status: int, error: str, message: str):
    return status, {"status_code": status, "errors": [{"error": error, "message": message}]}


class _Handler(BaseHTTPRequestHandler):
    notify: FakeNotify

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body = self.notify.handle(method, url.path, parse_qs(url.query), self.headers, raw)
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the sender went away before the answer (a killed worker): Notify keeps it

    def do_GET(self) -> None:  # noqa: N802  (the name http.server calls)
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the tests read `received`, not the log."""


class NotifyServer:
    """FakeNotify served on 127.0.0.1 on a free port, in a thread, until `stop()`."""

    def __init__(self) -> None:
        self.notify = FakeNotify()
        handler = type("Handler", (_Handler,), {"notify": self.notify})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        host, port = self.httpd.server_address[:2]
        self.notify.base_url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return self.notify.base_url

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
