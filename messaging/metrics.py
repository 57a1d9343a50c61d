"""Prometheus metrics of outbound messages. Workers count what they send (their own /metrics
with `--metrics-port`); the gateway's /metrics carries the outbox's counts by state."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NOTICES_SENT = Counter(
    "tasdeed_notices_sent_total",
    "Messages Twilio accepted, by kind and channel",
    ["kind", "channel"],
)
NOTICES_FAILED = Counter(
    "tasdeed_notices_failed_total", "Messages refused for good, by kind and error", ["kind", "code"]
)
NOTICE_RETRIES = Counter(
    "tasdeed_notice_retries_total", "Send attempts to repeat (429, 5xx, unreachable)", ["code"]
)
NOTICES_RECONCILED = Counter(
    "tasdeed_notices_reconciled_total",
    "Messages whose send outcome was unknown, by what the provider lookup found",
    ["found"],
)
NOTICE_SEND_SECONDS = Histogram(
    "tasdeed_notice_send_seconds",
    "One create call to the Messaging API",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
NOTICES_BY_STATE = Gauge(
    "tasdeed_notices",
    "Outbox messages by campaign and state (from the ledger)",
    ["campaign", "state"],
)
NOTICE_STATUS_CALLBACKS = Counter(
    "tasdeed_notice_status_callbacks_total", "Delivery status callbacks, by status", ["status"]
)
