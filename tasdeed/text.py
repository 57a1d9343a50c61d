"""Catalogue texts with typed values: what every part of the core says, before rendering.

Words are catalogue keys; values stay typed until a channel renders them. A value that is
`Money` is shown as figures on a screen and spoken in words on a call; a `DigitString` (a
code, a ticket) is shown as is and read digit by digit by voice. Rules, notices, flows and
the backend all speak in these, so they live below all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasdeed.money import Money


@dataclass(frozen=True, slots=True)
class DigitString:
    """An identifier (code, ticket, receipt number), not a quantity: shown as it is (digits
    in the profile's style when it is all digits) and read one character at a time."""

    digits: str


@dataclass(frozen=True, slots=True)
class Months:
    """Bill months ("2026-10") for display in the person's language."""

    months: tuple[str, ...]
    # Month names without the year, where a screen has no room (a confirmation on USSD).
    short: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    key: str
    params: Mapping[str, Param] = field(default_factory=dict)


Param = str | int | Money | DigitString | Months | Text


def text_to_json(text: Text) -> dict[str, Any]:
    """A Text as plain JSON, for session state and for explanations sent over HTTP."""
    params: dict[str, Any] = {}
    for name, value in text.params.items():
        if isinstance(value, Money):
            params[name] = {"money": [value.minor, value.currency]}
        elif isinstance(value, DigitString):
            params[name] = {"digits": value.digits}
        elif isinstance(value, Months):
            params[name] = {"months": list(value.months), "short": value.short}
        elif isinstance(value, Text):
            params[name] = {"text": text_to_json(value)}
        else:
            params[name] = value
    return {"key": text.key, "params": params}


def text_from_json(raw: Mapping[str, Any]) -> Text:
    params: dict[str, Param] = {}
    for name, value in raw.get("params", {}).items():
        if isinstance(value, dict) and "money" in value:
            params[name] = Money(int(value["money"][0]), str(value["money"][1]))
        elif isinstance(value, dict) and "digits" in value:
            params[name] = DigitString(str(value["digits"]))
        elif isinstance(value, dict) and "months" in value:
            params[name] = Months(tuple(value["months"]), bool(value.get("short", False)))
        elif isinstance(value, dict) and "text" in value:
            params[name] = text_from_json(value["text"])
        elif isinstance(value, str | int):
            params[name] = value
        else:
            params[name] = str(value)
    return Text(str(raw["key"]), params)
