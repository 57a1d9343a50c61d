"""How many SMS segments a text costs, by the rules carriers bill by (3GPP TS 23.038).

A text made only of the GSM 7-bit default alphabet travels as GSM-7: 160 characters in one
message, 153 per part once it is split (the user data header takes the rest); the extension
table's characters (`^{}\\[~]|€` and form feed) take two septets each. Anything else — one Arabic
letter, one Arabic-Indic digit, one emoji — turns the whole message into UCS-2: 70 UTF-16 code
units in one message, 67 per part.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int

    @property
    def per_segment(self) -> int:
        single, multi = _LIMITS[self.encoding]
        return single if self.segments <= 1 else multi


_LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def _gsm7_septets(text: str) -> int | None:
    septets = 0
    for char in text:
        if char in GSM7_BASIC:
            septets += 1
        elif char in GSM7_EXTENSION:
            septets += 2
        else:
            return None
    return septets


def _unit_cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _segments(text: str, units: int, encoding: Encoding) -> int:
    """Parts of a split message; a part never splits an escape sequence (GSM-7) or a
    surrogate pair (UCS-2), as handsets and Twilio's own counter do."""
    single, multi = _LIMITS[encoding]
    if units <= single:
        return 1
    if units == len(text):  # no two-unit characters: nothing to keep whole
        return -(-units // multi)
    parts, used = 1, 0
    for char in text:
        cost = _unit_cost(char, encoding)
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_segments(text: str) -> SegmentCount:
    """Encoding, length in that encoding's units, and the number of SMS parts."""
    septets = _gsm7_septets(text)
    if septets is not None:
        return SegmentCount("GSM-7", septets, _segments(text, septets, "GSM-7"))
    units = len(text.encode("utf-16-le")) // 2
    return SegmentCount("UCS-2", units, _segments(text, units, "UCS-2"))
