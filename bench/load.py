"""Load shapes shared by the channel benchmarks.

A "conversation" (a USSD session, a call) is a coroutine taking its index and the Results to
fill; its hops are sequential, as a person waits for each screen.
- open loop: conversations start at a fixed rate whatever the answers;
- closed loop: N conversations run back to back until the time is up.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from stack import BenchStack, percentile


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    completed: int = 0


Conversation = Callable[[int, Results], Awaitable[None]]


async def open_loop(
    run_one: Conversation, per_second: float, duration: float
) -> tuple[Results, float]:
    results = Results()
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for index in range(int(per_second * duration)):
        delay = started + index / per_second - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(run_one(index, results)))
    await asyncio.gather(*tasks)
    return results, time.perf_counter() - started


async def closed_loop(
    run_one: Conversation, concurrency: int, duration: float
) -> tuple[Results, float]:
    results = Results()
    started = time.perf_counter()
    deadline = started + duration

    async def worker(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            await run_one(n, results)
            n += concurrency

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return results, time.perf_counter() - started


def report(name: str, unit: str, results: Results, elapsed: float) -> None:
    samples = results.latencies_ms
    print(
        f"  {name}: {len(samples)} {unit}, {results.completed} conversations in {elapsed:.1f} s"
        f" = {len(samples) / elapsed:.0f} {unit}/s; latency p50 {statistics.median(samples):.1f}"
        f" ms  p99 {percentile(samples, 99):.1f} ms  max {max(samples):.1f} ms;"
        f" errors {results.errors}"
    )


async def print_stack_summary(stack: BenchStack) -> None:
    memory = stack.peak_memory()
    print("  peak RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()))
    totals = await stack.ledger_totals()
    print(
        f"  ledger: {totals['payments']} payments, paid == allocated: "
        f"{totals['paid_minor'] == totals['allocated_minor']}"
    )
