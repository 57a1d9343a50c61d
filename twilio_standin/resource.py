"""One message as the stand-in keeps it, and its Message resource JSON as Twilio returns it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from twilio_standin.addresses import Channel

API_VERSION = "2010-04-01"


def new_sid(prefix: str) -> str:
    """A Twilio SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def now_utc() -> datetime:
    return datetime.now(UTC)


# The last second formatted: creates arrive many to the second, so this almost always hits.
_last_formatted: tuple[int, str] = (-1, "")


def rfc2822(moment: datetime) -> str:
    """Twilio's resource timestamps: `Tue, 01 Dec 2026 14:00:00 +0000`."""
    global _last_formatted
    second = int(moment.timestamp())
    if _last_formatted[0] != second:
        text = format_datetime(datetime.fromtimestamp(second, UTC))
        _last_formatted = (second, text)
    return _last_formatted[1]


@dataclass(frozen=True, slots=True)
class Transition:
    status: str
    error_code: int | None = None


@dataclass(slots=True)
class CallbackRecord:
    status: str
    at: datetime
    http_status: int | None  # None: no HTTP answer (refused, timed out, reset)
    error: str | None


@dataclass(slots=True)
class StoredMessage:
    seq: int  # creation order: the list's newest-first order and its page tokens
    sid: str
    account_sid: str
    to: str
    from_: str | None  # None until a Messaging Service assigns a sender
    body: str
    channel: Channel
    messaging_service_sid: str | None
    status_callback: str | None
    content_sid: str | None
    num_media: int
    segments: int  # what the body costs; shown once a sender is known
    num_segments: int  # as the resource shows it: 0 while a Messaging Service holds it
    status: str
    date_created: datetime
    plan: tuple[Transition, ...]  # status changes still ahead, in order
    date_updated: datetime = field(init=False)
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    step: int = 0  # index of the next transition in `plan`
    callbacks: list[CallbackRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.date_updated = self.date_created


def resource_uri(account_sid: str, sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"


def resource_json(message: StoredMessage) -> dict[str, object]:
    """The Message resource, field for field as Twilio's API returns it."""
    uri = resource_uri(message.account_sid, message.sid)
    return {
        "account_sid": message.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.date_created),
        "date_sent": rfc2822(message.date_sent) if message.date_sent else None,
        "date_updated": rfc2822(message.date_updated),
        "direction": "outbound-api",
        "error_code": message.error_code,
        "error_message": message.error_message,
        "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": str(message.num_media),
        "num_segments": str(message.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
        "to": message.to,
        "uri": uri,
    }
