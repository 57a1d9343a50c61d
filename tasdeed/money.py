"""Money as an exact integer of minor units, and its display per locale.

babel formats EGP/SAR with 2 decimals and KWD with 3 but always with Latin digits, and it
inserts right-to-left marks and no-break spaces. Digits are translated here, and `plain=True`
strips the marks for USSD and SMS, where each costs a character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision

from tasdeed.normalise import localise_digits, normalise_digits, strip_invisible

_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?", re.ASCII)
MAX_AMOUNT_MAJOR = 10**9


def currency_exponent(currency: str) -> int:
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str) -> Money:
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"{value} is not an amount")
        scaled = amount.scaleb(currency_exponent(currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more decimals than {currency} allows")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-currency_exponent(self.currency))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")


@cache
def babel_locale(name: str) -> Locale:
    """Parsed once: babel re-parses a locale string on every call (bill day renders millions)."""
    return Locale.parse(name)


def format_money(money: Money, locale: str, digits: str = "latn", *, plain: bool = False) -> str:
    """`1234.5 KWD` in ar_KW with arab digits → "١٬٢٣٤٫٥٠٠ د.ك."; English keeps Latin digits."""
    arabic = locale.startswith("ar")
    numbering = "arab" if arabic and digits == "arab" else "latn"
    text = format_currency(
        money.to_decimal(), money.currency, locale=babel_locale(locale), numbering_system=numbering
    )
    if numbering == "arab":
        text = localise_digits(text, "arab")
    if plain:
        text = strip_invisible(text).replace("\xa0", " ").strip()
    return text


def parse_amount(raw: str, currency: str) -> Money | None:
    """An amount a person typed ("150", "150.75", "١٬٢٣٤٫٥", "1,234.500"); None if it is not
    a positive amount with at most the currency's decimals."""
    # Spaces inside are refused, not dropped: "150 75" is not 15075.
    text = normalise_digits(strip_invisible(raw)).strip()
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    fraction = match.group(1) or ""
    if len(fraction) > currency_exponent(currency):
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if value <= 0 or value >= MAX_AMOUNT_MAJOR:
        return None
    return Money.from_decimal(value, currency)
