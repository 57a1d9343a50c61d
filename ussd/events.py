"""The one event model every aggregator format is normalised to."""

from __future__ import annotations

from dataclasses import dataclass

MAX_INPUT_CHARS = 160  # one USSD string; anything longer did not come from a handset


@dataclass(frozen=True, slots=True)
class UssdRequest:
    session_id: str
    phone: str
    service_code: str
    network: str
    # Africa's Talking sends every input so far; gateways that send only the latest input
    # give `latest` and, when they have one, a hop `sequence` (1 = the dial itself).
    inputs: tuple[str, ...] | None = None
    latest: str | None = None
    sequence: int | None = None
    ended: bool = False

    @property
    def hop(self) -> int:
        """How many inputs the person has sent in this session so far."""
        if self.inputs is not None:
            return len(self.inputs)
        if self.sequence is not None:
            return max(self.sequence - 1, 0)
        return 0 if self.latest is None else -1  # -1: unknown, treat as a new input


@dataclass(frozen=True, slots=True)
class UssdReply:
    text: str
    end: bool


def clean_input(raw: str) -> str:
    """Handsets and gateways add "#" and spaces around what was typed."""
    return raw.strip().rstrip("#").strip()
