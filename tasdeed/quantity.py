"""A quantity a person types or says: a consumption ("12000", "١٢٬٠٠٠", "12 000 كيلوواط"), a
percentage ("2.5", "٢٫٥٪"). Not money (`tasdeed.money.parse_amount`) and not an identifier
(`tasdeed.identifiers`): zero is a quantity, a fraction may be, a sign is read so that a
negative number is refused as one (never taken without its minus, as `digits_only` would).

Read from the one normaliser's text (`tasdeed.normalise`), so Arabic-Indic digits and the
Arabic separators (٫ decimal, ٬ thousands) are ASCII here. A sentence around the number is
fine in chat ("استهلاكي 12000 كيلوواط"); two numbers are not (which one was meant?).
Thousands may be grouped with commas or spaces ("12,000", "12 000", "١٢٬٠٠٠").
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum

from tasdeed.normalise import normalise_input

# A number with an optional sign right before it; commas only as thousands separators
# (checked below), a point only as the decimal separator.
_NUMBER = re.compile(
    r"(?P<sign>[-\u2212\u2013\u2012\ufe63\uff0d]\s?)?"
    r"(?P<whole>[0-9][0-9,]*)(?:\.(?P<fraction>[0-9]+))?",
    re.ASCII,
)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+", re.ASCII)
# A space people type between thousands ("12 000"), not between two numbers ("2024 12000").
_INNER_SPACE = re.compile(r"(?<=[0-9]) (?=[0-9]{3}(?![0-9]))", re.ASCII)


class QuantityProblem(StrEnum):
    NOT_A_NUMBER = "not_a_number"  # no number, two numbers, or a malformed one
    NEGATIVE = "negative"
    TOO_LONG = "too_long"  # more whole digits than allowed
    TOO_PRECISE = "too_precise"  # more digits after the point than allowed


def read_quantity(raw: str, *, max_digits: int, max_decimals: int) -> Decimal | QuantityProblem:
    """The one non-negative number in `raw`, exactly as written (leading zeros dropped),
    with at most `max_digits` whole digits and `max_decimals` digits after the point;
    otherwise why not."""
    text = _INNER_SPACE.sub("", normalise_input(raw).text)
    found = list(_NUMBER.finditer(text))
    if len(found) != 1:
        return QuantityProblem.NOT_A_NUMBER
    number = found[0]
    # A comma after the number ends a clause ("12000, تقريبا"); inside, it groups thousands.
    whole, fraction = number["whole"].rstrip(","), number["fraction"] or ""
    if not _GROUPED.fullmatch(whole):
        return QuantityProblem.NOT_A_NUMBER  # "12,5", "1,2345"
    if number["sign"]:
        return QuantityProblem.NEGATIVE
    digits = whole.replace(",", "").lstrip("0") or "0"
    if len(digits) > max_digits:
        return QuantityProblem.TOO_LONG
    if len(fraction) > max_decimals:
        return QuantityProblem.TOO_PRECISE
    return Decimal(f"{digits}.{fraction}" if fraction else digits)
