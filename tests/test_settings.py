"""Settings read from the environment, and refuse to start when a production value is missing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.figures import record

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
db = settings.DATABASES["default"]
out = {"engine": db["ENGINE"], "name": str(db["NAME"]), "broker": settings.CELERY_BROKER_URL,
       "conn_max_age": db["CONN_MAX_AGE"], "health_checks": db["CONN_HEALTH_CHECKS"]}
if db["ENGINE"].endswith("sqlite3"):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        out["journal_mode"] = cursor.fetchone()[0]
print(json.dumps(out))
"""


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 60,
    "ALLOWED_HOSTS": "dsr.nhs.example",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.nhs.example:587",
    "DEFAULT_FROM_EMAIL": "dsr@nhs.example",
    "SITE_URL": "https://dsr.nhs.example",
}


def run_settings(env: dict[str, str], code: str = PROBE) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DATABASE_URL"}
    clean.update({"DJANGO_SETTINGS_MODULE": "dsr.settings", **env})
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_start_with_every_production_variable_set():
    result = run_settings(PRODUCTION)

    assert result.returncode == 0, result.stderr


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}

    result = run_settings(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    record("settings without SECRET_KEY, DEBUG off", "refused to start")


def test_settings_refuse_a_short_secret_key_when_debug_is_off():
    result = run_settings({**PRODUCTION, "SECRET_KEY": "too-short"})

    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters long." in result.stderr


@pytest.mark.parametrize("name", ["ALLOWED_HOSTS", "REDIS_URL", "EMAIL_URL", "DEFAULT_FROM_EMAIL"])
def test_settings_refuse_to_start_without_what_production_needs(name):
    env = {key: value for key, value in PRODUCTION.items() if key != name}

    result = run_settings(env)

    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is off" in result.stderr


def test_settings_refuse_a_tls_proxy_without_a_trusted_proxy_count():
    result = run_settings({**PRODUCTION, "BEHIND_TLS_PROXY": "true"})

    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be at least 1 behind a TLS proxy." in result.stderr


def test_settings_read_a_secret_key_from_a_file_without_its_newline(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text("k" * 60 + "\n")
    env = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    code = "import django; django.setup(); from django.conf import settings; " + (
        "print(repr(settings.SECRET_KEY))"
    )

    result = run_settings({**env, "SECRET_KEY_FILE": str(key_file)}, code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr("k" * 60)


def test_no_environment_means_sqlite_in_wal_mode_and_the_filesystem_broker(tmp_path):
    result = run_settings({"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path}/probe.sqlite3"})

    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert probe["engine"] == "django.db.backends.sqlite3"
    assert probe["journal_mode"] == "wal"
    assert probe["broker"] == "filesystem://"


def test_default_database_is_a_sqlite_file_in_the_project_folder():
    code = "import django; django.setup(); from django.conf import settings; " + (
        "print(settings.DATABASES['default']['NAME'])"
    )
    result = run_settings({"DEBUG": "true"}, code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / "db.sqlite3")


def test_redis_url_switches_the_broker_to_redis():
    result = run_settings({"DEBUG": "true", "REDIS_URL": "redis://127.0.0.1:6379/0"})

    assert json.loads(result.stdout)["broker"] == "redis://127.0.0.1:6379/0"


def test_database_connections_are_persistent_with_health_checks():
    database = settings.DATABASES["default"]

    assert database["CONN_MAX_AGE"] >= 60
    assert database["CONN_HEALTH_CHECKS"] is True
    record("T2 CONN_MAX_AGE (s)", database["CONN_MAX_AGE"])


def test_time_is_london_and_aware():
    assert settings.TIME_ZONE == "Europe/London"
    assert settings.USE_TZ is True
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE


def test_celery_is_configured_for_the_known_failure_modes():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)


def test_lockout_limit_is_within_cyber_essentials_and_keyed_on_username_and_address():
    assert 1 <= settings.AXES_FAILURE_LIMIT <= 10
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
