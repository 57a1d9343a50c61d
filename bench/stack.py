"""Start the real stack for a benchmark: a fresh database seeded with demo accounts, the
billing backend and (optionally) the gateway as their own processes, on this machine."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from billing.db import create_engine, session_factory  # noqa: E402
from billing.demo_data import seed_demo_data  # noqa: E402
from billing.ledger import Ledger, utc_now  # noqa: E402
from billing.migrate import upgrade  # noqa: E402
from tasdeed.profile import load_profile  # noqa: E402

PG_ADMIN = os.environ.get("TASDEED_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED = 153


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(url + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


@dataclass
class BenchStack:
    kind: str
    profile_id: str
    accounts: int
    database_url: str = ""
    pg_name: str | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    billing_url: str = "http://127.0.0.1:18090"
    gateway_url: str = "http://127.0.0.1:18080"

    async def prepare(self) -> None:
        if self.kind == "postgres":
            self.pg_name = f"tasdeed_bench_{uuid.uuid4().hex[:8]}"
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'CREATE DATABASE "{self.pg_name}"')
            await conn.close()
            server = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
            self.database_url = f"{server}/{self.pg_name}"
        else:
            path = ROOT / "var" / f"bench-{uuid.uuid4().hex[:8]}.db"
            self.database_url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(upgrade, self.database_url)
        engine = create_engine(self.database_url)
        profile = load_profile(self.profile_id)
        await seed_demo_data(session_factory(engine), profile, SEED, utc_now(), self.accounts)
        await engine.dispose()

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", *args],
            env={**os.environ, "LOG_LEVEL": "WARNING", **env},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )

    async def start(
        self, *, gateway: bool, redis_url: str = "", gateway_env: dict[str, str] | None = None
    ) -> None:
        common = {"TASDEED_PROFILE": self.profile_id, "DATABASE_URL": self.database_url}
        self._start("billing", ["billing", "serve"], {**common, "BILLING_PORT": "18090"})
        await wait_healthy(self.billing_url)
        if gateway:
            self._start(
                "gateway",
                ["gateway"],
                {
                    **common,
                    "GATEWAY_PORT": "18080",
                    "BILLING_URL": self.billing_url,
                    "REDIS_URL": redis_url,
                    "REDIS_PREFIX": f"bench:{uuid.uuid4().hex[:8]}:",
                    "BILLING_TOTAL_TIMEOUT_S": "10",
                    **(gateway_env or {}),
                },
            )
            await wait_healthy(self.gateway_url)

    def peak_memory(self) -> dict[str, float]:
        return {name: peak_rss_mb(p.pid) for name, p in self.processes.items()}

    async def ledger_totals(self) -> dict[str, int]:
        engine = create_engine(self.database_url)
        totals = await Ledger(session_factory(engine), load_profile(self.profile_id)).totals()
        await engine.dispose()
        return totals

    async def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
            process.wait(timeout=10)
        if self.pg_name:
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            await conn.close()
