"""The payment contract's common case on PostgreSQL: one statement, one round trip, each.

A quote and a confirm through the general path (billing/ledger.py) are a transaction of
several ORM statements: BEGIN, five to ten statements, COMMIT, each a round trip to the
server and a context switch on both sides. Here each is one statement, run outside an
explicit transaction (a single statement is atomic on its own), straight on the pooled
asyncpg connection:

- quote: `INSERT … SELECT` that finds the account (by code, or by an earlier quote), sums
  its open bills in the same snapshot and writes the quote only when the amount needs no
  refusal (something is due, and a given amount passes the profile's partial/over rules);
- confirm: data-modifying CTEs that bump the account's `ledger_version` only if it still
  equals the quote's (and no payment has the key or the quote yet, the quote has not
  expired), write the payment, spread it over the open bills by month (the rest to credit,
  in the same UPDATE as the bump: a statement may not update a row twice) and write the
  receipt notice to the outbox.

Either statement changes nothing when its case is not the plain one (a refusal, a replay, a
lost race, a unique violation from a concurrent twin), and the ledger then runs the general
transaction, which answers exactly as it always did. What keeps the contract:
- the guard: at READ COMMITTED an UPDATE that waited for a concurrent payer's row lock
  re-checks its WHERE on the row that payer committed, so the loser's bump matches nothing
  and its statement writes nothing;
- unique per quote and key: the payments constraints; the NOT EXISTS pre-check only saves a
  doomed statement, a concurrent twin still ends in a unique violation (whole statement
  rolled back) and the general path then answers with the stored receipt or the refusal;
- the bills read in the statement's snapshot are the latest: every writer of bills bumps
  the account's version first, and ours matched, so nobody paid since our snapshot;
- the receipt and its notice need the masked payee, which is Python's (billing/masking.py):
  they are built before the statement from the quote's facts (quotes are never updated) and
  the account's payee name and language, and the statement pays only if the account still
  has that name and language. Quotes made by this process are remembered (LRU) with those
  facts; any other costs one SELECT.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.util import greenlet_spawn

from tasdeed.profile import Profile

# What a receipt needs from its quote and account (see the module docstring).
QUOTE_FACTS_KEPT = 50_000

_QUOTE_FOR = {
    "code": """
    SELECT a.id, a.ledger_version, a.payee_name, a.area, a.language
    FROM payment_codes AS pc JOIN accounts AS a ON a.id = pc.account_id
    WHERE pc.code = $1""",
    "from_quote": """
    SELECT a.id, a.ledger_version, a.payee_name, a.area, a.language
    FROM quotes AS fq JOIN accounts AS a ON a.id = fq.account_id
    WHERE fq.id = $1""",
}

# $1 code or earlier quote id, $2 new quote id, $3 amount (NULL: what is due), $4 override,
# $5 channel, $6 now, $7 expiry, $8 allow_partial, $9 min_partial_minor, $10 allow_overpayment
_QUOTE = """
WITH acct AS ({account}),
open_bills AS (
    SELECT COALESCE(SUM(b.amount_minor - b.paid_minor), 0)::bigint AS due,
           COALESCE(string_agg(b.month, ',' ORDER BY b.month), '') AS months
    FROM bills AS b JOIN acct ON b.account_id = acct.id
    WHERE b.status <> 'paid'
),
new_quote AS (
    INSERT INTO quotes (id, account_id, ledger_version, amount_due_minor, amount_minor,
                        bill_months, recently_paid, override, channel, created_at, expires_at)
    SELECT $2, acct.id, acct.ledger_version, o.due, COALESCE($3::bigint, o.due), o.months,
           false, $4::boolean, $5, $6::timestamp, $7::timestamp
    FROM acct, open_bills AS o
    WHERE o.due > 0
      AND ($3::bigint IS NULL
           OR ($3::bigint > 0
               AND ($3::bigint >= o.due OR ($8::boolean AND $3::bigint >= $9::bigint))
               AND ($3::bigint <= o.due OR $10::boolean)))
    RETURNING account_id, amount_due_minor, amount_minor, bill_months
)
SELECT acct.payee_name, acct.area, acct.language, q.amount_due_minor, q.amount_minor,
       q.bill_months
FROM acct JOIN new_quote AS q ON q.account_id = acct.id
"""
QUOTE_BY_CODE = _QUOTE.format(account=_QUOTE_FOR["code"])
QUOTE_FROM_QUOTE = _QUOTE.format(account=_QUOTE_FOR["from_quote"])

QUOTE_FACTS = """
SELECT q.amount_minor, q.channel, q.bill_months, a.payee_name, a.language
FROM quotes AS q JOIN accounts AS a ON a.id = q.account_id
WHERE q.id = $1
"""

# $1 quote id, $2 idempotency key, $3 now, $4 receipt number, $5 payee name and $6 language
# the receipt was built from, $7 the notice's payload (JSON text), $8 its dedupe key, $9 its
# campaign
CONFIRM = """
WITH bump AS (
    UPDATE accounts AS a
    SET ledger_version = a.ledger_version + 1,
        credit_minor = a.credit_minor + GREATEST(q.amount_minor - COALESCE(
            (SELECT SUM(b.amount_minor - b.paid_minor) FROM bills AS b
             WHERE b.account_id = q.account_id AND b.status <> 'paid'), 0), 0)
    FROM quotes AS q
    WHERE q.id = $1 AND q.expires_at > $3::timestamp
      AND a.id = q.account_id AND a.ledger_version = q.ledger_version
      AND a.payee_name = $5 AND a.language = $6
      AND NOT EXISTS (SELECT 1 FROM payments AS p WHERE p.idempotency_key = $2)
      AND NOT EXISTS (SELECT 1 FROM payments AS p WHERE p.quote_id = $1)
    RETURNING a.id AS account_id, q.amount_minor, q.override, q.channel
),
pay AS (
    INSERT INTO payments (receipt_number, quote_id, idempotency_key, account_id,
                          amount_minor, override, channel, paid_at)
    SELECT $4, $1, $2, bump.account_id, bump.amount_minor, bump.override, bump.channel,
           $3::timestamp
    FROM bump
    RETURNING id, account_id, amount_minor
),
open_bills AS (
    SELECT b.id, b.amount_minor - b.paid_minor AS owed,
           COALESCE(SUM(b.amount_minor - b.paid_minor) OVER (
               ORDER BY b.month ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM bills AS b JOIN pay ON b.account_id = pay.account_id
    WHERE b.status <> 'paid'
),
shares AS (
    SELECT o.id AS bill_id, LEAST(o.owed, pay.amount_minor - o.before) AS take
    FROM open_bills AS o, pay
    WHERE o.before < pay.amount_minor
),
paid_bills AS (
    UPDATE bills AS b
    SET paid_minor = b.paid_minor + s.take,
        status = CASE WHEN b.paid_minor + s.take = b.amount_minor THEN 'paid' ELSE 'partial' END,
        paid_at = CASE WHEN b.paid_minor + s.take = b.amount_minor THEN $3::timestamp
                       ELSE b.paid_at END
    FROM shares AS s
    WHERE b.id = s.bill_id
    RETURNING b.id
),
allocations AS (
    INSERT INTO payment_allocations (payment_id, bill_id, amount_minor)
    SELECT pay.id, s.bill_id, s.take FROM pay, shares AS s
    UNION ALL
    SELECT pay.id, NULL, pay.amount_minor - (SELECT COALESCE(SUM(owed), 0) FROM open_bills)
    FROM pay
    WHERE pay.amount_minor > (SELECT COALESCE(SUM(owed), 0) FROM open_bills)
    RETURNING id
),
notice AS (
    INSERT INTO outbox (kind, account_id, payload, created_at, dedupe_key, campaign, state,
                        attempts)
    SELECT 'payment_receipt', pay.account_id, $7::json, $3::timestamp, $8, $9, 'new', 0
    FROM pay
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
)
SELECT pay.id FROM pay
"""

# SQLSTATE classes of a connection that is gone (08: connection exception; 57P01-3: admin
# shutdown, crash shutdown, cannot connect now).
_LOST = ("08", "57P01", "57P02", "57P03")


def connection_lost(exc: BaseException) -> bool:
    """True unless the server refused the statement on a connection that is still good (a
    unique violation…) or an argument could not be encoded (nothing was sent): anything else
    (a socket error, the server's shutdown message, asyncpg confused by a connection the
    server closed while it sat in the pool) leaves the connection unusable or in an unknown
    state."""
    if isinstance(exc, asyncpg.PostgresError):
        return str(getattr(exc, "sqlstate", "") or "").startswith(_LOST)
    return not isinstance(exc, ValueError | TypeError | ArithmeticError)


@dataclass(frozen=True, slots=True)
class QuoteFacts:
    """What a receipt shows of its quote (immutable) and its account (checked at payment)."""

    amount_minor: int
    channel: str
    bill_months: str
    payee_name: str
    language: str


@dataclass(frozen=True, slots=True)
class NewQuote:
    payee_name: str
    area: str
    amount_due_minor: int
    amount_minor: int
    bill_months: str


class PgContract:
    """The two statements, on the engine's pool, and the facts of quotes made here."""

    def __init__(self, engine: AsyncEngine, profile: Profile):
        self.engine = engine
        self.payments = profile.payments
        self.facts: OrderedDict[str, QuoteFacts] = OrderedDict()
        # At most the pool's size of these statements in flight: more would open overflow
        # connections that the pool closes again at once (a fork and a login on the server
        # for each) where waiting here for a pooled one costs nothing.
        pool = engine.sync_engine.pool
        self.in_flight = asyncio.Semaphore(pool.size() if isinstance(pool, QueuePool) else 10)

    async def _fetchrow(self, sql: str, *args: Any) -> Any:
        """One statement on a pooled connection. A connection found dead is invalidated (with
        every connection pooled before it, as SQLAlchemy does on a disconnect) and the
        statement is sent once more on a fresh one. Each is safe to repeat: a confirm that
        did commit before its answer was lost pays nothing the second time (the general path
        then answers with its receipt), and a quote is written under its id at most once (a
        repeat of one that did commit is a unique violation: an error, as the lost
        connection was before)."""
        async with self.in_flight:
            for attempt in (1, 2):
                connection = await self.engine.raw_connection()
                lost: Exception | None = None
                try:
                    driver = connection.driver_connection
                    assert driver is not None
                    return await driver.fetchrow(sql, *args)
                except Exception as exc:
                    if not connection_lost(exc):
                        raise
                    lost = exc
                    if attempt == 2:
                        raise
                finally:
                    # In a greenlet, as SQLAlchemy gives its own connections back: a checkin
                    # may close the connection (past the pool's size), which awaits asyncpg.
                    await greenlet_spawn(self._give_back, connection, lost)
        raise AssertionError("unreachable")

    def _give_back(self, connection: PoolProxiedConnection, lost: Exception | None) -> None:
        if lost is not None:
            # The pool's own disconnect handling (what a Connection does on a disconnect).
            self.engine.sync_engine.pool._invalidate(connection, lost)
        connection.close()

    def remember(self, quote_id: str, facts: QuoteFacts) -> None:
        self.facts[quote_id] = facts
        if len(self.facts) > QUOTE_FACTS_KEPT:
            self.facts.popitem(last=False)

    async def quote(
        self,
        *,
        quote_id: str,
        code: str | None,
        from_quote: str | None,
        amount_minor: int | None,
        override: bool,
        channel: str,
        now: datetime,
        expires_at: datetime,
    ) -> NewQuote | None:
        """The stored quote, or None when the general path must answer (no such account,
        nothing due, an amount the profile refuses)."""
        settings = self.payments
        row = await self._fetchrow(
            QUOTE_FROM_QUOTE if from_quote else QUOTE_BY_CODE,
            from_quote or code,
            quote_id,
            amount_minor,
            override,
            channel,
            now,
            expires_at,
            settings.allow_partial,
            settings.min_partial_minor,
            settings.allow_overpayment,
        )
        if row is None:
            return None
        new = NewQuote(
            row["payee_name"], row["area"], row["amount_due_minor"], row["amount_minor"],
            row["bill_months"],
        )  # fmt: skip
        self.remember(
            quote_id,
            QuoteFacts(new.amount_minor, channel, new.bill_months, new.payee_name, row["language"]),
        )
        return new

    async def quote_facts(self, quote_id: str) -> QuoteFacts | None:
        facts = self.facts.get(quote_id)
        if facts is not None:
            return facts
        row = await self._fetchrow(QUOTE_FACTS, quote_id)
        if row is None:
            return None
        facts = QuoteFacts(
            row["amount_minor"], row["channel"], row["bill_months"], row["payee_name"],
            row["language"],
        )  # fmt: skip
        self.remember(quote_id, facts)
        return facts

    async def pay(
        self,
        *,
        quote_id: str,
        key: str,
        now: datetime,
        receipt_number: str,
        facts: QuoteFacts,
        payload: dict[str, Any],
        dedupe_key: str,
        campaign: str,
    ) -> bool:
        """True when this statement paid; False when the general path must answer."""
        try:
            row = await self._fetchrow(
                CONFIRM,
                quote_id,
                key,
                now,
                receipt_number,
                facts.payee_name,
                facts.language,
                json.dumps(payload),  # as SQLAlchemy's JSON type writes it
                dedupe_key,
                campaign,
            )
        except asyncpg.UniqueViolationError:
            return False  # a concurrent twin (same key or quote) committed first
        if row is None:
            return False
        self.facts.pop(quote_id, None)
        return True
