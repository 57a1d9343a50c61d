"""Where a person is in a walk: a small JSON-able record the channel keeps between hops."""

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FlowState:
        return cls(**raw)
