"""The small Notify itself refuses what Notify refuses (so the delivery tests prove something):
a request without a token, a token for another service, signed with another secret, or issued
more than 30 seconds away; and it posts delivery receipts as Notify does."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
import requests
from notifications_python_client.notifications import NotificationsAPIClient

from tests.notify.server import Template


def _post(server, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{server.base_url}/v2/notifications/email",
        json={"email_address": "sam@example.org", "template_id": "t"},
        headers=headers,
        timeout=5,
    )


def _token(server, *, iss=None, skew=0, secret=None) -> str:
    fake = server.notify
    return jwt.encode(
        {"iss": iss or fake.service_id, "iat": int(time.time() + skew)},
        secret or fake.secret,
        algorithm="HS256",
    )


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        (None, 401, "Unauthorized: authentication token must be provided"),
        (
            {"secret": "another-secret-as-long-as-a-notify-secret-is"},
            403,
            "Invalid token: signature, api token not found",
        ),
        ({"iss": "another-service"}, 403, "Invalid token: service not found"),
        ({"skew": -31}, 403, "Your system clock must be accurate to within 30"),
        ({"skew": 31}, 403, "Your system clock must be accurate to within 30"),
    ],
)
def test_a_request_without_a_good_token_is_refused(notify_server, token, status, message):
    answer = _post(notify_server, None if token is None else _token(notify_server, **token))

    assert answer.status_code == status
    [error] = answer.json()["errors"]
    assert error["error"] == "AuthError" and message in error["message"]
    assert notify_server.notify.notifications == []


def test_the_official_client_is_answered_as_notify_answers(notify_server):
    fake = notify_server.notify
    fake.templates["t1"] = Template(type="email", subject="Hi ((name))", body="Dear ((name))")
    client = NotificationsAPIClient(fake.api_key, base_url=notify_server.base_url)

    sent = client.send_email_notification(
        "sam@example.org", "t1", personalisation={"name": "Sam"}, reference="ref-1"
    )

    assert set(sent) >= {"id", "reference", "content", "uri", "template"}
    assert sent["content"]["subject"] == "Hi Sam" and sent["content"]["body"] == "Dear Sam"
    assert sent["template"]["id"] == "t1"
    [listed] = client.get_all_notifications(reference="ref-1")["notifications"]
    assert listed["id"] == sent["id"]
    assert client.get_all_notifications(reference="ref-2")["notifications"] == []


def test_a_delivery_receipt_is_posted_with_the_bearer_token(notify_server):
    fake = notify_server.notify
    fake.templates["t1"] = Template(type="email", subject="Hi", body="Hello")
    client = NotificationsAPIClient(fake.api_key, base_url=notify_server.base_url)
    sent = client.send_email_notification("sam@example.org", "t1", reference="ref-1")
    got = {}

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got["authorization"] = self.headers["Authorization"]
            got["body"] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=receiver.handle_request)
    thread.start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/notify/receipts/"

    status = fake.send_callback(url, "callback-token", sent["id"], "delivered")

    thread.join(5)
    receiver.server_close()
    assert status == 204
    assert got["authorization"] == "Bearer callback-token"
    assert got["body"]["id"] == sent["id"] and got["body"]["reference"] == "ref-1"
    assert got["body"]["status"] == "delivered" and got["body"]["to"] == "sam@example.org"
    assert got["body"]["notification_type"] == "email"
