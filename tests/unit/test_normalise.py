"""Tests for tasdeed.normalise: the one Arabic input normaliser every channel uses."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tasdeed.normalise import (
    MAX_INPUT_CHARS,
    NormalisedInput,
    digits_only,
    localise_digits,
    normalise_digits,
    normalise_input,
    strip_invisible,
)

ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
BIDI_MARKS = [
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u061c",
]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff"]
TATWEEL = "\u0640"
ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def text_of(raw: str, max_chars: int = MAX_INPUT_CHARS) -> str:
    return normalise_input(raw, max_chars).text


# --- digits and number separators -----------------------------------------------------------


def test_arabic_indic_and_persian_digits_become_ascii() -> None:
    assert text_of(ARABIC_INDIC) == "0123456789"
    assert text_of(PERSIAN) == "0123456789"
    assert normalise_digits("كود ٦٢٧٨ و ۱۲۳") == "كود 6278 و 123"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("١٥٠٫٧٥", "150.75"),
        ("١٬٢٣٤٫٥", "1,234.5"),
        ("۱٫۵", "1.5"),
        ("1٫5", "1.5"),
        ("1٬000", "1,000"),
    ],
)
def test_arabic_separators_between_digits(raw: str, expected: str) -> None:
    assert text_of(raw) == expected
    assert normalise_digits(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("٫٥", "٫5"),  # no digit before
        ("5٫", "5٫"),  # no digit after
        ("نعم٫ لا", "نعم٫ لا"),
        ("a٬b", "a٬b"),
        ("٬", "٬"),
    ],
)
def test_arabic_separators_in_prose_are_left_alone(raw: str, expected: str) -> None:
    assert text_of(raw) == expected


def test_separator_next_to_an_invisible_mark() -> None:
    # Invisible marks "change nothing a person meant", yet one between a digit and ٫ or ٬
    # (an RLM from a right-to-left keyboard, a tatweel, a zero-width space) keeps the Arabic
    # separator, and normalising the result a second time then changes it to "." or ",".
    assert text_of("١\u200f٫٢") == "1.2"
    assert text_of("١" + TATWEEL + "٬٢٣٤") == "1,234"
    assert text_of("١\u200b٫٥") == "1.5"


# --- letters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("فـــاتورة", "فاتوره"),  # tatweel
        ("فَاتُورَةٌ", "فاتوره"),  # diacritics
        ("شَدَّة", "شده"),  # shadda, fatha
        ("سُكُونْ", "سكون"),  # sukun
        ("أحمد", "احمد"),
        ("إبراهيم", "ابراهيم"),
        ("آمال", "امال"),
        ("ٱلكهرباء", "الكهرباء"),  # alef wasla
        ("مستشفى", "مستشفي"),  # alef maksura
        ("فاتورة", "فاتوره"),  # teh marbuta
        ("ﻻ", "لا"),  # presentation form, by NFKC
    ],
)
def test_letters(raw: str, expected: str) -> None:
    assert text_of(raw) == expected


def test_spellings_of_the_same_word_match() -> None:
    assert text_of("فاتورة") == text_of("فاتوره") == text_of("فَاتُورَة") == text_of("فاتـورة")


@pytest.mark.parametrize("mark", BIDI_MARKS + ZERO_WIDTH + [TATWEEL])
def test_invisible_marks_are_removed(mark: str) -> None:
    assert text_of(f"{mark}كود{mark}١٢{mark}٣") == "كود123"
    assert strip_invisible(f"a{mark}b") == "ab"


def test_spaces_collapse_and_trim() -> None:
    assert text_of("  ادفع \t\n  الفاتورة  ") == "ادفع الفاتوره"
    assert text_of("a\u3000b\xa0c") == "a b c"
    assert text_of("   ") == ""
    assert text_of("") == ""


def test_fullwidth_digits_become_ascii_by_nfkc() -> None:
    assert text_of("１５０") == "150"


# --- truncation --------------------------------------------------------------------------


def test_truncation_flag() -> None:
    assert normalise_input("abcdef", max_chars=3) == NormalisedInput("abc", True)
    assert normalise_input("abc", max_chars=3) == NormalisedInput("abc", False)
    assert normalise_input("ab cd", max_chars=3) == NormalisedInput("ab", True)


def test_truncation_counts_normalised_characters() -> None:
    # 9 characters typed, 6 after removing diacritics: fits in 6.
    assert normalise_input("فَاتُورَة", max_chars=6) == NormalisedInput("فاتوره", False)


def test_default_limit() -> None:
    assert MAX_INPUT_CHARS == 500
    assert normalise_input("ب" * 500) == NormalisedInput("ب" * 500, False)
    long = normalise_input("ب" * 501)
    assert long.truncated and long.text == "ب" * 500
    huge = normalise_input("ادفع " * 100_000)
    assert huge.truncated and len(huge.text) <= 500


# --- digits_only -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234567890", "1234567890"),
        ("1234 5678-90", "1234567890"),
        ("١٢٣٤ ٥٦٧٨-٩٠", "1234567890"),
        ("۱۲۳۴", "1234"),
        ("\u200f١٢\u200f٣", "123"),
        (" 0012 ", "0012"),
        ("1\t2\n3", "123"),
        ("１２３", "123"),
    ],
)
def test_digits_only_accepts(raw: str, expected: str) -> None:
    assert digits_only(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "-", "12a4", "كود 1234", "12/34", "+123", "1234#", "١٢٣x", "१२३", "߁߂߃", "12*34"],
)
def test_digits_only_rejects(raw: str) -> None:
    assert digits_only(raw) is None


def test_design_fact_isdigit_is_fooled_but_our_checks_are_not() -> None:
    # Python's own digit tests accept Arabic-Indic (and other scripts') digits ...
    assert "٦٢٧٨".isdigit()
    assert "१२३".isdigit()
    assert re.fullmatch(r"\d+", "١٢٣") is not None
    assert re.fullmatch(r"\d+", "१२३") is not None
    # ... digits_only turns the ones people type here into ASCII and refuses the rest.
    assert digits_only("٦٢٧٨") == "6278"
    assert digits_only("٦٢٧٨").isascii()  # type: ignore[union-attr]
    assert digits_only("१२३") is None
    assert digits_only("১২৩") is None  # Bengali


# --- localise_digits -------------------------------------------------------------------------


def test_localise_digits() -> None:
    assert localise_digits("0123456789", "arab") == ARABIC_INDIC
    assert localise_digits("Total 1,234.50", "arab") == "Total ١,٢٣٤.٥٠"
    assert localise_digits("1234", "latn") == "1234"
    assert localise_digits("كود 1234", "latn") == "كود 1234"


# --- properties -----------------------------------------------------------------------------

ARABIC_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.characters(min_codepoint=0x0750, max_codepoint=0x077F),
        st.characters(min_codepoint=0xFB50, max_codepoint=0xFDFF),
        st.characters(min_codepoint=0xFE70, max_codepoint=0xFEFF),
        st.sampled_from(BIDI_MARKS + ZERO_WIDTH + list("0123456789 .,-\t\n\xa0")),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ARABIC_TEXT)
@example("١\u200f٫٢")  # separator after an RLM: "1٫2", then "1.2"
@example("ا\u200d\u0654")  # hamza above after a ZWJ: "ا" + U+0654, then NFKC makes "أ" → "ا"
def test_normalise_input_is_idempotent(raw: str) -> None:
    once = normalise_input(raw).text
    assert normalise_input(once) == NormalisedInput(once, False)


@settings(max_examples=300, deadline=None)
@given(ARABIC_TEXT, st.integers(min_value=1, max_value=80))
def test_normalise_input_output_is_clean(raw: str, max_chars: int) -> None:
    result = normalise_input(raw, max_chars)
    assert len(result.text) <= max_chars
    assert result.text == result.text.strip()
    assert "  " not in result.text
    for ch in ARABIC_INDIC + PERSIAN:
        assert ch not in result.text
    for mark in BIDI_MARKS + ZERO_WIDTH + [TATWEEL]:
        assert mark not in result.text


@settings(max_examples=300, deadline=None)
@given(ARABIC_TEXT)
def test_digits_only_output_is_ascii_digits(raw: str) -> None:
    digits = digits_only(raw)
    if digits is not None:
        assert ASCII_DIGITS.fullmatch(digits)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789"), min_size=1, max_size=20))
def test_digits_only_reads_any_arabic_indic_number(ascii_digits: str) -> None:
    assert digits_only(localise_digits(ascii_digits, "arab")) == ascii_digits
    spaced = " ".join(localise_digits(ascii_digits, "arab"))
    assert digits_only(spaced) == ascii_digits
