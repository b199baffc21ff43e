"""Settings for the worker and helper processes the fault-injection tests start.

The test settings, with what lets a lost task come back within seconds rather than an hour
(RELIABILITY.md e-2), a claim that goes stale after seconds rather than ten minutes, and the email
backend chosen by the test through EMAIL_BACKEND. Never used outside tests/reliability.
"""

import os

from dsr.settings_test import *  # noqa: F403
from dsr.settings_test import EMAIL_BACKEND as _TEST_EMAIL_BACKEND

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 10,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", _TEST_EMAIL_BACKEND)
DSR_STALE_CLAIM_SECONDS = int(os.environ.get("DSR_STALE_CLAIM_SECONDS", "5"))
