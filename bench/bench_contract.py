"""Payment contract benchmark: quote and confirm latency and confirmed payments per second.

Starts the real billing backend (`python -m billing serve`) as its own process on a fresh
PostgreSQL database (or SQLite with --database sqlite), seeds it, then N concurrent clients
each take accounts and pay them through the core's BillingClient (quote, then confirm).
Prints p50/p95/p99 per call, throughput, the backend's peak memory, and checks the ledger.

    .venv/bin/python bench/bench_contract.py --clients 50 --accounts 3000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from billing.db import create_engine, session_factory
from billing.demo_data import plan_accounts, seed_demo_data
from billing.ledger import Ledger, utc_now
from billing.migrate import upgrade
from tasdeed.billing_client import BillingClient, BillingRefused, Timeouts
from tasdeed.profile import load_profile

PG_ADMIN = os.environ.get("TASDEED_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def prepare_database(kind: str, profile_id: str, accounts: int) -> tuple[str, str | None]:
    if kind == "postgres":
        name = f"tasdeed_bench_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = (
            PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            + "/"
            + name
        )
    else:
        name = None
        path = Path("var") / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite+aiosqlite:///{path.resolve()}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    await seed_demo_data(
        session_factory(engine), load_profile(profile_id), 153, utc_now(), accounts
    )
    await engine.dispose()
    return url, name


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("backend did not start")


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    print(f"seeding {args.accounts} accounts on {args.database} ...", flush=True)
    db_url, pg_name = await prepare_database(args.database, args.profile, args.accounts)
    port = 18090
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "BILLING_PORT": str(port),
        "TASDEED_PROFILE": args.profile,
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "billing", "serve"]
    backend = subprocess.Popen(command, env=env)  # noqa: ASYNC220 (starts, does not wait)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base)
        demo = [d for d, _ in plan_accounts(profile, 153, args.accounts) if d.amount_due_minor]
        queue: asyncio.Queue[str] = asyncio.Queue()
        for account in demo:
            queue.put_nowait(account.code)
        quote_ms: list[float] = []
        confirm_ms: list[float] = []
        refusals: dict[str, int] = {}

        async def client_loop(client: BillingClient, worker: int) -> None:
            while not queue.empty():
                code = queue.get_nowait()
                started = time.perf_counter()
                try:
                    quote = await client.quote(code, channel="bench")
                    quoted = time.perf_counter()
                    await client.confirm(quote.quote_id, f"bench-{worker}-{code}")
                except BillingRefused as refusal:
                    refusals[refusal.reason.value] = refusals.get(refusal.reason.value, 0) + 1
                    continue
                done = time.perf_counter()
                quote_ms.append((quoted - started) * 1000)
                confirm_ms.append((done - quoted) * 1000)

        timeouts = Timeouts(connect_s=2.0, total_s=10.0)
        async with BillingClient(base, timeouts=timeouts, retries=0) as client:
            started = time.perf_counter()
            await asyncio.gather(*(client_loop(client, w) for w in range(args.clients)))
            elapsed = time.perf_counter() - started
        peak = rss_mb(backend.pid)
    finally:
        backend.terminate()
        backend.wait(timeout=10)
    engine = create_engine(db_url)
    totals = await Ledger(session_factory(engine), profile).totals()
    await engine.dispose()
    if pg_name:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        await conn.close()

    paid = len(confirm_ms)
    print(
        f"\npayment contract benchmark: {args.database}, profile {args.profile}, "
        f"{args.clients} concurrent clients, {paid} payments in {elapsed:.2f} s"
    )
    for name, samples in (("quote", quote_ms), ("confirm", confirm_ms)):
        print(
            f"  {name:8s} p50 {statistics.median(samples):7.2f} ms   "
            f"p95 {percentile(samples, 95):7.2f} ms   p99 {percentile(samples, 99):7.2f} ms"
        )
    print(f"  confirmed payments per second: {paid / elapsed:.0f}")
    print(f"  backend peak RSS: {peak:.0f} MB")
    print(f"  refusals: {refusals or 'none'}")
    print(
        f"  ledger: {totals['payments']} payments, paid == allocated: "
        f"{totals['paid_minor'] == totals['allocated_minor']}"
    )
    if totals["payments"] != paid or totals["paid_minor"] != totals["allocated_minor"]:
        raise SystemExit("LEDGER MISMATCH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=3000)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
