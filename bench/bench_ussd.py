"""USSD hop benchmark over the whole stack: gateway + Redis + billing backend (PostgreSQL).

Sessions speak Africa's Talking's exact callback format. Half check a bill (dial, Arabic,
"my bill", code: 4 hops), half pay one (dial, Arabic, "pay", code, "99", "1": 6 hops). A
person waits for each screen, so hops within a session are sequential.

- open loop: sessions start at a fixed rate whatever the answers (offered hops/s); prints
  hop latency p50/p99/max at that load.
- closed loop: N sessions run back to back; prints the saturation throughput in hops/s.

    .venv/bin/python bench/bench_ussd.py --open-rate 800 --duration 20 --closed 200
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
from stack import SEED, BenchStack, percentile

from billing.demo_data import plan_accounts
from tasdeed.profile import load_profile

BALANCE_HOPS = ("1", "1", "{code}")
PAYMENT_HOPS = ("1", "2", "{code}", "99", "1")
MEAN_HOPS = (1 + len(BALANCE_HOPS) + 1 + len(PAYMENT_HOPS)) / 2


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    sessions: int = 0


async def run_session(
    http: aiohttp.ClientSession, url: str, code: str, pay: bool, service_code: str, out: Results
) -> None:
    session_id = f"ATUid_{uuid.uuid4().hex}"
    phone = f"+2010{uuid.uuid4().int % 10**8:08d}"
    inputs: list[str] = []
    steps = [""] + [s.format(code=code) for s in (PAYMENT_HOPS if pay else BALANCE_HOPS)]
    for index, step in enumerate(steps):
        if index:
            inputs.append(step)
        form = {
            "sessionId": session_id,
            "serviceCode": service_code,
            "phoneNumber": phone,
            "networkCode": "60201",
            "text": "*".join(inputs),
        }
        started = time.perf_counter()
        try:
            async with http.post(url, data=form) as response:
                body = await response.text()
                ok = response.status == 200 and body[:4] in ("CON ", "END ")
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        out.latencies_ms.append((time.perf_counter() - started) * 1000)
        if not ok:
            out.errors += 1
            return
    out.sessions += 1


def report(name: str, results: Results, elapsed: float) -> None:
    samples = results.latencies_ms
    print(
        f"  {name}: {len(samples)} hops, {results.sessions} sessions in {elapsed:.1f} s "
        f"= {len(samples) / elapsed:.0f} hops/s; latency p50 {statistics.median(samples):.1f} ms"
        f"  p99 {percentile(samples, 99):.1f} ms  max {max(samples):.1f} ms; "
        f"errors {results.errors}"
    )


async def open_loop(
    http: aiohttp.ClientSession,
    url: str,
    codes: itertools.cycle[str],
    rate: float,
    duration: float,
    service_code: str,
) -> tuple[Results, float]:
    results = Results()
    session_rate = rate / MEAN_HOPS
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    count = int(session_rate * duration)
    for index in range(count):
        due = started + index / session_rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(
            asyncio.create_task(
                run_session(http, url, next(codes), index % 2 == 1, service_code, results)
            )
        )
    await asyncio.gather(*tasks)
    return results, time.perf_counter() - started


async def closed_loop(
    http: aiohttp.ClientSession,
    url: str,
    codes: itertools.cycle[str],
    concurrency: int,
    duration: float,
    service_code: str,
) -> tuple[Results, float]:
    results = Results()
    started = time.perf_counter()
    deadline = started + duration

    async def worker(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            await run_session(http, url, next(codes), n % 2 == 1, service_code, results)
            n += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return results, time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack("postgres", args.profile, args.accounts)
    print(f"seeding {args.accounts} accounts ...", flush=True)
    await stack.prepare()
    try:
        await stack.start(gateway=True, redis_url=args.redis_url)
        codes = itertools.cycle([d.code for d, _ in plan_accounts(profile, SEED, args.accounts)])
        url = stack.gateway_url + "/ussd/at"
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await closed_loop(http, url, codes, 10, 2.0, profile.ussd_service_code)  # warm-up
            print(
                f"\nUSSD hop benchmark: profile {args.profile}, gateway + Redis + billing "
                f"(PostgreSQL), load generator on the same machine"
            )
            results, elapsed = await open_loop(
                http, url, codes, args.open_rate, args.duration, profile.ussd_service_code
            )
            report(f"open loop at {args.open_rate:.0f} hops/s offered", results, elapsed)
            results, elapsed = await closed_loop(
                http, url, codes, args.closed, args.duration, profile.ussd_service_code
            )
            report(f"closed loop, {args.closed} sessions back to back", results, elapsed)
        memory = stack.peak_memory()
        print("  peak RSS: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items()))
        totals = await stack.ledger_totals()
        print(
            f"  ledger: {totals['payments']} payments, paid == allocated: "
            f"{totals['paid_minor'] == totals['allocated_minor']}"
        )
    finally:
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--open-rate", type=float, default=800.0, help="offered hops/s")
    parser.add_argument("--closed", type=int, default=200, help="concurrent sessions")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
