"""Prometheus metrics shared by every channel (exposed by the gateway at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HOP_SECONDS = Histogram(
    "tasdeed_hop_seconds",
    "Time to answer one hop (USSD request, IVR webhook, chat message)",
    ["channel"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HOPS = Counter(
    "tasdeed_hops_total", "Hops answered, by channel and outcome", ["channel", "outcome"]
)
PAYMENTS = Counter("tasdeed_payments_total", "Payments confirmed, by channel", ["channel"])
LIVE_SESSIONS = Gauge("tasdeed_live_sessions", "Sessions started in the last minutes", ["channel"])
