"""Throwaway servers and real worker processes for the fault-injection tests.

Everything a test starts here runs in its own process group on a spare port and is killed when
the test ends, pass or fail. The shared PostgreSQL and Redis are never stopped, restarted or
flushed: the workers use the pytest test database and a Redis started by the test.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from celery import Celery

from tests.reliability.support import read_mail_log

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DELIVER = "dsr.tasks.deliver_notifications_task"
HEARTBEAT = "dsr.tasks.record_heartbeat_task"
# Variables of the calling shell that must not leak into a worker's configuration.
_OWN_PREFIXES = ("CELERY_", "DJANGO_", "DATABASE_URL", "REDIS_URL", "CACHE_URL", "EMAIL_", "DSR_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    predicate: Callable[[], object],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    detail: Callable[[], str] | None = None,
):
    """Poll until `predicate` is truthy; fail with `what` (and `detail()`) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{extra}")
        time.sleep(interval)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the whole process group (the worker and its pool children), then reap."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)


# --- A throwaway Redis ---------------------------------------------------------------------------


class ThrowawayRedis:
    """redis-server on a spare port, in its own folder, started and stopped by the test."""

    def __init__(self, folder: Path, *, appendonly: bool = False):
        self.port = free_port()
        self.folder = folder
        self.appendonly = appendonly
        self.proc: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> "ThrowawayRedis":
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--daemonize", "no",
        ]  # fmt: skip
        if self.appendonly:
            command += ["--appendfsync", "always"]
        with open(self.folder / "redis.log", "ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(self.ping, timeout=15, what=f"redis-server on port {self.port}")
        return self

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_timeout=5)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except Exception:  # noqa: BLE001  (not up yet)
            return False

    def shutdown_nosave(self) -> None:
        """`redis-cli -p <port> shutdown nosave`: the broker goes away without saving."""
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            timeout=15,
            capture_output=True,
            check=False,
        )
        if self.proc is not None:
            self.proc.wait(timeout=15)
            self.proc = None

    def queued(self, queue: str = "celery") -> int:
        with self.client() as client:
            return client.llen(queue)

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)
            self.proc = None


@pytest.fixture
def throwaway_redis(tmp_path):
    """A factory of throwaway Redis servers; each is killed when the test ends."""
    started: list[ThrowawayRedis] = []

    def make(*, appendonly: bool = False) -> ThrowawayRedis:
        server = ThrowawayRedis(tmp_path / f"redis-{len(started)}", appendonly=appendonly)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.stop()


@contextmanager
def celery_settings(app, **values):
    """Celery settings of the project's app changed for a test, then put back. The app reads a
    Django setting (CELERY_BROKER_URL) before the plain name (broker_url), so where the Django
    spelling is present both are set."""
    conf = app.conf
    names = {name: f"CELERY_{name.upper()}" for name in values}
    saved = {key: conf[key] for pair in names.items() for key in pair if key in conf}
    for name, value in values.items():
        conf[name] = value
        if names[name] in conf:
            conf[names[name]] = value
    try:
        yield
    finally:
        for key, value in saved.items():
            conf[key] = value


@contextmanager
def task_client(broker_url: str):
    """A bare Celery client that publishes tasks by name to `broker_url`, as beat or a web
    process would, without touching the project's app or its connection pools."""
    client = Celery("reliability-client", broker=broker_url, set_as_current=False, fixups=[])
    client.conf.broker_connection_retry_on_startup = True
    try:
        yield client
    finally:
        client.close()


class OutboxSweeps:
    """Beat's outbox sweep, sent through `client` every `every` seconds while a test waits (in
    production beat sends it every 30 seconds)."""

    def __init__(self, client, *, every: float):
        self.client, self.every, self.last = client, every, 0.0

    def until(self, done: Callable[[], bool]) -> Callable[[], bool]:
        def swept() -> bool:
            if done():
                return True
            if time.monotonic() - self.last >= self.every:
                self.client.send_task(DELIVER)
                self.last = time.monotonic()
            return False

        return swept


# --- Real worker processes ---------------------------------------------------------------------


class Worker:
    _SUCCEEDED = re.compile(r"Task \S+\[[0-9a-f-]+\] succeeded in")
    _FAILED = re.compile(r"Task \S+\[[0-9a-f-]+\] (raised unexpected|INTERNAL ERROR)")

    def __init__(self, name: str, proc: subprocess.Popen, log: Path):
        self.name, self.proc, self.log = name, proc, log

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return f"--- {self.name} log ---\n" + "\n".join(self.text().splitlines()[-lines:])

    def outcomes(self) -> tuple[int, int]:
        """(tasks that succeeded, tasks that raised), from the worker's log."""
        text = self.text()
        return len(self._SUCCEEDED.findall(text)), len(self._FAILED.findall(text))


class Workers:
    """Starts `celery -A dsr worker` processes, each in its own process group."""

    def __init__(self, folder: Path, database_url: str):
        self.folder = folder
        self.database_url = database_url
        self.started: list[Worker] = []

    def env(self, *, broker_url: str, mail_log: Path, delays: str = "0,0,0", **extra) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
        env.update(
            DJANGO_SETTINGS_MODULE="tests.reliability.worker_settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=broker_url,
            EMAIL_BACKEND="tests.reliability.support.RecordingProvider",
            DSR_TEST_MAIL_LOG=str(mail_log),
            DSR_TEST_MAIL_DELAYS=delays,
            CELERY_SKIP_CHECKS="1",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, name: str, env: dict, *, production: bool = False) -> Worker:
        """A worker; `production` starts it as docker-compose.yml does (the default pool size,
        gossip, mingle and heartbeats on) rather than the lean single-process test worker."""
        command = [str(BIN / "celery"), "-A", "dsr", "worker", "--loglevel=INFO"]
        if not production:
            command += [
                "--pool=prefork", "--concurrency=1",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
        return self._spawn(name, command + [f"--hostname={name}@%h"], env)

    def start_beat(self, name: str, env: dict) -> Worker:
        """Celery beat as docker-compose.yml runs it, its schedule file in the test's folder."""
        schedule = self.folder / f"{name}-schedule"
        command = [str(BIN / "celery"), "-A", "dsr", "beat", "--loglevel=INFO"]
        return self._spawn(name, command + ["--schedule", str(schedule)], env)

    def _spawn(self, name: str, command: list[str], env: dict) -> Worker:
        log = self.folder / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches the pool too
            )
        worker = Worker(name, proc, log)
        self.started.append(worker)
        return worker

    def kill(self, worker: Worker) -> None:
        _kill_group(worker.proc)

    def stop_all(self) -> None:
        for worker in self.started:
            _kill_group(worker.proc)


def database_url(connection, application_name: str = "") -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return url + (f"?application_name={application_name}" if application_name else "")


@pytest.fixture
def test_database(transactional_db):
    """The pytest test database's name. Rows the test writes are committed, so the worker
    processes see them."""
    from django.db import connection

    return connection.settings_dict["NAME"]


@pytest.fixture
def workers(tmp_path, test_database):
    """Worker processes on the test database; all killed before the database is flushed."""
    from django.db import connection

    pool = Workers(tmp_path, database_url(connection))
    yield pool
    pool.stop_all()


@pytest.fixture
def mail_log(tmp_path) -> Path:
    return tmp_path / "provider.log"


def provider_calls(path: Path) -> Counter:
    """How many times the provider accepted each message reference."""
    return Counter(ref for step, ref in read_mail_log(path) if step == "accepted")


# --- Outbox rows -------------------------------------------------------------------------------


def decided_referral(areas, staff, name: str):
    """A referral decided "not eligible": two outcome emails (the person and the referrer) are
    written to the outbox in the decision's transaction, and nothing else. It is made by the
    factory, not received through intake, so no acknowledgement joins the emails counted; with
    no postal address to send the reasons to, the team records how it gave them."""
    from referrals.services import referral_decide
    from tests.referrals.factories import ReviewedReferralFactory

    referral = ReviewedReferralFactory(
        local_authority=areas["north"],
        given_name=name,
        referrer_kind="professional",
        referrer_email="sam.reid@nhs.example",
    )
    return referral_decide(
        referral,
        decision="not_eligible",
        reason="No diagnosis yet.",
        signposting="Your GP.",
        reasons_told_how="Phoned the person and explained.",
        by=staff,
    )


@pytest.fixture
def staff(db):
    from tests.dsr.factories import UserFactory

    return UserFactory()
