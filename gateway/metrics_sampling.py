"""Counter readings over time from the Prometheus registry `/metrics` exposes, so the operator
view can show rates (payments per minute), windows (sessions started in the last five minutes)
and hop-latency percentiles from plain counters and histograms: no second set of counters
that could disagree with `/metrics`.

`sampling(sampler)` is the cleanup context that reads the registry every SAMPLE_EVERY_S while
the app runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
Reading = dict[SeriesKey, float]

KNOWN_CHANNELS = ("ussd", "ivr", "web", "whatsapp", "sms")
# USSD sessions and calls have a start (the hop that opens them, HOPS outcome "start");
# chat has no session boundary, so the honest figure there is messages answered.
SESSION_CHANNELS = frozenset({"ussd", "ivr"})
LIVE_WINDOW_S = 5 * 60
CHART_MINUTES = 15
SAMPLE_EVERY_S = 5.0
HORIZON_S = (CHART_MINUTES + 1) * 60


def read_registry(registry: CollectorRegistry) -> Reading:
    """Every tasdeed_* sample now, keyed by sample name and labels (`_created` left out)."""
    reading: Reading = {}
    for family in registry.collect():
        if not family.name.startswith("tasdeed_"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            reading[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return reading


def histogram_quantile(q: float, cumulative: list[tuple[float, float]]) -> float | None:
    """Prometheus's histogram_quantile over (upper bound, cumulative count) pairs sorted by
    bound, +Inf last: linear within the bucket the rank falls in; None when empty."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    rank = q * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound  # above the last finite bucket: its bound is all we know
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


@dataclass
class _Sample:
    at: float
    reading: Reading


class MetricsSampler:
    """Counter readings over time, so the operator view can show rates (payments per
    minute) and windows (sessions started in the last five minutes) from plain counters.

    The first reading, taken when the sampler is made (the gateway's start), is the baseline:
    anything before it counts as zero, so a process that shares the registry with an earlier
    app (tests) reports only what happened since this app started. Readings are taken every
    SAMPLE_EVERY_S by a background task; a window edge is placed on the latest reading at
    or before it, so edges are accurate to that interval."""

    def __init__(
        self,
        registry: CollectorRegistry = REGISTRY,
        clock: Callable[[], float] = time.monotonic,
        horizon_s: float = HORIZON_S,
    ):
        self.registry = registry
        self.clock = clock
        self.horizon_s = horizon_s
        self.samples: deque[_Sample] = deque()
        self.sample()

    def sample(self) -> None:
        now = self.clock()
        self.samples.append(_Sample(now, read_registry(self.registry)))
        # Keep one reading at or before the horizon: it anchors the oldest window edge.
        while len(self.samples) > 1 and self.samples[1].at <= now - self.horizon_s:
            self.samples.popleft()

    def _at(self, moment: float) -> Reading:
        chosen = self.samples[0].reading
        for sample in self.samples:
            if sample.at > moment:
                break
            chosen = sample.reading
        return chosen

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        current = read_registry(self.registry)
        channels = _channels(current)

        def delta(name: str, labels: Mapping[str, str], since: Reading, until: Reading) -> int:
            key = (name, tuple(sorted(labels.items())))
            return round(until.get(key, 0.0) - since.get(key, 0.0))

        live_since = self._at(now - LIVE_WINDOW_S)
        live = {}
        for channel in channels:
            session = channel in SESSION_CHANNELS
            outcome = "start" if session else "message"
            live[channel] = {
                "kind": "sessions" if session else "messages",
                "count": delta(
                    "tasdeed_hops_total",
                    {"channel": channel, "outcome": outcome},
                    live_since,
                    current,
                ),
            }
        edges = [self._at(now - (CHART_MINUTES - i) * 60) for i in range(CHART_MINUTES)]
        edges.append(current)
        payments = {
            channel: [
                delta("tasdeed_payments_total", {"channel": channel}, edges[i], edges[i + 1])
                for i in range(CHART_MINUTES)
            ]
            for channel in channels
        }
        return {
            "live_window_s": LIVE_WINDOW_S,
            "chart_minutes": CHART_MINUTES,
            "channels": channels,
            "live": live,
            "payments_per_minute": payments,
            "latency": {channel: _latency(channel, edges[0], current) for channel in channels},
        }


def _channels(reading: Reading) -> list[str]:
    seen = {
        dict(labels)["channel"]
        for (name, labels) in reading
        if name.startswith("tasdeed_") and "channel" in dict(labels)
    }
    return [*KNOWN_CHANNELS, *sorted(seen - set(KNOWN_CHANNELS))]


def _latency(channel: str, since: Reading, until: Reading) -> dict[str, Any]:
    """The hop-latency histogram of one channel over the window, with its median and p95."""
    buckets: list[tuple[float, float]] = []
    for (name, labels), value in until.items():
        label_map = dict(labels)
        if name == "tasdeed_hop_seconds_bucket" and label_map.get("channel") == channel:
            bound = float(label_map["le"])
            buckets.append((bound, value - since.get((name, labels), 0.0)))
    buckets.sort()
    count_key: SeriesKey = ("tasdeed_hop_seconds_count", (("channel", channel),))
    sum_key: SeriesKey = ("tasdeed_hop_seconds_sum", (("channel", channel),))
    count = round(until.get(count_key, 0.0) - since.get(count_key, 0.0))
    total = until.get(sum_key, 0.0) - since.get(sum_key, 0.0)
    per_bucket = []
    previous = 0.0
    for bound, cumulative in buckets:
        per_bucket.append(
            {"le": None if bound == float("inf") else bound, "count": round(cumulative - previous)}
        )
        previous = cumulative
    return {
        "count": count,
        "mean_s": total / count if count else None,
        "p50_s": histogram_quantile(0.5, buckets),
        "p95_s": histogram_quantile(0.95, buckets),
        "buckets": per_bucket,
    }


def sampling(sampler: MetricsSampler) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context: sample every SAMPLE_EVERY_S while the app runs."""

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_sample_forever(sampler))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return lifecycle


async def _sample_forever(sampler: MetricsSampler) -> None:
    while True:
        await asyncio.sleep(SAMPLE_EVERY_S)
        sampler.sample()
