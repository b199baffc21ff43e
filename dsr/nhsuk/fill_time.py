"""A minimum fill time for the public forms (RELIABILITY C-5, ASVS v5.0.0-2.4.1).

A person takes some seconds to read a page and press its button; a script posts at once. Each
public form that writes carries, in a hidden field, the time it was shown, signed with the
project's secret so it cannot be forged or moved back. A form sent sooner than
`DSR_MIN_FILL_SECONDS` after it was shown (or with the field missing or tampered with) is
refused with a message asking the person to check their answers and send again, and nothing is
written. The page shown again carries a new time, so a person who was refused simply sends it
once more. No CAPTCHA: it is an accessibility barrier for the people this service is for.

`DSR_MIN_FILL_SECONDS` is 3 by default; 0 turns the check off.
"""

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.utils import timezone

logger = logging.getLogger(__name__)

FIELD = "form_started"
SALT = "dsr.nhsuk.fill_time"
DEFAULT_MIN_SECONDS = 3
TOO_FAST_MESSAGE = (
    "This page was sent very quickly, so we could not save it. Check your answers, then send "
    "it again."
)


def minimum_seconds() -> float:
    return float(getattr(settings, "DSR_MIN_FILL_SECONDS", DEFAULT_MIN_SECONDS))


def stamp(*, at: float | None = None) -> str:
    """The signed time now, for the hidden field of a page being shown; or the signed POSIX
    time `at`, for a page shown earlier (the benchmark and the tests date it back)."""
    return signing.dumps(timezone.now().timestamp() if at is None else at, salt=SALT)


def seconds_since(value: Any) -> float | None:
    """Seconds since the signed time `value` was made; None if it is missing or not ours."""
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        started = signing.loads(value, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(started, int | float) or isinstance(started, bool):
        return None
    return timezone.now().timestamp() - started


def sent_too_fast(value: Any) -> bool:
    """True when a form carrying `value` must be refused: sent sooner than the minimum after it
    was shown, or without a valid signed time. Always False when the check is off."""
    minimum = minimum_seconds()
    if minimum <= 0:
        return False
    elapsed = seconds_since(value)
    return elapsed is None or elapsed < minimum


class MinimumFillTimeForm(forms.Form):
    """A form with the signed "shown at" field. Sent too soon, it is invalid with
    TOO_FAST_MESSAGE (code "too_fast"); shown again, it carries a new time."""

    form_started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial[FIELD] = stamp()
        self.sent_too_fast = self.is_bound and sent_too_fast(self.data.get(FIELD))
        if self.is_bound:
            # The page shown again (with errors) starts the clock again.
            data = self.data.copy()
            data[FIELD] = self.initial[FIELD]
            self.data = data

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.sent_too_fast:
            logger.info("public form refused: sent too fast form=%s", type(self).__name__)
            raise forms.ValidationError(TOO_FAST_MESSAGE, code="too_fast")
        return data
