"""Tests for tasdeed.money: exact minor units, display per locale, parsing what people type.

Expected values are written by hand (KWD has 3 decimals, EGP and SAR 2; Arabic separators are
٫ for the decimal point and ٬ for thousands).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasdeed.money import Money, currency_exponent, format_money, parse_amount
from tasdeed.normalise import normalise_digits

RLM, LRM, ALM, NBSP = "\u200f", "\u200e", "\u061c", "\xa0"
INVISIBLE_IN_PLAIN = (RLM, LRM, ALM, NBSP)
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
EXPONENT = {"EGP": 2, "SAR": 2, "KWD": 3}
SYMBOL_AR = {"EGP": "ج.م.", "KWD": "د.ك.", "SAR": "ر.س."}
AR_LOCALES = ("ar_EG", "ar_KW", "ar_SA")


# --- currency_exponent and Money -------------------------------------------------------------


@pytest.mark.parametrize(("currency", "exponent"), [("EGP", 2), ("SAR", 2), ("KWD", 3)])
def test_currency_exponent(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("150", "EGP", 15000),
        ("150.75", "EGP", 15075),
        ("150.70", "EGP", 15070),
        ("0.01", "SAR", 1),
        ("1234.5", "KWD", 1234500),
        ("453294417.895", "KWD", 453294417895),
        ("0.001", "KWD", 1),
        (Decimal("12.30"), "SAR", 1230),
        (7, "KWD", 7000),
    ],
)
def test_from_decimal(value: Decimal | str | int, currency: str, minor: int) -> None:
    assert Money.from_decimal(value, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"),
    [("150.755", "EGP"), ("0.001", "SAR"), ("1.0001", "KWD"), ("0.005", "EGP")],
)
def test_from_decimal_rejects_more_decimals_than_the_currency_has(
    value: str, currency: str
) -> None:
    with pytest.raises(ValueError, match="decimals"):
        Money.from_decimal(value, currency)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(123450, "KWD"), "123.450"),
        (Money(1, "KWD"), "0.001"),
        (Money(15075, "EGP"), "150.75"),
        (Money(100, "SAR"), "1.00"),
    ],
)
def test_to_decimal_keeps_the_currency_decimals(money: Money, text: str) -> None:
    assert str(money.to_decimal()) == text


def test_add_and_subtract_same_currency() -> None:
    assert Money(1500, "EGP") + Money(25, "EGP") == Money(1525, "EGP")
    assert Money(1500, "KWD") - Money(501, "KWD") == Money(999, "KWD")


@pytest.mark.parametrize(("a", "b"), [("EGP", "KWD"), ("KWD", "SAR"), ("SAR", "EGP")])
def test_mixing_currencies_raises(a: str, b: str) -> None:
    with pytest.raises(ValueError, match="cannot mix"):
        Money(100, a) + Money(100, b)
    with pytest.raises(ValueError, match="cannot mix"):
        Money(100, a) - Money(100, b)


def test_money_is_immutable() -> None:
    money = Money(100, "EGP")
    with pytest.raises(AttributeError):
        money.minor = 5  # type: ignore[misc]


# --- format_money --------------------------------------------------------------------------


@pytest.mark.parametrize("locale", AR_LOCALES)
@pytest.mark.parametrize(
    ("money", "arab", "latn"),
    [
        (Money(123450, "EGP"), "١٬٢٣٤٫٥٠ ج.م.", "1,234.50 ج.م."),
        (Money(1234500, "KWD"), "١٬٢٣٤٫٥٠٠ د.ك.", "1,234.500 د.ك."),
        (Money(123450, "SAR"), "١٬٢٣٤٫٥٠ ر.س.", "1,234.50 ر.س."),
        (Money(1, "KWD"), "٠٫٠٠١ د.ك.", "0.001 د.ك."),
        (Money(15000, "EGP"), "١٥٠٫٠٠ ج.م.", "150.00 ج.م."),
    ],
)
def test_format_money_arabic_plain(locale: str, money: Money, arab: str, latn: str) -> None:
    assert format_money(money, locale, "arab", plain=True) == arab
    assert format_money(money, locale, "latn", plain=True) == latn


@pytest.mark.parametrize("locale", AR_LOCALES)
def test_format_money_arab_digits_are_arabic_indic_with_arabic_separators(locale: str) -> None:
    text = format_money(Money(987654321, "KWD"), locale, "arab")
    assert not any(ch in "0123456789" for ch in text)
    assert "٫" in text and "٬" in text
    assert "." not in text.replace("د.ك.", "") and "," not in text
    for ch in "٩٨٧٦٥٤٣٢١":
        assert ch in text


@pytest.mark.parametrize("locale", AR_LOCALES)
def test_format_money_latn_keeps_latin_digits(locale: str) -> None:
    text = format_money(Money(987654321, "KWD"), locale, "latn")
    assert not any(ch in ARABIC_INDIC for ch in text)
    assert "987,654.321" in text


@pytest.mark.parametrize("locale", AR_LOCALES)
@pytest.mark.parametrize("digits", ["arab", "latn"])
def test_plain_has_no_invisible_marks_or_nbsp(locale: str, digits: str) -> None:
    for money in (Money(123450, "EGP"), Money(1234500, "KWD"), Money(99, "SAR")):
        text = format_money(money, locale, digits, plain=True)
        for mark in INVISIBLE_IN_PLAIN:
            assert mark not in text
        assert text == text.strip()


def test_default_format_carries_babel_marks_that_plain_removes() -> None:
    # The DESIGN fact behind `plain`: babel wraps Arabic amounts in RLMs and uses a NBSP.
    full = format_money(Money(123450, "EGP"), "ar_EG", "arab")
    assert RLM in full and NBSP in full
    assert full.replace(RLM, "").replace(NBSP, " ") == "١٬٢٣٤٫٥٠ ج.م."


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(123450, "EGP"), "EGP1,234.50"),
        (Money(1234500, "KWD"), "KWD1,234.500"),
        (Money(5, "SAR"), "SAR0.05"),
    ],
)
@pytest.mark.parametrize("digits", ["arab", "latn"])
def test_format_money_english_keeps_latin_digits(money: Money, text: str, digits: str) -> None:
    assert format_money(money, "en", digits) == text
    assert format_money(money, "en", digits, plain=True) == text


# --- parse_amount --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [
        ("150", "EGP", 15000),
        ("150.75", "EGP", 15075),
        ("150.7", "SAR", 15070),
        ("١٥٠٫٧٥", "EGP", 15075),
        ("١٥٠", "SAR", 15000),
        ("١٬٢٣٤٫٥", "KWD", 1234500),
        ("1,234.500", "KWD", 1234500),
        ("1,234", "EGP", 123400),
        ("12,345,678.9", "EGP", 1234567890),
        ("۱۲۳", "EGP", 12300),
        ("۱۲۳٫۴", "KWD", 123400),
        ("150.755", "KWD", 150755),
        ("0.001", "KWD", 1),
        ("0.01", "EGP", 1),
        (" 150 ", "EGP", 15000),
        ("\u200f150\u200f", "EGP", 15000),
        ("150\xa0", "EGP", 15000),
        ("999999999.99", "EGP", 99999999999),
        ("999999999.999", "KWD", 999999999999),
    ],
)
def test_parse_amount_accepts(raw: str, currency: str, minor: int) -> None:
    assert parse_amount(raw, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("raw", "currency"),
    [
        ("150.755", "EGP"),  # three decimals for a two-decimal currency
        ("150.755", "SAR"),
        ("1.0001", "KWD"),
        ("1,234.500", "EGP"),
        ("0", "EGP"),
        ("0.00", "EGP"),
        ("٠٫٠٠", "KWD"),
        ("-5", "EGP"),
        ("+5", "EGP"),
        ("abc", "EGP"),
        ("", "EGP"),
        ("   ", "EGP"),
        ("1,23", "EGP"),
        ("12,34,567", "EGP"),
        ("1e3", "EGP"),
        ("1.2.3", "EGP"),
        (".5", "EGP"),
        ("5.", "EGP"),
        ("150 جنيه", "EGP"),
        ("1000000000", "EGP"),  # MAX_AMOUNT_MAJOR is exclusive
        ("1" * 40, "KWD"),
        ("१२३", "EGP"),  # Devanagari digits: str.isdigit() is True, still not an amount
        # Fullwidth digits: parse_amount does no NFKC (unlike normalise_input/digits_only),
        # so they are refused rather than read.
        ("１５０", "EGP"),
    ],
)
def test_parse_amount_rejects(raw: str, currency: str) -> None:
    assert parse_amount(raw, currency) is None


def test_parse_amount_overlong_input_is_refused() -> None:
    assert parse_amount("9" * 100_000, "EGP") is None
    assert parse_amount("١" * 100_000, "KWD") is None
    assert parse_amount("1," * 50_000 + "000", "SAR") is None


def test_parse_amount_separator_next_to_an_invisible_mark() -> None:
    # An RLM (invisible, "changes nothing a person meant") between a digit and ٫ makes the
    # amount unreadable, because digits and separators are mapped before marks are stripped.
    # normalise_input() followed by parse_amount() reads the same text as 1.50.
    assert parse_amount("١\u200f٫٥٠", "EGP") == Money(150, "EGP")


@pytest.mark.parametrize("raw", ["150 75", "1 23", "٥٠ ٢٥"])
def test_parse_amount_refuses_spaces_that_are_not_thousands_grouping(raw: str) -> None:
    # "1,23" is refused because a comma must group three digits, but spaces are deleted before
    # the check, so "150 75" (a person meaning 150.75?) reads as 15,075.00: a hundred times more.
    assert parse_amount(raw, "EGP") is None


# --- properties ----------------------------------------------------------------------------


@st.composite
def monies(draw: st.DrawFn) -> Money:
    currency = draw(st.sampled_from(sorted(EXPONENT)))
    minor = draw(st.integers(min_value=1, max_value=10**9 * 10 ** EXPONENT[currency] - 1))
    return Money(minor, currency)


def _plain_decimal(money: Money) -> str:
    exp = EXPONENT[money.currency]
    major, fraction = divmod(money.minor, 10**exp)
    return f"{major}.{fraction:0{exp}d}"


@settings(max_examples=200, deadline=None)
@given(monies())
def test_plain_decimal_text_round_trips(money: Money) -> None:
    assert parse_amount(_plain_decimal(money), money.currency) == money
    major = money.minor // 10 ** EXPONENT[money.currency]
    if major:
        assert parse_amount(f"{major:,}", money.currency) == Money(
            major * 10 ** EXPONENT[money.currency], money.currency
        )


@settings(max_examples=150, deadline=None)
@given(monies(), st.sampled_from(AR_LOCALES))
def test_arabic_display_reads_back(money: Money, locale: str) -> None:
    shown = format_money(money, locale, "arab", plain=True)
    assert not any(ch in "0123456789" for ch in shown)
    latin = normalise_digits(shown).replace(SYMBOL_AR[money.currency], "").replace(" ", "")
    assert parse_amount(latin, money.currency) == money


@settings(max_examples=100, deadline=None)
@given(monies())
def test_english_display_reads_back(money: Money) -> None:
    shown = format_money(money, "en", plain=True)
    assert shown.startswith(money.currency)
    assert parse_amount(shown.removeprefix(money.currency), money.currency) == money


def test_amounts_in_different_currencies_do_not_compare() -> None:
    with pytest.raises(TypeError):
        _ = Money(5, "KWD") < Money(100, "EGP")  # type: ignore[operator]


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN"])
def test_non_finite_values_are_not_amounts(value: str) -> None:
    with pytest.raises(ValueError):
        Money.from_decimal(value, "EGP")
