"""Startup settings of the stand-in: who may call it, how fast, and how callbacks behave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StandinConfig:
    account_sid: str
    auth_token: str
    # Accepted creates per second across the account (a token bucket); 0 means unlimited.
    mps: float = 0.0
    # Pause between a message's status changes; each change is one status callback.
    callback_delay_ms: int = 50
    # Callbacks in flight at once, over one shared HTTP session.
    callback_concurrency: int = 64
    # Twilio gives a status callback endpoint 15 s before it gives up on it.
    callback_timeout_s: float = 15.0
    # Send every status callback twice, as Twilio sometimes does, so receivers can prove
    # they are idempotent.
    duplicate_callbacks: bool = False
    # Oldest messages are forgotten past this many, so a bill-day benchmark cannot exhaust
    # memory; 0 keeps every message.
    max_messages: int = 1_000_000
    # When true, a free-form WhatsApp message (no ContentSid) to someone who has not opened
    # a 24-hour session (POST /_standin/whatsapp_sessions) fails with 63016, as on WhatsApp.
    enforce_whatsapp_window: bool = False
    # Per-recipient outcomes applied at startup (same JSON as POST /_standin/outcomes).
    outcomes: dict[str, Any] = field(default_factory=dict)
