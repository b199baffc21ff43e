"""bench.settings: production's settings on the loopback (DEBUG off, persistent connections),
with plain-HTTP cookies so a client on 127.0.0.1 can sign in. Read in a fresh process, as
gunicorn would, from an environment that names nothing but the shell's DEBUG."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

READ = """
import json, django
django.setup()
from django.conf import settings as s
from django.core.management import get_commands
print(json.dumps({
    "debug": s.DEBUG,
    "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
    "database": s.DATABASES["default"]["NAME"],
    "allowed_hosts": s.ALLOWED_HOSTS,
    "secret_key_length": len(s.SECRET_KEY),
    "bench_installed": "bench" in s.INSTALLED_APPS,
    "command": get_commands().get("bench_load"),
    "session_cookie_secure": s.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": s.CSRF_COOKIE_SECURE,
    "session_cookie_name": s.SESSION_COOKIE_NAME,
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "hsts": s.SECURE_HSTS_SECONDS,
    "static_storage": s.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def _read(**env: str) -> dict:
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "bench.settings", **env}
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-c", READ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_bench_settings_are_production_settings_on_the_loopback():
    # DEBUG=true in the shell (as for other manage.py commands) does not reach the benchmark.
    found = _read(DEBUG="true")
    assert found["debug"] is False
    assert found["conn_max_age"] >= 60
    assert found["database"] == "dsr_bench"
    assert found["allowed_hosts"] == ["127.0.0.1", "localhost"]
    assert found["secret_key_length"] >= 50
    assert found["static_storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert found["bench_installed"] and found["command"] == "bench"
    # Plain HTTP on 127.0.0.1: cookies a client sends back over HTTP, no redirect to HTTPS.
    assert found["session_cookie_secure"] is False
    assert found["csrf_cookie_secure"] is False
    assert found["session_cookie_name"] == "sessionid"
    assert found["ssl_redirect"] is False
    assert found["hsts"] == 0


def test_connections_stay_persistent_whatever_the_environment_says():
    assert _read(CONN_MAX_AGE="0")["conn_max_age"] == 60
    assert _read(CONN_MAX_AGE="600")["conn_max_age"] == 600
