"""Which language to answer a chat message in: Arabic first.

Arabic script → Arabic. Latin letters → English, unless the text is Arabizi (Arabic written
in Latin letters with digits for sounds: "3ayez adfa3 el fatora"), which gets Arabic. Text
with no letters at all (a code, "1") says nothing: None, keep the conversation's language.
"""

from __future__ import annotations

import re

_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LATIN = re.compile(r"[A-Za-z]")
# A digit used as a letter inside a word (3 = ع, 7 = ح, 2 = ء, 5 = خ), or words that are
# plainly Arabic in Latin letters.
_ARABIZI_DIGIT = re.compile(r"[a-z][2357]|[2357][a-z]", re.IGNORECASE)
_ARABIZI_WORDS = frozenset(
    [
        "ana",
        "enta",
        "inta",
        "el",
        "al",
        "fatora",
        "fatoura",
        "fatura",
        "kahraba",
        "3ayez",
        "3awez",
        "abi",
        "abgha",
        "ab3a",
        "mayya",
        "moya",
        "shukran",
        "shokran",
        "ahlan",
        "marhaba",
        "salam",
        "la2",
        "aywa",
        "ey",
        "wallah",
        "ya",
        "keda",
        "kda",
        "ezay",
        "izay",
        "kam",
        "kaam",
        "alf",
    ]
)


def guess_language(text: str) -> str | None:
    if _ARABIC.search(text):
        return "ar"
    if not _LATIN.search(text):
        return None
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}
    if _ARABIZI_DIGIT.search(text) or words & _ARABIZI_WORDS:
        return "ar"
    return "en"
