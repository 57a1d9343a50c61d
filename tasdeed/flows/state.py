"""Where a person is in a walk: a small JSON-able record the channel keeps between hops.

A full e-payment code is never part of what is kept while a payment is open: once quoted, the
walk holds the quote id (the backend re-quotes from it) and the masked code. `entered_code`
holds the code for the one hop in which it was typed (a call reads it back then), and
`to_dict` leaves it out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FlowState:
    screen: str = "language"
    language: str = "ar"
    data: dict[str, Any] = field(default_factory=dict)
    back: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    tries: int = 0  # answers in a row the current step did not take
    entered_code: str | None = None  # this hop only; never stored

    def to_dict(self) -> dict[str, Any]:
        kept = asdict(self)
        del kept["entered_code"]
        return kept

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FlowState:
        return cls(**raw)
