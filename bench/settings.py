"""Settings for the performance benchmark: production's settings on the loopback.

Everything comes from dsr.settings, read as production reads it (DEBUG off), with only what a
benchmark on one machine needs on top: the "bench" app (the data loader, `manage.py bench_load`),
persistent database connections, the loopback host names, and plain-HTTP cookies so that a
client on 127.0.0.1 can sign in. Never used to serve real users.

    DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python manage.py bench_load --people 100000

The database defaults to dsr_bench on the local PostgreSQL; DATABASE_URL overrides it.
"""

import os

# The benchmark measures the service as production runs it: DEBUG is off whatever the shell
# says, so every setting derived from it (static files, logging, key checks) is production's.
os.environ["DEBUG"] = "false"
# What production must be given (dsr/settings.py refuses to start without it), with values for
# this machine. Each can still be set in the environment; BENCH_SECRET_KEY is the signing key.
os.environ.setdefault(
    "SECRET_KEY",
    os.environ.get(
        "BENCH_SECRET_KEY", "bench-only-signing-key-not-for-any-real-service-0123456789"
    ),
)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dsr_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("DEFAULT_FROM_EMAIL", "dsr-bench@nhs.example")

from dsr.settings import *  # noqa: E402, F403
from dsr.settings import DATABASES, INSTALLED_APPS  # noqa: E402

DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# Persistent connections, as production: one connection per request costs about 20 times a
# trivial page here (PERFORMANCE.md T2). At least 60 s, whatever CONN_MAX_AGE says.
DATABASES["default"]["CONN_MAX_AGE"] = max(DATABASES["default"]["CONN_MAX_AGE"] or 0, 60)

# Plain HTTP on the loopback, for the benchmark only. In production the cookies are Secure with
# the __Host- prefix, HTTP is redirected to HTTPS and HSTS is sent; a client on
# http://127.0.0.1 would then never send its session cookie back and could not sign in. These
# change no work a request does, only what the cookies and redirects demand of the transport.
SECURE_COOKIES = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0

# The benchmark's reference pages (bench.urls: the floor and the register list's render floor),
# and each response's query count in a header (bench.middleware), read once per page.
ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405  (first: counts all)

# A benchmark sends the public form many times a second from one address: the hourly limits per
# address and per session, which stop a flood in production, would refuse all but the first few.
CETR_REQUEST_POSTS_PER_HOUR = CETR_REQUEST_SUBMISSIONS_PER_HOUR = 10**9
REFERRAL_POSTS_PER_HOUR = REFERRAL_SUBMISSIONS_PER_HOUR = 10**9
