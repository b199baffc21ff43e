"""The DSR lead brings the example register across in Chromium (issue 24, "Must show"): from
the home page, through upload, the columns, the values and the dry run, to the import with its
progress bar seen moving; then the same file again makes no change. axe checks every page.

The background jobs run in threads of this process as a worker would: the check after a pause,
so its page is seen with the progress bar before the findings; the import batch by batch, slowed
a little so the page is seen while rows are still coming in.
"""

import threading
import time

import pytest
from django.db import connection
from django.urls import reverse

from dsr.imports import check_run
from dsr.imports.run import apply_batch
from dsr.models import Admission, LocalAuthority, Person, Rating, RegisterEntry, RegisterImport
from dsr.roles import Role
from tests.browser.helpers import serious_violations, sign_in
from tests.dsr.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.dsr.imports.conftest import EXAMPLE
from tests.figures import record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the lead chooses on the values page for words the service does not guess.
CHOICES = {
    "Residential school": "52-week residential school",
    "Own tenancy": "Supported living",
    "Mixed": "Mixed: any other mixed background",
}
# The example names the hospitals of its blue rows, but not their ODS codes, CQC ratings, ward
# security or whether a community C(E)TR came first: the lead gives them.
HOSPITAL_CODES = {"Hellesdon Hospital": "RMY01", "Priory Cheadle Royal": "NVC08"}
FOR_THE_FILE = {
    "hospital's CQC rating": "Good",
    "ward security level": "General",
    "community C(E)TR before admission": "Yes",
}


def _slow_worker(import_id: int) -> None:
    def work() -> None:
        try:
            while apply_batch(import_id, size=10):
                time.sleep(0.4)
        finally:
            connection.close()

    threading.Thread(target=work, daemon=True).start()


def _slow_check(import_id: int, by_id: int) -> None:
    def work() -> None:
        try:
            time.sleep(4)
            check_run(import_id, by_id)
        finally:
            connection.close()

    threading.Thread(target=work, daemon=True).start()


@pytest.fixture
def lead(db):
    norfolk = LocalAuthority.objects.create(name="Norfolk", gss_code="E10000020")
    suffolk = LocalAuthority.objects.create(name="Suffolk", gss_code="E10000029")
    icb = OrganisationFactory(name="Norfolk and Suffolk ICB", local_authorities=[norfolk, suffolk])
    user = UserFactory(
        email="lead@nhs.example", full_name="Dee Lead", organisation=icb, roles=[Role.DSR_LEAD]
    )
    return user, TOTPDeviceFactory(user=user)


def _check(page, problems: dict, name: str, screenshot) -> None:
    screenshot(f"import-{name}")
    problems[name] = serious_violations(page)


def _walk(page, live_server, problems, screenshot, round_name: str) -> None:
    page.goto(live_server.url + reverse("dsr:home"))
    page.get_by_role("link", name="Import a register from a spreadsheet").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Import a register from a spreadsheet"
    )
    _check(page, problems, f"{round_name}-list", screenshot)
    page.get_by_role("button", name="Import a spreadsheet").click()
    _check(page, problems, f"{round_name}-upload", screenshot)
    page.locator('input[type="file"][name="file"]').set_input_files(str(EXAMPLE))
    page.get_by_role("button", name="Upload and continue").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Match the columns"
    assert "the headings are on row 1" in page.get_by_role("main").inner_text()
    assert page.get_by_label("NHS number").input_value() == "NHS Number"
    assert page.get_by_label("Rating", exact=True).input_value() == "RAG"
    _check(page, problems, f"{round_name}-columns", screenshot)
    page.get_by_role("button", name="Continue").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Match your words to the register's"
    for word, label in CHOICES.items():
        page.get_by_label(f"“{word}” means").select_option(label=label)
    status = page.get_by_label("The sheet has no column for diagnosis status.", exact=False)
    status.select_option(label="Confirmed")
    for hospital, code in HOSPITAL_CODES.items():
        page.get_by_label(f"ODS code of “{hospital}”").fill(code)
    for what, label in FOR_THE_FILE.items():
        page.get_by_label(f"The sheet has no column for {what}.", exact=False).select_option(
            label=label
        )
    if round_name == "first":
        page.get_by_label("Save this matching for next time as (optional)").fill("Example ICB")
    _check(page, problems, f"{round_name}-values", screenshot)
    page.get_by_role("button", name="Check every row").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check before importing"
    # The check runs in the background: its progress bar first, then the page shows its findings.
    page.locator("progress#import-progress-bar").wait_for()
    assert "Checking: 0 of 120 rows" in page.locator("#import-progress-text").inner_text()
    _check(page, problems, f"{round_name}-checking", screenshot)
    page.locator("#import-counts").wait_for(timeout=60_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Check before importing"
    _check(page, problems, f"{round_name}-check", screenshot)


def test_the_lead_imports_the_example_and_a_second_import_changes_nothing(
    page, live_server, lead, screenshot, monkeypatch, settings
):
    user, device = lead
    monkeypatch.setattr("dsr.tasks.run_import_task.delay", _slow_worker)
    monkeypatch.setattr("dsr.tasks.check_import_task.delay", _slow_check)
    problems: dict[str, list[str]] = {}
    sign_in(page, live_server.url + reverse("dsr:home"), user, device)

    _walk(page, live_server, problems, screenshot, "first")
    counts = page.locator("#import-counts")
    assert counts.locator('[data-outcome="create"]').inner_text() != "0"
    assert counts.locator('[data-outcome="refused"]').inner_text() == "4"
    # The report downloads as a spreadsheet.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the checked rows as a spreadsheet").click()
    assert download.value.suggested_filename.endswith("-checked.xlsx")

    page.get_by_role("button", name="Import 116 rows").click()
    bar = page.locator("progress#import-progress-bar")
    bar.wait_for()
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen.add(int(bar.get_attribute("value") or 0))
        if "Imported" in page.locator("#import-progress-text").inner_text():
            break
        if len(seen) == 2:
            _check(page, problems, "first-progress", screenshot)
        time.sleep(0.2)
    page.wait_for_load_state()
    assert len(seen - {0, 120}) >= 1, f"no progress seen in between: {sorted(seen)}"
    page.get_by_text("Imported: 120 of 120 rows").wait_for()
    _check(page, problems, "first-done", screenshot)
    first = RegisterImport.objects.get()
    assert first.status == "done"
    people, entries, ratings = (
        Person.objects.count(),
        RegisterEntry.objects.count(),
        Rating.objects.count(),
    )
    assert people == 116 and entries > 0
    # The blue rows on the register come with their admissions (dsr imports test_example).
    assert RegisterEntry.objects.filter(rating="BLUE").count() == Admission.objects.count() == 4

    _walk(page, live_server, problems, screenshot, "second")
    assert counts.locator('[data-outcome="same"]').inner_text() == "116"
    assert counts.locator('[data-outcome="create"]').inner_text() == "0"
    assert counts.locator('[data-outcome="update"]').inner_text() == "0"
    assert "There is nothing to import" in page.get_by_role("main").inner_text()
    assert (Person.objects.count(), RegisterEntry.objects.count(), Rating.objects.count()) == (
        people,
        entries,
        ratings,
    )

    # Undo's page, checked too.
    page.goto(live_server.url + reverse("dsr:import-undo", args=[first.pk]))
    _check(page, problems, "undo", screenshot)

    record("import browser journey: pages checked with axe (serious)", f"{len(problems)} (0)")
    assert {name: found for name, found in problems.items() if found} == {}
    assert page.csp_violations == []
