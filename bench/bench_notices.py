"""Bill day at scale: render and queue a cycle of a million notices, then send for a while.

    .venv/bin/python bench/bench_notices.py [--accounts 1000000] [--send-seconds 20]

PostgreSQL ledger with N synthetic accounts (billing.bulk_seed; seeding is not measured), the
billing backend as its own process, Redis Streams. Measured:
1. the campaign's INSERT … SELECT of one outbox row per account (`issue_bill_cycle`);
2. the relay — pages of pending rows over HTTP, channel choice, rendering from the
   catalogues with babel, XADD to Redis, marking rows queued — in messages per second, with
   the relay's and the backend's peak memory and what the queue costs Redis;
3. with --send-seconds: two worker processes sending through the Twilio stand-in (claim in
   the ledger, create, record): messages per second this machine sustains end to end. On a
   real deployment Twilio's account rate limit (NOTICES_RATE_PER_S) sets this pace.
Target (the issue): 9 million within an hour, 2,500 per second, rendered and queued.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import uuid
from datetime import datetime

import redis.asyncio as aioredis
from stack import BenchStack, peak_rss_mb

from billing.bulk_seed import seed_bulk_accounts
from billing.db import create_engine, session_factory
from messaging.relay import Relay, RelayCounts
from messaging.work_queue import RedisWorkQueue
from tasdeed.billing_client import BillingClient, Timeouts
from tasdeed.profile import load_profile

REDIS_URL = "redis://127.0.0.1:6379/0"
CYCLE = "2030-01"


def own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def redis_used_mb(redis: aioredis.Redis) -> float:
    info = await redis.info("memory")
    return int(info["used_memory"]) / 2**20


async def run(accounts: int, send_seconds: float, profile_id: str) -> None:
    stack = BenchStack("postgres", profile_id, accounts=4)
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    redis = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await stack.prepare()
        engine = create_engine(stack.database_url)
        started = time.perf_counter()
        await seed_bulk_accounts(
            session_factory(engine),
            load_profile(profile_id),
            accounts,
            CYCLE,
            datetime(2030, 1, 28),
        )
        await engine.dispose()
        print(
            f"seeded {accounts:,} accounts in {time.perf_counter() - started:.0f} s (not measured)"
        )
        await stack.start(gateway=False)
        billing = BillingClient(stack.billing_url, timeouts=Timeouts(2.0, 600.0), retries=0)

        started = time.perf_counter()
        issued = await billing.issue_bill_cycle(CYCLE)
        elapsed = time.perf_counter() - started
        print(
            f"campaign rows: {issued.created:,} outbox rows written in {elapsed:.1f} s"
            f" ({issued.created / elapsed:,.0f} rows/s, one INSERT … SELECT)"
        )

        queue = RedisWorkQueue.from_url(REDIS_URL, prefix)
        relay = Relay(billing, queue, load_profile(profile_id), page_size=5000)
        redis_before = await redis_used_mb(redis)
        last = [time.perf_counter(), 0]

        def progress(counts: RelayCounts) -> None:
            now = time.perf_counter()
            if now - last[0] >= 10:
                rate = (counts.handled - last[1]) / (now - last[0])
                print(f"  … {counts.handled:,} handled, {rate:,.0f}/s over the last 10 s")
                last[0], last[1] = now, counts.handled

        started = time.perf_counter()
        counts = await relay.run_once(f"bill:{CYCLE}", progress)
        elapsed = time.perf_counter() - started
        redis_after = await redis_used_mb(redis)
        backlog = await queue.backlog()
        rate = counts.handled / elapsed
        print(
            f"relay: {counts.handled:,} notices in {elapsed:.1f} s = {rate:,.0f} per second"
            f" rendered and queued (queued {counts.queued:,}, suppressed {counts.suppressed})"
        )
        print(
            f"  SMS segments queued {counts.segments:,};"
            f" 9,000,000 at this rate: {9_000_000 / rate / 60:.0f} min (target ≤ 60 min, 2,500/s)"
        )
        print(
            f"memory: relay peak RSS {own_peak_mb():.0f} MB,"
            f" billing backend peak RSS {peak_rss_mb(stack.processes['billing'].pid):.0f} MB,"
            f" Redis +{redis_after - redis_before:.0f} MB for {backlog:,} queued entries"
            f" ({(redis_after - redis_before) * 2**20 / max(backlog, 1):.0f} bytes each)"
        )
        if send_seconds > 0:
            await measure_sending(stack, prefix, send_seconds, billing)
        await billing.close()
        await queue.close()
    finally:
        await stack.stop()
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def measure_sending(
    stack: BenchStack, prefix: str, seconds: float, billing: BillingClient
) -> None:
    standin_env = {"TWILIO_STANDIN_PORT": "18099"}
    stack._start("standin", ["twilio_standin", "--port", "18099"], standin_env)
    await asyncio.sleep(1.0)
    env = {
        "TASDEED_PROFILE": stack.profile_id,
        "BILLING_URL": stack.billing_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": prefix,
        "TWILIO_API_BASE": "http://127.0.0.1:18099",
        "PUBLIC_BASE_URL": "http://127.0.0.1:18098",  # nobody: callbacks are not measured
        "NOTICES_RATE_PER_S": "100000",
        "NOTICES_WORKERS": "16",
        "NOTICES_QUIET_HOURS": "off",
    }
    before = (await billing.notice_counts(f"bill:{CYCLE}")).counts.get("sent", 0)
    for index in range(2):
        stack._start(f"worker{index}", ["messaging", "worker"], env)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    after = (await billing.notice_counts(f"bill:{CYCLE}")).counts.get("sent", 0)
    elapsed = time.perf_counter() - started
    memory = stack.peak_memory()
    for name in ("worker0", "worker1", "standin"):  # before the backend they talk to
        process = stack.processes.pop(name)
        process.terminate()
        process.wait(timeout=10)
    print(
        f"sending (2 worker processes × 16 tasks → stand-in, all on this 2-core machine):"
        f" {after - before:,} sent in {elapsed:.0f} s = {(after - before) / elapsed:,.0f}/s;"
        f" peak RSS worker {memory['worker0']:.0f} MB, stand-in {memory['standin']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--send-seconds", type=float, default=20.0)
    parser.add_argument("--profile", default="eg")
    args = parser.parse_args()
    asyncio.run(run(args.accounts, args.send_seconds, args.profile))


if __name__ == "__main__":
    main()
