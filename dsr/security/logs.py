"""How log records are written: one line per record, times in UTC, control characters escaped.

- `JsonFormatter` (production): one JSON object per line. Every field a record carries
  (`event`, `user_id`, `request_id`, ...) stays a field of its own, and JSON escapes CR, LF and
  escape sequences, so text from a request can never start a line of its own (ASVS v5.0.0-16.4.1).
- `PlainFormatter` (development): readable lines; the message has its control characters shown
  as `\\xNN`, and the lines of a traceback are indented, so a record always starts at column 0.

Records carry ids, never names, email addresses or what a user typed (STYLE point 18). Error
reports mailed to ADMINS are trimmed the same way by dsr.security.errors.ErrorReporter.
"""

import logging
import re
import time
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

# C0 and C1 control characters (tab aside), DEL, and the Unicode line and paragraph separators:
# anything a terminal or a log viewer may take as a new line or a colour change.
_CONTROL = [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_ESCAPES = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _CONTROL}


def escape_controls(text: str) -> str:
    """`text` with every control character written out as an escape (`\\x0d`, `\\x1b`)."""
    return text.translate(_ESCAPES)


class PlainFormatter(logging.Formatter):
    """Readable lines for development; see the module docstring."""

    converter = time.gmtime
    default_msec_format = "%s.%03dZ"

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = escape_controls(self.formatMessage(record))
        # Formatted here rather than through record.exc_text, which another handler may have
        # filled in with its own formatting.
        blocks = []
        if record.exc_info:
            blocks.append(self.formatException(record.exc_info))
        elif record.exc_text:
            blocks.append(record.exc_text)
        if record.stack_info:
            blocks.append(self.formatStack(record.stack_info))
        for block in blocks:
            line += "".join(f"\n    {escape_controls(part)}" for part in block.splitlines())
        return line


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line, with a UTC `time` field.

    Django attaches the request object itself to `django.request` records; it is left out, as
    its text holds the query string and the client's headers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)


class RoutineRefusalFilter(logging.Filter):
    """A refused request is one line: Django attaches the exception to its record of a
    PermissionDenied (403, "Forbidden (Permission denied)"), so every routine refusal wrote a
    traceback that buried the errors needing one. Records of a 4xx response lose the exception
    (they stay at WARNING); those of a 5xx keep theirs. Set on the "django.request" logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and 400 <= getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


def axes_client_str(
    username: str | None, ip_address: str | None, user_agent: str, path_info: Any, request: Any
) -> str:
    """How django-axes names a client in its own log lines: the address and the path, never the
    email address that was typed (AXES_CLIENT_STR_CALLABLE)."""
    if isinstance(path_info, tuple | list):
        path_info = path_info[0] if path_info else ""
    return f"{{ip_address: {ip_address}, path_info: {path_info}}}"


# A correlation id taken from a trusted header must look like one: it is written into every log
# record, a response header and the error page.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:;=/+-]{1,128}")
