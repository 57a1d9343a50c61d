"""Channel-neutral screens: what a step shows (catalogue texts) and what it asks for.

The texts themselves (`Text` and its typed values) are `tasdeed.text`: rules, notices and
the backend use them too, without knowing about screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tasdeed.text import Text


class Expects(StrEnum):
    """What a screen asks for. On every kind but CHOICE, "0" and "10" are data, not keys."""

    CHOICE = "choice"
    CODE = "code"
    AMOUNT = "amount"
    TICKET = "ticket"
    NUMBER = "number"
    TEXT = "text"

    @property
    def is_data(self) -> bool:
        return self is not Expects.CHOICE


@dataclass(frozen=True, slots=True)
class Option:
    choice: str
    label: Text


@dataclass(frozen=True, slots=True)
class Screen:
    name: str
    body: tuple[Text, ...]
    options: tuple[Option, ...] = ()
    expects: Expects = Expects.CHOICE
    final: bool = False
    error: Text | None = None  # why the last input was not taken, shown above the body

    @property
    def can_go_back(self) -> bool:
        return not self.final and not self.expects.is_data
