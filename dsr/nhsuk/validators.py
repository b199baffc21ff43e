"""Field validators for identifiers the register stores: NHS numbers, postcodes, GP practices;
and for free text: hidden characters, line breaks in one-line answers, names.

Each identifier has a `normalise_*` function that puts input into the stored form, and a
`validate_*` function, usable as a Django field or form validator, that raises
`django.core.exceptions.ValidationError` with a message the person entering the value can act
on. Validators accept input in any of the forms people type (lower case, spaces, dashes) and
judge its normalised form; a form's `clean_<field>` should store the normalised value.
"""

import logging
import re
import unicodedata

from django.core.exceptions import ValidationError

logger = logging.getLogger(__name__)

# --- NHS numbers ------------------------------------------------------------------------------

# People copy NHS numbers from letters as "943 476 5919" and from some systems as "943-476-5919".
_NHS_NUMBER_SEPARATORS = re.compile(r"[\s-]")
_DIGITS = re.compile(r"[0-9]*")
# Weights 10 down to 2 for the first nine digits (NHS Data Dictionary, NHS NUMBER).
_NHS_NUMBER_WEIGHTS = range(10, 1, -1)


def normalise_nhs_number(value: str) -> str:
    """`value` without spaces or dashes: "943 476 5919" becomes "9434765919".

    Does not check the result; see `validate_nhs_number`.
    """
    return _NHS_NUMBER_SEPARATORS.sub("", value)


def format_nhs_number(value: str | None) -> str:
    """A stored NHS number as it is printed: "9434765919" as "943 476 5919" ("" when none)."""
    value = value or ""
    return f"{value[:3]} {value[3:6]} {value[6:]}" if len(value) == 10 else value


def nhs_number_check_digit(first_nine: str) -> int:
    """The modulus 11 check digit for the first nine digits of an NHS number.

    Returns 10 when no check digit is possible: no NHS number starts with those nine digits.
    Raises `ValueError` unless `first_nine` is exactly nine digits.
    """
    weighted = zip(first_nine, _NHS_NUMBER_WEIGHTS, strict=True)
    total = sum(int(digit) * weight for digit, weight in weighted)
    check_digit = 11 - total % 11
    return 0 if check_digit == 11 else check_digit


def validate_nhs_number(value: str) -> None:
    """Raise `ValidationError` unless `value` is a well-formed NHS number.

    Spaces and dashes are allowed as separators. The checks, in order, each with its own
    message and code: only digits (`nhs_number_characters`), exactly 10 of them
    (`nhs_number_length`), a first nine digits for which a check digit exists
    (`nhs_number_check_digit_impossible`), and a tenth digit equal to it
    (`nhs_number_check_digit`).

    This is the modulus 11 check only. It proves the number was not mistyped, not that it was
    ever issued or belongs to this person: that is what tracing against the Personal
    Demographics Service is for. So a number like 0000000000, which passes modulus 11 but is
    not in any issued range, is accepted here.
    """
    digits = normalise_nhs_number(value)
    if not _DIGITS.fullmatch(digits):
        raise ValidationError(
            "An NHS number must contain only numbers.", code="nhs_number_characters"
        )
    if len(digits) != 10:
        raise ValidationError("An NHS number must be 10 digits.", code="nhs_number_length")
    check_digit = nhs_number_check_digit(digits[:9])
    if check_digit == 10:
        raise ValidationError(
            "This is not a valid NHS number. Check the number and try again.",
            code="nhs_number_check_digit_impossible",
        )
    if check_digit != int(digits[9]):
        raise ValidationError(
            "This is not a valid NHS number. Check the number and try again.",
            code="nhs_number_check_digit",
        )


# --- Postcodes --------------------------------------------------------------------------------

# The UK Government Data Standards Catalogue pattern for a full postcode, with GIR 0AA. The
# outward code is A9, A99, AA9, AA99, A9A or AA9A; the inward code is 9AA. Letter positions are
# restricted as Royal Mail allocates them: no Q, V or X first; no I, J or Z second; and the
# inward code never uses C, I, K, M, O or V.
_POSTCODE = re.compile(
    r"""
    GIR\ 0AA
    |
    (?:
        [A-PR-UWYZ][0-9]{1,2}                   # A9, A99
        | [A-PR-UWYZ][A-HK-Y][0-9]{1,2}         # AA9, AA99
        | [A-PR-UWYZ][0-9][A-HJKPSTUW]          # A9A
        | [A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y] # AA9A
    )
    \ [0-9][ABD-HJLNP-UW-Z]{2}
    """,
    re.VERBOSE,
)
_WHITESPACE = re.compile(r"\s+")


def normalise_postcode(value: str) -> str:
    """`value` in upper case with one space before the inward code: "sw1a1aa " gives "SW1A 1AA".

    Does not check the result; see `validate_postcode`. Input too short to hold an inward code
    comes back upper-cased with its spaces removed.
    """
    compact = _WHITESPACE.sub("", value).upper()
    if len(compact) <= 3:
        return compact
    # The inward code is always the last three characters, whatever the outward code's length.
    return f"{compact[:-3]} {compact[-3:]}"


def validate_postcode(value: str) -> None:
    """Raise `ValidationError` (code `postcode`) unless `value` normalises to a full UK postcode.

    Partial postcodes (an outward code alone, such as "NR1") are refused.
    """
    if not _POSTCODE.fullmatch(normalise_postcode(value)):
        raise ValidationError("Enter a real postcode, like NR1 2DH.", code="postcode")


def postcode_in(address: str) -> str:
    """The full UK postcode a postal address ends with, written like "NR1 2DH", or "" when its
    last line is not one. A letter needs it: Royal Mail (and GOV.UK Notify) will not post
    without one."""
    lines = [line.strip(" ,") for line in address.strip().splitlines() if line.strip(" ,")]
    if not lines:
        return ""
    last = lines[-1]
    # The postcode on its own last line, or at the end of the last line ("Norwich NR1 2DH").
    words = last.split()
    for candidate in (last, " ".join(words[-2:]), words[-1]):
        if _POSTCODE.fullmatch(normalise_postcode(candidate)):
            return normalise_postcode(candidate)
    return ""


# A UK mobile number as people write it: +44 7..., 0044 7... or 07..., with spaces, dashes or
# brackets anywhere (GOV.UK Notify takes these and sends text messages only to them).
_UK_MOBILE = re.compile(r"(?:\+44|0044|0)(7[0-9]{9})")


def uk_mobile(value: str) -> str:
    """The UK mobile number in `value` written "07700 900982", or "" when it is not one: a
    text message can be sent only to a mobile."""
    compact = re.sub(r"[\s()\-]", "", value or "")
    found = _UK_MOBILE.fullmatch(compact.replace("+440", "+44"))
    if not found:
        return ""
    digits = "0" + found.group(1)
    return f"{digits[:5]} {digits[5:]}"


def validate_postal_address(value: str) -> None:
    """Raise `ValidationError` (code `postal_address`) unless `value` ends with a full UK
    postcode, so a letter to it can be posted."""
    if value.strip() and not postcode_in(value):
        raise ValidationError(
            "Enter the postcode on the last line of the address, like NR1 2DH.",
            code="postal_address",
        )


def postal_address(address: str, postcode: str) -> str:
    """An address and a separately kept postcode as the lines of one postal address."""
    address = address.strip()
    if not address or postcode_in(address) or not postcode:
        return address
    return f"{address}\n{normalise_postcode(postcode)}"


# --- GP practice ODS codes ----------------------------------------------------------------------

# A GP practice's Organisation Data Service code is one letter then five digits (A81001). Other
# kinds of organisation have other shapes (trusts are three characters, for example), so this
# pattern is for GP practices only.
_ODS_PRACTICE_CODE = re.compile(r"[A-Z][0-9]{5}")


def normalise_ods_code(value: str) -> str:
    """`value` with surrounding whitespace removed, in upper case: " a81001" gives "A81001"."""
    return value.strip().upper()


def validate_ods_practice_code(value: str) -> None:
    """Raise `ValidationError` (code `ods_practice_code`) unless `value` is a GP practice code.

    Judged after `normalise_ods_code`, so lower case is accepted.
    """
    if not _ODS_PRACTICE_CODE.fullmatch(normalise_ods_code(value)):
        raise ValidationError("Enter the GP practice code, like A81001.", code="ods_practice_code")


def optional_nhs_number(value: str | None) -> str:
    """A form's NHS number: "" when left blank, otherwise checked and written as 10 digits."""
    value = (value or "").strip()
    if not value:
        return ""
    validate_nhs_number(value)
    return normalise_nhs_number(value)


def optional_postcode(value: str | None) -> str:
    """A form's postcode: "" when left blank, otherwise checked and written like "NR1 2DH"."""
    value = (value or "").strip()
    if not value:
        return ""
    validate_postcode(value)
    return normalise_postcode(value)


# Control characters other than tab and line breaks, and the bidirectional overrides that can
# make text read differently from how it is stored (U+202A to U+202E, U+2066 to U+2069).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Line breaks: a browser sends none from a one-line text box (a pasted tab it keeps).
_LINE_BREAK = re.compile(r"[\n\r\x85\u2028\u2029]")


def refuse_control_characters(value: str) -> None:
    """Raise `ValidationError` (code `control_characters`) if `value` holds NUL, another
    control character (tab and line breaks apart) or a bidirectional override."""
    if _CONTROL.search(value or ""):
        raise ValidationError("This must not contain hidden characters.", code="control_characters")


def validate_one_line(value: str) -> None:
    """Refuse (code `one_line`) a line break in a one-line answer: only a crafted request can
    send one. Hidden characters are refuse_control_characters' business."""
    if _LINE_BREAK.search(value or ""):
        raise ValidationError("This must be one line of text.", code="one_line")


_NAME_PUNCTUATION = frozenset(" -'\u2019.")


def refuse_non_name_characters(value: str) -> None:
    """Raise `ValidationError` (code `name_characters`) unless `value` holds only letters (of
    any alphabet, with their accents), spaces, hyphens, apostrophes and full stops."""
    for char in value:
        if char in _NAME_PUNCTUATION:
            continue
        category = unicodedata.category(char)
        if category[0] not in ("L", "M") and category != "Zs":
            raise ValidationError("This must be a name.", code="name_characters")
