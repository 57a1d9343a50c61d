"""Fitting a screen into USSD pages.

One USSD string is at most 160 octets: 182 characters in the GSM 7-bit alphabet, but only
80 once any character outside it (Arabic) is on the page, because the page is then sent as
UCS-2. Lines are packed greedily; a page that is not the last ends with "99 more"; the
navigation footer goes on the last page; a single over-long line is cut at word boundaries.

What belongs together stays together: a text's own line breaks are where pages may break
first, and an over-long line is never cut right after a number, so an amount keeps its
currency ("200.00 ر.س.") and a number its unit ("٧ ساعات", "١٢ رقما"). No-break spaces are
never break points. Only a line with no other space left is cut there.
"""

from __future__ import annotations

import arabic_reshaper
from bidi.algorithm import get_display

UCS2_LIMIT = 80
GSM7_LIMIT = 182
MORE = "99"
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


def page_limit(text: str) -> int:
    return GSM7_LIMIT if all(ch in _GSM7_BASIC for ch in text) else UCS2_LIMIT


def fits(text: str) -> bool:
    return len(text) <= page_limit(text)


def _join(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line)


def _after_number(line: str, space: int) -> bool:
    """Whether the space at `space` follows a number: what comes next is its unit or
    currency (or the rest of a date and time), which must not go to another line."""
    before = line[:space].rstrip()
    return bool(before) and before[-1].isdecimal()


def _split_line(line: str, room: int) -> tuple[str, str]:
    """The longest head of `line` of at most `room` characters, cut at a space that does
    not follow a number if there is one, else at any space, else at `room`."""
    if room < 1:
        raise ValueError("no room on the page for any text")
    spaces = [i for i in range(min(room, len(line) - 1), 0, -1) if line[i] == " "]
    cut = next((i for i in spaces if not _after_number(line, i)), spaces[0] if spaces else room)
    return line[:cut].rstrip(), line[cut:].lstrip()


def paginate(lines: list[str], footer: str, more_label: str) -> list[str]:
    """Pages of at most one USSD string each; every page but the last ends with the
    "99 more" line, the last with `footer` (which may be empty)."""
    more = f"{MORE} {more_label}"
    pending = [part for line in lines for part in line.split("\n") if part]
    pages: list[str] = []
    current: list[str] = []
    while pending:
        if fits(_join(current + pending + [footer])):
            pages.append(_join(current + pending + [footer]))
            return pages
        if fits(_join(current + pending)):
            # Rather than a page holding only the footer, leave the hint out: the keys
            # (0, 00) work whether or not they are shown.
            pages.append(_join(current + pending))
            return pages
        line = pending[0]
        if fits(_join([*current, line, more])):
            # Everything left did not fit with the footer, so this page ends with "more".
            current.append(line)
            pending.pop(0)
            continue
        if current:
            pages.append(_join([*current, more]))
            current = []
            continue
        room = page_limit(line + more) - len(more) - 1
        head, tail = _split_line(line, room)
        pending[0:1] = [head, tail] if tail else [head]
        current.append(pending.pop(0))
    # The last lines fitted only with "more": the footer gets a page of its own.
    if current:
        pages.append(_join([*current, more]))
    pages.append(footer)
    return [page for page in pages if page] or [""]


def for_unshaped_handset(page: str) -> str:
    """For handsets that cannot join Arabic letters: pre-shaped glyphs in visual order.
    Only where a profile or network asks for it: it breaks text on handsets that shape."""
    return "\n".join(get_display(arabic_reshaper.reshape(line)) for line in page.split("\n"))
