"""Django's deployment checklist, run against the production environment (RELIABILITY F-1).

The environment is the one production runs with: every variable `.env.example` sets, with a
real-looking SECRET_KEY in place of its blank, and what docker-compose.yml forces on top.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.figures import record

ROOT = Path(__file__).resolve().parents[2]


def production_environment() -> dict[str, str]:
    variables = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line.strip()):
            variables[match[1]] = match[2]
    # Read only by docker-compose.yml, which builds DATABASE_URL from it.
    variables.pop("POSTGRES_PASSWORD")
    variables.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": "postgres://dsr:db-password@db:5432/dsr",
            "REDIS_URL": "redis://redis:6379/0",
            "CACHE_URL": "redis://cache:6379/0",
        }
    )
    return variables


def check_deploy(**overrides: str) -> subprocess.CompletedProcess:
    """`manage.py check --deploy --fail-level WARNING` in a process of its own, with only the
    production environment (nothing from the test run's settings leaks in)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "dsr.settings",
    }
    env.update(production_environment())
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _issues(result: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"\((\w+\.[WE]\d+)\)", result.stdout + result.stderr)


def test_check_deploy_finds_nothing_with_production_settings():
    result = check_deploy()

    assert result.returncode == 0, result.stdout + result.stderr
    assert _issues(result) == []
    assert "System check identified no issues (1 silenced)." in result.stdout
    record("F-1 check --deploy warnings", len(_issues(result)))


def test_only_hsts_preload_is_silenced_and_preload_really_is_off():
    # The reason is written beside SILENCED_SYSTEM_CHECKS in dsr/settings.py.
    assert settings.SILENCED_SYSTEM_CHECKS == ["security.W021"]
    assert settings.SECURE_HSTS_PRELOAD is False
    record("F-1 silenced checks (each with a written reason)", "security.W021 (HSTS preload)")


def test_check_deploy_sees_the_environment_it_is_given():
    """Production settings with HSTS and secure cookies switched off must fail: the check above
    passes because of the settings, not because it checked nothing."""
    result = check_deploy(SECURE_HSTS_SECONDS="0", SECURE_COOKIES="false")

    assert result.returncode != 0
    assert {"security.W004", "security.W012", "security.W016"} <= set(_issues(result))
