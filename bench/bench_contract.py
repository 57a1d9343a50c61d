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
import statistics
import time

from stack import SEED, BenchStack, percentile

from billing.demo_data import plan_accounts
from tasdeed.billing_client import BillingClient, BillingRefused, Timeouts
from tasdeed.profile import load_profile


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack(args.database, args.profile, args.accounts)
    print(f"seeding {args.accounts} accounts on {args.database} ...", flush=True)
    await stack.prepare()
    quote_ms: list[float] = []
    confirm_ms: list[float] = []
    refusals: dict[str, int] = {}
    try:
        await stack.start(gateway=False)
        demo = [d for d, _ in plan_accounts(profile, SEED, args.accounts) if d.amount_due_minor]
        queue: asyncio.Queue[str] = asyncio.Queue()
        for account in demo:
            queue.put_nowait(account.code)

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
        async with BillingClient(stack.billing_url, timeouts=timeouts, retries=0) as client:
            started = time.perf_counter()
            await asyncio.gather(*(client_loop(client, w) for w in range(args.clients)))
            elapsed = time.perf_counter() - started
        memory = stack.peak_memory()
    finally:
        totals = await stack.ledger_totals()
        await stack.stop()

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
    print(f"  backend peak RSS: {memory['billing']:.0f} MB")
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
