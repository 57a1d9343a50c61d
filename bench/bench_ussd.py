"""USSD hop benchmark over the whole stack: gateway + Redis + billing backend (PostgreSQL).

Sessions speak Africa's Talking's exact callback format. Half check a bill (dial, Arabic,
"my bill", code: 4 hops), half pay one (dial, Arabic, "pay", code, "99", "1": 6 hops).
Prints hop latency p50/p99/max in an open loop at a fixed offered rate, and the saturation
throughput of N sessions back to back (closed loop).

    .venv/bin/python bench/bench_ussd.py --open-rate 800 --duration 15 --closed 200
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import aiohttp
from load import Results, closed_loop, open_loop, print_stack_summary, report
from stack import SEED, BenchStack

from billing.demo_data import plan_accounts
from tasdeed.profile import load_profile

BALANCE_HOPS = ("1", "1", "{code}")
PAYMENT_HOPS = ("1", "2", "{code}", "99", "1")
MEAN_HOPS = (1 + len(BALANCE_HOPS) + 1 + len(PAYMENT_HOPS)) / 2


async def ussd_session(
    http: aiohttp.ClientSession, url: str, service_code: str, code: str, pay: bool, out: Results
) -> None:
    session_id = f"ATUid_{uuid.uuid4().hex}"
    phone = f"+2010{uuid.uuid4().int % 10**8:08d}"
    inputs: list[str] = []
    steps = [""] + [s.format(code=code) for s in (PAYMENT_HOPS if pay else BALANCE_HOPS)]
    for index, step in enumerate(steps):
        if index:
            inputs.append(step)
        form = {"sessionId": session_id, "serviceCode": service_code, "phoneNumber": phone,
                "networkCode": "60201", "text": "*".join(inputs)}  # fmt: skip
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
    out.completed += 1


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack("postgres", args.profile, args.accounts)
    print(f"seeding {args.accounts} accounts ...", flush=True)
    await stack.prepare()
    try:
        await stack.start(gateway=True, redis_url=args.redis_url)
        codes = [d.code for d, _ in plan_accounts(profile, SEED, args.accounts)]
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

            async def one(index: int, out: Results) -> None:
                code = codes[index % len(codes)]
                url = stack.gateway_url + "/ussd/at"
                await ussd_session(http, url, profile.ussd_service_code, code, index % 2 == 1, out)

            await closed_loop(one, 10, 2.0)  # warm-up
            print(
                f"\nUSSD hop benchmark: profile {args.profile}, gateway + Redis + billing "
                "(PostgreSQL), load generator on the same machine"
            )
            results, elapsed = await open_loop(one, args.open_rate / MEAN_HOPS, args.duration)
            report(f"open loop at {args.open_rate:.0f} hops/s offered", "hops", results, elapsed)
            results, elapsed = await closed_loop(one, args.closed, args.duration)
            report(f"closed loop, {args.closed} sessions back to back", "hops", results, elapsed)
        await print_stack_summary(stack)
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
