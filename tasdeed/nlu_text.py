"""Rasa training examples normalised exactly as live messages are.

Rasa runs on Python 3.10 and camel-tools needs 3.11+, so normalisation cannot live in the
Rasa pipeline. Instead the gateway normalises every live message with
`tasdeed.normalise.normalise_input`, and the build step (`scripts/build_nlu.py`) rewrites
the training data with `normalise_example`, which applies the same function piece by piece
around the `[entity](type)` annotations so they stay aligned. A test checks, for every
example, that the two give the very same text.
"""

from __future__ import annotations

import re

from tasdeed.normalise import normalise_input

ANNOTATION = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")
_SPACES = re.compile(r" {2,}")


def strip_annotations(example: str) -> str:
    return ANNOTATION.sub(lambda m: m.group(1), example)


def _normalise_piece(text: str) -> str:
    core = normalise_input(text, max_chars=10_000).text
    if not core:
        return " " if text and text.isspace() else ""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return lead + core + trail


def normalise_example(example: str) -> str:
    pieces: list[str] = []
    position = 0
    for match in ANNOTATION.finditer(example):
        pieces.append(_normalise_piece(example[position : match.start()]))
        pieces.append(f"[{_normalise_piece(match.group(1)).strip()}]{match.group(2)}")
        position = match.end()
    pieces.append(_normalise_piece(example[position:]))
    return _SPACES.sub(" ", "".join(pieces)).strip()
