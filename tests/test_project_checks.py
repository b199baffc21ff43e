"""The project's own gates, run as part of the suite: Django's checks, migrations, ruff."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
RUFF = str(Path(sys.executable).with_name("ruff"))


def test_django_system_checks_pass():
    out = StringIO()
    call_command("check", fail_level="WARNING", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_every_model_change_has_a_migration():
    out = StringIO()
    call_command("makemigrations", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


def test_ruff_finds_nothing_to_fix():
    result = subprocess.run([RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted_by_ruff():
    result = subprocess.run(
        [RUFF, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


SENSITIVE_MODELS = (
    "Person|RegisterEntry|Consent|Rating|Admission|PersonContact|CetrException|AccessEvent"
)


def test_views_reach_personal_records_only_through_the_scoped_queries():
    """STYLE point 9: a view that used Person.objects directly would skip the scope check."""
    import re

    pattern = re.compile(rf"\b({SENSITIVE_MODELS})\.objects\b")
    view_files = [
        path
        for app in ("dsr", "referrals", "reviews", "escalation")
        for path in (ROOT / app).rglob("*.py")
        if path.name == "views.py" or "views" in path.relative_to(ROOT).parts
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in view_files
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]

    assert offenders == []


def test_no_task_is_scheduled_with_an_eta_or_countdown():
    """RELIABILITY G-9: an eta or countdown past the Redis visibility timeout runs the task
    again and again. Deadlines live in the database and sweeps find them instead."""
    import re

    pattern = re.compile(r"\b(eta|countdown)\s*=")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in ("dsr", "referrals", "reviews", "escalation")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]

    assert offenders == []
