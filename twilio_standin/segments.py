"""How many SMS parts a body costs, counted the way Twilio bills it.

An independent implementation of the carrier rules (3GPP TS 23.038), written apart from
`tasdeed.sms` on purpose: the stand-in is the oracle Tasdeed's own counting is checked
against. A body made only of the GSM 7-bit default alphabet travels as GSM-7 (160 septets in
one message, 153 per part once split; extension-table characters take two septets). Anything
else makes the whole body UCS-2, counted in UTF-16 code units (70 in one message, 67 per
part). Like Twilio's segment calculator, a part never splits a two-septet escape sequence or
a surrogate pair, so a part can hold one unit less than its nominal size.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def _gsm7_costs(body: str) -> list[int] | None:
    """Septets per character, or None when any character is outside GSM-7."""
    costs: list[int] = []
    for char in body:
        if char in GSM7_BASIC:
            costs.append(1)
        elif char in GSM7_EXTENSION:
            costs.append(2)
        else:
            return None
    return costs


def _ucs2_costs(body: str) -> list[int]:
    # Characters outside the Basic Multilingual Plane (most emoji) are surrogate pairs.
    return [2 if ord(char) > 0xFFFF else 1 for char in body]


def _pack(costs: list[int], single: int, part: int) -> int:
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts += 1
            used = 0
        used += cost
    return parts


def is_gsm7(body: str) -> bool:
    return _gsm7_costs(body) is not None


def _ceil_div(units: int, part: int) -> int:
    return -(-units // part)


def sms_segments(body: str) -> int:
    """Parts an SMS body is split into (an empty body still costs one message)."""
    # Fast paths (every character costs one unit, so nothing can straddle a part boundary);
    # the per-character walk below is only for bodies with two-unit characters.
    if GSM7_BASIC.issuperset(body):
        return 1 if len(body) <= GSM7_SINGLE else _ceil_div(len(body), GSM7_PART)
    units = len(body.encode("utf-16-le", "surrogatepass")) // 2
    if units == len(body) and not GSM7_ALL.issuperset(body):
        return 1 if units <= UCS2_SINGLE else _ceil_div(units, UCS2_PART)
    gsm = _gsm7_costs(body)
    if gsm is not None:
        return _pack(gsm, GSM7_SINGLE, GSM7_PART)
    return _pack(_ucs2_costs(body), UCS2_SINGLE, UCS2_PART)
