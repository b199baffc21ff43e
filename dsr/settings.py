"""Settings for the dynamic support register: one module, driven by the environment.

Every variable is documented in `.env.example`. Production differs from development only by
environment; there is no production settings module. A malformed value, or a missing secret when
DEBUG is off, stops the process at start-up with ImproperlyConfigured.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


class _StrippedFileAwareMapping(environ.FileAwareMapping):
    """A secret file's trailing newline is not part of the value."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key).strip()


# FileAwareEnv reads FOO_FILE (a path to a file holding the value) wherever FOO is read, so
# secrets can come from Docker or Kubernetes secret files rather than the environment.
env = environ.FileAwareEnv()
env.ENVIRON = _StrippedFileAwareMapping()


def required_in_production(name: str, value: object) -> None:
    """Stop at start-up when DEBUG is off and a variable production needs is missing."""
    if not DEBUG and not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off (see .env.example).")


DEBUG = env.bool("DEBUG", default=False)

# A development key is allowed only with DEBUG on; anything else must bring its own.
SECRET_KEY = env.str("SECRET_KEY", default="")
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "django-insecure-development-only-key-do-not-deploy"  # noqa: S105
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off. For local development run `make run`, "
        "which sets DEBUG=true; in production set SECRET_KEY or SECRET_KEY_FILE."
    )
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
# Older keys still accepted for signatures, so the key can be rotated without signing out.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
required_in_production("ALLOWED_HOSTS", ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

SERVICE_NAME = "Dynamic support register"
# The address staff reach the service at, for links in emails sent by background jobs.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
required_in_production("SITE_URL", SITE_URL)
ICB_NAME = env.str("ICB_NAME", default="NHS Norfolk and Waveney Integrated Care Board")

INSTALLED_APPS = [
    "dsr.admin_apps.DsrAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "dsr",
    "referrals",
    "reviews",
    "escalation",
    "reports",
]

MIDDLEWARE = [
    # First, so every response and every log record of the request carries its id.
    "dsr.security.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything that reads the body: a request over DSR_MAX_REQUEST_BYTES is refused with
    # 413 unread. Only the header-setting middleware above come first, so the 413 has them too.
    "dsr.security.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, taking the device from the user's kept copy (dsr.security.signed_in).
    "dsr.security.signed_in.KeptDeviceOTPMiddleware",
    "dsr.security.middleware.RefusalLogMiddleware",
    "dsr.security.middleware.SessionLifetimeMiddleware",
    "dsr.security.middleware.AccessRuleMiddleware",
    "dsr.security.middleware.SensitivePageHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes goes last so it sees the outcome of the login view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dsr.urls"
WSGI_APPLICATION = "dsr.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dsr.context_processors.service",
            ],
        },
    },
    # Jinja2 for the rows of the busiest lists only (docs/adr/0010-rendering-the-lists.md):
    # `{% rows "dsr/register_rows.jinja" rows %}` in a page renders them. Every page, form and
    # NHS.UK component stays in Django's engine above, which is asked first for any template.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "dsr.rendering.jinja_environment"},
    },
]

# --- Database -------------------------------------------------------------------------------
# Default: a SQLite file in the project folder, so `make run` works on any machine with Python.
# Tests and production use PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets the web server read while the Celery worker writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# Persistent connections: opening one per request costs about 20x a trivial page here
# (PERFORMANCE.md T2). Health checks drop a connection the server has closed.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles a query when its estimated cost is high, which the register's
    # reports and queues reach at 100,000 people: compiling took longer than running (the
    # escalation queue's page query, 418 ms with JIT, 67 ms without; bench/README.md). The
    # service runs many short queries, for which JIT is known to cost more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery ----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Without Redis the broker is a local folder, which separate containers cannot share.
required_in_production("REDIS_URL", REDIS_URL)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "dsr",
            # A cache that does not answer is treated as down (dsr.caching.unless_cache_down):
            # pages count in the database rather than wait on it. Its calls take a millisecond.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # The report figures the Celery worker counts (reports.counting) must reach the web
        # server, a separate process: kept in a git-ignored folder. With Redis, in "default".
        "reports": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(BASE_DIR / "var" / "report-figures"),
        },
    }

CELERY_QUEUE_DIR = BASE_DIR / "var" / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task may run; tasks never use an eta or countdown past it.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
else:
    # Embedded run: kombu's filesystem transport in a git-ignored folder, so the scheduled
    # jobs run exactly as they do against Redis. There is no eager mode.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
CELERY_TIMEZONE = "Europe/London"
CELERY_ENABLE_UTC = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that saved a change and then queues a task waits at most about a second for a broker
# that does not answer (the outbox sweep sends what could not be queued).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_QUEUE_DIR / "celerybeat-schedule")
# Beat stamps its own heartbeat when it sends (the service status page and /health/background/).
CELERY_BEAT_SCHEDULER = "dsr.celery:StampingScheduler"
CELERY_BEAT_SCHEDULE = {
    # Every night at 02:30: count the register's figures for yesterday and each month's end of
    # the planning year, so that the reports answer at once (reports.tasks).
    "count-report-figures": {
        "task": "reports.tasks.count_report_figures_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Every DSR_REPORT_RECOUNT_MINUTES: count today's report figures again (reports.tasks), so
    # the pages read them as last counted and never count them while a reader waits.
    "recount-report-figures": {
        "task": "reports.tasks.recount_today_task",
        "schedule": timedelta(minutes=env.int("DSR_REPORT_RECOUNT_MINUTES", default=5)),
    },
    # Every minute: a worker records that it is alive, for the service status page.
    "record-heartbeat": {
        "task": "dsr.tasks.record_heartbeat_task",
        "schedule": timedelta(minutes=1),
    },
    # Every 5 minutes: insert the four-week referral reminders and breaches that have come due.
    "referral-deadline-sweep": {
        "task": "referrals.tasks.sweep_referral_deadlines_task",
        "schedule": timedelta(minutes=5),
    },
    # Every hour, on the hour: remind the DSR team of rating reviews and consent checks due.
    "register-review-sweep": {
        "task": "dsr.tasks.sweep_register_reviews_task",
        "schedule": crontab(minute=0),
    },
    # Every 5 minutes: raise escalations the rules call for, then move up the unacknowledged.
    "escalation-sweep": {
        "task": "escalation.tasks.sweep_escalations_task",
        "schedule": timedelta(minutes=5),
    },
    # Every hour, at 40 past: check the escalation queue's order against the escalations and
    # the register, repair any difference and tell the DSR leads of it (HZ-19).
    "escalation-queue-check": {
        "task": "escalation.tasks.check_escalation_queue_task",
        "schedule": crontab(minute=40),
    },
    # Every hour, at 5 past: remind action owners before and on each action's due date.
    "action-reminder-sweep": {
        "task": "reviews.tasks.sweep_action_reminders_task",
        "schedule": crontab(minute=5),
    },
    # Every 30 seconds by default: send the messages waiting in the outbox, one at a time, up to
    # 500 a task. A message whose worker died is sent again by the next sweep.
    "deliver-notifications": {
        "task": "dsr.tasks.deliver_notifications_task",
        "schedule": timedelta(seconds=env.int("DSR_DELIVERY_SWEEP_SECONDS", default=30)),
    },
    # Every hour, at 20 past: with GOV.UK Notify, record the status of letters sent this week
    # (printed and posted, or why not: Notify does not call back about letters).
    "letter-status-check": {
        "task": "dsr.tasks.check_letter_statuses_task",
        "schedule": crontab(minute=20),
    },
    # Every 30 seconds: handle the password reset requests whose job could not be queued, and
    # delete those handled over a day ago, with the address typed.
    "password-reset-sweep": {
        "task": "dsr.tasks.sweep_password_resets_task",
        "schedule": timedelta(seconds=30),
    },
    # Every night at 03:15 London time: delete expired sessions from the database.
    "purge-expired-sessions": {
        "task": "dsr.tasks.purge_expired_sessions_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Every night at 02:45 London time: switch off accounts not signed in to for
    # DSR_ACCOUNT_DORMANT_DAYS, and tell the administrators which.
    "disable-dormant-accounts": {
        "task": "dsr.tasks.disable_dormant_accounts_task",
        "schedule": crontab(hour=2, minute=45),
    },
    # Every night at 01:30 London time: remove records past their retention period
    # (DSR_RETENTION_* below) and record what each rule removed.
    "apply-retention-schedule": {
        "task": "dsr.tasks.apply_retention_schedule_task",
        "schedule": crontab(hour=1, minute=30),
    },
    # Every hour, at 20 past: delete uploaded register spreadsheets kept longer than
    # DSR_IMPORT_KEEP_HOURS.
    "discard-import-files": {
        "task": "dsr.tasks.discard_import_files_task",
        "schedule": crontab(minute=20),
    },
}

# --- Accounts, second factor and lockout ----------------------------------------------------
AUTH_USER_MODEL = "dsr.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the signed-in user through the cache (docs/adr/0009).
    "dsr.security.signed_in.KeptUserBackend",
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "dsr:home"
LOGOUT_REDIRECT_URL = "pages:start"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# An invitation link works for this many days; an account not signed in to for this many days
# is switched off (one never used counts from its invitation's acceptance or its creation).
DSR_INVITATION_DAYS = env.int("DSR_INVITATION_DAYS", default=7)
DSR_ACCOUNT_DORMANT_DAYS = env.int("DSR_ACCOUNT_DORMANT_DAYS", default=90)
# A link emailed to a partner who owns an action without an account works for this many days.
DSR_ACTION_LINK_DAYS = env.int("DSR_ACTION_LINK_DAYS", default=28)
if DSR_INVITATION_DAYS < 1 or DSR_ACCOUNT_DORMANT_DAYS < 1 or DSR_ACTION_LINK_DAYS < 1:
    raise ImproperlyConfigured(
        "DSR_INVITATION_DAYS, DSR_ACCOUNT_DORMANT_DAYS and DSR_ACTION_LINK_DAYS must be 1 or more."
    )
# Password reset requests an hour: from one client address (past it, the "too many" page), and
# for one account (past it the page answers the same, so it tells nobody whether the account
# exists, but no more emails are sent).
DSR_PASSWORD_RESET_PER_ADDRESS_HOUR = env.int("DSR_PASSWORD_RESET_PER_ADDRESS_HOUR", default=10)
DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR = env.int("DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR", default=3)
if DSR_PASSWORD_RESET_PER_ADDRESS_HOUR < 1 or DSR_PASSWORD_RESET_PER_ACCOUNT_HOUR < 1:
    raise ImproperlyConfigured("Each DSR_PASSWORD_RESET_PER_*_HOUR limit must be 1 or more.")
# A password reset link works for this many hours (Django's default is 3 days); the email and
# the "Check your email" page say so.
DSR_PASSWORD_RESET_HOURS = env.int("DSR_PASSWORD_RESET_HOURS", default=1)
if DSR_PASSWORD_RESET_HOURS < 1:
    raise ImproperlyConfigured("DSR_PASSWORD_RESET_HOURS must be 1 or more.")
PASSWORD_RESET_TIMEOUT = DSR_PASSWORD_RESET_HOURS * 60 * 60

OTP_TOTP_ISSUER = SERVICE_NAME
# Codes are checked within one 30 s step either side, to allow for clock drift on phones.
OTP_TOTP_TOLERANCE = 1

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
if not 1 <= AXES_FAILURE_LIMIT <= 10:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT must be between 1 and 10 (Cyber Essentials).")
# Keyed on username *and* address: an attacker elsewhere cannot lock a member of staff out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# An attempt while paused does not start the pause again: the page's "try again in 15 minutes"
# stays true. A completed password reset lifts the pause (dsr.views.accounts).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Sign-in matches the address whatever its letter case, so failures are counted per account:
# "Name@NHS.net" and "name@nhs.net" share one counter.
AXES_USERNAME_CALLABLE = "dsr.accounts.lockout_username"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# Number of reverse proxies in front of the app; 0 means trust only REMOTE_ADDR. django-ipware
# counts the proxies named inside X-Forwarded-For, which holds one address fewer than there
# are proxies (the last proxy is REMOTE_ADDR). A forged extra address makes the count wrong, and
# ipware then falls back to REMOTE_ADDR: a forger shares the proxy's counter, never a victim's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = max(0, TRUSTED_PROXY_COUNT - 1)
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
)
AXES_VERBOSE = False
# Axes' own log lines name the client by address and path, never by the email address typed.
AXES_CLIENT_STR_CALLABLE = "dsr.security.logs.axes_client_str"

# --- Signing in through an NHS identity provider (README: "Signing in with an NHS identity") ---
# Each provider is on when its client id is set; the password and authenticator stay for
# everyone else. dsr.accounts.identity_providers reads DSR_IDENTITY_PROVIDERS.
DSR_IDENTITY_PROVIDERS: dict[str, dict] = {}
if env.str("DSR_CIS2_CLIENT_ID", default=""):
    DSR_IDENTITY_PROVIDERS["cis2"] = {
        "kind": "cis2",
        "label": "NHS Care Identity (smartcard or authenticator)",
        "issuer": env.str("DSR_CIS2_ISSUER"),
        "client_id": env.str("DSR_CIS2_CLIENT_ID"),
        "scope": env.str("DSR_CIS2_SCOPE", default="openid email profile"),
        # authentication_assurance_level counted as multi-factor: 2 (AAL2 and AAL3) or 3.
        "min_assurance": env.int("DSR_CIS2_MIN_ASSURANCE", default=2),
    }
if env.str("DSR_ENTRA_CLIENT_ID", default=""):
    DSR_IDENTITY_PROVIDERS["entra"] = {
        "kind": "entra",
        "label": "NHSmail (Microsoft)",
        # https://login.microsoftonline.com/<tenant id>/v2.0
        "issuer": env.str("DSR_ENTRA_ISSUER"),
        "client_id": env.str("DSR_ENTRA_CLIENT_ID"),
        # A client secret, or a certificate and its private key (PEM files).
        "client_secret": env.str("DSR_ENTRA_CLIENT_SECRET", default=""),
        "certificate_file": env.str("DSR_ENTRA_CERTIFICATE_FILE", default=""),
        "private_key_file": env.str("DSR_ENTRA_PRIVATE_KEY_FILE", default=""),
        # Conditional access authentication contexts (acrs) that require multi-factor.
        "mfa_acrs": env.list("DSR_ENTRA_MFA_ACRS", default=[]),
    }
    if not (
        DSR_IDENTITY_PROVIDERS["entra"]["client_secret"]
        or DSR_IDENTITY_PROVIDERS["entra"]["certificate_file"]
    ):
        raise ImproperlyConfigured(
            "DSR_ENTRA_CLIENT_ID needs DSR_ENTRA_CLIENT_SECRET or DSR_ENTRA_CERTIFICATE_FILE."
        )
# The service's private keys (PEM files) for private_key_jwt; the first signs, all are published
# at /accounts/oidc/jwks.json (publish a new key first, then put it first to roll over).
DSR_OIDC_SIGNING_KEY_FILES = env.list("DSR_OIDC_SIGNING_KEY_FILES", default=[])
if "cis2" in DSR_IDENTITY_PROVIDERS and not DSR_OIDC_SIGNING_KEY_FILES:
    raise ImproperlyConfigured("DSR_CIS2_CLIENT_ID needs DSR_OIDC_SIGNING_KEY_FILES.")

# --- Sessions and cookies -------------------------------------------------------------------
# Sessions are read from the cache, with the database as their record (docs/adr/0009).
# Idle timeout: the session's age, moved on by a request at most once every SESSION_RENEW_EVERY
# (dsr.security.sessions), so a session ends between SESSION_IDLE_TIMEOUT - SESSION_RENEW_EVERY
# and SESSION_IDLE_TIMEOUT after its last request. Absolute lifetime: enforced by
# dsr.security.middleware.SessionLifetimeMiddleware from the time of sign-in.
SESSION_ENGINE = "dsr.security.sessions"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_MINUTES", default=30))
SESSION_RENEW_EVERY = timedelta(minutes=1)
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env.int("SESSION_ABSOLUTE_HOURS", default=10))
# Signed-in pages warn this long before the idle timeout and offer to stay signed in
# (WCAG 2.2.1 Timing Adjustable; static/js/session-timeout.mjs).
SESSION_IDLE_WARNING = timedelta(minutes=2)
SESSION_COOKIE_AGE = int(SESSION_IDLE_TIMEOUT.total_seconds())
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "dsr.security.errors.csrf_failure"
# Flash messages ride in the session, not in a cookie of their own: Django's "messages" cookie
# cannot take the __Host- prefix, and its deletion is sent without Secure (ASVS v5.0.0-3.3.1).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
if SECURE_COOKIES:
    # The __Host- prefix pins a cookie to this host and path, over HTTPS only.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- HTTPS and headers ----------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Behind a proxy every request comes from the proxy's address; lockout keyed on the address
    # would then let one attacker lock out every member of staff.
    if TRUSTED_PROXY_COUNT < 1:
        raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be at least 1 behind a TLS proxy.")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = False
# security.W021 asks for HSTS preload. Preloading binds the whole registrable domain (the ICB's
# or nhs.uk's, shared with other services) to HTTPS in browsers for months, and only the
# domain's owner can submit or withdraw it; the service sets HSTS for one year with subdomains
# (ASVS v5.0.0-3.4.1), which is what it controls. tests/security/test_deploy_config.py asserts
# this list is exactly this one check.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script anywhere: every script is a file under /static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        # nhsuk-frontend's stylesheet loads the Frutiger web font from the NHS asset server.
        "font-src": [SELF, "https://assets.nhs.uk"],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500
# The largest request accepted, files included; a larger one is refused with 413 before it is
# read (dsr.security.middleware.RequestSizeLimitMiddleware). The largest legitimate request is a
# referral with 3 files of up to 10MB each (dsr.nhsuk.uploads) and its form fields (at most
# DATA_UPLOAD_MAX_MEMORY_SIZE): 32.5MB, so the default is 33MB.
DSR_MAX_REQUEST_BYTES = env.int("DSR_MAX_REQUEST_BYTES", default=33 * 1024 * 1024)
if DSR_MAX_REQUEST_BYTES < DATA_UPLOAD_MAX_MEMORY_SIZE:
    raise ImproperlyConfigured("DSR_MAX_REQUEST_BYTES must be at least 2621440 (2.5MB).")
# The first handler counts the file bytes actually received and stops at DSR_MAX_REQUEST_BYTES,
# whatever the request declared; Django's two then keep each file in memory or a temporary file.
FILE_UPLOAD_HANDLERS = [
    "dsr.nhsuk.uploads.RequestSizeUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Public forms sent sooner than this after they were shown are refused (dsr.nhsuk.fill_time).
DSR_MIN_FILL_SECONDS = env.int("DSR_MIN_FILL_SECONDS", default=3)
# Public forms sent per hour from one address or one session (dsr.security.ratelimit): referrals and
# C(E)TR requests sent, and pages of either form posted. Staff of a trust may all share one
# internet address, so a trust that refers through the public form may need more.
REFERRAL_SUBMISSIONS_PER_HOUR = env.int("REFERRAL_SUBMISSIONS_PER_HOUR", default=10)
REFERRAL_POSTS_PER_HOUR = env.int("REFERRAL_POSTS_PER_HOUR", default=300)
CETR_REQUEST_SUBMISSIONS_PER_HOUR = env.int("CETR_REQUEST_SUBMISSIONS_PER_HOUR", default=10)
CETR_REQUEST_POSTS_PER_HOUR = env.int("CETR_REQUEST_POSTS_PER_HOUR", default=300)
# A partner's action page (reviews.views.links.action_link), opened or sent, per hour from one
# address or one session: partners in one council may share an address.
ACTION_LINK_PAGES_PER_HOUR = env.int("ACTION_LINK_PAGES_PER_HOUR", default=300)
_RATE_LIMITS = [
    REFERRAL_SUBMISSIONS_PER_HOUR,
    REFERRAL_POSTS_PER_HOUR,
    CETR_REQUEST_SUBMISSIONS_PER_HOUR,
    CETR_REQUEST_POSTS_PER_HOUR,
    ACTION_LINK_PAGES_PER_HOUR,
]
if min(_RATE_LIMITS) < 1:
    raise ImproperlyConfigured("Each *_PER_HOUR rate limit must be 1 or more.")

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL selects the backend: smtp://user:pass@host:587 (add ?tls=True), consolemail://,
# or a provider's backend through EMAIL_BACKEND.
required_in_production("EMAIL_URL", env.str("EMAIL_URL", default=""))
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
globals().update(EMAIL_CONFIG)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="dsr@nhs.example" if DEBUG else "")
required_in_production("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# GOV.UK Notify's delivery receipts (dsr.views.outbox.notify_receipts) are accepted only with
# this bearer token, the one given to Notify with the callback URL; empty refuses every receipt.
NOTIFY_CALLBACK_TOKEN = env.str("NOTIFY_CALLBACK_TOKEN", default="")
# Where people send the printable referral form (shown on it). A postal address may use "\n".
REFERRAL_POSTAL_ADDRESS = env.str("REFERRAL_POSTAL_ADDRESS", default="").replace("\\n", "\n")
REFERRAL_EMAIL = env.str("REFERRAL_EMAIL", default="")
# Who is told of an admission to a hospital the CQC rates inadequate (DOMAIN rule 13): the ICB's
# chief executive, the NHS England region, the host commissioner.
DSR_INADEQUATE_HOSPITAL_RECIPIENTS = [
    ("Oversight", email) for email in env.list("DSR_INADEQUATE_HOSPITAL_EMAILS", default=[])
]
# Escalations (escalation.rules, escalation.notifications, DOMAIN.md section 8). Their owners get
# at most one digest a working day (counts and a link to their queue, never a person or a reason)
# rather than a message per escalation; with DSR_ESCALATION_DIGEST off, each escalation raised or
# moved up is told at once, and the daily digest only reminds of top-level ones past their
# deadline. DSR_ESCALATION_RED_AT_ONCE also tells at once of those about a person rated Red.
DSR_ESCALATION_DIGEST = env.bool("DSR_ESCALATION_DIGEST", default=True)
# The hour (London time, 0 to 23) from which the day's digests are sent.
DSR_ESCALATION_DIGEST_HOUR = env.int("DSR_ESCALATION_DIGEST_HOUR", default=7)
if not 0 <= DSR_ESCALATION_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("DSR_ESCALATION_DIGEST_HOUR must be from 0 to 23.")
DSR_ESCALATION_RED_AT_ONCE = env.bool("DSR_ESCALATION_RED_AT_ONCE", default=False)
# Days after an escalation is resolved by hand before the rules raise it again if its cause is
# still there (calendar days).
DSR_ESCALATION_RERAISE_DAYS = env.int("DSR_ESCALATION_RERAISE_DAYS", default=28)
if DSR_ESCALATION_RERAISE_DAYS < 1:
    raise ImproperlyConfigured("DSR_ESCALATION_RERAISE_DAYS must be 1 or more.")
# The DSR team's shared mailbox: deadline reminders and breaches go here.
DSR_TEAM_EMAIL = env.str("DSR_TEAM_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = 30
# How messages leave the service (dsr.outbox.delivery): "django", email by the email backend above
# and letters printed and posted by staff; or "notify", email, text messages and letters through
# GOV.UK Notify (notify/README.md). NOTIFY_TEMPLATES maps each message kind to its Notify
# template id, as JSON ({"referral_received": "<uuid>", ...}); a start-up check refuses a kind
# without one (dsr.checks). NOTIFY_EMAIL_REPLY_TO_ID is a reply-to address set up in Notify.
DSR_MESSAGES = env.str("DSR_MESSAGES", default="django")
if DSR_MESSAGES not in ("django", "notify"):
    raise ImproperlyConfigured('DSR_MESSAGES must be "django" or "notify".')
NOTIFY_API_KEY = env.str("NOTIFY_API_KEY", default="")
NOTIFY_BASE_URL = env.str("NOTIFY_BASE_URL", default="https://api.notifications.service.gov.uk")
NOTIFY_TEMPLATES: dict[str, str] = env.json("NOTIFY_TEMPLATES", default={})
NOTIFY_EMAIL_REPLY_TO_ID = env.str("NOTIFY_EMAIL_REPLY_TO_ID", default="")
NOTIFY_TIMEOUT = 30

# --- Records retention (RELIABILITY H-7, ASVS v5.0.0-14.2.7) -------------------------------
# How long records are kept once their period starts: from the end of the person's last time
# on the register (with everything about them, their history, messages and files), from a
# referral's decision to decline it or its withdrawal, from an access, and from the sending of
# a message (after which the recipient's name, address and the message's content are removed,
# keeping who was told, how and when). The shared domain notes cite one local schedule only
# (DOMAIN.md section 9 and rule 20: Kent and Medway delete 6 years after support ends) and ask
# for the NHS Records Management Code of Practice to be checked: these defaults are
# placeholders, to be confirmed by the ICB's information governance lead.
DSR_RETENTION_CLOSED_RECORD_YEARS = env.int("DSR_RETENTION_CLOSED_RECORD_YEARS", default=6)
DSR_RETENTION_DECLINED_REFERRAL_YEARS = env.int("DSR_RETENTION_DECLINED_REFERRAL_YEARS", default=6)
DSR_RETENTION_ACCESS_LOG_YEARS = env.int("DSR_RETENTION_ACCESS_LOG_YEARS", default=6)
DSR_RETENTION_OUTBOX_DAYS = env.int("DSR_RETENTION_OUTBOX_DAYS", default=365)
_RETENTION_PERIODS = [
    DSR_RETENTION_CLOSED_RECORD_YEARS,
    DSR_RETENTION_DECLINED_REFERRAL_YEARS,
    DSR_RETENTION_ACCESS_LOG_YEARS,
    DSR_RETENTION_OUTBOX_DAYS,
]
if min(_RETENTION_PERIODS) < 1:
    raise ImproperlyConfigured("Each DSR_RETENTION_* setting must be 1 or more.")

# --- Reports --------------------------------------------------------------------------------
# A report's figures are counted only in the background, never while a reader waits
# (reports.counting): today's every DSR_REPORT_RECOUNT_MINUTES, replacing the last count, and
# the days that have ended each night. What was counted is kept until replaced: for
# DSR_REPORT_PAST_DAY_SECONDS (past the next night's count, and far past the next recount).
DSR_REPORT_RECOUNT_MINUTES = env.int("DSR_REPORT_RECOUNT_MINUTES", default=5)
DSR_REPORT_PAST_DAY_SECONDS = env.int("DSR_REPORT_PAST_DAY_SECONDS", default=26 * 3600)
# Each reader's page of the last counted figures (reports.published) is kept until a count keeps
# new figures, and at most this long (a process's own cache, as in `make run`, hears of no count).
DSR_REPORT_PAGE_SECONDS = env.int(
    "DSR_REPORT_PAGE_SECONDS", default=60 * DSR_REPORT_RECOUNT_MINUTES
)

# The read feed for BI tools (reports.api): Django REST framework, read-only, token only; its
# views set their own authentication and permission, and nothing else of the service uses it.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "URL_FORMAT_OVERRIDE": "format",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dynamic Support Register: figures for planning",
    "DESCRIPTION": (
        "The register's published report figures for one organisation's areas, as its planning "
        "commissioners see them: counts rounded, small counts hidden, never anything about a "
        "person. A token from the service's administrators goes in the Authorization header."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
}
# The staff dashboard's headline counts, likewise (the lists of urgent work are always live).
DSR_DASHBOARD_CACHE_SECONDS = env.int("DSR_DASHBOARD_CACHE_SECONDS", default=60)
# The register list's total for each set of filters. Counted afresh after any change to the
# register (dsr.caching generations), so this only bounds how long an unchanged count is kept.
DSR_LIST_COUNT_CACHE_SECONDS = env.int("DSR_LIST_COUNT_CACHE_SECONDS", default=600)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # nhsuk-frontend comes from npm (package.json); it is never copied into the repository.
    ("nhsuk", BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
]
# Uploaded files (referral attachments) live outside any path a URL serves; only views that
# check access stream them. Production mounts a private volume here.
MEDIA_ROOT = env.path("PRIVATE_FILES_ROOT", default=BASE_DIR / "var" / "private")

# Importing a register from a spreadsheet (the DSR lead; dsr.imports). The uploaded file is kept
# here, outside any path a URL serves, under a random name, only while the import needs it: it
# is deleted when the import finishes, and any file older than DSR_IMPORT_KEEP_HOURS by the
# hourly sweep. Limits for a hostile file: its size, data rows and columns.
DSR_IMPORT_DIR = env.path("DSR_IMPORT_DIR", default=BASE_DIR / "var" / "imports")
DSR_IMPORT_KEEP_HOURS = env.int("DSR_IMPORT_KEEP_HOURS", default=24)
DSR_IMPORT_MAX_BYTES = env.int("DSR_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
DSR_IMPORT_MAX_ROWS = env.int("DSR_IMPORT_MAX_ROWS", default=20_000)
DSR_IMPORT_MAX_COLUMNS = env.int("DSR_IMPORT_MAX_COLUMNS", default=100)
# Rows written per transaction (each batch all or nothing), and how long a running import may
# go without finishing a batch before its page offers to carry on.
DSR_IMPORT_BATCH_ROWS = env.int("DSR_IMPORT_BATCH_ROWS", default=50)
DSR_IMPORT_STALL_SECONDS = env.int("DSR_IMPORT_STALL_SECONDS", default=120)
if min(DSR_IMPORT_KEEP_HOURS, DSR_IMPORT_MAX_ROWS, DSR_IMPORT_BATCH_ROWS) < 1:
    raise ImproperlyConfigured("The DSR_IMPORT_* limits must be 1 or more.")

# nhsuk-frontend's stylesheet refers to its icons at /assets/images/...; WhiteNoise serves the
# package's dist folder at the site root so those references resolve without a Sass build.
WHITENOISE_ROOT = BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# --- Forms ----------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ("nhsuk",)
CRISPY_TEMPLATE_PACK = "nhsuk"
CRISPY_FAIL_SILENTLY = not DEBUG

# --- Logging --------------------------------------------------------------------------------
# Logs carry object ids and user pks, never names, emails or request content. Lines are JSON
# (LOG_FORMAT=json, the default with DEBUG off) or plain text; both escape control characters
# and give times in UTC (dsr.security.logs). Security events go to the "dsr.audit" logger
# (dsr.security.audit).
# Every record carries the request's correlation id: django-log-request-id generates one, or
# takes it from TRUSTED_REQUEST_ID_HEADER (set by a proxy that overwrites it), and returns it
# in X-Request-ID.
_request_id_header = env.str("TRUSTED_REQUEST_ID_HEADER", default="")
LOG_REQUEST_ID_HEADER = (
    "HTTP_" + _request_id_header.upper().replace("-", "_") if _request_id_header else None
)
GENERATE_REQUEST_ID_IF_NOT_IN_HEADER = True
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
# Error reports mailed to ADMINS leave out form values, variables and names (dsr.security.errors).
DEFAULT_EXCEPTION_REPORTER = "dsr.security.errors.ErrorReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "dsr.security.errors.ErrorReportFilter"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "log_request_id.filters.RequestIDFilter"},
        "routine_refusals": {"()": "dsr.security.logs.RoutineRefusalFilter"},
    },
    "formatters": {
        "plain": {
            "()": "dsr.security.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
        "json": {
            "()": "dsr.security.logs.JsonFormatter",
            "format": "%(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # A 403 or other refusal as one line, without the traceback Django attaches to it.
        "django.request": {"filters": ["routine_refusals"]},
        # Its DEBUG records hold a whole template context: a person's details. Never below INFO.
        "django.template": {"level": "INFO"},
        "axes": {"level": "WARNING"},
    },
}
