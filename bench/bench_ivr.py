"""IVR webhook benchmark over the whole stack: gateway + Redis + billing (PostgreSQL).

Simulated calls speak Twilio's wire format: every webhook form-encoded and signed with the
twilio library's RequestValidator over the public URL, each Gather's action followed. Every
call comes from a new number (a returning caller's remembered language would skip the
language menu the keys below expect). Half the calls pay a bill (ring, Arabic, pay, code,
confirm: 5 webhooks), half check one (4).
Prints webhook latency in an open loop at a fixed offered rate, and webhooks/s with N
concurrent calls back to back (default 200).

    .venv/bin/python bench/bench_ivr.py --open-rate 800 --concurrent 200 --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import uuid

import aiohttp
from load import Results, closed_loop, open_loop, print_stack_summary, report
from stack import SEED, BenchStack
from twilio.request_validator import RequestValidator

from billing.demo_data import plan_accounts
from tasdeed.profile import load_profile

PUBLIC = "https://ivr.bench.example"
TOKEN = "bench-auth-token"
ACTION = re.compile(r'<Gather action="([^"]+)"')
MEAN_WEBHOOKS = 4.5
VALIDATOR = RequestValidator(TOKEN)


async def call(
    http: aiohttp.ClientSession, gateway: str, code: str, pay: bool, out: Results
) -> None:
    base = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
            "From": f"+2010{uuid.uuid4().int % 10**8:08d}", "To": "+20121",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01"}  # fmt: skip
    keys: list[str | None] = [None, "1", "2" if pay else "1", code] + (["1"] if pay else [])
    url = PUBLIC + "/ivr/voice"
    for index, digits in enumerate(keys):
        params = dict(base) if digits is None else {**base, "Digits": digits}
        headers = {"X-Twilio-Signature": VALIDATOR.compute_signature(url, params)}
        started = time.perf_counter()
        try:
            async with http.post(gateway + url[len(PUBLIC) :], data=params, headers=headers) as r:
                body = await r.text()
                ok = r.status == 200 and body.startswith("<?xml")
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        out.latencies_ms.append((time.perf_counter() - started) * 1000)
        match = ACTION.search(body) if ok else None
        if not ok or (match is None and index < len(keys) - 1):
            out.errors += 1
            return
        if match is not None:
            url = match.group(1).replace("&amp;", "&")
    out.completed += 1


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
        planned = [d for d, _ in plan_accounts(profile, SEED, args.accounts)]
        codes = [d.code for d in planned]
        # A bill is paid once: each paying call takes a payable code of its own (a paid one
        # ends the call after the code, as it should, which this script would count as an
        # error).
        payable = iter([d.code for d in planned if d.unpaid_bills])
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

            async def one(index: int, out: Results) -> None:
                pay = index % 2 == 1
                code = next(payable, None) if pay else codes[index % len(codes)]
                if code is None:
                    raise SystemExit("out of payable bills: raise --accounts")
                await call(http, stack.gateway_url, code, pay, out)

            await closed_loop(one, 10, 2.0)  # warm-up
            print(
                f"\nIVR webhook benchmark: profile {args.profile}, gateway + Redis + billing "
                "(PostgreSQL), signed Twilio requests, load generator on the same machine"
            )
            rate = args.open_rate / MEAN_WEBHOOKS
            results, elapsed = await open_loop(one, rate, args.duration)
            report(
                f"open loop at {args.open_rate:.0f} webhooks/s offered",
                "webhooks",
                results,
                elapsed,
            )
            results, elapsed = await closed_loop(one, args.concurrent, args.duration)
            report(f"closed loop, {args.concurrent} concurrent calls", "webhooks", results, elapsed)
        await print_stack_summary(stack)
    finally:
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--open-rate", type=float, default=800.0, help="offered webhooks/s")
    parser.add_argument("--concurrent", type=int, default=200)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
