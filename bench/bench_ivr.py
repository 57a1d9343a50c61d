"""IVR webhook benchmark over the whole stack: gateway + Redis + billing (PostgreSQL).

Simulated calls speak Twilio's wire format: every webhook form-encoded and signed with the
twilio library's RequestValidator over the public URL, each Gather's action followed. Half
the calls pay a bill (ring, Arabic, pay, code, confirm: 5 webhooks), half check one (4).

- open loop: calls start at a fixed rate (offered webhooks/s); latency p50/p99/max.
- closed loop: N concurrent calls (default 200) back to back; webhooks/s at saturation.

    .venv/bin/python bench/bench_ivr.py --open-rate 400 --concurrent 200 --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp
from stack import SEED, BenchStack, percentile
from twilio.request_validator import RequestValidator

from billing.demo_data import plan_accounts
from tasdeed.profile import load_profile

PUBLIC = "https://ivr.bench.example"
TOKEN = "bench-auth-token"
ACTION = re.compile(r'<Gather action="([^"]+)"')
MEAN_WEBHOOKS = 4.5


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    calls: int = 0


async def run_call(
    http: aiohttp.ClientSession, gateway: str, code: str, pay: bool, out: Results
) -> None:
    validator = RequestValidator(TOKEN)
    call_sid = "CA" + uuid.uuid4().hex
    base = {"CallSid": call_sid, "AccountSid": "AC" + "0" * 32, "From": "+201001234567",
            "To": "+20121", "CallStatus": "in-progress", "ApiVersion": "2010-04-01"}  # fmt: skip
    steps = [("", None), ("", "1"), ("", "2" if pay else "1"), ("", code)]
    if pay:
        steps.append(("", "1"))
    url = PUBLIC + "/ivr/voice"
    for index, (_, digits) in enumerate(steps):
        params = dict(base) if digits is None else {**base, "Digits": digits}
        headers = {"X-Twilio-Signature": validator.compute_signature(url, params)}
        started = time.perf_counter()
        try:
            async with http.post(gateway + url[len(PUBLIC) :], data=params, headers=headers) as r:
                body = await r.text()
                ok = r.status == 200 and body.startswith("<?xml")
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        out.latencies_ms.append((time.perf_counter() - started) * 1000)
        if not ok:
            out.errors += 1
            return
        match = ACTION.search(body)
        if index < len(steps) - 1:
            if match is None:
                out.errors += 1
                return
            url = match.group(1).replace("&amp;", "&")
    out.calls += 1


def report(name: str, results: Results, elapsed: float) -> None:
    samples = results.latencies_ms
    print(
        f"  {name}: {len(samples)} webhooks, {results.calls} calls in {elapsed:.1f} s "
        f"= {len(samples) / elapsed:.0f} webhooks/s; latency p50 "
        f"{statistics.median(samples):.1f} ms  p99 {percentile(samples, 99):.1f} ms  "
        f"max {max(samples):.1f} ms; errors {results.errors}"
    )


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack("postgres", args.profile, args.accounts)
    print(f"seeding {args.accounts} accounts ...", flush=True)
    await stack.prepare()
    try:
        await stack.start(
            gateway=True,
            redis_url=args.redis_url,
            gateway_env={"PUBLIC_BASE_URL": PUBLIC, "TWILIO_AUTH_TOKEN": TOKEN},
        )
        codes = itertools.cycle([d.code for d, _ in plan_accounts(profile, SEED, args.accounts)])
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=15)
        ) as http:
            gw = stack.gateway_url
            print(
                f"\nIVR webhook benchmark: profile {args.profile}, gateway + Redis + billing "
                "(PostgreSQL), signed Twilio requests, load generator on the same machine"
            )
            results = Results()
            rate = args.open_rate / MEAN_WEBHOOKS
            tasks = []
            started = time.perf_counter()
            for index in range(int(rate * args.duration)):
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(
                    asyncio.create_task(run_call(http, gw, next(codes), index % 2 == 1, results))
                )
            await asyncio.gather(*tasks)
            report(
                f"open loop at {args.open_rate:.0f} webhooks/s offered",
                results,
                time.perf_counter() - started,
            )
            results = Results()
            deadline = time.perf_counter() + args.duration
            started = time.perf_counter()

            async def caller(index: int) -> None:
                n = index
                while time.perf_counter() < deadline:
                    await run_call(http, gw, next(codes), n % 2 == 1, results)
                    n += 1

            await asyncio.gather(*(caller(i) for i in range(args.concurrent)))
            report(
                f"closed loop, {args.concurrent} concurrent calls",
                results,
                time.perf_counter() - started,
            )
        print(
            "  peak RSS: "
            + ", ".join(f"{name} {mb:.0f} MB" for name, mb in stack.peak_memory().items())
        )
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
    parser.add_argument("--open-rate", type=float, default=400.0, help="offered webhooks/s")
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
