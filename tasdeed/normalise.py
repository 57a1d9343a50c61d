"""The one Arabic input normaliser every channel uses.

Order matters: digits and number separators are mapped first, because camel-tools' `arclean`
would turn ٫ into "," and its tokeniser splits "150.75". Codes and amounts are then read from
the normalised text with ASCII-only patterns (Python's `\\d` also accepts Arabic-Indic digits,
so a code could pass one check and fail another).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from camel_tools.utils.dediac import dediac_ar
from camel_tools.utils.normalize import (
    normalize_alef_ar,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
)

MAX_INPUT_CHARS = 500

_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹",
    "01234567890123456789",
)
# Invisible marks that change nothing a person meant: bidi controls, zero-width characters,
# the Arabic letter mark, byte-order mark, and tatweel (ـ, a stretching stroke).
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u200e\u200f\u061c\ufeff\u0640"
        "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    )
)
_SPACES = re.compile(r"\s+")
# ٫ (U+066B) is the Arabic decimal separator, ٬ (U+066C) the thousands separator; only
# between digits, so a stray one in prose is left alone.
_DECIMAL_SEP = re.compile(r"(?<=[0-9])\u066b(?=[0-9])")
_THOUSANDS_SEP = re.compile(r"(?<=[0-9])\u066c(?=[0-9])")
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def normalise_digits(text: str) -> str:
    """Arabic-Indic and Persian digits to ASCII, Arabic number separators to "." and ","."""
    text = text.translate(_DIGITS)
    text = _DECIMAL_SEP.sub(".", text)
    return _THOUSANDS_SEP.sub(",", text)


def strip_invisible(text: str) -> str:
    return text.translate(_INVISIBLE)


@dataclass(frozen=True, slots=True)
class NormalisedInput:
    text: str
    truncated: bool


def normalise_input(raw: str, max_chars: int = MAX_INPUT_CHARS) -> NormalisedInput:
    """Normalise what a person typed or said, for matching and for entity extraction.

    Letters: diacritics removed; أ إ آ ٱ → ا; ى → ي; ة → ه (so "فاتوره" and "فاتورة" match).
    Overlong input is cut at `max_chars` and flagged, so a channel can say so.
    """
    # Invisible marks go first: one between a digit and ٫ would hide the separator, and one
    # between a letter and a combining hamza would stop NFKC composing them.
    text = unicodedata.normalize("NFKC", strip_invisible(raw))
    # NFKC can bring marks back: presentation forms such as U+FE77 decompose to tatweel +
    # a diacritic.
    text = normalise_digits(strip_invisible(text))
    text = dediac_ar(text)
    text = normalize_alef_ar(text)
    text = normalize_alef_maksura_ar(text)
    text = normalize_teh_marbuta_ar(text)
    text = _SPACES.sub(" ", text).strip()
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars].rstrip()
    return NormalisedInput(text=text, truncated=truncated)


def digits_only(raw: str) -> str | None:
    """The ASCII digit string in `raw`, allowing the spaces and dashes people type inside a
    number ("1234 5678-90"); None if anything else is there."""
    text = normalise_digits(unicodedata.normalize("NFKC", strip_invisible(raw)))
    compact = re.sub(r"[\s\-_.]", "", text)
    return compact if _ASCII_DIGITS.fullmatch(compact) else None


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def localise_digits(text: str, style: str) -> str:
    """Show ASCII digits in the profile's style ("arab" for ٠-٩, "latn" unchanged)."""
    return text.translate(ARABIC_INDIC) if style == "arab" else text
