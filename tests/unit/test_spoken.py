from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.spoken import spoken_digits


@pytest.mark.parametrize(
    ("speech", "digits"),
    [
        ("ستة اتنين سبعة", "627"),
        ("ستّة اثنين سبعة", "627"),  # diacritics from the recogniser
        ("واحد", "1"),
        ("تلاتة", "3"),
        ("ثمانية تسعة صفر", "890"),
        ("6 2 7 8", "6278"),
        ("627 898 622 241", "627898622241"),
        ("٦٢٧٨ ٩٨٦٢", "62789862"),
        ("six two seven", "627"),
        ("خمسة وستة", "56"),
        ("1-2-3", "123"),
    ],
)
def test_spoken_digits(speech: str, digits: str) -> None:
    assert spoken_digits(speech) == digits


@pytest.mark.parametrize("speech", ["", "عايز أدفع", "ستة كلب", "موظف", "twelve"])
def test_words_that_are_not_digits_give_none(speech: str) -> None:
    assert spoken_digits(speech) is None


@given(st.text(max_size=80))
def test_never_raises_and_only_ascii_digits(text: str) -> None:
    result = spoken_digits(text)
    assert result is None or (result.isascii() and result.isdigit())
