"""Money amounts spelled out in words, for text-to-speech on a phone line.

Why this module exists
======================
The phone line reads bill amounts aloud with Twilio ``<Say>`` and an Arabic
voice, so an amount such as ``1,234.500 KD`` has to be written out the way a
news reader would say it.  ``num2words`` was the obvious candidate and was
rejected: its Arabic converter assumes every currency has two decimals (it
reads 1,234.500 KD as 1,234 dinars and 50 fils, although 1 KD = 1000 fils) and
it makes agreement errors (gender of 3-10 with a feminine noun, dual and
construct forms, case of the counted noun).  The English side is small enough
to write by hand, so this module has no dependencies.

Amounts come in as integers of the currency's smallest unit (see
``CURRENCY_EXPONENTS``); there is no floating point anywhere.

Arabic rules implemented (Modern Standard Arabic)
=================================================
Spelling: no diacritics, except the tanween fath written before a final alif
(``دينارًا``, ``ألفًا``, ``مليونًا``: fathatan U+064B then alif), as in ordinary
modern writing.  Nouns in teh marbuta (``هللة``) take no written tanween.
Hundreds are spelled ``مائة`` / ``مائتان`` / ``ثلاثمائة`` ... ``تسعمائة``.
Parts are joined with ``" و"`` (no space after the waw).

Case: the amount is said standing alone, so numbers are in the nominative
(``اثنان``, ``مائتان``, ``ألفان``, ``ثلاثة وعشرون``, never ``ثلاثة وعشرين``).

Counting a noun (the currency nouns, and the scale words ألف / مليون / مليار,
which are masculine nouns counted by the same rules):

* 1: the noun, then ``واحد`` / ``واحدة`` as an adjective (``دينار واحد``,
  ``هللة واحدة``).  A scale word counted once is just the word (``ألف``).
* 2: the dual noun alone (``ديناران``, ``هللتان``, ``ألفان``).
* 3-10: the number with reverse gender agreement, then the plural noun
  (``ثلاثة دنانير``, ``ثلاث هللات``, ``ثلاثة آلاف``).  Feminine 8 before its
  noun is ``ثماني`` (``ثماني هللات``).
* 11-99: the number, then the singular noun in the accusative with tanween
  (``أحد عشر دينارًا``, ``خمسة وعشرون دينارًا``; ``خمس عشرة هللة``).  Teens
  agree in gender in both halves as usual (``اثنتا عشرة``, ``إحدى عشرة``,
  ``ثماني عشرة`` for a feminine noun); in 21-99 the feminine unit of one is
  ``إحدى`` and of eight ``ثمان`` (``إحدى وعشرون هللة``, ``ثمان وعشرون هللة``).
* 100 and above: the last two digits of the count govern the noun as above
  (``مائة وخمسة دنانير``, ``مائة وخمسة عشر دينارًا``), and:

  - last two digits 00: the number is the first term of an idafa and the noun
    is a genitive singular: ``مائة دينار``, ``ألف دينار``, ``ثلاثة آلاف
    دينار``.  A dual number word loses its nun there: ``مائتا دينار``, ``ألفا
    دينار``, ``مليونا دينار``, and a counted scale word in 11-99 loses its
    tanween: ``أحد عشر ألف دينار`` (but ``أحد عشر ألفًا`` when nothing
    follows, and ``أحد عشر ألفًا وخمسمائة دينار``).  The same happens inside a
    number: ``مائتا ألف`` (200,000).
  - last two digits 01 or 02 (101, 1001, 1,000,001, ...): see
    ``_count_noun_ar`` -- we say ``مائة وواحد دينار`` / ``مائة واثنان دينار``,
    the form used on Gulf and Egyptian cheques, bills and news bulletins,
    rather than the classical ``مائة دينار ودينار``.

Amount: the major part, ``" و"``, the minor part (``خمسة عشر جنيهًا وخمسون
قرشًا``).  A zero part is left out; a zero amount is ``صفر`` and the singular
major noun (``صفر دينار``).

English
=======
Cardinals without "and", hyphenated tens (``one thousand two hundred
thirty-four``), the major noun with its country adjective (``Kuwaiti dinars``,
``Egyptian pounds``, ``Saudi riyals``) and the minor noun alone (``fils``,
``piastres``, ``halalas``), joined with ``" and "``; singular only for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "CURRENCY_EXPONENTS",
    "amount_in_words_ar",
    "amount_in_words_en",
    "number_in_words_ar",
]

Gender = Literal["m", "f"]

#: Exclusive upper bound for numbers and for the major part of an amount.
_LIMIT: Final = 10**12

_TANWEEN_FATH: Final = "\u064b"
_ALIF: Final = "\u0627"
_AND_AR: Final = " و"
_ZERO_AR: Final = "صفر"


@dataclass(frozen=True, slots=True)
class _ArNoun:
    """An Arabic countable noun (a currency unit or a scale word)."""

    singular: str
    dual: str
    plural: str
    gender: Gender

    @property
    def accusative(self) -> str:
        """Singular accusative with tanween, the tamyiz after 11-99."""
        if self.singular.endswith("ة"):
            # The tanween sits on the teh marbuta itself; not written.
            return self.singular
        return self.singular + _TANWEEN_FATH + _ALIF

    @property
    def dual_construct(self) -> str:
        """The dual as first term of an idafa drops its nun: ألفان -> ألفا."""
        return self.dual.removesuffix("ن")


@dataclass(frozen=True, slots=True)
class _EnNoun:
    singular: str
    plural: str


@dataclass(frozen=True, slots=True)
class _Currency:
    exponent: int
    ar_major: _ArNoun
    ar_minor: _ArNoun
    en_major: _EnNoun
    en_minor: _EnNoun


# The one table of currency data.
_CURRENCIES: Final[dict[str, _Currency]] = {
    "EGP": _Currency(
        exponent=2,
        ar_major=_ArNoun("جنيه", "جنيهان", "جنيهات", "m"),
        ar_minor=_ArNoun("قرش", "قرشان", "قروش", "m"),
        en_major=_EnNoun("Egyptian pound", "Egyptian pounds"),
        en_minor=_EnNoun("piastre", "piastres"),
    ),
    "SAR": _Currency(
        exponent=2,
        ar_major=_ArNoun("ريال", "ريالان", "ريالات", "m"),
        ar_minor=_ArNoun("هللة", "هللتان", "هللات", "f"),
        en_major=_EnNoun("Saudi riyal", "Saudi riyals"),
        en_minor=_EnNoun("halala", "halalas"),
    ),
    "KWD": _Currency(
        exponent=3,
        ar_major=_ArNoun("دينار", "ديناران", "دنانير", "m"),
        ar_minor=_ArNoun("فلس", "فلسان", "فلوس", "m"),
        en_major=_EnNoun("Kuwaiti dinar", "Kuwaiti dinars"),
        en_minor=_EnNoun("fils", "fils"),
    ),
}

#: Number of decimals of each supported currency (minor units per major = 10**exp).
CURRENCY_EXPONENTS: dict[str, int] = {code: c.exponent for code, c in _CURRENCIES.items()}


def _split_amount(minor_units: int, currency: str) -> tuple[_Currency, int, int]:
    """Validate an amount and return (currency data, major part, minor part)."""
    if isinstance(minor_units, bool) or not isinstance(minor_units, int):
        raise TypeError(f"minor_units must be an int, got {type(minor_units).__name__}")
    if minor_units < 0:
        raise ValueError(f"amount must not be negative: {minor_units}")
    cur = _CURRENCIES.get(currency)
    if cur is None:
        known = ", ".join(sorted(_CURRENCIES))
        raise ValueError(f"unknown currency {currency!r}; supported: {known}")
    major, minor = divmod(minor_units, 10**cur.exponent)
    if major >= _LIMIT:
        raise ValueError(f"amount too large: {major} {currency} (limit is 10**12)")
    return cur, major, minor


# --------------------------------------------------------------------------
# Arabic
# --------------------------------------------------------------------------

# Index n gives the number n (1-10) as used with a noun of the given gender
# (reverse agreement from 3 on: masculine noun -> ثلاثة, feminine -> ثلاث).
_UNITS_AR: Final[dict[Gender, tuple[str, ...]]] = {
    "m": ("", "واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة", "عشرة"),
    "f": ("", "واحدة", "اثنتان", "ثلاث", "أربع", "خمس", "ست", "سبع", "ثمان", "تسع", "عشر"),
}
# Index n - 11 gives 11-19.
_TEENS_AR: Final[dict[Gender, tuple[str, ...]]] = {
    "m": (
        "أحد عشر",
        "اثنا عشر",
        "ثلاثة عشر",
        "أربعة عشر",
        "خمسة عشر",
        "ستة عشر",
        "سبعة عشر",
        "ثمانية عشر",
        "تسعة عشر",
    ),
    "f": (
        "إحدى عشرة",
        "اثنتا عشرة",
        "ثلاث عشرة",
        "أربع عشرة",
        "خمس عشرة",
        "ست عشرة",
        "سبع عشرة",
        "ثماني عشرة",
        "تسع عشرة",
    ),
}
# Unit digit of 21-99 (index = digit); differs from _UNITS_AR only for feminine 1.
_COMPOUND_UNITS_AR: Final[dict[Gender, tuple[str, ...]]] = {
    "m": _UNITS_AR["m"][:10],
    "f": ("", "إحدى", *_UNITS_AR["f"][2:10]),
}
# Index = tens digit (2-9).
_TENS_AR: Final = (
    "",
    "",
    "عشرون",
    "ثلاثون",
    "أربعون",
    "خمسون",
    "ستون",
    "سبعون",
    "ثمانون",
    "تسعون",
)
# Index = hundreds digit (1-9).
_HUNDREDS_AR: Final = (
    "",
    "مائة",
    "مائتان",
    "ثلاثمائة",
    "أربعمائة",
    "خمسمائة",
    "ستمائة",
    "سبعمائة",
    "ثمانمائة",
    "تسعمائة",
)
_HUNDREDS_DUAL_CONSTRUCT_AR: Final = "مائتا"
_EIGHT_F_CONSTRUCT_AR: Final = "ثماني"

_THOUSAND_AR: Final = _ArNoun("ألف", "ألفان", "آلاف", "m")
_MILLION_AR: Final = _ArNoun("مليون", "مليونان", "ملايين", "m")
_BILLION_AR: Final = _ArNoun("مليار", "ملياران", "مليارات", "m")
_SCALES_AR: Final = ((10**9, _BILLION_AR), (10**6, _MILLION_AR), (10**3, _THOUSAND_AR))


def _below_hundred_ar(n: int, gender: Gender, *, construct: bool) -> str:
    """Say 1 <= n <= 99.

    ``gender`` is the counted noun's; ``construct`` means a noun follows in
    the genitive (it only changes feminine 8 to ثماني).
    """
    if n <= 10:
        if n == 8 and gender == "f" and construct:
            return _EIGHT_F_CONSTRUCT_AR
        return _UNITS_AR[gender][n]
    if n < 20:
        return _TEENS_AR[gender][n - 11]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return _TENS_AR[tens]
    return _COMPOUND_UNITS_AR[gender][unit] + _AND_AR + _TENS_AR[tens]


def _below_thousand_ar(n: int, gender: Gender, *, construct: bool) -> str:
    """Say 1 <= n <= 999."""
    hundreds, rest = divmod(n, 100)
    parts: list[str] = []
    if hundreds:
        if hundreds == 2 and rest == 0 and construct:
            parts.append(_HUNDREDS_DUAL_CONSTRUCT_AR)
        else:
            parts.append(_HUNDREDS_AR[hundreds])
    if rest:
        parts.append(_below_hundred_ar(rest, gender, construct=construct))
    return _AND_AR.join(parts)


def _cardinal_ar(n: int, gender: Gender, *, construct: bool) -> str:
    """Say the number 1 <= n < 10**12 in words, nominative.

    ``gender`` is that of the counted noun (it only affects the last group
    below a thousand; scale words are masculine).  ``construct`` is true when
    a genitive noun follows directly, which puts the last word in the
    construct state (مائتا, ألفا, أحد عشر ألف, ثماني).
    """
    groups: list[tuple[int, _ArNoun | None]] = []
    rest = n
    for size, scale_word in _SCALES_AR:
        count, rest = divmod(rest, size)
        if count:
            groups.append((count, scale_word))
    if rest:
        groups.append((rest, None))

    parts: list[str] = []
    for index, (count, scale) in enumerate(groups):
        is_last = index == len(groups) - 1
        if scale is None:
            parts.append(_below_thousand_ar(count, gender, construct=construct))
        else:
            parts.append(
                _count_noun_ar(count, scale, followed=is_last and construct, say_one=False)
            )
    return _AND_AR.join(parts)


def _count_noun_ar(n: int, noun: _ArNoun, *, followed: bool, say_one: bool) -> str:
    """Say ``n`` (>= 1) of ``noun``, e.g. "ثلاثة دنانير".

    ``followed``: another noun follows in the genitive (the noun is then in the
    construct state: ألفا / ألف instead of ألفان / ألفًا).  ``say_one``: say
    "دينار واحد" for one (currency nouns) rather than just "ألف" (scales).
    """
    if n == 1:
        if say_one:
            return f"{noun.singular} {_UNITS_AR[noun.gender][1]}"
        return noun.singular
    if n == 2:
        return noun.dual_construct if followed else noun.dual

    last_two = n % 100
    if last_two in (1, 2):
        # n >= 101 ending in 01 or 02.  Classical grammar says
        # "مائة دينار ودينار" / "مائة دينار وديناران", which nobody reads out
        # on a bill today.  Gulf and Egyptian cheques, bills and newsreaders
        # say the number in full and then the noun in the singular, the same
        # as after 00: "مائة وواحد دينار", "ألف واثنان جنيه",
        # "مليون وواحد دينار" (and "مائة وواحد ألف" for 101,000).  We use
        # that form: it reads naturally and is unambiguous for a listener.
        return f"{_cardinal_ar(n, noun.gender, construct=False)} {noun.singular}"
    if last_two == 0:
        # مائة دينار، ألفا دينار، ثلاثة آلاف دينار، أحد عشر ألف دينار
        return f"{_cardinal_ar(n, noun.gender, construct=True)} {noun.singular}"
    if last_two <= 10:
        # ثلاثة دنانير، ثماني هللات، مائة وخمسة دنانير
        return f"{_cardinal_ar(n, noun.gender, construct=True)} {noun.plural}"
    # 11-99: accusative singular tamyiz (أحد عشر دينارًا); in construct when a
    # noun follows (أحد عشر ألف دينار).
    tamyiz = noun.singular if followed else noun.accusative
    return f"{_cardinal_ar(n, noun.gender, construct=False)} {tamyiz}"


def number_in_words_ar(n: int, gender: Literal["m", "f"] = "m") -> str:
    """Return the cardinal ``n`` (0 <= n < 10**12) in Modern Standard Arabic words.

    Nominative, standing alone: 2000 -> "ألفان", 11000 -> "أحد عشر ألفًا".
    ``gender`` is the grammatical gender of the (implied) counted noun, so it
    follows the reverse agreement of 3-10: 3 -> "ثلاثة" for "m" and "ثلاث"
    for "f"; 1 -> "واحد" / "واحدة", 12 -> "اثنا عشر" / "اثنتا عشرة".
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 0 <= n < _LIMIT:
        raise ValueError(f"n must be in [0, 10**12), got {n}")
    if gender not in ("m", "f"):
        raise ValueError(f"gender must be 'm' or 'f', got {gender!r}")
    if n == 0:
        return _ZERO_AR
    return _cardinal_ar(n, gender, construct=False)


def amount_in_words_ar(minor_units: int, currency: str) -> str:
    """Return a money amount in Arabic words.

    E.g. (1234500, "KWD") -> "ألف ومائتان وأربعة وثلاثون دينارًا وخمسمائة فلس".

    ``minor_units`` is the amount in the currency's smallest unit.  Raises
    ValueError for a negative amount, an unknown currency code, or a major
    part of 10**12 or more.
    """
    cur, major, minor = _split_amount(minor_units, currency)
    if major == 0 and minor == 0:
        return f"{_ZERO_AR} {cur.ar_major.singular}"
    parts: list[str] = []
    if major:
        parts.append(_count_noun_ar(major, cur.ar_major, followed=False, say_one=True))
    if minor:
        parts.append(_count_noun_ar(minor, cur.ar_minor, followed=False, say_one=True))
    return _AND_AR.join(parts)


# --------------------------------------------------------------------------
# English
# --------------------------------------------------------------------------

_ONES_EN: Final = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS_EN: Final = (
    "",
    "",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
)
_SCALES_EN: Final = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def _below_thousand_en(n: int) -> str:
    """Say 1 <= n <= 999, e.g. "two hundred thirty-four"."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds:
        words += [_ONES_EN[hundreds], "hundred"]
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        words.append(_TENS_EN[tens] + (f"-{_ONES_EN[unit]}" if unit else ""))
    elif rest:
        words.append(_ONES_EN[rest])
    return " ".join(words)


def _cardinal_en(n: int) -> str:
    """Say 0 <= n < 10**12 in English words."""
    if n == 0:
        return _ONES_EN[0]
    words: list[str] = []
    rest = n
    for size, name in _SCALES_EN:
        count, rest = divmod(rest, size)
        if count:
            words += [_below_thousand_en(count), name]
    if rest:
        words.append(_below_thousand_en(rest))
    return " ".join(words)


def number_in_words_en(n: int) -> str:
    """An English cardinal, 0 <= n < 10**12 ("one thousand two hundred thirty-four")."""
    if not 0 <= n < 10**12:
        raise ValueError(f"{n} is out of range")
    return _cardinal_en(n)


def _count_noun_en(n: int, noun: _EnNoun) -> str:
    return f"{_cardinal_en(n)} {noun.singular if n == 1 else noun.plural}"


def amount_in_words_en(minor_units: int, currency: str) -> str:
    """Return a money amount in English words.

    E.g. (1234500, "KWD") ->
    "one thousand two hundred thirty-four Kuwaiti dinars and five hundred fils".

    Same arguments and errors as ``amount_in_words_ar``.
    """
    cur, major, minor = _split_amount(minor_units, currency)
    if major == 0 and minor == 0:
        return _count_noun_en(0, cur.en_major)
    parts: list[str] = []
    if major:
        parts.append(_count_noun_en(major, cur.en_major))
    if minor:
        parts.append(_count_noun_en(minor, cur.en_minor))
    return " and ".join(parts)
