"""Hostile and valid input for the form tests (RELIABILITY C-1, C-2): Hypothesis strategies, the
shared settings every form test runs under, and a counter of the examples actually tried."""

import datetime
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dsr.nhsuk.validators import nhs_number_check_digit

# Every form test: 300 examples in CI (RELIABILITY C-1), no deadline (a page takes what it takes
# on a shared machine), and the database rows of one example visible to the next (each test is
# one transaction; row counts are compared before and after each example).
#
# The examples are the same on every run, so CI passes or fails on the code, not on the draw.
# DSR_FUZZ_EXPLORE=1 draws new ones each run, to look for inputs the fixed set misses (that is
# how line breaks in the C(E)TR request's one-line answers were found); what it finds becomes a
# plain test.
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
    derandomize=not os.environ.get("DSR_FUZZ_EXPLORE"),
)
MINIMUM_EXAMPLES = 300

SCRIPT = "<script>alert(1)</script>"
PAYLOADS = [
    SCRIPT,
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "'; DROP TABLE dsr_person; --",
    "1' OR '1'='1",
    "1; SELECT pg_sleep(10)",
    "{{ 7*7 }}{% debug %}",
    "${7*7}#{7*7}",
    "%s%s%n%x",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\x07\x08\x0b\x0c\x7f\x85",
    "\u202egnp.exe",
    "\u2066isolate\u2069",
    "\ufeffbom",
    "zero\u200bwidth",
    "\u2028line\u2029para",
    "\r\nSet-Cookie: x=1",
    "\r\n\r\n",
    "💥🧨👨‍👩‍👧",
    "Z̵̡̢͇̈́a̶l̷g̸o̵",
    "\uffff\ufffe",
    "\U0010ffff",
    "../../etc/passwd",
    "C:\\Windows\\win.ini",
    "null",
    "None",
    "undefined",
    "NaN",
    "[]",
    '{"a": 1}',
    " ",
    "\t\n",
    "",
]
NUMBER_LIKE = [
    "0",
    "-0",
    "00",
    "-1",
    "1e9",
    "1e309",
    "inf",
    "NaN",
    "0x1F",
    "12.5",
    "3,000",
    " 12 ",
    "١٢",  # Arabic-Indic digits: str.isdigit() and int() accept them
    "１２",  # full-width digits
    "²",  # a digit to str.isdigit(), not to int()
    "99999999999999999999999999999",
    "9" * 5000,
]


def _repeat(payload: str, times: int) -> str:
    return payload * times


# Hostile text: any Unicode (lone surrogates apart: they cannot be sent as UTF-8, see C-2 for
# invalid bytes), control characters, the payloads alone and mixed, and very long strings (up
# to about a megabyte).
hostile_text = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80),
    st.text(alphabet=st.characters(max_codepoint=0x9F, exclude_categories=["Cs"]), max_size=20),
    st.sampled_from(PAYLOADS),
    st.lists(st.sampled_from(PAYLOADS), min_size=2, max_size=5).map("".join),
    st.builds(
        _repeat,
        st.sampled_from([*PAYLOADS[:6], "x", "é", "💥", "\x00"]),
        st.sampled_from([21, 61, 101, 151, 201, 501, 5001, 40_000, 1_000_000 // 30]),
    ),
)
odd_number = st.one_of(
    st.sampled_from(NUMBER_LIKE),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
hostile_value = st.one_of(hostile_text, odd_number)
# A field posted several times (duplicate parameters), or with one hostile value.
hostile_values = st.one_of(hostile_value, st.lists(hostile_value, min_size=2, max_size=3))


def hostile_changes(names: Iterable[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of `names` given hostile values, and some left out (None)."""
    names = sorted(names)
    return st.dictionaries(
        keys=st.sampled_from(names),
        values=st.one_of(hostile_values, st.none()),
        min_size=1,
        max_size=min(4, len(names)),
    )


def post_data(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` applied: None leaves the field out."""
    data = dict(base)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


# --- Valid values -------------------------------------------------------------------------------

# The characters forms refuse in text (tab and line breaks apart) and the bidirectional controls.
_REFUSED = "".join(
    map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
)
_BIDI = "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def free_text(max_size: int, *, required: bool = False) -> st.SearchStrategy[str]:
    """Text a person may type: any printable Unicode, line breaks, tabs, markup and SQL-ish
    strings (all of which must be stored as typed and shown escaped), up to `max_size`."""
    piece = st.one_of(
        st.text(
            alphabet=st.characters(
                exclude_categories=["Cs", "Cc"], exclude_characters=_REFUSED + _BIDI
            ),
            max_size=40,
        ),
        st.sampled_from(
            ["\r\n", "\n", "\t", " ", SCRIPT, "'; DROP TABLE dsr_person; --", "{{ 7*7 }}", "💥"]
        ),
    )
    text = st.one_of(
        st.lists(piece, max_size=6).map("".join),
        # Long answers, up to the limit.
        st.integers(1, max_size).map(lambda n: ("Ä ok\r\n💥" * n)[:n]),
    )
    text = text.map(lambda s: _fit(s, max_size))
    if required:
        text = text.filter(lambda s: normalised(s) != "")
    return text


def _fit(value: str, max_size: int) -> str:
    # Storing only removes characters (white space at the ends, CR of CRLF): cut to the limit.
    return value[:max_size]


def short_text(max_size: int, *, required: bool = False) -> st.SearchStrategy[str]:
    """A one-line answer: free text without line breaks."""
    return (
        free_text(max_size, required=required)
        .map(lambda s: _fit(s.replace("\r", " ").replace("\n", " "), max_size))
        .filter(lambda s: not required or s.strip() != "")
    )


def as_received(posted: dict) -> dict:
    """The answers as a form reads them: a name sent more than once counts by its last value
    (Django's QueryDict)."""
    received = {}
    for name, value in posted.items():
        if isinstance(value, list):
            if not value:
                continue  # a name sent with no value is not sent at all
            value = value[-1]
        received[name] = value
    return received


def normalised(value: str) -> str:
    """What a text box stores: surrounding white space removed (Django's CharField), and a
    text area's CRLF line breaks as LF."""
    return value.strip().replace("\r\n", "\n")


def name_text(max_size: int = 100) -> st.SearchStrategy[str]:
    """A name: letters of any alphabet, their accents, spaces, hyphens, apostrophes, stops."""
    return st.text(
        alphabet=st.one_of(
            st.characters(categories=["Lu", "Ll", "Lt", "Lo", "Mn"]),
            st.sampled_from(list(" -'\u2019.")),
        ),
        min_size=1,
        max_size=max_size,
    ).filter(lambda s: s.strip() != "")


def email_address(*, personal_ok: bool = True) -> st.SearchStrategy[str]:
    local = st.text(
        alphabet=string.ascii_lowercase + string.digits + "._+-", min_size=1, max_size=20
    )
    local = local.filter(lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s)
    label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)
    domain = st.builds(
        lambda a, tld: f"{a}.{tld}",
        label,
        st.sampled_from(["nhs.net", "org.uk", "example.org", "gov.uk"]),
    )
    if personal_ok:
        domain = st.one_of(domain, st.sampled_from(["gmail.com", "outlook.com"]))
    case = st.sampled_from([str.lower, str.upper, str.title])
    return st.builds(lambda loc, dom, c: f"{loc}@{c(dom)}", local, domain, case)


def phone_number() -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789 +()-", min_size=6, max_size=30).filter(
        lambda s: s.strip() != "" and len(s.strip()) >= 6
    )


def nhs_number() -> st.SearchStrategy[tuple[str, str]]:
    """(as typed, as stored): a valid NHS number with or without spaces or dashes."""

    def build(first_nine: str, style: int) -> tuple[str, str]:
        check = nhs_number_check_digit(first_nine)
        digits = f"{first_nine}{check}"
        typed = [
            digits,
            f"{digits[:3]} {digits[3:6]} {digits[6:]}",
            f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
        ][style]
        return typed, digits

    first = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
        lambda s: nhs_number_check_digit(s) != 10
    )
    return st.builds(build, first, st.integers(0, 2))


POSTCODES = [
    "NR1 2DH",
    "SW1A 1AA",
    "M1 1AE",
    "B33 8TH",
    "CR2 6XH",
    "DN55 1PT",
    "EC1A 1BB",
    "W1A 0AX",
]


def postal_address_text(max_size: int) -> st.SearchStrategy[str]:
    """A postal address as a person types it: any text (as `free_text`), then the postcode on
    its own last line, as a letter needs (dsr.nhsuk.validators.validate_postal_address)."""
    return st.builds(lambda text, code: f"{text}\n{code[0]}", free_text(max_size - 10), postcode())


def postcode() -> st.SearchStrategy[tuple[str, str]]:
    """(as typed, as stored)."""
    return st.builds(
        lambda code, lower, compact: (
            (code.lower() if lower else code).replace(" ", "" if compact else " "),
            code,
        ),
        st.sampled_from(POSTCODES),
        st.booleans(),
        st.booleans(),
    )


def date_parts(name: str, day: datetime.date) -> dict[str, str]:
    return {
        f"{name}_day": str(day.day),
        f"{name}_month": str(day.month),
        f"{name}_year": str(day.year),
    }


def odd_date_parts(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Day, month and year boxes with hostile or odd values (far past, far future, 31 February,
    huge numbers, digits of other scripts)."""
    part = st.one_of(odd_number, hostile_text, st.integers(-40, 100_000).map(str))
    far = st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31))
    return st.one_of(
        st.fixed_dictionaries({f"{name}_day": part, f"{name}_month": part, f"{name}_year": part}),
        far.map(lambda d: date_parts(name, d)),
        st.just({f"{name}_day": "31", f"{name}_month": "2", f"{name}_year": "2020"}),
        st.just({f"{name}_day": "29", f"{name}_month": "2", f"{name}_year": "2023"}),
    )


def subset(choices: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(choices), unique=True, max_size=len(choices))


# --- Counting -----------------------------------------------------------------------------------


@dataclass
class Tried:
    """Examples tried by one form's test, and how many the form accepted."""

    examples: int = 0
    accepted: int = 0


def row_counts(*model_classes: type[models.Model]) -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in model_classes}


def no_unescaped_markup(html: str) -> bool:
    """No payload markup came back as markup (it must be shown escaped)."""
    return SCRIPT not in html and "<img src=x" not in html and "<svg onload" not in html
