"""Counters for /_standin/stats: what was accepted, refused (by Twilio code) and called back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class Stats:
    accepted: int = 0
    rejected: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    callbacks_sent: int = 0  # answered 2xx
    callbacks_failed: int = 0  # refused, timed out, or answered other than 2xx

    def as_json(self, pending_callbacks: int = 0) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "rejected": {str(code): count for code, count in sorted(self.rejected.items())},
            "rejected_total": sum(self.rejected.values()),
            "rate_limited": self.rate_limited,
            "callbacks": {
                "sent": self.callbacks_sent,
                "failed": self.callbacks_failed,
                "pending": pending_callbacks,
            },
        }

    def clear(self) -> None:
        self.accepted = 0
        self.rejected.clear()
        self.rate_limited = 0
        self.callbacks_sent = 0
        self.callbacks_failed = 0
