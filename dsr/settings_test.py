"""Test settings: the main settings, with only what makes tests fast and deterministic changed.

The test command (`make test`) points DATABASE_URL and REDIS_URL at real PostgreSQL and Redis.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("DEFAULT_FROM_EMAIL", "dsr-test@nhs.example")
os.environ.setdefault("SITE_URL", "https://dsr.test")

from dsr.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test client speaks plain HTTP; redirecting it to HTTPS would hide every page.
SECURE_SSL_REDIRECT = False
CRISPY_FAIL_SILENTLY = False
# Tests post public forms at once and often on a frozen clock: the minimum fill time is off,
# and the tests of dsr.nhsuk.fill_time switch it on (override_settings).
DSR_MIN_FILL_SECONDS = 0
# Serve static files from the finders (no collectstatic in tests; live-server browser tests too).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
DSR_DASHBOARD_CACHE_SECONDS = 0
DSR_LIST_COUNT_CACHE_SECONDS = 0
# Both NHS identity providers are set up, at a loopback port nothing answers on, so that the
# sign-in page offers them and their routes answer in every test; the sign-in tests point them at
# a real provider they start (tests/identity_provider.py).
DSR_IDENTITY_PROVIDERS = {
    "cis2": {
        "kind": "cis2",
        "label": "NHS Care Identity (smartcard or authenticator)",
        "issuer": "http://127.0.0.1:9/cis2",
        "client_id": "dsr-cis2",
    },
    "entra": {
        "kind": "entra",
        "label": "NHSmail (Microsoft)",
        "issuer": "http://127.0.0.1:9/entra",
        "client_id": "dsr-entra",
        "client_secret": "test-only-entra-secret",
    },
}

# Uploaded register spreadsheets go to a folder of this run's own.
DSR_IMPORT_DIR = Path(tempfile.gettempdir()) / f"dsr-test-imports-{os.getpid()}"

# Each test counts its own figures: a reader's page is made afresh (reports.published), never
# one kept by another test.
DSR_REPORT_PAGE_SECONDS = 0
