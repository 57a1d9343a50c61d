"""A payment receipt drawn as a PNG, Arabic shaped and right to left.

Pillow built with libraqm shapes Arabic itself; without it, text is pre-shaped with
arabic-reshaper and put in visual order with python-bidi. Doing both would reverse the text,
so which one runs is decided by what this Pillow has.
"""

from __future__ import annotations

import io
from pathlib import Path

import arabic_reshaper
from bidi.algorithm import get_display
from PIL import Image, ImageDraw, ImageFont, features

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
