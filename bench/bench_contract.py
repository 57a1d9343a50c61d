"""Payment contract benchmark: quote and confirm latency and confirmed payments per second.

Starts the real billing backend (`python -m billing serve`) as its own process on a fresh
PostgreSQL database (or SQLite with --database sqlite), seeds it, then pays the accounts that
owe something through the core's BillingClient (quote, then confirm):
- closed loop (default): N concurrent clients back to back; the throughput at saturation;
- open loop (`--rate R`): payments start at R per second for `--duration` seconds whatever the
  answers; the latency at that offered load.
Prints p50/p95/p99 per call and per payment, throughput, the CPU the backend and the load
generator spent per payment, the backend's peak memory, and checks the ledger. With
`--py-spy FILE` the backend is sampled by py-spy during the run (collapsed stacks in FILE)
and the hottest frames are printed.

    .venv/bin/python bench/bench_contract.py --clients 50 --accounts 3000
    .venv/bin/python bench/bench_contract.py --rate 250 --duration 10 --accounts 6000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import subprocess
import time
from pathlib import Path

import asyncpg
from profiling import start_py_spy, summarise_collapsed
from stack import PG_ADMIN, SEED, BenchStack, cpu_seconds, percentile

from billing.demo_data import plan_accounts
from tasdeed.billing_client import BillingClient, BillingError, BillingRefused, Timeouts
from tasdeed.profile import load_profile


async def database_use(stack: BenchStack) -> tuple[float, int] | None:
    """CPU used so far by the PostgreSQL backends serving the benchmark's database (its pool's
    connections, opened during the run) and the sessions opened on it; None on SQLite."""
    if not stack.pg_name:
        return None
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", stack.pg_name
        )
        sessions = await conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", stack.pg_name
        )
    finally:
        await conn.close()
    total = 0.0
    for row in rows:
        with contextlib.suppress(OSError):
            total += cpu_seconds(row["pid"])
    return total, int(sessions or 0)


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack(args.database, args.profile, args.accounts)
    print(f"seeding {args.accounts} accounts on {args.database} ...", flush=True)
    await stack.prepare()
    quote_ms: list[float] = []
    confirm_ms: list[float] = []
    payment_ms: list[float] = []
    refusals: dict[str, int] = {}
    errors = 0
    spy: subprocess.Popen[bytes] | None = None
    try:
        await stack.start(gateway=False)
        backend_pid = stack.processes["billing"].pid
        demo = [d for d, _ in plan_accounts(profile, SEED, args.accounts) if d.amount_due_minor]
        warmup, codes = (
            [account.code for account in demo[: args.warmup]],
            [account.code for account in demo[args.warmup :]],
        )
        if args.rate and len(codes) < args.rate * args.duration:
            raise SystemExit(
                f"{len(codes)} accounts owe something past the warm-up: too few for "
                f"{args.rate}/s over {args.duration} s; raise --accounts"
            )

        async def pay(client: BillingClient, code: str, key: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                quote = await client.quote(code, channel="bench")
                quoted = time.perf_counter()
                await client.confirm(quote.quote_id, key)
            except BillingRefused as refusal:
                refusals[refusal.reason.value] = refusals.get(refusal.reason.value, 0) + 1
                return
            except BillingError:
                errors += 1
                return
            done = time.perf_counter()
            quote_ms.append((quoted - started) * 1000)
            confirm_ms.append((done - quoted) * 1000)
            payment_ms.append((done - started) * 1000)

        async def warm(client: BillingClient, code: str) -> None:
            """Connections opened and statements prepared before anything is measured."""
            quote = await client.quote(code, channel="bench")
            await client.confirm(quote.quote_id, f"bench-warm-{code}")

        async def closed(client: BillingClient) -> None:
            queue: asyncio.Queue[str] = asyncio.Queue()
            for code in codes:
                queue.put_nowait(code)

            async def client_loop(worker: int) -> None:
                while not queue.empty():
                    code = queue.get_nowait()
                    await pay(client, code, f"bench-{worker}-{code}")

            await asyncio.gather(*(client_loop(w) for w in range(args.clients)))

        async def opened(client: BillingClient) -> None:
            tasks: list[asyncio.Task[None]] = []
            started = time.perf_counter()
            for index in range(int(args.rate * args.duration)):
                delay = started + index / args.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                code = codes[index]
                tasks.append(asyncio.create_task(pay(client, code, f"bench-open-{code}")))
            await asyncio.gather(*tasks)

        timeouts = Timeouts(connect_s=2.0, total_s=10.0)
        async with BillingClient(stack.billing_url, timeouts=timeouts, retries=0) as client:
            for start in range(0, len(warmup), args.clients):  # paid, not counted
                await asyncio.gather(
                    *(warm(client, code) for code in warmup[start : start + args.clients])
                )
            if args.py_spy:
                spy = start_py_spy(backend_pid, Path(args.py_spy), args.py_spy_rate, args.gil)
            database_before = await database_use(stack)
            backend_cpu, own_cpu = cpu_seconds(backend_pid), time.process_time()
            started = time.perf_counter()
            await (opened(client) if args.rate else closed(client))
            elapsed = time.perf_counter() - started
            backend_cpu = cpu_seconds(backend_pid) - backend_cpu
            own_cpu = time.process_time() - own_cpu
            database = await database_use(stack)
            if database is not None and database_before is not None:
                database = (database[0] - database_before[0], database[1])
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        memory = stack.peak_memory()
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        totals = await stack.ledger_totals()
        await stack.stop()

    paid = len(confirm_ms)
    shape = (
        f"open loop at {args.rate:g} payments/s offered for {args.duration:g} s"
        if args.rate
        else f"{args.clients} concurrent clients"
    )
    print(
        f"\npayment contract benchmark: {args.database}, profile {args.profile}, "
        f"{shape}, {paid} payments in {elapsed:.2f} s"
        + (f" (after {len(warmup)} warm-up payments)" if warmup else "")
        + f"; load generator on {args.loop}"
    )
    for name, samples in (("quote", quote_ms), ("confirm", confirm_ms), ("payment", payment_ms)):
        print(
            f"  {name:8s} p50 {statistics.median(samples):7.2f} ms   "
            f"p95 {percentile(samples, 95):7.2f} ms   p99 {percentile(samples, 99):7.2f} ms"
            f"   max {max(samples):7.2f} ms"
        )
    print(f"  confirmed payments per second: {paid / elapsed:.0f}")
    print(
        f"  CPU per payment: backend {1000 * backend_cpu / max(paid, 1):.2f} ms "
        f"({100 * backend_cpu / elapsed:.0f} % of a core), load generator "
        f"{1000 * own_cpu / max(paid, 1):.2f} ms ({100 * own_cpu / elapsed:.0f} % of a core)"
    )
    if database is not None:
        print(
            f"  PostgreSQL: CPU per payment in the backends serving this database "
            f"{1000 * database[0] / max(paid, 1):.2f} ms (clock ticks: approximate); "
            f"{database[1]} sessions opened on it (seeding and warm-up included)"
        )
    print(f"  backend peak RSS: {memory['billing']:.0f} MB")
    print(f"  refusals: {refusals or 'none'}; errors: {errors}")
    print(
        f"  ledger: {totals['payments']} payments (warm-up included), paid == allocated: "
        f"{totals['paid_minor'] == totals['allocated_minor']}"
    )
    if args.py_spy:
        summarise_collapsed(Path(args.py_spy), "the backend")
    # A confirm that got no answer (an error here) may or may not have paid: that is the
    # contract's "outcome unknown", not a mismatch.
    settled = paid + len(warmup)
    if not settled <= totals["payments"] <= settled + errors or (
        totals["paid_minor"] != totals["allocated_minor"]
    ):
        raise SystemExit("LEDGER MISMATCH")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--clients", type=int, default=50, help="closed loop: concurrency")
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: payments/s offered")
    parser.add_argument("--duration", type=float, default=10.0, help="open loop: seconds")
    parser.add_argument("--warmup", type=int, default=0, help="payments before measuring")
    parser.add_argument(
        "--loop", choices=["asyncio", "uvloop"], default="asyncio", help="the load generator's"
    )
    parser.add_argument("--py-spy", metavar="FILE", help="sample the backend with py-spy")
    parser.add_argument("--py-spy-rate", type=int, default=200, help="samples per second")
    parser.add_argument(
        "--gil", action="store_true", help="py-spy: only samples holding the GIL (CPU, not waits)"
    )
    args = parser.parse_args()
    loop_factory = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(run(args))


if __name__ == "__main__":
    main()
