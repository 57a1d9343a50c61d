"""Fault soak: many concurrent USSD payment walks while the links misbehave, then the tally.

The real parts, each its own process on 127.0.0.1: a PostgreSQL cluster of our own (made
with initdb in a temporary folder, a fresh database migrated and seeded with one unpaid bill
per account), `python -m billing serve` on it, a redis-server of our own, and
`python -m gateway` in front. Three TCP proxies of ours (tests/tcp_proxy.py) sit on the
gateway → billing, gateway → Redis and billing → PostgreSQL links. While people pay (each
a distinct bill, from a distinct phone, dialling again when a walk did not end in a receipt
or in "paid recently"), fault episodes follow one another: a link's live connections reset
and new ones dropped, reset, stalled (requests or answers held 0.3-5 s: past the gateway's
3 s billing timeout or not), cut after some bytes, or slowed; now and then Redis is
SIGKILLed and started again, and PostgreSQL restarted (`-m fast`) or crashed
(`-m immediate`) and started again.

A fault counts when it met live traffic (an episode that found the link idle does not);
the soak stops by itself after `--faults` of them (or `--duration` seconds), lets what is
in flight land, checks every walk against the ledger (tests/fault_walks.py `audit`) and
prints the tally. Exit status 0 only when nothing was charged twice, no receipt shown is
missing from the ledger, every "outcome unknown" is answered truthfully by
`GET /v1/payments/{key}`, no "nothing was charged" screen hid a payment, and the ledger
balances.

    .venv/bin/python bench/soak_faults.py --faults 1000 --duration 900 --concurrency 48
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from billing.bulk_seed import BulkMix, seed_bulk_accounts  # noqa: E402
from billing.db import create_engine, session_factory  # noqa: E402
from billing.ledger import Ledger, utc_now  # noqa: E402
from billing.migrate import upgrade  # noqa: E402
from tasdeed.profile import Profile, load_profile  # noqa: E402
from tests.fault_walks import (  # noqa: E402
    Audit,
    Outcome,
    Payer,
    Screens,
    UssdWalker,
    WalkResult,
    audit,
    payable_codes,
)
from tests.own_services import OwnPostgres, OwnRedis, free_port  # noqa: E402
from tests.tcp_proxy import Direction, Fault, Mode, TcpProxy  # noqa: E402

KINDS = ("drop", "reset", "stall", "cut", "latency")
EXCEPTION_LINE = re.compile(r"^((?:[a-z_]+\.)*[A-Z]\w*(?:Error|Exception)): ")


@dataclass
class Tally:
    episodes: int = 0  # fault episodes switched on
    effective: dict[str, int] = field(default_factory=dict)  # per link: met live traffic
    kinds: dict[str, int] = field(default_factory=dict)  # effective, per kind
    redis_restarts: int = 0
    pg_restarts: int = 0

    @property
    def faults(self) -> int:
        return sum(self.effective.values()) + self.redis_restarts + self.pg_restarts


class Soak:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(args.seed)
        self.profile: Profile = load_profile(args.profile)
        self.work = Path(tempfile.mkdtemp(prefix="tasdeed-soak-"))
        self.pg = OwnPostgres()
        self.redis = OwnRedis()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.links: dict[str, TcpProxy] = {}
        self.tally = Tally()
        self.walks: list[WalkResult] = []
        self.payers = 0
        self.stop_faults = asyncio.Event()
        self.stop_payers = asyncio.Event()

    # ---- the parts ------------------------------------------------------------------------

    async def prepare(self) -> None:
        print(f"starting PostgreSQL (own cluster in {self.pg.root}) and Redis ...", flush=True)
        await asyncio.to_thread(self.pg.init)
        await asyncio.to_thread(self.pg.create_database, "tasdeed_soak")
        await asyncio.to_thread(self.redis.start)
        self.database_url = self.pg.url("tasdeed_soak")
        await asyncio.to_thread(upgrade, self.database_url)
        engine = create_engine(self.database_url)
        self.sessions = session_factory(engine)
        self.engine = engine
        cycle = datetime.now(UTC).strftime("%Y-%m")
        print(f"seeding {self.args.accounts} accounts (one unpaid bill each) ...", flush=True)
        await seed_bulk_accounts(
            self.sessions, self.profile, self.args.accounts, cycle, utc_now(), mix=BulkMix()
        )
        self.codes = await payable_codes(self.sessions, self.args.accounts)

        self.links["postgres"] = await TcpProxy(self.pg.port).start()
        self.links["redis"] = await TcpProxy(self.redis.port).start()
        billing_port = free_port()
        self.billing_url = f"http://127.0.0.1:{billing_port}"
        self.links["billing"] = await TcpProxy(billing_port).start()
        db_via_link = self.database_url.replace(
            f":{self.pg.port}/", f":{self.links['postgres'].port}/"
        )
        common = {"TASDEED_PROFILE": self.profile.id, "LOG_LEVEL": "WARNING"}
        self._start(
            "billing",
            ["billing", "serve"],
            {**common, "DATABASE_URL": db_via_link, "BILLING_PORT": str(billing_port)},
        )
        await self._healthy(self.billing_url)
        gateway_port = free_port()
        self.gateway_url = f"http://127.0.0.1:{gateway_port}"
        self._start(
            "gateway",
            ["gateway"],
            {
                **common,
                "GATEWAY_PORT": str(gateway_port),
                "BILLING_URL": f"http://127.0.0.1:{self.links['billing'].port}",
                "REDIS_URL": f"redis://127.0.0.1:{self.links['redis'].port}/0",
                "REDIS_PREFIX": f"soak:{uuid.uuid4().hex[:8]}:",
                "SIMULATOR_ENABLED": "false",
            },
        )
        await self._healthy(self.gateway_url)

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - the process keeps it
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", *args],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    async def _healthy(self, url: str) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(400):
                try:
                    async with http.get(url + "/health") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{url} did not start (logs in {self.work})")

    async def close(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for link in self.links.values():
            await link.close()
        if hasattr(self, "engine"):
            await self.engine.dispose()
        self.redis.stop()
        await asyncio.to_thread(self.pg.destroy)

    def dump_walks(self) -> None:
        """Every walk with its trail of inputs and pages, one JSON object a line."""
        with open(self.work / "walks.jsonl", "w") as out:
            for walk in self.walks:
                row = {**vars(walk), "outcome": walk.outcome.value}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")

    def forget_logs(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    # ---- faults ---------------------------------------------------------------------------

    def _pick_link(self) -> str:
        return self.rng.choices(["billing", "redis", "postgres"], weights=[45, 30, 25])[0]

    def _fault(self, kind: str) -> tuple[Fault | None, float, float]:
        """(fault, latency, seconds on) for one episode."""
        rng = self.rng
        if kind == "drop":
            return Fault(Mode.DROP), 0.0, rng.uniform(0.05, 0.5)
        if kind == "reset":
            return Fault(Mode.RESET), 0.0, rng.uniform(0.02, 0.3)
        if kind == "stall":
            direction: Direction = rng.choice(["up", "down", "both"])
            return (
                Fault(Mode.STALL, rng.uniform(0.3, 5.0), direction=direction),
                0.0,
                (rng.uniform(0.2, 1.5)),
            )
        if kind == "cut":
            direction = rng.choice(["up", "down"])
            return (
                Fault(Mode.CUT, after_bytes=rng.randrange(0, 400), direction=direction),
                0.0,
                rng.uniform(0.05, 0.4),
            )
        return None, rng.uniform(0.02, 0.4), rng.uniform(0.2, 1.0)

    async def _episode(self) -> None:
        name = self._pick_link()
        link = self.links[name]
        kind = self.rng.choice(KINDS)
        fault, latency, seconds = self._fault(kind)
        before_hits = link.stats.hits
        before_bytes = link.stats.bytes_up + link.stats.bytes_down
        if kind == "drop":
            link.reset_live()  # the line goes down: what is open dies, new ones are refused
        if fault is not None:
            link.set(fault)
        link.latency_s = latency
        self.tally.episodes += 1
        await asyncio.sleep(seconds)
        link.set()
        link.latency_s = 0.0
        if kind == "latency":
            met = link.stats.bytes_up + link.stats.bytes_down > before_bytes
        else:
            met = link.stats.hits > before_hits
        if met:
            self.tally.effective[name] = self.tally.effective.get(name, 0) + 1
            self.tally.kinds[kind] = self.tally.kinds.get(kind, 0) + 1

    async def _restart(self, what: str) -> None:
        if what == "redis":
            await asyncio.to_thread(self.redis.restart)
            self.tally.redis_restarts += 1
        else:
            crash = self.tally.pg_restarts % 2 == 1
            await asyncio.to_thread(self.pg.crash_and_start if crash else self.pg.restart)
            self.tally.pg_restarts += 1

    async def misbehave(self, started: float) -> None:
        args = self.args
        # Restarts spread over the run: one every `every` effective faults.
        restarts = ["redis"] * args.redis_restarts + ["postgres"] * args.pg_restarts
        self.rng.shuffle(restarts)
        every = max(1, args.faults // (len(restarts) + 1)) if restarts else 0
        next_restart = every
        while not self.stop_faults.is_set():
            if restarts and self.tally.faults >= next_restart:
                await self._restart(restarts.pop())
                next_restart += every
            else:
                await self._episode()
            await asyncio.sleep(self.rng.uniform(0.02, 0.15))
            elapsed = time.monotonic() - started
            if (self.tally.faults >= args.faults and not restarts) or elapsed >= args.duration:
                self.stop_faults.set()

    # ---- people ---------------------------------------------------------------------------

    async def people(self) -> None:
        screens = Screens.for_profile(self.profile)
        codes = list(self.codes)
        self.rng.shuffle(codes)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            running: set[asyncio.Task[list[WalkResult]]] = set()
            while codes and not self.stop_payers.is_set():
                while len(running) < self.args.concurrency and codes:
                    code = codes.pop()
                    walker = UssdWalker(http, self.gateway_url, self.profile, screens)
                    payer = Payer(walker, code, self.codes[code], max_walks=4)
                    running.add(asyncio.create_task(payer.pay()))
                    self.payers += 1
                finished, running = await asyncio.wait(
                    running, timeout=0.5, return_when=asyncio.FIRST_COMPLETED
                )
                for task in finished:
                    self.walks.extend(task.result())
            if not codes:
                print("(every seeded account has had its payer: stopping early)", flush=True)
                self.stop_faults.set()
            if running:
                for walks in await asyncio.gather(*running):
                    self.walks.extend(walks)

    async def progress(self, started: float) -> None:
        while not self.stop_payers.is_set():
            await asyncio.sleep(15)
            elapsed = time.monotonic() - started
            print(
                f"  {elapsed:5.0f}s  faults {self.tally.faults:>5}  episodes "
                f"{self.tally.episodes:>5}  payers {self.payers:>5}  walks {len(self.walks):>5}",
                flush=True,
            )

    # ---- the run --------------------------------------------------------------------------

    async def run(self) -> Audit:
        started = time.monotonic()
        people = asyncio.create_task(self.people())
        ticker = asyncio.create_task(self.progress(started))
        await self.misbehave(started)
        self.stop_payers.set()  # no new payers; those walking finish (links are clean now)
        await people
        walking_s = time.monotonic() - started
        ticker.cancel()
        for link in self.links.values():
            link.set()
            link.latency_s = 0.0
        await asyncio.sleep(6.0)  # requests held in a stall (≤ 5 s) reach the backend
        async with aiohttp.ClientSession() as http:
            report = await audit(self.sessions, http, self.billing_url, self.walks, self.codes)
        totals = await Ledger(self.sessions, self.profile).totals()
        self.print_tally(report, totals, walking_s)
        return report

    def gateway_errors(self) -> Counter[str]:
        """The exceptions behind the gateway's 5xx answers, from its log (the last line of
        each traceback names it)."""
        found: Counter[str] = Counter()
        path = self.work / "gateway.log"
        if path.exists():
            lines = [line for line in path.read_text(errors="replace").splitlines() if line]
            for index, line in enumerate(lines):
                match = EXCEPTION_LINE.match(line)
                following = lines[index + 1] if index + 1 < len(lines) else ""
                if match and not following.startswith(("The above exception", "During handling")):
                    found[match.group(1)] += 1
        return found

    def print_tally(self, report: Audit, totals: dict[str, int], seconds: float) -> None:
        t = self.tally
        links = list(self.links.values())

        def hit(what: str) -> int:
            return sum(int(getattr(link.stats, what)) for link in links)

        paid_accounts = report.payments - report.double_charges
        outcomes = report.outcomes
        by_link = ", ".join(f"{k} {v}" for k, v in sorted(t.effective.items()))
        by_kind = ", ".join(f"{k} {v}" for k, v in sorted(t.kinds.items()))
        rows = [
            ("faults injected", f"{t.faults}"),
            ("  episodes that met traffic", f"{sum(t.effective.values())} of {t.episodes} "
                                           f"({by_link}; {by_kind})"),
            ("  restarts", f"redis {t.redis_restarts} (SIGKILL), postgres {t.pg_restarts} "
                           "(fast / immediate)"),
            ("  connections hit", f"dropped {hit('dropped')}, reset {hit('reset')}, "
                                  f"cut {hit('cut')}, stalled {hit('stalled')}"),
            ("walks", f"{report.walks} (by {self.payers} payers, {paid_accounts} of whom "
                      "paid)"),
            ("receipts", f"{report.receipts_seen}"),
            ("unknown outcomes", f"{report.unknown} (landed when checked: "
                                 f"{report.unknown_landed})"),
            ("told 'paid recently'", f"{outcomes.get(Outcome.PAID_RECENTLY.value, 0)}"),
            ("told 'nothing charged'", f"{outcomes.get(Outcome.NOT_PAID.value, 0)} (on a "
                                       "resumed walk whose earlier confirm had landed: "
                                       f"{report.not_paid_after_earlier_payment})"),
            ("sessions lost", f"{outcomes.get(Outcome.SESSION_LOST.value, 0)}"),
            ("no page after retries", f"{outcomes.get(Outcome.ERROR.value, 0)}"),
            ("other screens", f"{outcomes.get(Outcome.OTHER.value, 0)}"),
            ("gateway 5xx answers", f"{report.server_errors} (each hop sent again)"),
            ("payments in ledger", f"{report.payments}"),
            ("double charges", f"{report.double_charges}"),
            ("lost", f"{report.lost}"),
            ("false answers", f"{report.false_not_paid + report.false_paid_recently} "
                              f"(status disagreeing: {report.status_disagrees})"),
            ("ledger balanced", f"{'yes' if report.unbalanced_minor == 0 else 'NO'} "
                                f"(paid {totals['paid_minor']} = allocated "
                                f"{totals['allocated_minor']} minor units)"),
            ("walks/s", f"{report.walks / seconds:.1f} (over {seconds:.0f} s)"),
        ]  # fmt: skip
        endings = Counter(
            f"{w.screen[4:].split(chr(10), 1)[0][:40]} ← {w.previous[4:].split(chr(10), 1)[0][:30]}"
            for w in self.walks
            if w.outcome in (Outcome.NOT_PAID, Outcome.SESSION_LOST, Outcome.OTHER)
        )
        for text, count in endings.most_common(6):
            rows.append(("  ending", f"{count} × {text}"))
        for name, count in self.gateway_errors().most_common(6):
            rows.append(("  gateway exception", f"{count} × {name}"))
        width = max(len(name) for name, _ in rows)
        print("\nfault soak tally")
        for name, value in rows:
            print(f"  {name:<{width}}  {value}")
        for problem in report.problems[:20]:
            print(f"  PROBLEM: {problem}")
        print("OK" if report.ok else "FAILED", flush=True)


async def main(args: argparse.Namespace) -> int:
    soak = Soak(args)
    try:
        await soak.prepare()
        print(
            f"soak: up to {args.faults} faults or {args.duration:.0f} s, "
            f"{args.concurrency} people at a time",
            flush=True,
        )
        report = await soak.run()
        if report.ok and not args.keep_logs:
            soak.forget_logs()
        else:
            soak.dump_walks()
            print(f"logs of the billing backend and the gateway, walks.jsonl: {soak.work}")
        return 0 if report.ok else 1
    finally:
        await soak.close()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--faults", type=int, default=1000, help="stop after this many faults")
    parser.add_argument("--duration", type=float, default=900, help="or after these seconds")
    parser.add_argument("--concurrency", type=int, default=48, help="people paying at once")
    parser.add_argument("--accounts", type=int, default=8000, help="accounts seeded")
    parser.add_argument("--redis-restarts", type=int, default=5)
    parser.add_argument("--pg-restarts", type=int, default=2)
    parser.add_argument("--profile", default="eg")
    parser.add_argument("--seed", type=int, default=153)
    parser.add_argument("--keep-logs", action="store_true", help="keep logs and walks.jsonl")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
