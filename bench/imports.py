"""Importing a register from a spreadsheet at 10,000 rows (issue 24; bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dsr_bench .venv/bin/python -m bench.imports

Builds a 10,000-row workbook shaped like an ICB's register (valid NHS numbers, adults with their
own consent, ratings spelled as ICBs spell them), then times, in one transaction rolled back at
the end so the database is left as it was:

- reading the upload (the hostile-file checks and openpyxl);
- the dry run (every row through the register's validators, matched against the register);
- the import itself, batch by batch through the register's services (history on every row);
- the floor: a plain bulk insert of the same people, consents, entries and ratings (Django's
  bulk_create, no checks, no history), the fastest the database takes these rows.

It prints rows per second for each and the import's cost against the floor, checks them against
the budget below and marks a breach. A benchmark, not a timed test: timings on a shared machine
are too noisy to gate CI on; tests/dsr/imports checks what the import does.
"""

import argparse
import datetime
import io
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The budget: a first import of 10,000 rows finishes within 15 minutes end to end on this
# 2-core machine (at least 11 rows/s with the upload and the dry run: the issue asks for a
# register brought across "in an afternoon", with time left to check it), and the import costs
# at most 100 times the plain bulk insert of the same rows (it writes each row through the
# services, with its checks, row locks and history, where the floor writes four statements).
BUDGET = {"end_to_end_rows_per_s": 11.0, "import_vs_floor": 100.0}


class _RolledBack(Exception):
    pass


def nhs_numbers(count: int, seed: int = 24) -> list[str]:
    """`count` distinct valid NHS numbers (modulus 11) in the 999 test range."""
    from dsr.nhsuk.validators import nhs_number_check_digit

    rng = random.Random(seed)  # noqa: S311  (repeatable made-up data)
    found: set[str] = set()
    while len(found) < count:
        first = "999" + f"{rng.randrange(10**6):06d}"
        check = nhs_number_check_digit(first)
        if check != 10:
            found.add(first + str(check))
    return sorted(found)


def workbook(count: int) -> bytes:
    import openpyxl

    rng = random.Random(7)  # noqa: S311  (repeatable made-up data)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("DSR")
    sheet.append(["Norfolk and Waveney DSR - do not circulate"])
    sheet.append([])
    sheet.append(
        [
            "NHS Number", "Forename", "Surname", "DOB", "Gender", "Postcode", "Local Authority",
            "Diagnosis", "Diagnosis status", "Placement", "RAG", "Date added to DSR",
            "RAG last reviewed", "RAG rationale", "Consent", "Consent date", "Key worker",
        ]
    )  # fmt: skip
    given = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo"]
    family = ["Brown", "Green", "Khan", "Nowak", "Patel", "Smith", "Walker", "White"]
    ratings = ["R", "Red", "AMBER", "Amber", "g", "Green"]
    for number in nhs_numbers(count):
        added = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(600))
        sheet.append(
            [
                number,
                rng.choice(given),
                rng.choice(family),
                datetime.date(1960 + rng.randrange(45), 1 + rng.randrange(12), 1),
                rng.choice(["Male", "Female"]),
                rng.choice(["NR1 1AA", "IP1 2AB", "nr2 4sd"]),
                rng.choice(["Norfolk", "Suffolk"]),
                rng.choice(["LD", "Autism", "LD & Autism"]),
                "Confirmed",
                rng.choice(["Family home", "Supported living", "Residential care"]),
                rng.choice(ratings),
                added.strftime("%d/%m/%Y"),
                added + datetime.timedelta(days=30),
                "Placement breaking down",
                "Yes",
                added.strftime("%d/%m/%Y"),
                rng.choice(["Jo Hughes", "Sam Patel", None]),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lead():
    from dsr.models import LocalAuthority, Organisation, User
    from dsr.roles import Role

    norfolk, _ = LocalAuthority.objects.get_or_create(
        name="Norfolk", defaults={"gss_code": "E10000020"}
    )
    suffolk, _ = LocalAuthority.objects.get_or_create(
        name="Suffolk", defaults={"gss_code": "E10000029"}
    )
    icb = Organisation.objects.create(name="Bench import ICB", kind="icb")
    icb.local_authorities.set([norfolk, suffolk])
    user = User.objects.create_user(
        "bench-import-lead@nhs.example", full_name="Bench Lead", organisation=icb
    )
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=Role.DSR_LEAD.label))
    return user


def _match_all(register_import, lead):
    from dsr import imports
    from dsr.imports import mapping
    from dsr.models import LocalAuthority

    las = [(la.pk, la.name) for la in LocalAuthority.objects.all()]
    values: dict[str, dict[str, str]] = {}
    for field in mapping.FIELDS:
        if field.kind in ("choice", "yes_no") and field.name in register_import.columns:
            for word in imports.column_values(register_import, field.name):
                code = mapping.suggest_value(field, word, las)
                if code:
                    values.setdefault(field.name, {})[mapping.word(word)] = code
    imports.import_set_values(
        register_import=register_import, values=values, constants={}, save_as="", by=lead
    )


def measure(count: int) -> dict:
    from django.db import transaction

    from dsr import imports
    from dsr.imports.run import run, start
    from dsr.models import Consent, Person, Rating, RegisterEntry

    data = workbook(count)
    result: dict = {"rows": count, "file_bytes": len(data)}
    try:
        with transaction.atomic():
            lead = _lead()
            began = time.perf_counter()
            register_import = imports.import_upload(name="bench.xlsx", data=data, by=lead)
            result["read_s"] = time.perf_counter() - began
            _match_all(register_import, lead)
            began = time.perf_counter()
            # Queued by the page; run here as the worker runs it.
            imports.import_check(register_import=register_import, by=lead)
            imports.check_run(register_import.pk, lead.pk)
            register_import.refresh_from_db()
            result["dry_run_s"] = time.perf_counter() - began
            result["dry_run"] = register_import.counts
            start(register_import, by=lead)
            began = time.perf_counter()
            run(register_import.pk)
            result["import_s"] = time.perf_counter() - began
            result["people_written"] = Person.objects.filter(
                responsible_icb=lead.organisation
            ).count()
            raise _RolledBack
    except _RolledBack:
        pass
    try:
        with transaction.atomic():
            result["floor_s"] = _floor(count, Person, Consent, RegisterEntry, Rating)
            raise _RolledBack
    except _RolledBack:
        pass
    end_to_end = result["read_s"] + result["dry_run_s"] + result["import_s"]
    result["rows_per_s"] = {
        "read": round(count / result["read_s"], 1),
        "dry_run": round(count / result["dry_run_s"], 1),
        "import": round(count / result["import_s"], 1),
        "end_to_end": round(count / end_to_end, 1),
        "floor_bulk_insert": round(count / result["floor_s"], 1),
    }
    result["import_vs_floor"] = round(result["import_s"] / result["floor_s"], 1)
    result["budget"] = BUDGET
    result["breaches"] = [
        name
        for name, ok in (
            (
                "end_to_end_rows_per_s",
                result["rows_per_s"]["end_to_end"] >= BUDGET["end_to_end_rows_per_s"],
            ),
            ("import_vs_floor", result["import_vs_floor"] <= BUDGET["import_vs_floor"]),
        )
        if not ok
    ]
    return result


def _floor(count: int, Person, Consent, RegisterEntry, Rating) -> float:  # noqa: N803
    """The same rows by plain bulk insert: people, consents, entries, ratings."""
    from dsr.models import LocalAuthority, Organisation, User

    la, _ = LocalAuthority.objects.get_or_create(name="Norfolk", defaults={"gss_code": "E10000020"})
    icb = Organisation.objects.create(name="Bench floor ICB", kind="icb")
    user = User.objects.create_user("bench-floor@nhs.example", full_name="Floor")
    numbers = nhs_numbers(count, seed=99)
    day = datetime.date(2025, 1, 1)
    began = time.perf_counter()
    people = Person.objects.bulk_create(
        [
            Person(
                nhs_number=n, given_name="Ada", family_name="Brown",
                date_of_birth=datetime.date(1980, 1, 1), local_authority=la,
                responsible_icb=icb, diagnosis="autism", diagnosis_status="confirmed",
                postcode="NR1 1AA",
            )
            for n in numbers
        ],
        batch_size=1000,
    )  # fmt: skip
    consents = Consent.objects.bulk_create(
        [
            Consent(person=p, basis="own_consent", given_on=day, review_due=day, recorded_by=user)
            for p in people
        ],
        batch_size=1000,
    )
    entries = RegisterEntry.objects.bulk_create(
        [
            RegisterEntry(
                person=p, opened_on=day, opened_by=user, consent=c, rating="RED", rating_since=day
            )
            for p, c in zip(people, consents, strict=True)
        ],
        batch_size=1000,
    )
    Rating.objects.bulk_create(
        [
            Rating(entry=e, rating="RED", effective_from=day, rationale="Floor", set_by=user)
            for e in entries
        ],
        batch_size=1000,
    )
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    result = measure(args.rows)
    result["ran_at"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    result["cores"] = os.cpu_count()
    (HERE / "imports.json").write_text(json.dumps(result, indent=2) + "\n")
    rates = result["rows_per_s"]
    print(f"{args.rows:,} rows, {result['file_bytes']:,} bytes; dry run {result['dry_run']}")
    for name, rate in rates.items():
        print(f"  {name:<18} {rate:>9,.1f} rows/s")
    print(f"  import vs floor    {result['import_vs_floor']:>9}x (budget {BUDGET})")
    if result["breaches"]:
        print(f"  BUDGET BREACHED: {', '.join(result['breaches'])}")
        return 1
    print("  within budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
