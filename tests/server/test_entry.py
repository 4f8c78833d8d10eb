"""Typed serial numbers and codes: full-width digits fold to ASCII; anything else is one clear error."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fobauth import entry, errors

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@given(st.text(alphabet="0123456789", min_size=8, max_size=12), st.booleans())
def test_serials_of_8_to_12_digits_half_or_full_width(digits, full_width):
    typed = digits.translate(FULL_WIDTH) if full_width else digits
    assert entry.serial(typed) == digits


@given(st.one_of(st.text(max_size=80), st.binary(max_size=20), st.integers(), st.none()))
def test_anything_else_is_bad_serial_or_a_serial(value):
    try:
        result = entry.serial(value)
    except errors.BadSerial as error:
        assert str(error) == "the serial number must be 8 to 12 digits"
    else:
        assert result.isascii() and result.isdigit() and 8 <= len(result) <= 12


@pytest.mark.parametrize(
    "typed",
    [
        "١٢٣٤٥٦٧٨",  # Arabic-Indic digits: digits to Python, not to a bank
        "१२३४५६७८",  # Devanagari
        "１２３４ ５６７８",  # a space inside
        "12345678\n9",
    ],
)
def test_other_scripts_digits_are_refused(typed):
    with pytest.raises(errors.BadSerial):
        entry.serial(typed)


def test_compatibility_forms_of_ascii_digits_fold_like_full_width_ones():
    assert entry.serial("¹²³⁴⁵⁶⁷⁸") == "12345678"  # NFKC: superscripts are compatibility forms too


def test_surrounding_spaces_including_ideographic_are_ignored():
    assert entry.serial("\u3000１２３４５６７８ ") == "12345678"
    assert entry.code(" ０１２３４５\u3000", 6) == "012345"


@given(st.text(max_size=40), st.integers(min_value=6, max_value=10))
def test_codes_are_the_digits_or_bad_code(value, digits):
    try:
        result = entry.code(value, digits)
    except errors.BadCode:
        return
    assert result.isascii() and result.isdigit() and len(result) == digits
