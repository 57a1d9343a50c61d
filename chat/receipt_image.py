"""A payment receipt drawn as a PNG, Arabic shaped and right to left.

`receipt_lines` says what the receipt shows, as every other screen does (catalogue texts in the
person's language, the profile's digits for Arabic): the utility, the amount and receipt
number, the payee, the months paid, and when it was paid in the utility's own time zone (the
ledger keeps UTC). `render_receipt` draws the lines.

Pillow built with libraqm shapes Arabic itself; without it, text is pre-shaped with
arabic-reshaper and put in visual order with python-bidi. Doing both would reverse the text,
so which one runs is decided by what this Pillow has.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import arabic_reshaper
from bidi.algorithm import get_display
from PIL import Image, ImageDraw, ImageFont, features

from tasdeed.flows.text_render import TextRenderer
from tasdeed.money import Money
from tasdeed.profile import Profile
from tasdeed.text import DigitString, Months, Text

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf"),
)
WIDTH, LINE, MARGIN = 720, 56, 40
HAS_RAQM = bool(features.check("raqm"))


def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_CANDIDATES:
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    raise FileNotFoundError("no font with Arabic glyphs (install fonts-dejavu-core)")


def local_time(paid_at: str, timezone: str) -> datetime:
    """The backend's timestamp ("2026-11-24T08:23:00", naive UTC, or with an offset or "Z")
    in the utility's time zone."""
    moment = datetime.fromisoformat(paid_at.removesuffix("Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone))


def receipt_lines(receipt: Mapping[str, Any], profile: Profile, language: str) -> list[str]:
    """The receipt's lines, top to bottom. `receipt` is what the action server sends after a
    payment (tasdeed.flows.calls: number, amount_minor, payee, months, paid_at; currency)."""
    renderer = TextRenderer(profile, language)
    amount = Money(int(receipt["amount_minor"]), str(receipt.get("currency", profile.currency)))
    summary = Text("receipt.summary", {"amount": amount, "receipt": DigitString(receipt["number"])})
    lines = [
        profile.utility_name_ar if language == "ar" else profile.utility_name_en,
        renderer.text(Text("chat.receipt_title")),
        *renderer.text(summary).split("\n"),
        str(receipt["payee"]),
    ]
    months = tuple(str(month) for month in receipt.get("months") or ())
    if months:
        lines.append(renderer.text(Text("chat.receipt_months", {"months": Months(months)})))
    if receipt.get("paid_at"):
        paid = local_time(str(receipt["paid_at"]), profile.timezone)
        when = {"date": paid.date().isoformat(), "time": paid.strftime("%H:%M")}
        lines.append(renderer.text(Text("chat.receipt_paid_at", when)))
    return lines


def shape_for_drawing(line: str) -> str:
    return line if HAS_RAQM else get_display(arabic_reshaper.reshape(line))


def render_receipt(lines: list[str], rtl: bool) -> bytes:
    font = _font(30)
    image = Image.new("RGB", (WIDTH, MARGIN * 2 + LINE * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        y = MARGIN + index * LINE
        text = shape_for_drawing(line)
        direction = "rtl" if HAS_RAQM and rtl else None
        width = draw.textlength(text, font=font, direction=direction)
        x = WIDTH - MARGIN - width if rtl else MARGIN
        draw.text((x, y), text, fill="black", font=font, direction=direction)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
