"""The benchmark runner (bench/README.md): serves the project with gunicorn on PostgreSQL under
bench.settings, signs in as each role it needs, and drives each page with wrk for a fixed time at
a fixed concurrency, each page straight after the floor, so that each ratio comes from the same
minute of the same machine (PERFORMANCE.md). Prints the table, writes bench/results.json and the
table in bench/README.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsr_bench .venv/bin/python -m bench.run
"""

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
RESULTS = HERE / "results.json"
ACCOUNTS = HERE / "accounts.json"
LOG = HERE / "gunicorn.log"  # the server's own output and the service's logs, for a failed run
REPORT_LUA = HERE / "wrk" / "report.lua"
TABLE_START = "<!-- bench table start -->"
TABLE_END = "<!-- bench table end -->"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Endpoint:
    name: str
    path: str
    role: str | None = None  # the account to sign in as; None: anonymous
    floor: str = "floor"  # what the page is compared with
    post: str = ""  # "sequential": a form POST timed one visitor at a time (_sequential)
    # For a sequential POST: a new visitor's way to the form, returning the session, the URL
    # and the fields to send; what is timed is that POST alone.
    visit: Callable[[str], tuple[requests.Session, str, dict]] | None = None
    queries: int | None = None
    rounds: list[dict] = field(default_factory=list)


def _totp(hex_key: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(hex_key)):06d}"


class Server:
    """gunicorn serving the project under bench.settings, with persistent connections."""

    def __init__(self, port: int, workers: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).parent / "gunicorn"),  # the venv running the bench
                "dsr.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=LOG.open("w"),
            stderr=subprocess.STDOUT,
        )
        for _ in range(100):
            try:
                if requests.get(f"{self.base}/bench/floor/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start: see its output above")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # A worker still busy with a long request after 20 s: end it and its master.
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def sign_in(base: str, email: str, password: str, totp_key: str) -> requests.Session:
    """Through the real pages: the password, then the current code of the authenticator."""
    session = requests.Session()
    page = session.get(urljoin(base, "/accounts/sign-in/"))
    token = CSRF_INPUT.search(page.text).group(1)
    answer = session.post(
        page.url,
        {"csrfmiddlewaretoken": token, "username": email, "password": password},
        headers={"Referer": page.url},
    )
    token = CSRF_INPUT.search(answer.text).group(1)
    done = session.post(
        answer.url,
        {"csrfmiddlewaretoken": token, "token": _totp(totp_key)},
        headers={"Referer": answer.url},
    )
    if "sign-in" in done.url:
        raise SystemExit(f"could not sign in as {email}")
    return session


def sign_in_once_a_step(base: str, email: str, password: str, totp_key: str) -> requests.Session:
    """Sign in; a code works once, so after a run a moment ago wait for the next 30 s step."""
    try:
        return sign_in(base, email, password, totp_key)
    except (SystemExit, AttributeError):
        time.sleep(31 - time.time() % 30)
        return sign_in(base, email, password, totp_key)


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def deep_page(base: str, session: requests.Session, path: str, pages: int) -> str:
    """The path of the `pages`-th page of a keyset list, found by following its "Next" links."""
    url = urljoin(base, path)
    for _ in range(pages - 1):
        html = session.get(url).text
        found = re.search(r'href="([^"]+)" rel="next"', html)
        if not found:
            raise SystemExit(f"{path} has fewer than {pages} pages")
        url = urljoin(url, found.group(1).replace("&amp;", "&"))
    return url.removeprefix(base)


def typical_person(accounts: dict) -> int:
    """Someone on the register with the history the loader gives most people: the middle one by
    id, leaving out the person with the long history."""
    from dsr.models import RegisterEntry

    people = (
        RegisterEntry.objects.filter(status=RegisterEntry.Status.OPEN)
        .exclude(person_id=accounts["long_history_person"])
        .order_by("person_id")
        .values_list("person_id", flat=True)
    )
    return people[people.count() // 2]


def wrk(base: str, endpoint_path: str, cookie: str, args: argparse.Namespace) -> dict:
    command = [
        shutil.which("wrk") or "wrk",
        "-t1",
        f"-c{args.concurrency}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
    ]
    command += ["-s", str(REPORT_LUA), base + endpoint_path]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per page per round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds discarded first")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--deep", type=int, default=500, help="the deep page's number")
    parser.add_argument(
        "--sequential", type=int, default=200, help="POSTs (and floor GETs) per round, c=1"
    )
    parser.add_argument("--accounts", type=Path, default=ACCOUNTS, help="written by bench_load")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument(
        "--no-readme", dest="readme", action="store_false", help="leave bench/README.md as it is"
    )
    parser.add_argument("--only", nargs="*", help="benchmark only these pages (and the floor)")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if not args.accounts.exists():
        raise SystemExit(f"No {args.accounts}: load the data first (bench/README.md)")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    accounts = json.loads(args.accounts.read_text())

    server = Server(args.port, args.workers)
    try:
        return _run(server.base, accounts, args)
    finally:
        server.stop()


def _endpoints(base: str, accounts: dict, sessions: dict, args) -> list[Endpoint]:
    from django.urls import reverse

    staff = sessions["register_staff"]
    register = reverse("dsr:register-list")
    deep = deep_page(base, staff, register, args.deep)
    person = reverse("dsr:person-detail", kwargs={"pk": accounts["long_history_person"]})
    typical = reverse("dsr:person-detail", kwargs={"pk": typical_person(accounts)})
    list_floor = "register list render floor"
    queue_floor = "escalation queue render floor"
    return [
        Endpoint("floor", reverse("bench-floor"), "register_staff"),
        # The same page and bytes with no session: what the signed-in stack adds to a request.
        Endpoint("anonymous floor", reverse("bench-floor"), None),
        Endpoint(list_floor, reverse("bench-register-list-render-floor"), "register_staff"),
        Endpoint("staff dashboard", reverse("dsr:register-dashboard"), "register_staff"),
        Endpoint("register list, page 1", register, "register_staff", floor=list_floor),
        Endpoint(
            "register list, filtered (red)",
            f"{register}?rating=RED",
            "register_staff",
            floor=list_floor,
        ),
        Endpoint(f"register list, page {args.deep}", deep, "register_staff", floor=list_floor),
        Endpoint("person page, long history", person, "register_staff"),
        Endpoint("person page, typical", typical, "register_staff"),
        Endpoint("referral queue", reverse("referrals:queue"), "register_staff"),
        Endpoint(
            queue_floor,
            reverse("bench-escalation-queue-render-floor"),
            "senior_manager_health",
        ),
        Endpoint(
            "escalation queue (senior manager)",
            reverse("escalation:queue"),
            "senior_manager_health",
            floor=queue_floor,
        ),
        Endpoint("register snapshot report", reverse("reports:snapshot"), "planning_commissioner"),
        Endpoint("flows report", reverse("reports:flows"), "planning_commissioner"),
        Endpoint("public referral form", reverse("referrals:start"), None),
        _public_post(base, reverse("reviews:request-public")),
        _referral_post(),
    ]


# A complete public C(E)TR request, as a family member would send it; the hidden fields (the
# CSRF token, the session's submission token, the time the form was shown) come from the page.
PUBLIC_ANSWERS = {
    "relationship": "family",
    "requester_name": "Morgan Ward",
    "contact_by": "email",
    "requester_email": "morgan@example.com",
    "given_name": "Ellis",
    "family_name": "Ward",
    "date_of_birth_day": "1",
    "date_of_birth_month": "4",
    "date_of_birth_year": "2000",
    "postcode": "NR1 2DH",
    "local_authority": "not_known",
    "in_hospital": "no",
    "reason": "Things are getting harder at home and the placement may break down.",
    "person_knows": "yes",
    "website": "",
}
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _public_post(base: str, path: str) -> Endpoint:
    """The public C(E)TR request sent in full. Each page's submission token is bound to the
    visitor's session and used once, so each POST needs the page first: the runner times the
    POSTs alone, one visitor after another (c=1), and the floor the same way, in the same
    minute (_sequential)."""

    def visit(base: str) -> tuple[requests.Session, str, dict]:
        visitor = requests.Session()
        page = visitor.get(base + path, timeout=30).text
        return visitor, path, {**PUBLIC_ANSWERS, **_form_fields(page)}

    return Endpoint(
        "public C(E)TR request, valid POST (c=1)", path, None, post="sequential", visit=visit
    )


# The answers of each step of the public referral, for a parent referring their child, as the
# browser posts them (the step pages in order, then the check page's "Send").
REFERRAL_STEPS = {
    "about-you": {
        "referrer_name": "Sam Parent",
        "referrer_relationship": "Father",
        "referrer_email": "sam@example.com",
        "referrer_phone": "",
        "referrer_address": "",
    },
    "person": {
        "given_name": "Alexandra",
        "family_name": "Quillfeather",
        "date_of_birth_day": "14",
        "date_of_birth_month": "2",
        "date_of_birth_year": "2004",
        "nhs_number": "",
        "address": "1 High Street\nNorwich",
        "postcode": "NR1 2DH",
        "local_authority": "not_sure",
        "gp_practice_name": "Riverside Surgery",
    },
    "diagnosis": {
        "diagnosis": "autism",
        "diagnosis_status": "confirmed",
        "co_occurring": ["adhd", "epilepsy"],
    },
    "risks": {
        "risk_factors": ["crisis", "breakdown"],
        "risks": "Placement at risk of breaking down after three crisis team visits.",
        "tried": "Extra staff at home.",
        "would_help": "A keyworker and a community review.",
    },
    "support": {
        "has_ehcp": "yes",
        "education_setting": "Northshire College",
        "social_care": "",
        "other_professionals": "",
    },
    "communication": {
        "communication_needs": "Short sentences and extra time.",
        "accessible_formats": ["easy_read"],
        "interpreter_language": "",
    },
    "outcome": {
        "person_email": "",
        "referrer_parental_responsibility": "yes",
        "outcome_to_referrer": "yes",
        "referrer_format": "standard",
        "has_carer": "no",
    },
    "consent": {
        "consent_to_referral": "yes",
        "consent_to_share": "yes",
        "consent_basis": "parental_responsibility",
        "consent_given_by": "Sam Parent, father",
    },
}


def _referral_post() -> Endpoint:
    """The public referral's last step, "Send" on the check page, which saves the referral with
    its contacts and acknowledgements. Each visitor answers every step first (untimed), for a
    person of their own (a new family name each time), so no referral is linked to another one
    for the same person and each is acknowledged as a new one would be."""
    from django.urls import reverse

    from referrals.forms.public import STEP_SLUGS

    check = reverse("referrals:check")

    def visit(base: str) -> tuple[requests.Session, str, dict]:
        visitor = requests.Session()
        first = reverse("referrals:step", kwargs={"kind": "family", "step": STEP_SLUGS[0]})
        csrf = CSRF_INPUT.search(visitor.get(base + first, timeout=30).text).group(1)
        surname = "Quill" + _letters(next(_VISITORS))
        for slug in STEP_SLUGS:
            answers = dict(REFERRAL_STEPS[slug])
            if slug == "person":
                answers["family_name"] = surname
            url = reverse("referrals:step", kwargs={"kind": "family", "step": slug})
            answer = visitor.post(
                base + url,
                data={**answers, "csrfmiddlewaretoken": csrf},
                allow_redirects=False,
                timeout=30,
            )
            if answer.status_code != 302:
                raise SystemExit(f"the referral's {slug} step answered {answer.status_code}")
        page = visitor.get(base + check, timeout=30).text
        return visitor, check, {**_form_fields(page), "form_end": "1", "website": ""}

    return Endpoint("public referral, send (c=1)", check, None, post="sequential", visit=visit)


_VISITORS = itertools.count(1)


def _letters(number: int) -> str:
    """A number written in letters (names hold no digits): 1 is "b", 26 is "ba"."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[digit] + letters
        if not number:
            return letters


def _form_fields(page: str) -> dict:
    """The page's hidden fields, with its signed "shown at" time put a minute back (the bench
    signs with the server's key), so the minimum fill time is passed without sleeping."""
    from dsr.nhsuk import fill_time

    hidden = dict(HIDDEN_INPUT.findall(page))
    hidden[fill_time.FIELD] = fill_time.stamp(at=time.time() - 60)
    return hidden


def _send_once(base: str, endpoint: Endpoint) -> float:
    """A new visitor reaches the form (endpoint.visit: its fill time's clock, which is signed,
    is dated back rather than slept through) and sends it; the POST's seconds."""
    visitor, path, fields = endpoint.visit(base)
    started = time.perf_counter()
    response = visitor.post(base + path, data=fields, allow_redirects=False, timeout=30)
    elapsed = time.perf_counter() - started
    if response.status_code != 302:
        raise SystemExit(f"{endpoint.name} answered {response.status_code}, not 302: run void")
    return elapsed


def _timed_gets(base: str, path: str, count: int) -> list[float]:
    session = requests.Session()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        session.get(base + path, timeout=30)
        times.append(time.perf_counter() - started)
    return times


def _summary(times: list[float]) -> dict:
    ordered = sorted(times)

    def at(share: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)

    return {
        "requests": len(times),
        "rps": round(len(times) / sum(times), 2),
        "p50": at(0.50),
        "p90": at(0.90),
        "p95": at(0.95),
        "p99": at(0.99),
        "errors": 0,
    }


def _sequential(base: str, floor: Endpoint, endpoint: Endpoint, count: int) -> dict:
    return {
        "floor": _summary(_timed_gets(base, floor.path, count)),
        "page": _summary([_send_once(base, endpoint) for _ in range(count)]),
    }


def _rounds(base: str, endpoints: list[Endpoint], sessions: dict, args) -> None:
    floor, pages = endpoints[0], endpoints[1:]
    for round_number in range(args.rounds):
        # Rotate the order each round; each page runs straight after the floor, and its ratio
        # is taken against that floor run.
        shift = round_number % len(pages)
        for endpoint in pages[shift:] + pages[:shift]:
            if endpoint.post:
                pair = _sequential(base, floor, endpoint, args.sequential)
                endpoint.rounds.append(pair)
                print(f"round {round_number + 1}: {endpoint.name}: {pair}", flush=True)
                continue
            pair = {}
            for key, target in (("floor", floor), ("page", endpoint)):
                cookie = cookie_header(sessions[target.role]) if target.role else ""
                if args.warmup:
                    warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                    wrk(base, target.path, cookie, warm)
                pair[key] = wrk(base, target.path, cookie, args)
                if not pair[key]["requests"]:
                    raise SystemExit(f"{target.name}: no answer in {args.duration} s: run void")
                if pair[key]["errors"]:
                    raise SystemExit(f"{target.name}: {pair[key]['errors']} errors: run void")
            endpoint.rounds.append(pair)
            floor.rounds.append({"floor": pair["floor"], "page": pair["floor"]})
            print(
                f"round {round_number + 1}: {endpoint.name}: {pair['page']['rps']} req/s,"
                f" p95 {pair['page']['p95']} ms (floor {pair['floor']['rps']} req/s)",
                flush=True,
            )


def _run(base: str, accounts: dict, args: argparse.Namespace) -> int:
    sessions = {
        role: sign_in_once_a_step(base, account["email"], accounts["password"], account["totp_key"])
        for role, account in accounts["accounts"].items()
        if role in ("register_staff", "senior_manager_health", "planning_commissioner")
    }
    endpoints = _endpoints(base, accounts, sessions, args)
    if args.only:
        endpoints = [e for e in endpoints if e.name in args.only or e.name.endswith("floor")]
    for endpoint in endpoints:
        session = sessions[endpoint.role] if endpoint.role else requests.Session()
        if endpoint.post:
            visitor, path, fields = endpoint.visit(base)
            response = visitor.post(base + path, data=fields, allow_redirects=False, timeout=30)
            if response.status_code != 302:
                raise SystemExit(f"{endpoint.name}: answered {response.status_code}, not 302")
            endpoint.queries = int(response.headers.get("X-DSR-Queries", "-1"))
            continue
        # The second answer's count: the steady state the load sees, with kept figures (list
        # totals, dashboard and report counts) read from the cache the first answer filled.
        for _ in range(2):
            response = session.get(base + endpoint.path, allow_redirects=False)
            if response.status_code != 200:
                raise SystemExit(
                    f"{endpoint.name}: {endpoint.path} answered {response.status_code}"
                )
        endpoint.queries = int(response.headers.get("X-DSR-Queries", "-1"))

    _rounds(base, endpoints, sessions, args)

    rows = []
    for endpoint in endpoints:
        results = [pair["page"] for pair in endpoint.rounds]
        rows.append(
            {
                "page": endpoint.name,
                "path": endpoint.path,
                "queries": endpoint.queries,
                "rps": median([r["rps"] for r in results]),
                "p50": median([r["p50"] for r in results]),
                "p95": median([r["p95"] for r in results]),
                "p99": median([r["p99"] for r in results]),
                "cost_vs_floor": median(
                    [p["floor"]["rps"] / p["page"]["rps"] for p in endpoint.rounds]
                ),
                "p95_vs_floor": median(
                    [p["page"]["p95"] / p["floor"]["p95"] for p in endpoint.rounds]
                ),
                "compared_with": endpoint.floor,
            }
        )
    _write(rows, args)
    return 0


def _table(rows: list[dict]) -> str:
    by_page = {row["page"]: row for row in rows}
    lines = [
        "| page | queries | req/s | p50 ms | p95 ms | p99 ms | cost vs floor | p95 vs floor "
        "| vs its render floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        render = ""
        if row["compared_with"] != "floor" and row["compared_with"] in by_page:
            reference = by_page[row["compared_with"]]
            render = f"{row['cost_vs_floor'] / reference['cost_vs_floor']:.2f}"
        lines.append(
            f"| {row['page']} | {row['queries']} | {row['rps']:,.0f} | {row['p50']:.2f} "
            f"| {row['p95']:.2f} | {row['p99']:.2f} | **{row['cost_vs_floor']:.2f}** "
            f"| {row['p95_vs_floor']:.2f} | {render} |"
        )
    return "\n".join(lines)


def _write(rows: list[dict], args: argparse.Namespace) -> None:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgres = cursor.fetchone()[0].split(",")[0]
        cursor.execute("SELECT count(*) FROM dsr_person")
        people = cursor.fetchone()[0]
    machine = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgres": postgres,
        "wrk": subprocess.run(  # noqa: S603
            [shutil.which("wrk") or "wrk", "-v"], capture_output=True, text=True
        ).stdout.split("\n")[0],
        "people": people,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "gunicorn_workers": args.workers,
    }
    args.results.write_text(json.dumps({"machine": machine, "pages": rows}, indent=2) + "\n")
    table = _table(rows)
    heading = (
        f"Run {machine['when']} on {machine['cpus']} cores: {machine['people']:,} people, "
        f"wrk -t1 -c{args.concurrency}, {args.duration} s per page per round after a "
        f"{args.warmup} s warm-up, median of {args.rounds} rounds; gunicorn "
        f"{args.workers} sync workers; Python {machine['python']}, Django {machine['django']}, "
        f"{postgres}."
    )
    print(heading)
    print(table)
    text = README.read_text() if README.exists() and args.readme else ""
    if TABLE_START in text and TABLE_END in text:
        before, rest = text.split(TABLE_START, 1)
        _old, after = rest.split(TABLE_END, 1)
        README.write_text(f"{before}{TABLE_START}\n{heading}\n\n{table}\n{TABLE_END}{after}")


if __name__ == "__main__":
    sys.exit(main())
