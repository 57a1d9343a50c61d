"""Shared fixtures: real PostgreSQL and SQLite ledgers, migrated by Alembic, seeded with demo
data; a settable clock for quote expiry. PostgreSQL: 127.0.0.1:5432, user postgres, trust
auth (TASDEED_TEST_PG_DSN overrides); `make test` starts it when it is not running."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from billing.db import SessionFactory, create_engine, session_factory
from billing.demo_data import DemoAccount, plan_accounts, seed_demo_data
from billing.ledger import Ledger
from billing.migrate import upgrade
from tasdeed.profile import Profile, load_profile

# The chat stack (Rasa, action server, backend processes) for any e2e module that asks for it.
pytest_plugins = ["tests.e2e.chat_stack"]

PG_DSN = os.environ.get("TASDEED_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED = 153
TEST_ACCOUNTS = 12


def pg_url(database: str) -> str:
    base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class FixedClock:
    """The ledger's notion of now, moved by tests (quote expiry, the recent-payment window)."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime(2026, 11, 24, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated, empty PostgreSQL database to copy from (CREATE DATABASE … TEMPLATE)."""
    name = f"tasdeed_tpl_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    upgrade(pg_url(name))
    yield name
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@dataclass
class LedgerDatabase:
    kind: str
    url: str
    drop: Callable[[], Awaitable[None]]


async def new_database(kind: str, pg_tpl: str, sqlite_tpl: Path, tmp: Path) -> LedgerDatabase:
    if kind == "postgres":
        name = f"tasdeed_t_{uuid.uuid4().hex[:10]}"
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_tpl}"')

        async def drop() -> None:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return LedgerDatabase(kind, pg_url(name), drop)
    path = tmp / f"ledger-{uuid.uuid4().hex[:8]}.db"
    shutil.copy(sqlite_tpl, path)

    async def drop_file() -> None:
        path.unlink(missing_ok=True)

    return LedgerDatabase(kind, f"sqlite+aiosqlite:///{path}", drop_file)


@dataclass
class LedgerWorld:
    """A seeded ledger of one profile on one database, with its clock and demo accounts."""

    ledger: Ledger
    sessions: SessionFactory
    profile: Profile
    clock: FixedClock
    accounts: list[DemoAccount]
    database: LedgerDatabase

    def account(self, index: int) -> DemoAccount:
        return self.accounts[index]


WorldFactory = Callable[[str], Awaitable[LedgerWorld]]


class WorldBuilder:
    """Seeded ledgers on one kind of database, dropped when the test ends."""

    def __init__(self, kind: str, pg_tpl: str, sqlite_tpl: Path, tmp: Path):
        self.kind, self.pg_tpl, self.sqlite_tpl, self.tmp = kind, pg_tpl, sqlite_tpl, tmp
        self.cleanups: list[Callable[[], Awaitable[None]]] = []

    async def __call__(self, profile_id: str) -> LedgerWorld:
        profile = load_profile(profile_id)
        database = await new_database(self.kind, self.pg_tpl, self.sqlite_tpl, self.tmp)
        engine = create_engine(database.url)
        sessions = session_factory(engine)
        clock = FixedClock()
        await seed_demo_data(sessions, profile, SEED, clock(), count=TEST_ACCOUNTS)
        self.cleanups += [engine.dispose, database.drop]
        accounts = [demo for demo, _ in plan_accounts(profile, SEED, TEST_ACCOUNTS)]
        return LedgerWorld(
            Ledger(sessions, profile, clock), sessions, profile, clock, accounts, database
        )

    async def close(self) -> None:
        for cleanup in self.cleanups:
            await cleanup()


@pytest.fixture(params=["sqlite", "postgres"])
async def make_world(
    request: pytest.FixtureRequest, pg_template: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[WorldFactory]:
    """`await make_world("kw")`: a fresh seeded ledger; every test runs on SQLite and PG."""
    builder = WorldBuilder(request.param, pg_template, sqlite_template, tmp_path)
    yield builder
    await builder.close()


@pytest.fixture
async def pg_world(
    pg_template: str, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[WorldFactory]:
    """Like `make_world`, on PostgreSQL only (channel tests: the ledger is not their subject)."""
    builder = WorldBuilder("postgres", pg_template, sqlite_template, tmp_path)
    yield builder
    await builder.close()
