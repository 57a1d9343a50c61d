"""Numbers said aloud, as a speech recogniser writes them: "ستة اتنين سبعة", "6 2 7",
"٦٢٧", "six two seven". Used when a caller speaks a code or a menu choice instead of
pressing keys. Anything that is not digits (or digit words) gives None, never a guess."""

from __future__ import annotations

import re

from tasdeed.normalise import normalise_input

# Normalised forms (ة→ه, أ/إ→ا, ى→ي), Modern Standard and dialect spellings.
_DIGIT_WORDS = {
    "0": ("صفر", "zero", "oh"),
    "1": ("واحد", "واحده", "وحده", "one"),
    "2": ("اثنين", "اتنين", "اثنان", "ثنين", "two"),
    "3": ("ثلاثه", "تلاته", "ثلاث", "تلات", "three"),
    "4": ("اربعه", "اربع", "four"),
    "5": ("خمسه", "خمس", "five"),
    "6": ("سته", "ست", "six"),
    "7": ("سبعه", "سبع", "seven"),
    "8": ("ثمانيه", "تمانيه", "ثمان", "تمن", "ثماني", "eight"),
    "9": ("تسعه", "تسع", "nine"),
}
WORD_TO_DIGIT = {word: digit for digit, words in _DIGIT_WORDS.items() for word in words}
_SEPARATORS = re.compile(r"[\s,،\-.]+")
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def spoken_digits(text: str) -> str | None:
    """The digit string in a speech result, or None if any word is not a digit."""
    normalised = normalise_input(text).text.lower()
    if not normalised:
        return None
    digits = []
    for token in _SEPARATORS.split(normalised):
        if not token:
            continue
        if _ASCII_DIGITS.fullmatch(token):
            digits.append(token)
        elif token.startswith("و") and token[1:] in WORD_TO_DIGIT:  # "وستة"
            digits.append(WORD_TO_DIGIT[token[1:]])
        elif token in WORD_TO_DIGIT:
            digits.append(WORD_TO_DIGIT[token])
        else:
            return None
    return "".join(digits) or None
