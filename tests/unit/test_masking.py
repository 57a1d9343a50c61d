from __future__ import annotations

import pytest

from billing.masking import mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("محمد عبدالله السيد", "محمد ع. الس."),
        ("نورة يوسف العنزي", "نورة ي. الع."),
        ("Ahmed Hassan", "Ahmed H."),
        ("سارة", "سارة"),
        ("", ""),
    ],
)
def test_mask_name_keeps_first_name_and_initials(name: str, masked: str) -> None:
    assert mask_name(name) == masked
