"""Helpers that run inside the processes the fault-injection tests start.

`RecordingProvider` stands in for the mail provider: it appends one line per step of every send
to the file named by DSR_TEST_MAIL_LOG (a single write(2) on an O_APPEND file, so lines from
several processes never interleave and survive a SIGKILL), and sleeps between the steps for the
seconds in DSR_TEST_MAIL_DELAYS ("before,during,after"), so a test can kill a worker in each
window:

    enter <ref>     the backend was called; the provider has not been contacted
    call <ref>      the provider call has started
    accepted <ref>  the provider accepted the message: this line is the provider call that counts
    (then the "after" sleep: the provider has the message, the row is not yet marked sent)

`python -m tests.reliability.support deliver <ready dir> <go file>` is the G-5 contender: it
sets Django up, says it is ready, waits for the go file, then delivers due messages in small
batches until none are left.
"""

import json
import os
import sys
import time

from django.core.mail.backends.base import BaseEmailBackend


def _log(step: str, ref: str) -> None:
    line = f"{step} {ref} {os.getpid()} {time.time():.6f}\n".encode()
    fd = os.open(os.environ["DSR_TEST_MAIL_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class RecordingProvider(BaseEmailBackend):
    def send_messages(self, email_messages):
        raw = os.environ.get("DSR_TEST_MAIL_DELAYS", "0,0,0")
        before, during, after = (float(part) for part in raw.split(","))
        for message in email_messages:
            ref = message.extra_headers.get("X-DSR-Reference", "unknown")
            _log("enter", ref)
            time.sleep(before)
            _log("call", ref)
            time.sleep(during)
            _log("accepted", ref)
            time.sleep(after)
        return len(email_messages)


def read_mail_log(path) -> list[tuple[str, str]]:
    """(step, ref) for every line written so far."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [tuple(line.split()[:2]) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def _deliver(ready_dir: str, go_file: str) -> None:
    import django

    django.setup()
    from django.db import connection

    from dsr.outbox.delivery import deliver_due

    connection.ensure_connection()
    open(os.path.join(ready_dir, str(os.getpid())), "w").close()  # noqa: SIM115
    deadline = time.monotonic() + 60
    while not os.path.exists(go_file):
        if time.monotonic() > deadline:
            sys.exit("no go signal within 60 s")
        time.sleep(0.002)
    total: dict[str, int] = {}
    while outcome := deliver_due(limit=2):
        for status, count in outcome.items():
            total[str(status)] = total.get(str(status), 0) + count
    print("delivered", json.dumps(total))


if __name__ == "__main__":
    if sys.argv[1:2] == ["deliver"]:
        _deliver(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: python -m tests.reliability.support deliver <ready dir> <go file>")
