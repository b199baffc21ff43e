"""A working day under load (bench/README.md, "A working day under load"): 40 register staff,
5 senior managers and 2 planning commissioners signed in through the real sign-in pages, each
acting every 10 to 30 s (random), with members of the public sending C(E)TR requests, against
gunicorn under bench.settings, as bench.run serves it. Each request is named by its page type,
so locust reports each page type apart.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsr_bench .venv/bin/python -m bench.day

starts gunicorn (bench.run's Server), runs this file with locust for 5 minutes after everyone
has signed in, writes locust's CSV files and bench/day.json, prints users, requests, failures,
p50 and p95 per page type, and exits 1 on any failure or any page type with p95 over 1 s.
This file is also a locustfile for a server already running:

    locust -f bench/day.py --headless --users 49 --spawn-rate 1 --run-time 6m \
        --host http://127.0.0.1:8776 --csv /tmp/day
"""

import argparse
import csv
import itertools
import json
import os
import random
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

from locust import HttpUser, between, constant_pacing, events, task

from bench.run import (  # a complete C(E)TR request, as bench.run sends it
    HIDDEN_INPUT,
    PUBLIC_ANSWERS,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ACCOUNTS = HERE / "accounts.json"
RESULTS = HERE / "day.json"

# Who is signed in, and how often each acts. Think time: a random 10 to 30 s after each action.
STAFF = int(os.environ.get("BENCH_DAY_STAFF", 40))
MANAGERS = int(os.environ.get("BENCH_DAY_MANAGERS", 5))
# The runner's --commissioners sets this (0: the day without the report pages).
COMMISSIONERS = int(os.environ.get("BENCH_DAY_COMMISSIONERS", 2))
# Members of the public: each visitor opens the C(E)TR request form, takes 5 to 15 s to fill it
# in and sends it; one visitor's request every 60 s, so PUBLIC_VISITORS requests a minute.
PUBLIC_VISITORS = 2
PUBLIC_EVERY_SECONDS = 60
THINK = (10, 30)
# The morning: people sign in one after another, one every 4 s, while those in already work.
SPAWN_RATE = 0.25
# The gate: any failure, or any page type's 95th percentile over this, fails the run.
P95_LIMIT_MS = 1000

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACKNOWLEDGE_LINK = re.compile(r'href="(/escalations/\d+/acknowledge/[^"]*)"')
ERROR_SUMMARY = "nhsuk-error-summary"

# What the load picks at random, read from the database before it starts (_pools).
POOLS: dict[str, list] = {}


def _pools() -> None:
    """People on the register, names and NHS numbers to search for, and the meeting agenda items
    whose discussion can be recorded today (a planned meeting whose day has come)."""
    if POOLS:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import timezone

    from dsr.models import RegisterEntry
    from reviews.models import AgendaItem, Meeting

    on_register = list(
        RegisterEntry.objects.filter(status=RegisterEntry.Status.OPEN)
        .values_list("person_id", "person__family_name", "person__nhs_number")
        .order_by("?")[:5000]
    )
    POOLS["people"] = [pk for pk, _, _ in on_register]
    POOLS["names"] = [name for _, name, _ in on_register[:500]]
    POOLS["nhs_numbers"] = [number for _, _, number in on_register[500:1000] if number]
    items = AgendaItem.objects.filter(
        meeting__status=Meeting.Status.PLANNED,
        meeting__held_at__date__lte=timezone.localdate(),
        person__register_entries__status=RegisterEntry.Status.OPEN,
    ).values_list("meeting_id", "pk")
    POOLS["discussions"] = list(items.order_by("?")[:2000])
    with ACCOUNTS.open() as accounts:
        POOLS["accounts"] = json.load(accounts)


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    _pools()


class _Form(HTMLParser):
    """The fields a browser would send from a page's POST form as it stands: hidden and text
    inputs, the checked radios and boxes, textareas and the selected options."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_post_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self._in_post_form = (a.get("method") or "").lower() == "post"
        if not self._in_post_form or not a.get("name"):
            if tag == "option" and self._select and "selected" in a:
                self.fields.append((self._select, a.get("value") or ""))
            return
        kind = (a.get("type") or "text").lower()
        if tag == "input" and kind in ("radio", "checkbox"):
            if "checked" in a:
                value = a.get("value")
                self.fields.append((a["name"], "on" if value is None else value))
        elif tag == "input" and kind not in ("submit", "button", "file", "image", "reset"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self._select = a["name"]

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, value = self.fields.pop()
            self.fields.append((name, value + data))

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            # As a browser does, the newline straight after <textarea> is not part of the value.
            name, value = self.fields.pop()
            self.fields.append((name, value.removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_post_form = False


def form_fields(html: str, **answers: str) -> list[tuple[str, str]]:
    """The page's POST form as a browser would send it, with `answers` put in their place."""
    parser = _Form()
    parser.feed(html)
    kept = [(name, value) for name, value in parser.fields if name not in answers]
    return kept + list(answers.items())


def _totp(hex_key: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(hex_key)):06d}"


class Signed(HttpUser):
    """Someone who signs in through the real pages (password, then the authenticator's code),
    each with an account of their own: a code works once per account per 30 s step."""

    abstract = True
    wait_time = between(*THINK)
    roles: tuple[str, ...] = ()
    _next: dict[tuple[str, ...], itertools.count] = {}  # noqa: RUF012  (shared by a class's users)

    def on_start(self) -> None:
        accounts = POOLS["accounts"]
        emails = [e for role in self.roles for e in accounts["all_accounts"].get(role, [])]
        number = next(self._next.setdefault(self.roles, itertools.count()))
        self.email = emails[number % len(emails)]
        page = self.client.get("/accounts/sign-in/", name="sign in: password page")
        answer = self.client.post(
            page.url,
            {
                "csrfmiddlewaretoken": CSRF_INPUT.search(page.text).group(1),
                "username": self.email,
                "password": accounts["password"],
            },
            headers={"Referer": page.url},
            name="sign in: password (POST)",
        )
        with self.client.post(
            answer.url,
            {
                "csrfmiddlewaretoken": CSRF_INPUT.search(answer.text).group(1),
                "token": _totp(accounts["totp_key"]),
            },
            headers={"Referer": answer.url},
            name="sign in: security code (POST)",
            catch_response=True,
        ) as done:
            if "sign-in" in done.url:
                done.failure(f"{self.email} was not signed in")

    def form_post(self, path: str, name: str, fields: dict, ok: str = "") -> None:
        """Open a form page and send it with its own hidden fields (the CSRF token) and the given
        answers; a redirect is success, the form again with its error summary is a failure."""
        page = self.client.get(path, name=name)
        if page.status_code != 200:
            return
        with self.client.post(
            path,
            form_fields(page.text, **fields),
            headers={"Referer": urljoin(self.host, path)},
            name=f"{name} (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 and not (ok and ok in answer.text):
                answer.failure(f"{path} answered {answer.status_code} with the form again")


class RegisterStaff(Signed):
    """The register team: the list and its filters, searches, people's pages, a rating reviewed,
    a meeting's discussion, the referral queue."""

    fixed_count = STAFF
    roles = ("register_staff",)

    @task(2)
    def dashboard(self) -> None:
        self.client.get("/register/", name="staff dashboard")

    @task(3)
    def register_list(self) -> None:
        self.client.get("/register/people/", name="register list")

    @task(3)
    def register_filtered(self) -> None:
        choice = random.choice(  # noqa: S311  (a load's choice, not a secret)
            [
                {"rating": random.choice(["RED", "AMBER", "GREEN", "BLUE"])},  # noqa: S311
                {"rating": "RED", "sort": "review"},
                {"overdue": "on"},
                {"age_group": "child"},
                {"key_worker": "no", "sort": "rating"},
            ]
        )
        self.client.get("/register/people/", params=choice, name="register list, filtered")

    @task(2)
    def search(self) -> None:
        page = self.client.get("/register/search/", name="register search")
        if random.random() < 0.5 or not POOLS["nhs_numbers"]:  # noqa: S311
            terms = {"name": random.choice(POOLS["names"])}  # noqa: S311
        else:
            terms = {"nhs_number": random.choice(POOLS["nhs_numbers"])}  # noqa: S311
        token = CSRF_INPUT.search(page.text).group(1)
        self.client.post(
            "/register/search/",
            {"csrfmiddlewaretoken": token, **terms},
            headers={"Referer": page.url},
            name="register search (POST)",
        )

    @task(5)
    def person(self) -> None:
        pk = random.choice(POOLS["people"])  # noqa: S311
        self.client.get(f"/people/{pk}/", name="person page")

    @task(1)
    def rating_reviewed(self) -> None:
        """Review a rating and keep it: the form comes with the current rating chosen and today's
        date, and keeping the same rating records that it was reviewed and confirmed."""
        pk = random.choice(POOLS["people"])  # noqa: S311
        path = f"/people/{pk}/rating/"
        page = self.client.get(path, name="rating form")
        if page.status_code != 200:
            return
        day = time.gmtime()
        # The current rating is already chosen: keep it, with a reason and today's date.
        fields = form_fields(
            page.text,
            rationale="Reviewed with the care team this week: no change.",
            effective_from_day=str(day.tm_mday),
            effective_from_month=str(day.tm_mon),
            effective_from_year=str(day.tm_year),
        )
        with self.client.post(
            path,
            fields,
            headers={"Referer": urljoin(self.host, path)},
            name="rating form (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"{path} answered {answer.status_code}: the rating was not saved")

    @task(1)
    def discussion(self) -> None:
        """A person's part of a meeting: open the discussion page and record what was said."""
        if not POOLS["discussions"]:
            return
        meeting, item = random.choice(POOLS["discussions"])  # noqa: S311
        path = f"/meetings/{meeting}/people/{item}/"
        page = self.client.get(path, name="meeting discussion")
        if page.status_code != 200:
            return
        fields = form_fields(
            page.text,
            discussion="Discussed the support at home and the plan for the next month.",
        )
        with self.client.post(
            path,
            fields,
            headers={"Referer": urljoin(self.host, path)},
            name="meeting discussion (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"{path} answered {answer.status_code}: not saved")

    @task(2)
    def referral_queue(self) -> None:
        self.client.get("/referrals/", name="referral queue")


class SeniorManager(Signed):
    """Health and local authority senior managers: their home page, the escalation queue, and
    an escalation acknowledged from the queue."""

    fixed_count = MANAGERS
    # Health managers first (two trusts), then the councils' managers.
    roles = ("senior_manager_health", "senior_manager_la")

    @task(2)
    def home(self) -> None:
        self.client.get("/home/", name="manager home")

    @task(3)
    def queue(self) -> None:
        self.client.get("/escalations/", name="escalation queue")

    @task(1)
    def acknowledge(self) -> None:
        page = self.client.get("/escalations/", name="escalation queue")
        links = ACKNOWLEDGE_LINK.findall(page.text) if page.status_code == 200 else []
        if not links:
            return
        path = links[0].replace("&amp;", "&")
        self.form_post(
            path,
            "acknowledge an escalation",
            {"note": "Seen: talking to the provider today."},
            # Two managers may both act on one escalation; the second is told it is done.
            ok="already",
        )


class Commissioner(Signed):
    """Planning commissioners: the register snapshot, flows and planning figures."""

    fixed_count = COMMISSIONERS
    roles = ("planning_commissioner",)

    @task(2)
    def snapshot(self) -> None:
        self.client.get("/reports/register/", name="report: register snapshot")

    @task(2)
    def flows(self) -> None:
        self.client.get("/reports/flows/", name="report: flows")

    @task(1)
    def planning(self) -> None:
        self.client.get("/reports/planning/", name="report: planning figures")


class PublicVisitor(HttpUser):
    """A member of the public asking for a C(E)TR: a new visitor each time, who fills the form
    in for 5 to 15 s (longer than the form's minimum fill time) and sends it."""

    fixed_count = PUBLIC_VISITORS
    wait_time = constant_pacing(PUBLIC_EVERY_SECONDS)

    @task
    def ask_for_a_cetr(self) -> None:
        self.client.cookies.clear()
        page = self.client.get("/ask-for-a-cetr/", name="public: C(E)TR request form")
        time.sleep(random.uniform(5, 15))  # noqa: S311
        fields = {**PUBLIC_ANSWERS, **dict(HIDDEN_INPUT.findall(page.text))}
        with self.client.post(
            "/ask-for-a-cetr/",
            fields,
            headers={"Referer": page.url},
            name="public: C(E)TR request (POST)",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"the request answered {answer.status_code}, not 302")
                return
        self.client.get(answer.headers["Location"], name="public: C(E)TR request sent")


# --- The runner ----------------------------------------------------------------------------------


def _read_stats(path: Path) -> list[dict]:
    with path.open() as stats:
        return list(csv.DictReader(stats))


def _verdict(rows: list[dict], limit_ms: int) -> list[str]:
    """What breaks the gate: any failure, any page type with p95 over the limit."""
    breaches = []
    for row in rows:
        if row["Name"] == "Aggregated":
            continue
        if int(row["Failure Count"]):
            breaches.append(f"{row['Name']}: {row['Failure Count']} failures")
        if float(row["95%"]) > limit_ms:
            breaches.append(f"{row['Name']}: p95 {row['95%']} ms > {limit_ms} ms")
    return breaches


def _table(rows: list[dict]) -> str:
    lines = [
        "| page type | requests | failures | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        name = f"**{row['Name']}**" if row["Name"] == "Aggregated" else row["Name"]
        lines.append(
            f"| {name} | {int(row['Request Count']):,} | {row['Failure Count']} | {row['50%']} "
            f"| {row['95%']} | {row['99%']} | {float(row['Max Response Time']):.0f} |"
        )
    return "\n".join(lines)


def _night() -> None:
    """What the night before a working day does: the report figures of the days that have ended
    counted ahead (reports.tasks.count_report_figures_task, 02:30 each night), so the planning
    page reads them, as it does in production after the first night."""
    started = time.monotonic()
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from reports.tasks import count_report_figures_task as t; print('days counted', t())",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"},
        check=True,
    )
    print(f"the night's counting took {time.monotonic() - started:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes", type=float, default=5, help="how long the day runs once all are signed in"
    )
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=SPAWN_RATE,
        help="people signing in per second in the morning (one every 4 s)",
    )
    parser.add_argument(
        "--no-night",
        dest="night",
        action="store_false",
        help="skip counting the report figures of the days that have ended (kept 26 hours)",
    )
    parser.add_argument(
        "--commissioners",
        type=int,
        default=COMMISSIONERS,
        help="planning commissioners (0: leave the report pages out, to see the rest alone)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8776)
    parser.add_argument("--csv", default=str(HERE / "day"), help="prefix of locust's CSV files")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument("--p95-limit-ms", type=int, default=P95_LIMIT_MS)
    args = parser.parse_args(argv)
    if not ACCOUNTS.exists():
        raise SystemExit(f"No {ACCOUNTS}: load the data first (bench/README.md)")
    from bench.run import Server

    if args.night:
        _night()
    os.environ["BENCH_DAY_COMMISSIONERS"] = str(args.commissioners)
    users = STAFF + MANAGERS + args.commissioners + PUBLIC_VISITORS
    ramp = users / args.spawn_rate
    run_time = round(ramp + 60 * args.minutes)
    server = Server(args.port, args.workers)
    try:
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        command = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(Path(__file__)),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(args.spawn_rate),
            "--run-time",
            f"{run_time}s",
            "--host",
            server.base,
            "--csv",
            args.csv,
            "--only-summary",
            "--stop-timeout",
            "30",
        ]
        print(" ".join(command), flush=True)
        locust = subprocess.Popen(command, cwd=ROOT)  # noqa: S603
        # The machine's load while the day runs (1-minute load average, every 10 s): the
        # figures mean little on a machine busy with other work, so the run says how busy.
        load = []
        while locust.poll() is None:
            load.append(os.getloadavg()[0])
            time.sleep(10)
    finally:
        server.stop()
    rows = _read_stats(Path(f"{args.csv}_stats.csv"))
    load = load or [os.getloadavg()[0]]
    breaches = _verdict(rows, args.p95_limit_ms)
    summary = {
        "when": started,
        "users": {
            "register staff": STAFF,
            "senior managers": MANAGERS,
            "commissioners": args.commissioners,
            "public visitors": PUBLIC_VISITORS,
        },
        "think_time_s": list(THINK),
        "minutes_after_sign_in": args.minutes,
        "run_time_s": run_time,
        "gunicorn_workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_1min": {
            "min": round(min(load), 2),
            "mean": round(sum(load) / len(load), 2),
            "max": round(max(load), 2),
        },
        "locust_exit_code": locust.returncode,
        "pages": rows,
        "breaches": breaches,
    }
    args.results.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\n{started}: {users} users ({STAFF} register staff, {MANAGERS} senior managers, "
        f"{args.commissioners} commissioners, {PUBLIC_VISITORS} public visitors), "
        f"{args.minutes:g} min after a {ramp:.0f} s sign-in ramp; gunicorn {args.workers} sync "
        f"workers; machine load average (1 min) during the run {min(load):.1f} to "
        f"{max(load):.1f}, mean {sum(load) / len(load):.1f}, on {os.cpu_count()} cores\n"
    )
    print(_table(rows))
    if breaches or locust.returncode:
        print("\nFAILED:\n" + "\n".join(breaches or [f"locust exited {locust.returncode}"]))
        return 1
    print(f"\nPassed: no failures, every page type's p95 within {args.p95_limit_ms} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
