"""Reading a person's answer against the closed, reviewed word lists (`lexicon/answers.toml`).

This is the only place a word can stand for a key. A classifier never does: the walk treats
`Answer.YES` like the key 1 on a confirmation, and nothing else says yes. Leaving answers
(`CANCEL`, `AGENT`, `GOODBYE`, `NO`) are read a little more loosely (polite filler around
them is allowed), because leaving never moves money.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path

from tasdeed.normalise import normalise_input

LEXICON = Path(__file__).parent / "lexicon" / "answers.toml"
# Longer than any phrase on the lists: a long message is never one of them.
MAX_ANSWER_CHARS = 60
_NOT_WORD = re.compile(r"[^\w\s]", re.UNICODE)
_REPEATS = re.compile(r"(\w)\1{2,}", re.UNICODE)
_QUESTION = re.compile(r"[?؟]")


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    CANCEL = "cancel"
    AGENT = "agent"
    GOODBYE = "goodbye"

    @property
    def leaves(self) -> bool:
        return self is not Answer.YES


def canonical(text: str) -> str:
    """The form both the lists and messages are compared in."""
    cleaned = normalise_input(text, max_chars=MAX_ANSWER_CHARS * 4).text.lower()
    cleaned = _NOT_WORD.sub(" ", cleaned.replace("_", " "))
    cleaned = _REPEATS.sub(r"\1", cleaned)
    return " ".join(cleaned.split())


@cache
def _lists() -> tuple[dict[str, Answer], frozenset[str]]:
    data = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    phrases: dict[str, Answer] = {}
    # Leaving wins over yes where a phrase is on both lists (none should be; a test checks).
    for answer in (Answer.YES, Answer.NO, Answer.GOODBYE, Answer.CANCEL, Answer.AGENT):
        for words in data[answer.value].values():
            for phrase in words:
                phrases[canonical(phrase)] = answer
    filler = frozenset(canonical(word) for word in data["filler"]["words"])
    return phrases, filler


def lexicon_phrases() -> dict[str, Answer]:
    return dict(_lists()[0])


def read_answer(text: str) -> Answer | None:
    """The answer a message is, or None when it is anything else (then a walk re-asks)."""
    if len(text) > MAX_ANSWER_CHARS * 4:
        return None
    said = canonical(text)
    if not said or len(said) > MAX_ANSWER_CHARS:
        return None
    phrases, filler = _lists()
    exact = phrases.get(said)
    if exact is Answer.YES:
        return None if _QUESTION.search(text) else exact
    if exact is not None:
        return exact
    return _leaving_with_filler(said, phrases, filler)


def _leaving_with_filler(
    said: str, phrases: dict[str, Answer], filler: frozenset[str]
) -> Answer | None:
    """ "لا خلاص شكرا", "cancel please": a leaving phrase with only filler around it."""
    words = said.split()
    for start in range(len(words)):
        for end in range(len(words), start, -1):
            answer = phrases.get(" ".join(words[start:end]))
            if answer is None or answer is Answer.YES:
                continue
            rest = " ".join(words[:start] + words[end:])
            if _only_filler(rest, filler):
                return answer
    return None


def _only_filler(rest: str, filler: frozenset[str]) -> bool:
    words = rest.split()
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            if " ".join(words[i : i + size]) in filler:
                i += size
                break
        else:
            return False
    return True
