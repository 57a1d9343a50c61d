"""Tests for tasdeed.codes: the local e-payment code check (Damm) done before any look-up."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasdeed.codes import (
    CodeCheck,
    CodeProblem,
    check_payment_code,
    damm_check_digit,
    damm_valid,
    mask_code,
)
from tasdeed.profile import PaymentCodeFormat

FMT12 = PaymentCodeFormat(length=12)
VALID_12 = "627898622241"  # traced by hand through the Damm table: interim ends at 0


# --- Damm ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("572", "4"),  # the textbook example
        ("12345678", "6"),  # traced by hand: 3,5,4,0,9,6,1,6
        ("0", "0"),
        ("00000", "0"),
        ("5", "9"),  # first row of the table: 0 3 1 7 5 9 ...
        ("9", "2"),
        ("62789862224", "1"),
    ],
)
def test_damm_check_digit_vectors(body: str, check: str) -> None:
    assert damm_check_digit(body) == check
    assert damm_valid(body + check)


@pytest.mark.parametrize("code", ["5724", "123456786", "00", VALID_12])
def test_damm_valid(code: str) -> None:
    assert damm_valid(code)


@pytest.mark.parametrize(
    "code",
    ["5723", "5742", "7524", "627898622240", "627898622214", "", "572 4", "5724\n"],
)
def test_damm_invalid(code: str) -> None:
    assert not damm_valid(code)


def test_damm_catches_the_swap_luhn_misses() -> None:
    # Luhn cannot tell 09 from 90; Damm can.
    assert damm_check_digit("09") != damm_check_digit("90")
    assert not damm_valid("90" + damm_check_digit("09"))


@pytest.mark.parametrize("body", ["", "57a", "٥٧٢", "१२३", "57 2", "-572"])
def test_damm_check_digit_needs_ascii_digits(body: str) -> None:
    with pytest.raises(ValueError):
        damm_check_digit(body)


def test_damm_valid_refuses_non_ascii_digits_that_isdigit_accepts() -> None:
    assert "٥٧٢٤".isdigit()
    assert not damm_valid("٥٧٢٤")
    assert not damm_valid("۵۷۲۴")
    assert not damm_valid("५७२४")  # Devanagari


def _sample_codes() -> list[str]:
    rng = random.Random(20261124)
    codes = []
    for length in (10, 11, 12):
        for _ in range(25):
            body = "".join(rng.choice("0123456789") for _ in range(length - 1))
            codes.append(body + damm_check_digit(body))
    return codes


SAMPLE_CODES = _sample_codes()


def test_sample_codes_are_valid_and_of_each_profile_length() -> None:
    assert {len(c) for c in SAMPLE_CODES} == {10, 11, 12}
    assert len(SAMPLE_CODES) == 75
    assert all(damm_valid(c) for c in SAMPLE_CODES)


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_every_single_digit_substitution_is_caught(code: str) -> None:
    tried = 0
    for i, original in enumerate(code):
        for digit in "0123456789":
            if digit == original:
                continue
            typo = code[:i] + digit + code[i + 1 :]
            assert not damm_valid(typo), typo
            tried += 1
    assert tried == 9 * len(code)


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_every_adjacent_transposition_is_caught(code: str) -> None:
    for i in range(len(code) - 1):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        assert not damm_valid(swapped), swapped


def test_all_two_digit_transpositions_are_caught() -> None:
    # Every pair ab/ba at every position of a 12-digit code, including the check digit.
    code = VALID_12
    for a in "0123456789":
        for b in "0123456789":
            if a == b:
                continue
            for i in range(len(code) - 2):
                body = code[:i] + a + b + code[i + 2 : -1]
                good = body + damm_check_digit(body)
                swapped = good[:i] + b + a + good[i + 2 :]
                assert not damm_valid(swapped), (good, swapped)


# --- check_payment_code --------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty(raw: str) -> None:
    assert check_payment_code(raw, FMT12) == CodeCheck(None, CodeProblem.EMPTY)


@pytest.mark.parametrize("raw", ["abc", "6278a8622241", "كود 627898622241", "+627898622241", "१२३"])
def test_not_digits(raw: str) -> None:
    assert check_payment_code(raw, FMT12) == CodeCheck(None, CodeProblem.NOT_DIGITS)


@pytest.mark.parametrize("raw", ["62789862224", "6278986222410", "5724", "٦٢٧٨٩٨٦٢٢٢٤"])
def test_wrong_length(raw: str) -> None:
    assert check_payment_code(raw, FMT12) == CodeCheck(None, CodeProblem.WRONG_LENGTH)


@pytest.mark.parametrize("raw", ["627898622240", "627898622214", "٦٢٧٨٩٨٦٢٢٢٤٢", "267898622241"])
def test_bad_check_digit(raw: str) -> None:
    assert check_payment_code(raw, FMT12) == CodeCheck(None, CodeProblem.BAD_CHECK_DIGIT)


@pytest.mark.parametrize(
    "raw",
    [
        VALID_12,
        "٦٢٧٨ ٩٨٦٢ ٢٢٤١",
        "۶۲۷۸-۹۸۶۲-۲۲۴۱",
        " 6278 9862 2241 ",
        "\u200f٦٢٧٨٩٨٦٢٢٢٤١\u200f",
    ],
)
def test_valid_code_comes_back_ascii(raw: str) -> None:
    result = check_payment_code(raw, FMT12)
    assert result.ok
    assert result.problem is None
    assert result.code == VALID_12


def test_problems_are_not_ok() -> None:
    assert not CodeCheck(None, CodeProblem.BAD_CHECK_DIGIT).ok
    assert CodeCheck("5724", None).ok


@pytest.mark.parametrize("code", SAMPLE_CODES)
def test_sample_codes_pass_at_their_own_length_only(code: str) -> None:
    assert check_payment_code(code, PaymentCodeFormat(length=len(code))).code == code
    other = PaymentCodeFormat(length=len(code) + 1)
    assert check_payment_code(code, other).problem is CodeProblem.WRONG_LENGTH


def test_code_problem_values() -> None:
    assert {p.value for p in CodeProblem} == {
        "code_empty",
        "code_not_digits",
        "code_wrong_length",
        "code_bad_check_digit",
    }


# --- mask_code -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "visible", "masked"),
    [
        ("627898622241", 4, "********2241"),
        ("1234567890", 4, "******7890"),
        ("12345", 4, "*2345"),
        ("1234", 4, "****"),
        ("123", 4, "***"),
        ("", 4, ""),
        ("627898622241", 2, "**********41"),
    ],
)
def test_mask_code(code: str, visible: int, masked: str) -> None:
    assert mask_code(code, visible) == masked


def test_mask_code_default_shows_four() -> None:
    assert mask_code("62789862224") == "*******2224"


# --- fuzz ------------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.characters(codec="utf-8"),
            st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹ -_.\u200f\u200e\u0640"),
        ),
        max_size=40,
    ),
    st.integers(min_value=6, max_value=20),
)
def test_check_payment_code_never_raises(raw: str, length: int) -> None:
    result = check_payment_code(raw, PaymentCodeFormat(length=length))
    assert isinstance(result, CodeCheck)
    if result.ok:
        assert result.code is not None
        assert len(result.code) == length
        assert result.code.isascii() and result.code.isdigit()
        assert damm_valid(result.code)
    else:
        assert result.code is None
        assert result.problem in set(CodeProblem)


@pytest.mark.parametrize("raw", ["\u200f", " \u200e ", "\u0640"])
def test_only_invisible_marks_count_as_empty(raw: str) -> None:
    assert check_payment_code(raw, PaymentCodeFormat(length=12)).problem is CodeProblem.EMPTY
