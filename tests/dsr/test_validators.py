"""NHS number, postcode and GP practice code validation of dsr/nhsuk/validators.py."""

import re

import pytest
from django.core.exceptions import ValidationError

from dsr.nhsuk.validators import (
    nhs_number_check_digit,
    normalise_nhs_number,
    normalise_ods_code,
    normalise_postcode,
    validate_nhs_number,
    validate_ods_practice_code,
    validate_postcode,
)

ONLY_NUMBERS = "An NHS number must contain only numbers."
TEN_DIGITS = "An NHS number must be 10 digits."
# The same plain words whether the check digit is wrong or no check digit could be right: the
# difference matters to the code (its own error code), not to the person typing.
CHECK_DIGIT_WRONG = "This is not a valid NHS number. Check the number and try again."
CHECK_DIGIT_IMPOSSIBLE = CHECK_DIGIT_WRONG
REAL_POSTCODE = "Enter a real postcode, like NR1 2DH."
PRACTICE_CODE = "Enter the GP practice code, like A81001."


def exactly(message: str) -> str:
    """A `pytest.raises(match=)` pattern for a ValidationError carrying only `message`."""
    return rf"^\['{re.escape(message)}'\]$"


# --- NHS numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        (" 943 476 5919 ", "9434765919"),
        ("9434765870", "9434765870"),  # check digit 11, written as 0
    ],
)
def test_valid_nhs_number_is_accepted_with_spaces_or_dashes_and_normalised(value, normalised):
    validate_nhs_number(value)

    assert normalise_nhs_number(value) == normalised


def test_nhs_number_check_digit_worked_example():
    # 9x10 + 4x9 + 3x8 + 4x7 + 7x6 + 6x5 + 5x4 + 9x3 + 1x2 = 299; 299 mod 11 = 2; 11 - 2 = 9.
    assert nhs_number_check_digit("943476591") == 9


def test_nhs_number_with_the_wrong_check_digit_is_refused():
    with pytest.raises(ValidationError, match=exactly(CHECK_DIGIT_WRONG)) as caught:
        validate_nhs_number("9434765918")

    assert caught.value.code == "nhs_number_check_digit"


@pytest.mark.parametrize("last_digit", "0123456789")
def test_nhs_number_whose_check_digit_would_be_10_is_refused_whatever_its_last_digit(last_digit):
    # 1x10 + 2x9 + 3x8 + 4x7 + 5x6 + 6x5 + 7x4 + 8x3 + 9x2 = 210; 210 mod 11 = 1; 11 - 1 = 10.
    assert nhs_number_check_digit("123456789") == 10

    with pytest.raises(ValidationError, match=exactly(CHECK_DIGIT_IMPOSSIBLE)) as caught:
        validate_nhs_number("123456789" + last_digit)

    assert caught.value.code == "nhs_number_check_digit_impossible"


@pytest.mark.parametrize(
    "value",
    ["943476591", "94347659190", "943 476 591", "", "   "],
    ids=["9-digits", "11-digits", "9-digits-spaced", "empty", "only-spaces"],
)
def test_nhs_number_of_the_wrong_length_is_refused(value):
    with pytest.raises(ValidationError, match=exactly(TEN_DIGITS)) as caught:
        validate_nhs_number(value)

    assert caught.value.code == "nhs_number_length"


@pytest.mark.parametrize(
    "value",
    ["943476591A", "943 476 591O", "943.476.5919", "NHS9434765919", "943/476/5919", "٩٤٣٤٧٦٥٩١٩"],
    ids=["letter", "letter-o", "dots", "prefix", "slashes", "arabic-indic-digits"],
)
def test_nhs_number_with_anything_but_digits_spaces_and_dashes_is_refused(value):
    with pytest.raises(ValidationError, match=exactly(ONLY_NUMBERS)) as caught:
        validate_nhs_number(value)

    assert caught.value.code == "nhs_number_characters"


def test_nhs_number_check_is_modulus_11_only_so_all_zeros_passes():
    # Deliberate: issued ranges are checked by tracing, not here (see validate_nhs_number).
    validate_nhs_number("0000000000")


# --- Postcodes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("sw1a1aa ", "SW1A 1AA"),
        ("NR1 2DH", "NR1 2DH"),
        ("nr12dh", "NR1 2DH"),
        ("  NR1   2DH ", "NR1 2DH"),
        ("m11ae", "M1 1AE"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_postcode_is_normalised_to_upper_case_with_one_space(value, normalised):
    assert normalise_postcode(value) == normalised


@pytest.mark.parametrize(
    "value",
    [
        "M1 1AE",  # A9
        "B33 8TH",  # A99
        "CR2 6XH",  # AA9
        "DN55 1PT",  # AA99
        "W1A 0AX",  # A9A
        "EC1A 1BB",  # AA9A
        "GIR 0AA",
        "NR1 2DH",
        "sw1a1aa",
        "ec1a 1bb",
    ],
)
def test_full_uk_postcode_is_accepted(value):
    validate_postcode(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "NR1",  # outward code only
        "NR1 2D",
        "NR1 2DHX",
        "12345",
        "NR12 2DH3",
        "SW1A-1AA",
        "QA1 1AA",  # Q is never first
        "NZ1 1AA",  # Z is never second
        "NR1 2CI",  # C and I are never in the inward code
        "W1I 0AX",  # I is never third in A9A
        "90210",
    ],
)
def test_anything_but_a_full_uk_postcode_is_refused(value):
    with pytest.raises(ValidationError, match=exactly(REAL_POSTCODE)) as caught:
        validate_postcode(value)

    assert caught.value.code == "postcode"


# --- GP practice codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"),
    [("A81001", "A81001"), ("a81001", "A81001"), (" d82001 ", "D82001")],
)
def test_gp_practice_code_is_accepted_and_normalised_to_upper_case(value, normalised):
    validate_ods_practice_code(value)

    assert normalise_ods_code(value) == normalised


@pytest.mark.parametrize(
    "value",
    ["", "81001", "A8100", "A810011", "AB1001", "RGT", "A 81001", "181001"],
)
def test_anything_but_a_gp_practice_code_is_refused(value):
    with pytest.raises(ValidationError, match=exactly(PRACTICE_CODE)) as caught:
        validate_ods_practice_code(value)

    assert caught.value.code == "ods_practice_code"


def test_an_nhs_number_is_printed_in_three_groups_everywhere():
    from dsr.nhsuk.validators import format_nhs_number

    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("") == format_nhs_number(None) == ""
