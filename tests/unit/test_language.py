from __future__ import annotations

import pytest

from tasdeed.language import guess_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("عايز أدفع الفاتورة", "ar"),
        ("أبي أسدد", "ar"),
        ("3ayez adfa3 el fatora", "ar"),
        ("el kahraba 2at3a", "ar"),
        ("aywa", "ar"),
        ("I want to pay my bill", "en"),
        ("yes", "en"),
        ("627898622241", None),
        ("١٢٣", "ar"),  # Arabic-Indic digits are Arabic script
        ("", None),
    ],
)
def test_guess_language(text: str, language: str | None) -> None:
    assert guess_language(text) == language
