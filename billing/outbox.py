"""Writing a notice into the outbox inside the transaction of the event that causes it.

Every row carries a `dedupe_key`; a second write with the same key does nothing (ON CONFLICT
DO NOTHING on PostgreSQL and SQLite alike), so a replayed event, a retried request or a
campaign run twice never queues a message twice. The rest of the notices machinery (campaigns,
sweeps, the relay and worker API) is billing/notices.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite

from billing.db import AsyncSession
from billing.models import OutboxMessage

# Campaigns of the rows events write; bulk campaigns are named in billing/notices.py.
RECEIPTS, COMPLAINTS, CREDITS = "receipts", "complaints", "credits"


def dialect_insert(s: AsyncSession) -> Any:
    """The dialect's own `insert` (it has `on_conflict_do_nothing` / `_do_update`)."""
    return postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert


async def add_notice(
    s: AsyncSession,
    *,
    kind: str,
    account_id: int,
    payload: dict[str, Any],
    dedupe_key: str,
    campaign: str,
    created_at: datetime,
    bill_id: int | None = None,
) -> bool:
    """Queue a notice in the caller's transaction; False when its key was already there."""
    statement = (
        dialect_insert(s)(OutboxMessage)
        .values(
            kind=kind,
            account_id=account_id,
            payload=payload,
            dedupe_key=dedupe_key,
            campaign=campaign,
            created_at=created_at,
            bill_id=bill_id,
            state="new",
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    await s.flush()  # rows the notice refers to may still be pending in the session
    result = await (await s.connection()).execute(statement)
    return int(cast(CursorResult[Any], result).rowcount) == 1
