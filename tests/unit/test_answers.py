"""The reviewed answer lists: the only way a word can stand for the key 1."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tasdeed.answers import LEXICON, Answer, canonical, lexicon_phrases, read_answer

ROOT = Path(__file__).resolve().parents[2]


def _out_of_domain() -> list[str]:
    document = yaml.safe_load((ROOT / "nlu_data/test/out_of_domain.yml").read_text("utf-8"))
    lines = str(document["nlu"][0]["examples"]).splitlines()
    return [line.strip().removeprefix("- ") for line in lines if line.strip()]


@pytest.mark.parametrize(
    "said",
    ["نعم", "ايوه", "أيوة", "اه", "أكيد", "تمام", "موافق", "أكد", "yes", "ok", "OK!", "اييييوه"],
)
def test_the_issue_s_yes_words_are_yes(said: str) -> None:
    assert read_answer(said) is Answer.YES


@pytest.mark.parametrize(
    "said",
    [
        "نعم؟",  # "pardon?"
        "yes?",
        "نعم بس كم العمولة",
        "وش عملة تدعم؟",
        "ايه",  # Egyptian "what?"
        "تمام بس عايز اعرف الرسوم",
        "1 نعم",
        "",
        "   ",
        "نعم " * 40,
    ],
)
def test_anything_else_is_not_a_yes(said: str) -> None:
    assert read_answer(said) is not Answer.YES


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("لا خلاص", Answer.NO),
        ("لا", Answer.NO),
        ("الغاء", Answer.CANCEL),
        ("la2", Answer.NO),
        ("cancel", Answer.CANCEL),
        ("cancel please", Answer.CANCEL),
        ("عايز اكلم موظف", Answer.AGENT),
        ("ابي اكلم موظف لو سمحت", Answer.AGENT),
        ("مع السلامة", Answer.GOODBYE),
        ("مع السلامه شكرا", Answer.GOODBYE),
        ("bye", Answer.GOODBYE),
    ],
)
def test_leaving_words_in_every_dialect(said: str, answer: Answer) -> None:
    assert read_answer(said) is answer


def test_no_phrase_is_both_a_yes_and_a_way_out() -> None:
    data = tomllib.loads(LEXICON.read_text("utf-8"))
    yes = {canonical(p) for words in data["yes"].values() for p in words}
    leaving = {
        canonical(p)
        for section in ("no", "cancel", "agent", "goodbye")
        for words in data[section].values()
        for p in words
    }
    assert yes and leaving and not (yes & leaving)


def test_no_out_of_domain_message_is_a_yes() -> None:
    messages = _out_of_domain()
    assert len(messages) >= 300
    yes = [m for m in messages if read_answer(m) is Answer.YES]
    assert yes == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_is_a_yes_only_when_it_is_on_the_list(text: str) -> None:
    if read_answer(text) is Answer.YES:
        assert lexicon_phrases()[canonical(text)] is Answer.YES
        assert "?" not in text and "؟" not in text
