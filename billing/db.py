"""Engine and session factory for the ledger, SQLite (embedded) or PostgreSQL.

SQLite: WAL, a busy timeout, and every transaction opened with BEGIN IMMEDIATE. A deferred
transaction that reads and then writes fails at once with "database is locked" when another
connection wrote in between (no busy wait applies); taking the write lock up front makes
concurrent confirms queue instead. PostgreSQL runs at READ COMMITTED, where the guarded
UPDATE in the contract re-checks its condition after waiting for a concurrent writer.

PostgreSQL's pool hands out the connection used last (LIFO) and pings one before use only when
it sat idle for a while (`IDLE_PING_AFTER_S`): SQLAlchemy's `pool_pre_ping` pings on every
checkout, and with asyncpg its ping is three round trips (BEGIN, `;`, ROLLBACK), more than a
whole quote or confirm takes (billing/pg_contract.py). A server that restarts is seen by the
ping on an idle connection; under load, by the first statement that fails, which invalidates
every connection pooled before it (SQLAlchemy's disconnect handling).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

SessionFactory = async_sessionmaker[AsyncSession]
# A pooled PostgreSQL connection idle longer than this is pinged before use.
IDLE_PING_AFTER_S = 0.2


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: str) -> None:
    """SQLite creates the file but not its folder (var/ is not in git)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    if is_sqlite(url):
        ensure_sqlite_directory(url)
        # One connection: SQLite has one writer anyway, and queueing on the pool is fair
        # and cheap where the busy handler's sleep-and-retry gives long tail latencies.
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=30
        )
        _use_immediate_transactions(engine)
        return engine
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True
    )
    _ping_idle_connections(engine)
    return engine


def _ping_idle_connections(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # The record's info is cleared when its connection is replaced: a fresh one is not
        # pinged.
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_AFTER_S:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool replaces this connection and checks out again.
            raise exc.DisconnectionError() from error


def _use_immediate_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's own BEGIN is DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)
