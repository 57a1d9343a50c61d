"""USSD payments side by side: Tasdeed's gateway and a minimal app (bench/minimal_ussd_app.py)
paying real bills through the same billing backend (PostgreSQL), Redis for Tasdeed's state,
the load generator on the same machine.

Every session pays a distinct bill and must end on the receipt screen ("END" with the word
for paid), or it counts as an error. Tasdeed's callers are returning callers (their language
was chosen once before the run, as a real caller's is remembered). Prints, per app: screens
per payment, hop p50/p99 in an open loop at a fixed rate of payments, and payments/s at
saturation in a closed loop of N sessions back to back.

    .venv/bin/python bench/bench_ussd_payments.py --rate 100 --closed 200 --duration 15

`--py-spy FILE` samples Tasdeed's gateway during its closed loop (py-spy must be installed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from load import Results, closed_loop, open_loop, report
from profiling import start_py_spy, summarise_collapsed
from stack import ROOT, SEED, BenchStack, cpu_seconds

from billing.demo_data import plan_accounts
from tasdeed.profile import load_profile

MINIMAL_PORT = 18081
PAID_WORDS = ("تم الدفع", "Paid")


class Bills:
    """Payable codes, each handed out once."""

    def __init__(self, codes: list[str]):
        self._codes: Iterator[str] = iter(codes)

    def take(self) -> str:
        code = next(self._codes, None)
        if code is None:
            raise SystemExit("out of payable bills: raise --accounts")
        return code


async def pay(
    http: aiohttp.ClientSession, url: str, phone: str, steps: list[str], out: Results
) -> int:
    """One session, hop by hop as Africa's Talking sends them; returns the screens seen."""
    session_id = f"ATUid_{uuid.uuid4().hex}"
    inputs: list[str] = []
    body = ""
    for index, step in enumerate(steps):
        if index:
            inputs.append(step)
        form = {"sessionId": session_id, "serviceCode": "*121#", "phoneNumber": phone,
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
            return index + 1
    if body.startswith("END") and any(word in body for word in PAID_WORDS):
        out.completed += 1
    else:
        out.errors += 1
    return len(steps)


async def run_app(
    name: str,
    url: str,
    bills: Bills,
    args: argparse.Namespace,
    pids: dict[str, int],
    tasdeed: bool,
) -> None:
    """`pids`: the app's processes (CPU per payment of each); Tasdeed's callers are returning
    callers, and py-spy samples its gateway when asked."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=15)
    ) as http:
        screens: list[int] = []
        phones = [f"+2011{i:08d}" for i in range(args.phones)]
        if tasdeed:
            # Returning callers: each phone chose its language once before the run.
            for start in range(0, len(phones), 100):
                batch = phones[start : start + 100]
                await asyncio.gather(
                    *(pay(http, url, phone, ["", "1"], Results()) for phone in batch)
                )

        async def one(index: int, out: Results) -> None:
            code = bills.take()
            steps = ["", "2", code, "1"] if tasdeed else ["", "1", code, "1"]
            screens.append(await pay(http, url, phones[index % len(phones)], steps, out))

        print(f"\n{name}")
        results, elapsed = await open_loop(one, args.rate, args.duration)
        report(f"open loop at {args.rate:.0f} payments/s offered", "hops", results, elapsed)
        spy = None
        if args.py_spy and tasdeed:
            spy = start_py_spy(pids["gateway"], Path(args.py_spy), 100, gil=False)
        cpu_before = {role: cpu_seconds(pid) for role, pid in pids.items()}
        results, elapsed = await closed_loop(one, args.closed, args.duration)
        cpu = {role: cpu_seconds(pid) - cpu_before[role] for role, pid in pids.items()}
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=30)
        report(f"closed loop, {args.closed} sessions", "hops", results, elapsed)
        print(f"  payments/s at saturation: {results.completed / elapsed:.1f}")
        print(f"  screens per payment: {max(screens)} (dial to receipt)")
        paid = max(results.completed, 1)
        print("  CPU per payment at saturation: " + ", ".join(
            f"{role} {1000 * seconds / paid:.2f} ms ({100 * seconds / elapsed:.0f} % of a core)"
            for role, seconds in cpu.items()))  # fmt: skip
        if spy is not None:
            summarise_collapsed(Path(args.py_spy), "the gateway (closed loop)")


async def run(args: argparse.Namespace) -> None:
    profile = load_profile(args.profile)
    stack = BenchStack("postgres", args.profile, args.accounts)
    print(f"seeding {args.accounts} accounts ...", flush=True)
    await stack.prepare()
    minimal: subprocess.Popen[bytes] | None = None
    try:
        await stack.start(gateway=True, redis_url=args.redis_url,
                          gateway_env={"USSD_SESSIONS_PER_MINUTE": "1000"})  # fmt: skip
        minimal = start_minimal_app(stack.billing_url)
        await wait_healthy_ussd(f"http://127.0.0.1:{MINIMAL_PORT}/ussd/at")
        payable = [d.code for d, _ in plan_accounts(profile, SEED, args.accounts) if d.unpaid_bills]
        half = len(payable) // 2
        billing = stack.processes["billing"].pid
        print(f"{len(payable)} payable bills; profile {args.profile}; 2 cores shared by all")
        if args.only != "tasdeed":
            await run_app("minimal app", f"http://127.0.0.1:{MINIMAL_PORT}/ussd/at",
                          Bills(payable[:half]), args, {"app": minimal.pid, "billing": billing},
                          tasdeed=False)  # fmt: skip
        if args.only != "minimal":
            await run_app("Tasdeed gateway", stack.gateway_url + "/ussd/at",
                          Bills(payable[half:]), args,
                          {"gateway": stack.processes["gateway"].pid, "billing": billing},
                          tasdeed=True)  # fmt: skip
        totals = await stack.ledger_totals()
        balanced = totals["paid_minor"] == totals["allocated_minor"]
        print(f"\nledger: {totals['payments']} payments, paid == allocated: {balanced}")
    finally:
        if minimal is not None:
            minimal.terminate()
            minimal.wait(timeout=10)
        await stack.stop()


def start_minimal_app(billing_url: str) -> subprocess.Popen[bytes]:
    script = str(ROOT / "bench" / "minimal_ussd_app.py")
    argv = [sys.executable, script, "--port", str(MINIMAL_PORT), "--billing-url", billing_url]
    return subprocess.Popen(argv, env={**os.environ}, cwd=ROOT, stdout=subprocess.DEVNULL)


async def wait_healthy_ussd(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.post(url, data={"sessionId": "x", "text": ""}) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--accounts", type=int, default=40000)
    parser.add_argument("--rate", type=float, default=100.0, help="offered payments/s")
    parser.add_argument("--closed", type=int, default=200, help="concurrent sessions")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--phones", type=int, default=2000, help="distinct callers")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=("minimal", "tasdeed"), help="run one app")
    parser.add_argument("--py-spy", metavar="FILE", help="sample the gateway's closed loop")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
