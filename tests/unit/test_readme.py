"""The README's demo codes are the ones the seed really produces."""

from __future__ import annotations

from pathlib import Path

from billing.__main__ import demo_code_rows
from tasdeed.profile import available_profiles

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_the_seeded_demo_codes() -> None:
    text = README.read_text(encoding="utf-8")
    for profile_id in available_profiles():
        for row in demo_code_rows(profile_id, seed=153):
            assert row in text, f"README is missing or out of date: {row}"
