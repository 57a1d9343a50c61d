"""The receipt image a chat payment ends with (issue 16, item 3): the time in the utility's own
time zone (the ledger keeps UTC), the date in the profile's digits for Arabic, and the months
paid. The real renderer draws the PNG; the lines it is given are checked here."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import chat.receipt_image
import chat.service
from chat.receipt_image import LINE, MARGIN, WIDTH, local_time, receipt_lines
from chat.service import ChatService
from tasdeed.profile import load_profile
from tasdeed.state_store import MemoryStore

# What the action server sends after a payment (actions/walk.py::_finished): the walk's
# receipt (tasdeed/flows/calls.py) and the profile's currency. 08:23 UTC is 10:23 in Cairo.
RECEIPT: dict[str, Any] = {
    "number": "EG261124ABCDEF12",
    "amount_minor": 112850,
    "payee": "نورة ي. س.",
    "months": ["2026-10"],
    "paid_at": "2026-11-24T08:23:00",
    "currency": "EGP",
}
PNG = b"\x89PNG\r\n\x1a\n"


def test_arabic_receipt_in_cairo_time_arabic_indic_digits_and_the_month_paid() -> None:
    lines = receipt_lines(RECEIPT, load_profile("eg"), "ar")
    assert lines == [
        "شركة توزيع الكهرباء",
        "إيصال دفع",
        "تم الدفع: ١٬١٢٨٫٥٠ ج.م.",
        "رقم الإيصال EG261124ABCDEF12",
        "نورة ي. س.",
        "الأشهر المدفوعة: أكتوبر ٢٠٢٦",
        "تاريخ الدفع ٢٤/١١/٢٠٢٦ الساعة ١٠:٢٣",
    ]
    assert not any("08:23" in line or "2026" in line for line in lines)


def test_english_receipt_keeps_latin_digits_in_local_time() -> None:
    lines = receipt_lines(RECEIPT, load_profile("eg"), "en")
    assert lines[-2:] == ["Months paid: October 2026", "Paid on 24/11/2026 at 10:23"]


def test_several_months_and_another_time_zone() -> None:
    receipt = RECEIPT | {"months": ["2026-08", "2026-09", "2026-10"], "currency": "KWD"}
    receipt["amount_minor"] = 65735
    lines = receipt_lines(receipt, load_profile("kw"), "ar")  # Kuwait: UTC+3
    assert "الأشهر المدفوعة: أغسطس ٢٠٢٦ - أكتوبر ٢٠٢٦" in lines
    assert lines[-1] == "تاريخ الدفع ٢٤/١١/٢٠٢٦ الساعة ١١:٢٣"
    assert "تم الدفع: ٦٥٫٧٣٥ د.ك." in lines


def test_a_payment_just_before_midnight_utc_is_dated_the_next_local_day() -> None:
    receipt = RECEIPT | {"paid_at": "2026-11-24T22:30:00Z"}
    assert receipt_lines(receipt, load_profile("eg"), "ar")[-1] == (
        "تاريخ الدفع ٢٥/١١/٢٠٢٦ الساعة ٠٠:٣٠"
    )
    assert local_time("2026-11-24T22:30:00+00:00", "Asia/Riyadh").hour == 1


def test_an_older_receipt_without_months_or_time_still_draws() -> None:
    receipt = {k: v for k, v in RECEIPT.items() if k not in ("months", "paid_at")}
    assert len(receipt_lines(receipt, load_profile("eg"), "ar")) == 5


class _Rasa:
    """Rasa's REST channel answering a confirmed payment: the receipt text, then the
    action server's custom message with the receipt."""

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        return [{"text": "تم الدفع"}, {"custom": {"receipt": RECEIPT}}]


@pytest.mark.parametrize(("language", "message"), [("ar", "نعم"), ("en", "yes")])
async def test_chat_payment_draws_the_png_from_those_lines(
    monkeypatch: pytest.MonkeyPatch, language: str, message: str
) -> None:
    drawn: list[list[str]] = []
    real = chat.service.render_receipt

    def spy(lines: list[str], rtl: bool) -> bytes:
        drawn.append(lines)
        return real(lines, rtl)

    monkeypatch.setattr(chat.service, "render_receipt", spy)
    profile = load_profile("eg")
    service = ChatService(profile, _Rasa(), MemoryStore())  # type: ignore[arg-type]
    turn = await service.handle(
        channel="whatsapp", address="+201000000001", message_id="m1", text=message, images=True
    )
    assert drawn == [receipt_lines(RECEIPT, profile, language)]
    token = turn.replies[-1].image_token
    assert token is not None
    png = await service.image(token)
    assert png is not None and png.startswith(PNG)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (WIDTH, MARGIN * 2 + LINE * len(drawn[0]))


async def test_without_a_font_the_receipt_words_still_go_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container without an Arabic font (docker-test found one) cannot draw the picture; the
    payment already happened, so the person gets the receipt's words, not an error."""
    monkeypatch.setattr(chat.receipt_image, "FONT_CANDIDATES", (Path("/nonexistent/font.ttf"),))
    service = ChatService(load_profile("eg"), _Rasa(), MemoryStore())  # type: ignore[arg-type]
    turn = await service.handle(
        channel="whatsapp", address="+201000000002", message_id="m2", text="نعم", images=True
    )
    assert [reply.text for reply in turn.replies] == ["تم الدفع"]
    assert all(reply.image_token is None for reply in turn.replies)
