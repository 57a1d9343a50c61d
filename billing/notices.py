"""Outbound notices, the ledger's side: campaigns and sweeps that fill the outbox, and the
API the relay and the workers (messaging/) drive each message's state through.

SQL holds every message and its state; Redis only carries the work between the relay and the
workers (DESIGN.md, "Reliability and security facts"). The rules:

- Every row has a `dedupe_key`; writers insert with ON CONFLICT DO NOTHING, so a bill cycle
  or a sweep run twice, or an event replayed, never queues a message twice. Campaigns and
  sweeps are one INSERT … SELECT each: a million accounts are one statement, not a loop.
- States: new → queued (the relay chose a channel) → sending (a worker claimed it) → sent (the
  provider accepted it, with its SID) → delivered → read; or suppressed (opted out, no phone,
  unrenderable), failed (permanent), undelivered (the provider says so).
- Every transition is a guarded UPDATE … RETURNING: the WHERE clause states the state the row
  must be in, so two workers racing for one message cannot both win, and a retried call
  finds the row already moved and answers with its state instead of moving it again.
- A claim that stays `sending` longer than `stale_after_s` belonged to a worker that died
  mid-send; the next claim takes it over as "reconcile" (look the message up at the provider
  before sending again), decided by a compare-and-set on `claimed_at`, so exactly one of
  several racing callers gets it.
- Contact preferences: no row means SMS opted in (the number the utility bills to) and
  WhatsApp opted out (WhatsApp needs an explicit opt-in). Opting out applies to every account
  registered with the number, and is checked again at claim time.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    CursorResult,
    DateTime,
    Integer,
    Select,
    String,
    Text,
    and_,
    case,
    false,
    func,
    literal,
    literal_column,
    not_,
    null,
    select,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Update

from billing.db import AsyncSession, SessionFactory
from billing.ledger import Clock, Refusal, iso, utc_now
from billing.models import (
    Account,
    Bill,
    Complaint,
    ContactPreference,
    Credit,
    OutboxMessage,
    PaymentCode,
)
from billing.outbox import COMPLAINTS, dialect_insert
from billing.rule_answers import RuleAnswers
from tasdeed.contract import RefusalReason
from tasdeed.logs import get_logger
from tasdeed.normalise import normalise_digits
from tasdeed.profile import Profile
from tasdeed.rules.settings import rule_settings

log = get_logger("billing.notices")

# A column expression as select() and func accept it (a mapped attribute or any SQL
# expression); SQLAlchemy's own argument types do not compose across those.
SqlValue = Any
Rows = Select[*tuple[Any, ...]]

Out = OutboxMessage  # short: it is in every statement below
CHANNELS = ("sms", "whatsapp")
# Why the relay did not queue a row: the person opted out of every channel it could use, the
# account has no number, or the row cannot be rendered (a ledger bug, logged by the relay).
SUPPRESSION_REASONS = ("opted_out", "no_phone", "bad_data")
NO_CAMPAIGN = "none"  # rows written before campaigns existed
CLAIMABLE = ("new", "queued")
REMINDERS, WARNINGS = "reminders", "warnings"
PENDING_MAX = 5000
COMPENSATION_BATCH = 500  # late complaints credited per sweep (the rest: the next sweep)
MARK_MAX = 10_000  # queued + suppressed items in one request
BATCH_MAX = 200  # messages a worker claims or records in one request
CHUNK = 1000  # ids per UPDATE … WHERE id IN (…)
DEFAULT_STALE_AFTER_S = 30
CYCLE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}", re.ASCII)
PROVIDER_SID = re.compile(r"[A-Za-z0-9_-]{2,40}", re.ASCII)
ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,10}", re.ASCII)

# How far along a message is; a status callback moves a row only to a higher rank, so
# callbacks that arrive late, out of order or twice never move it back.
RANKS = {"sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3, "read": 4}
# Twilio's message statuses and the state each one means here.
PROVIDER_STATES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
PROVIDER_NO_CHANGE = frozenset(
    {"accepted", "scheduled", "queued", "sending", "receiving", "received", "partially_delivered"}
)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _bad(field: str, status: int = 422) -> Refusal:
    return Refusal(RefusalReason.INVALID_REQUEST, status, {"field": field})


def _unknown_row() -> Refusal:
    return Refusal(RefusalReason.INVALID_REQUEST, 404, {"detail": "unknown outbox message"})


def state_is(*states: str) -> ColumnElement[bool]:
    """A guard on the row's state for statements driven by ids, written so PostgreSQL cannot
    use the (state, id) index for it (`state || ''`). With statistics a bill cycle has made
    stale, the planner took that index and scanned every queued row of a million-row cycle
    for each one-row claim (84 sends/s) or 1,000-id mark (7 s a page); the primary key is
    what should find these rows."""
    unindexed = Out.state + ""
    return unindexed == states[0] if len(states) == 1 else unindexed.in_(states)


def claim_claimable(rows: ColumnElement[bool], token: str, now: datetime) -> Update:
    """new/queued → `sending` (or `suppressed` when the person has opted out of the row's
    channel by now) for the rows matched, as one guarded UPDATE."""
    opted_out = not_(_opted_in_now())
    return (
        update(Out)
        .where(rows, state_is(*CLAIMABLE))
        .values(
            state=case((opted_out, "suppressed"), else_="sending"),
            error_code=case((opted_out, "opted_out"), else_=Out.error_code),
            claimed_at=case((opted_out, Out.claimed_at), else_=now),
            claim_token=case((opted_out, Out.claim_token), else_=token),
            attempts=case((opted_out, Out.attempts), else_=Out.attempts + 1),
            updated_at=now,
        )
    )


def normalise_phone(raw: str) -> str | None:
    """E.164 ("+201001234567") from what Twilio or a person sends ("whatsapp:+20…", spaces,
    dashes, Arabic-Indic digits); None when it is not a phone number."""
    text = normalise_digits(raw.strip().removeprefix("whatsapp:"))
    text = re.sub(r"[\s\-().]", "", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.isascii() and text.isdigit():
        text = "+" + text
    return text if E164.fullmatch(text) else None


def _opted_in_now() -> ColumnElement[bool]:
    """SQL: has the row's account opted in to the row's channel (no channel yet: SMS)?"""
    channel = func.coalesce(Out.channel, "sms")
    choice = (
        select(ContactPreference.opted_in)
        .where(ContactPreference.account_id == Out.account_id, ContactPreference.channel == channel)
        .scalar_subquery()
    )
    default = case((channel == "whatsapp", false()), else_=true())
    return cast(ColumnElement[bool], func.coalesce(choice, default, type_=Boolean))


class NoticeOutbox:
    def __init__(self, sessions: SessionFactory, profile: Profile, clock: Clock = utc_now):
        self.sessions = sessions
        self.profile = profile
        self.clock = clock
        self.zone = ZoneInfo(profile.timezone)

    # ---- writing many rows at once -------------------------------------------------------

    @staticmethod
    def _json_object(s: AsyncSession, **fields: SqlValue) -> ColumnElement[Any]:
        """A JSON object built by the database per row (keys are code constants)."""
        postgres = s.get_bind().dialect.name == "postgresql"
        args: list[SqlValue] = []
        for key, value in fields.items():
            assert key.isidentifier()
            args += [literal_column(f"'{key}'"), value]
        builder = func.json_build_object if postgres else func.json_object
        return builder(*args, type_=JSON)

    @staticmethod
    def _source(
        *,
        kind: str,
        account_id: SqlValue,
        payload: SqlValue,
        now: datetime,
        dedupe_key: SqlValue,
        campaign: str,
        bill_id: SqlValue | None = None,
    ) -> Rows:
        return select(
            literal(kind, String(40)),
            account_id,
            payload,
            literal(now, DateTime),
            dedupe_key,
            literal(campaign, String(40)),
            bill_id if bill_id is not None else sql_cast(null(), Integer),
            literal("new", String(20)),
            literal(0, Integer),
        )

    @staticmethod
    async def _insert_from(s: AsyncSession, source: Rows) -> int:
        """INSERT … SELECT, skipping rows whose dedupe key exists; returns rows created."""
        columns = [
            "kind",
            "account_id",
            "payload",
            "created_at",
            "dedupe_key",
            "campaign",
            "bill_id",
            "state",
            "attempts",
        ]
        statement = (
            dialect_insert(s)(OutboxMessage)
            .from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        return _rowcount(await (await s.connection()).execute(statement))

    @staticmethod
    def _key(prefix: str, *parts: SqlValue) -> ColumnElement[Any]:
        key: ColumnElement[Any] = literal(prefix, String(200))
        for index, part in enumerate(parts):
            if index:
                key = key + literal(":", String(1))
            key = key + sql_cast(part, String)
        return key

    async def issue_bill_cycle(self, cycle: str) -> dict[str, Any]:
        """One `bill_issued` notice per unpaid bill of the month, for accounts with a phone."""
        if not CYCLE.fullmatch(cycle):
            raise _bad("cycle", 400)
        campaign = f"bill:{cycle}"
        now = self.clock()
        async with self.sessions() as s, s.begin():
            source = self._source(
                kind="bill_issued",
                account_id=Bill.account_id,
                payload=literal({"cycle": cycle}, JSON),
                now=now,
                dedupe_key=self._key(f"bill:{cycle}:", Bill.account_id),
                campaign=campaign,
                bill_id=Bill.id,
            ).where(
                Bill.account_id == Account.id,
                Bill.month == cycle,
                Bill.status != "paid",
                Account.phone.is_not(None),
            )
            created = await self._insert_from(s, source)
            total = await s.scalar(select(func.count(Out.id)).where(Out.campaign == campaign))
        log.info("bill cycle notices", cycle=cycle, created=created, total=total)
        return {"cycle": cycle, "campaign": campaign, "created": created, "total": int(total or 0)}

    def local_date(self, moment: datetime) -> date:
        """The utility's calendar date at a (naive UTC) moment: due dates are local dates."""
        return moment.replace(tzinfo=UTC).astimezone(self.zone).date()

    async def sweep(self, now: datetime | None = None) -> dict[str, Any]:
        """Due reminders, complaint SLA breaches and prepaid-meter warnings, each written once
        whatever the number of runs (run it hourly, say; its dedupe keys make it idempotent),
        and the compensation of complaints a guaranteed standard covers (Saudi billing
        complaints) that ran late, credited once (`_credit_late_complaints`)."""
        now = now or self.clock()
        rules = rule_settings(self.profile)
        standard = rules.compensation.billing_complaint if rules.compensation else None
        # Those complaints hear of their breach from the compensation notice, not twice.
        under_standard = standard.complaint_categories if standard is not None else ()
        days = self.profile.notices.reminder_days_before
        today = self.local_date(now)
        until = today + timedelta(days=days)
        created: dict[str, int] = {}
        async with self.sessions() as s, s.begin():
            reminders = self._source(
                kind="due_reminder",
                account_id=Bill.account_id,
                payload=literal({"due_within_days": days}, JSON),
                now=now,
                dedupe_key=self._key("reminder:", Bill.id),
                campaign=REMINDERS,
                bill_id=Bill.id,
            ).where(
                Bill.account_id == Account.id,
                Bill.status != "paid",
                Bill.due_date >= today,
                Bill.due_date <= until,
                Account.phone.is_not(None),
            )
            created["due_reminder"] = await self._insert_from(s, reminders)
            breaches = self._source(
                kind="complaint_sla_breach",
                account_id=Complaint.account_id,
                payload=self._json_object(
                    s, ticket_number=Complaint.ticket_number, category=Complaint.category
                ),
                now=now,
                dedupe_key=self._key("sla:", Complaint.ticket_number),
                campaign=COMPLAINTS,
            ).where(
                Complaint.status.in_(("open", "in_progress")),
                Complaint.sla_due_at < now,
                Complaint.category.not_in(under_standard),
            )
            created["complaint_sla_breach"] = await self._insert_from(s, breaches)
            created["prepaid_warning"] = 0
            prepaid = rules.prepaid_conversion
            if prepaid is not None:
                unpaid = func.count(Bill.id)
                warnings = (
                    self._source(
                        kind="prepaid_warning",
                        account_id=Bill.account_id,
                        payload=self._json_object(s, unpaid_bills=unpaid),
                        now=now,
                        dedupe_key=self._key("prepaid:", Bill.account_id, func.max(Bill.month)),
                        campaign=WARNINGS,
                    )
                    .where(
                        Bill.account_id == Account.id,
                        Bill.status != "paid",
                        Account.phone.is_not(None),
                    )
                    .group_by(Bill.account_id)
                    .having(unpaid >= prepaid.min_unpaid_bills)
                )
                created["prepaid_warning"] = await self._insert_from(s, warnings)
        created["complaint_compensation"] = await self._credit_late_complaints(now, under_standard)
        log.info("notice sweep", **created)
        return {"now": iso(now), "created": created}

    async def _credit_late_complaints(self, now: datetime, categories: Sequence[str]) -> int:
        """Credit the compensation of complaints under a guaranteed standard that ran late
        (still open when their SLA ran out, or answered after it) and were not credited yet;
        returns how many were credited now. The standard itself judges each complaint
        (billing/rule_answers.py), in a transaction of its own with its credit, the account's
        balance and the `complaint_compensation` notice; the credit's unique key makes a second
        sweep, a concurrent one, or a person asking about compensation meanwhile credit
        nothing more."""
        if not categories:
            return 0
        credit_key = literal("billing_complaint|complaint:", String(300)) + Complaint.ticket_number
        async with self.sessions() as s, s.begin():
            late = (
                await s.scalars(
                    select(Complaint.id)
                    .where(
                        Complaint.category.in_(categories),
                        Complaint.sla_due_at <= now,
                        (Complaint.resolved_at.is_(None))
                        | (Complaint.resolved_at >= Complaint.sla_due_at),
                        ~select(Credit.id).where(Credit.credit_key == credit_key).exists(),
                    )
                    .order_by(Complaint.sla_due_at, Complaint.id)
                    .limit(COMPENSATION_BATCH)
                )
            ).all()
        rules = RuleAnswers(self.profile, lambda: now)
        credited = 0
        for complaint_id in late:
            async with self.sessions() as s, s.begin():
                complaint = await s.get(Complaint, complaint_id)
                if complaint is not None and await rules.credit_complaint_breach(s, complaint):
                    credited += 1
        return credited

    # ---- the relay: what is new, and what became of it ------------------------------------

    async def pending(self, after: int, limit: int, campaign: str | None = None) -> dict[str, Any]:
        """New rows after an id, with everything the relay needs to render and route them
        (one query: phone, language, payment code, channel choices, the bill)."""
        if after < 0:
            raise _bad("after")
        if not 1 <= limit <= PENDING_MAX:
            raise _bad("limit")
        sms = aliased(ContactPreference)
        whatsapp = aliased(ContactPreference)
        query = (
            select(
                Out.id,
                Out.kind,
                Out.dedupe_key,
                Out.campaign,
                Out.account_id,
                Account.phone,
                Account.language,
                PaymentCode.code,
                func.coalesce(sms.opted_in, true(), type_=Boolean).label("sms_opt_in"),
                func.coalesce(whatsapp.opted_in, false(), type_=Boolean).label("wa_opt_in"),
                sql_cast(Out.payload, Text),  # decoded once per distinct payload below
                Out.bill_id,
                Bill.month,
                (Bill.amount_minor - Bill.paid_minor).label("amount_due_minor"),
                Bill.due_date,
                Out.created_at,
            )
            .select_from(Out)
            .join(Account, Account.id == Out.account_id)
            .outerjoin(PaymentCode, PaymentCode.account_id == Out.account_id)
            .outerjoin(sms, and_(sms.account_id == Out.account_id, sms.channel == "sms"))
            .outerjoin(
                whatsapp,
                and_(whatsapp.account_id == Out.account_id, whatsapp.channel == "whatsapp"),
            )
            .outerjoin(Bill, Bill.id == Out.bill_id)
            .where(Out.state == "new", Out.id > after)
            .order_by(Out.id)
            .limit(limit)
        )
        if campaign is not None:
            query = query.where(Out.campaign == campaign)
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            if conn.dialect.name == "postgresql":
                # A page is a few thousand index look-ups: starting parallel workers for it
                # costs more than it saves on a small machine (and varies with load).
                await conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
            rows = (await conn.execute(query)).all()
        # A page is mostly one campaign: the same payload, creation time and due date on
        # every row. Decoding and formatting each distinct value once keeps a page of 5000
        # well inside its budget; the shared dicts are only ever serialised.
        payloads: dict[str, Any] = {}
        moments: dict[datetime, str] = {}
        days: dict[date, str] = {}
        items = []
        for (
            outbox_id,
            kind,
            dedupe_key,
            row_campaign,
            account_id,
            phone,
            language,
            code,
            sms_opt_in,
            whatsapp_opt_in,
            payload_text,
            bill_id,
            month,
            amount_due,
            due_date,
            created_at,
        ) in rows:
            payload = payloads.get(payload_text)
            if payload is None:
                payload = payloads[payload_text] = json.loads(payload_text)
            created = moments.get(created_at)
            if created is None:
                created = moments[created_at] = iso(created_at)
            bill = None
            if bill_id is not None:
                due = days.get(due_date)
                if due is None:
                    due = days[due_date] = due_date.isoformat()
                bill = {"month": month, "amount_due_minor": int(amount_due), "due_date": due}
            items.append(
                {
                    "id": outbox_id,
                    "kind": kind,
                    "dedupe_key": dedupe_key,
                    "campaign": row_campaign,
                    "account_id": account_id,
                    "phone": phone,
                    "language": language,
                    "payment_code": code,
                    "sms_opt_in": bool(sms_opt_in),
                    "whatsapp_opt_in": bool(whatsapp_opt_in),
                    "payload": payload,
                    "bill": bill,
                    "created_at": created,
                }
            )
        return {"items": items, "next_after": items[-1]["id"] if items else None}

    async def mark_queued(
        self, queued: Sequence[tuple[int, str, int | None]], suppressed: Sequence[tuple[int, str]]
    ) -> dict[str, int]:
        """The relay's verdicts, in bulk: (id, channel, segments) now queued, (id, reason)
        suppressed. Only rows still `new` move; one UPDATE per (channel, segments) or reason
        per thousand ids, never one statement per row."""
        if len(queued) + len(suppressed) > MARK_MAX:
            raise Refusal(RefusalReason.INVALID_REQUEST, 413, {"max_items": MARK_MAX})
        groups: dict[tuple[str, int | None], list[int]] = {}
        for outbox_id, channel, segments in queued:
            if channel not in CHANNELS:
                raise _bad("channel")
            if segments is not None and not 1 <= segments <= 100:
                raise _bad("segments")
            groups.setdefault((channel, segments), []).append(outbox_id)
        reasons: dict[str, list[int]] = {}
        for outbox_id, reason in suppressed:
            if reason not in SUPPRESSION_REASONS:
                raise _bad("reason")
            reasons.setdefault(reason, []).append(outbox_id)
        now = self.clock()
        counts = {"queued": 0, "suppressed": 0}
        still_new = state_is("new")
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            for (channel, segments), ids in groups.items():
                for chunk in _chunks(ids):
                    counts["queued"] += _rowcount(
                        await conn.execute(
                            update(Out)
                            .where(Out.id.in_(chunk), still_new)
                            .values(
                                state="queued", channel=channel, segments=segments, updated_at=now
                            )
                        )
                    )
            for reason, ids in reasons.items():
                for chunk in _chunks(ids):
                    counts["suppressed"] += _rowcount(
                        await conn.execute(
                            update(Out)
                            .where(Out.id.in_(chunk), still_new)
                            .values(state="suppressed", error_code=reason, updated_at=now)
                        )
                    )
        return counts

    # ---- the workers: claim, sent, failed, and the provider's status callbacks ------------

    async def claim(
        self,
        outbox_id: int,
        *,
        worker: str,
        stale_after_s: int = DEFAULT_STALE_AFTER_S,
        claim_token: str | None = None,
    ) -> dict[str, Any]:
        """May this worker send this message now? One of:
        - `send`: it was new/queued and the person still takes the channel; it is `sending`.
        - `suppressed`: the person opted out of the channel since it was queued.
        - `reconcile`: it was `sending` under a claim older than `stale_after_s` (the sender
          died mid-send): look it up at the provider before sending again.
        - `busy`: another worker holds a fresh claim. `done`: it is past sending.
        `claim_token` (the client makes one per call) lets a retried call whose first answer
        was lost get its claim back instead of "busy"."""
        token, now, stale_before = self._claim_terms(worker, stale_after_s, claim_token)
        async with self.sessions() as s, s.begin():
            return await self._claim_one(
                await s.connection(), outbox_id, worker, token, now, stale_before
            )

    def _claim_terms(
        self, worker: str, stale_after_s: int, claim_token: str | None
    ) -> tuple[str, datetime, datetime]:
        """Checked arguments of a claim: its token, its moment, and the stale cut-off."""
        if not 1 <= stale_after_s <= 86_400:
            raise _bad("stale_after_s")
        if not 1 <= len(worker) <= 64:
            raise _bad("worker")
        if claim_token is not None and not TOKEN.fullmatch(claim_token):
            raise _bad("claim_token")
        now = self.clock()
        return claim_token or secrets.token_hex(16), now, now - timedelta(seconds=stale_after_s)

    async def claim_many(
        self,
        outbox_ids: Sequence[int],
        *,
        worker: str,
        stale_after_s: int = DEFAULT_STALE_AFTER_S,
        claim_token: str | None = None,
    ) -> dict[int, dict[str, Any]]:
        """`claim` for a worker's whole batch in one transaction (one commit instead of one
        per message: on bill day the ledger's commits are what limits sending). Rows are
        claimed in id order, so two workers' overlapping batches cannot deadlock; an id
        that does not exist answers `done` with state `missing`."""
        if not 1 <= len(outbox_ids) <= BATCH_MAX:
            raise _bad("ids")
        token, now, stale_before = self._claim_terms(worker, stale_after_s, claim_token)
        answers: dict[int, dict[str, Any]] = {}
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            # The usual case, every message still queued: one statement for the batch.
            moved = await conn.execute(
                claim_claimable(Out.id.in_(sorted(set(outbox_ids))), token, now).returning(
                    Out.id, Out.state, Out.attempts
                )
            )
            for row in moved.all():
                answers[row.id] = (
                    {"decision": "suppressed", "state": "suppressed"}
                    if row.state == "suppressed"
                    else {"decision": "send", "attempt": row.attempts, "claimed_at": iso(now)}
                )
            # The rest (sending, done, missing) one by one, as `claim` decides them.
            for outbox_id in sorted(set(outbox_ids) - set(answers)):
                try:
                    answers[outbox_id] = await self._claim_one(
                        conn, outbox_id, worker, token, now, stale_before
                    )
                except Refusal:
                    answers[outbox_id] = {"decision": "done", "state": "missing"}
        return answers

    async def _claim_one(
        self,
        conn: AsyncConnection,
        outbox_id: int,
        worker: str,
        token: str,
        now: datetime,
        stale_before: datetime,
    ) -> dict[str, Any]:
        for _round in range(3):
            decision = await self._claim_round(conn, outbox_id, token, now, stale_before)
            if decision is not None:
                if decision["decision"] in ("reconcile", "suppressed"):  # sends: too many
                    log.info("notice claim", id=outbox_id, worker=worker, **decision)
                return decision
        return {"decision": "busy"}

    @staticmethod
    async def _claim_round(
        conn: AsyncConnection, outbox_id: int, token: str, now: datetime, stale_before: datetime
    ) -> dict[str, Any] | None:
        """One decision; None when the row changed under us between look and compare-and-set."""
        # new/queued → suppressed or sending, decided and done by one guarded UPDATE.
        moved = (
            await conn.execute(
                claim_claimable(Out.id == outbox_id, token, now).returning(Out.state, Out.attempts)
            )
        ).first()
        if moved is not None:
            if moved.state == "suppressed":
                return {"decision": "suppressed", "state": "suppressed"}
            return {"decision": "send", "attempt": moved.attempts, "claimed_at": iso(now)}
        current = (
            await conn.execute(
                select(Out.state, Out.claimed_at, Out.claim_token, Out.attempts).where(
                    Out.id == outbox_id
                )
            )
        ).first()
        if current is None:
            raise _unknown_row()
        if current.state in CLAIMABLE:
            return None  # released between our UPDATE and our look: decide again
        if current.state != "sending":
            return {"decision": "done", "state": current.state}
        previous: datetime | None = current.claimed_at
        if previous is not None and previous >= stale_before:
            if current.claim_token == token:
                # Our own claim, whose answer was lost: the caller has not acted on it yet.
                # A first attempt is a plain send; a later one may follow a sender that died,
                # so the safe answer is to reconcile.
                return {
                    "decision": "send" if current.attempts == 1 else "reconcile",
                    "attempt": current.attempts,
                    "claimed_at": iso(previous),
                    "previous_claimed_at": None,
                    "replayed": True,
                }
            return {"decision": "busy"}
        # Stale: take it over only if the claim is still the one we saw (compare-and-set on
        # claimed_at), so among racing callers exactly one reconciles.
        same_claim = Out.claimed_at.is_(None) if previous is None else Out.claimed_at == previous
        taken = (
            await conn.execute(
                update(Out)
                .where(Out.id == outbox_id, state_is("sending"), same_claim)
                .values(
                    claimed_at=now, claim_token=token, attempts=Out.attempts + 1, updated_at=now
                )
                .returning(Out.attempts)
            )
        ).first()
        if taken is None:
            return None
        return {
            "decision": "reconcile",
            "attempt": taken.attempts,
            "claimed_at": iso(now),
            "previous_claimed_at": iso(previous) if previous is not None else None,
        }

    async def _state(self, conn: AsyncConnection, where: ColumnElement[bool]) -> Any:
        row = (await conn.execute(select(Out.state, Out.provider_sid).where(where))).first()
        if row is None:
            raise _unknown_row()
        return row

    async def _move(
        self, conn: AsyncConnection, move: Update, row: ColumnElement[bool]
    ) -> tuple[dict[str, Any], Any]:
        """Run a guarded UPDATE; when its guard no longer holds, report the row as it is.
        Returns the answer and the current row (None when the update moved it)."""
        moved = (await conn.execute(move.returning(Out.state))).first()
        if moved is not None:
            return {"state": moved.state, "changed": True}, None
        current = await self._state(conn, row)
        return {"state": current.state, "changed": False}, current

    async def sent(self, outbox_id: int, provider_sid: str, status: str) -> dict[str, Any]:
        """The provider accepted the message: sending → sent with its SID. The same SID again
        answers the row's state; another SID for a row that has one is a conflict (409)."""
        async with self.sessions() as s, s.begin():
            answer = await self._sent_one(await s.connection(), outbox_id, provider_sid, status)
        conflict = answer.pop("conflict", None)
        if conflict is not None:
            raise Refusal(RefusalReason.INVALID_REQUEST, 409, {"conflict": conflict, **answer})
        return answer

    async def sent_many(self, items: Sequence[tuple[int, str, str]]) -> dict[int, dict[str, Any]]:
        """`sent` for a batch of (id, provider_sid, status) in one transaction; a conflict is
        that item's answer (`{"conflict": …}`), not the whole request's."""
        if not 1 <= len(items) <= BATCH_MAX:
            raise _bad("items")
        answers: dict[int, dict[str, Any]] = {}
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            answers = await self._sent_together(conn, items)
            for outbox_id, provider_sid, status in sorted(items):
                if outbox_id in answers:
                    continue
                try:
                    answers[outbox_id] = await self._sent_one(conn, outbox_id, provider_sid, status)
                except Refusal as refusal:
                    answers[outbox_id] = {"conflict": refusal.details.get("field", "unknown")}
        return answers

    async def _sent_together(
        self, conn: AsyncConnection, items: Sequence[tuple[int, str, str]]
    ) -> dict[int, dict[str, Any]]:
        """The usual case — every message `sending`, new SIDs — as one UPDATE; what it does
        not move (or a SID already in use, which fails the statement) goes one by one."""
        sids: dict[int, str] = {}
        for outbox_id, provider_sid, status in items:
            if not PROVIDER_SID.fullmatch(provider_sid) or status.strip().lower() in (
                "delivered",
                "read",
                "undelivered",
                "failed",
            ):
                return {}  # unusual: let `_sent_one` validate and rank each
            sids[outbox_id] = provider_sid
        if len(sids) != len(items):
            return {}
        now = self.clock()
        try:
            async with conn.begin_nested():
                moved = await conn.execute(
                    update(Out)
                    .where(Out.id.in_(sorted(sids)), state_is("sending"))
                    .values(
                        state="sent",
                        provider_sid=case(sids, value=Out.id),
                        sent_at=now,
                        updated_at=now,
                    )
                    .returning(Out.id, Out.state)
                )
                return {row.id: {"state": row.state, "changed": True} for row in moved.all()}
        except IntegrityError:
            return {}

    async def _sent_one(
        self, conn: AsyncConnection, outbox_id: int, provider_sid: str, status: str
    ) -> dict[str, Any]:
        if not PROVIDER_SID.fullmatch(provider_sid):
            raise _bad("provider_sid")
        status = status.strip().lower()
        target = "sent"
        mapped = PROVIDER_STATES.get(status)
        if mapped is not None and RANKS[mapped] > RANKS[target]:
            target = mapped  # the provider already knows more (rare, but keep it)
        now = self.clock()
        try:
            async with conn.begin_nested():  # a duplicate SID fails this item, not the batch
                answer, current = await self._move(
                    conn,
                    update(Out)
                    .where(Out.id == outbox_id, state_is("sending"))
                    .values(state=target, provider_sid=provider_sid, sent_at=now, updated_at=now),
                    Out.id == outbox_id,
                )
        except IntegrityError:
            return {"conflict": "provider_sid_in_use"}
        if current is None or current.provider_sid == provider_sid:
            return answer
        conflict = "provider_sid" if current.provider_sid is not None else "state"
        return {"conflict": conflict, "state": current.state}

    async def failed(
        self, outbox_id: int, error_code: str, *, release: bool, attempt: int | None = None
    ) -> dict[str, Any]:
        """Sending failed: for good (sending → failed), or to be retried (release: sending →
        queued). With `attempt` (from the claim), only that claim is ended: a retried call can
        never release a newer claim of another worker."""
        if not ERROR_CODE.fullmatch(error_code):
            raise _bad("error_code")
        target = "queued" if release else "failed"
        guard = [Out.id == outbox_id, state_is("sending")]
        if attempt is not None:
            guard.append(Out.attempts == attempt)
        now = self.clock()
        async with self.sessions() as s, s.begin():
            answer, _ = await self._move(
                await s.connection(),
                update(Out)
                .where(*guard)
                .values(state=target, error_code=error_code, updated_at=now),
                Out.id == outbox_id,
            )
        return answer

    async def provider_status(
        self, provider_sid: str, status: str, error_code: str | None = None
    ) -> dict[str, Any]:
        """A status callback: applied only if it moves the message further along."""
        if not PROVIDER_SID.fullmatch(provider_sid):
            raise _bad("provider_sid")
        if error_code is not None and not ERROR_CODE.fullmatch(error_code):
            raise _bad("error_code")
        status = status.strip().lower()
        target = PROVIDER_STATES.get(status)
        if target is None and status not in PROVIDER_NO_CHANGE:
            raise _bad("status")
        now = self.clock()
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            if target is not None:
                rank = case(RANKS, value=Out.state, else_=0)
                values: dict[str, Any] = {"state": target, "updated_at": now}
                if error_code is not None:
                    values["error_code"] = error_code
                answer, _ = await self._move(
                    conn,
                    update(Out)
                    .where(Out.provider_sid == provider_sid, rank < RANKS[target])
                    .values(**values),
                    Out.provider_sid == provider_sid,
                )
                return answer
            current = await self._state(conn, Out.provider_sid == provider_sid)
        return {"state": current.state, "changed": False}

    async def counts(self, campaign: str | None = None) -> dict[str, Any]:
        query = select(Out.state, func.count(Out.id)).group_by(Out.state)
        if campaign is not None:
            query = query.where(Out.campaign == campaign)
        async with self.sessions() as s, s.begin():
            rows = (await (await s.connection()).execute(query)).all()
        return {"campaign": campaign, "counts": {state: int(n) for state, n in rows}}

    async def requeue_stale(self, older_than_s: int) -> dict[str, Any]:
        """Rows queued longer ago than `older_than_s` go back to 'new' for the relay. For a
        work queue that lost entries (Redis restarted without persistence, a stream deleted):
        the outbox, not Redis, is the record. A row whose old entry does turn up is still sent
        once, because only one claim can move it to 'sending'."""
        now = self.clock()
        cutoff = now - timedelta(seconds=older_than_s)
        async with self.sessions() as s, s.begin():
            result = await (await s.connection()).execute(
                update(Out)
                .where(Out.state == "queued", Out.updated_at <= cutoff)
                .values(state="new", updated_at=now)
            )
        return {"requeued": _rowcount(result)}

    async def counts_by_campaign(self) -> dict[str, dict[str, int]]:
        """Every campaign's rows by state (the relay's gauges); one GROUP BY."""
        query = select(Out.campaign, Out.state, func.count(Out.id)).group_by(
            Out.campaign, Out.state
        )
        async with self.sessions() as s, s.begin():
            rows = (await (await s.connection()).execute(query)).all()
        campaigns: dict[str, dict[str, int]] = {}
        for campaign, state, n in rows:
            campaigns.setdefault(campaign or NO_CAMPAIGN, {})[state] = int(n)
        return campaigns

    # ---- consent ----------------------------------------------------------------------------

    async def set_contact_preference(
        self, phone: str, channel: str, *, opted_in: bool, source: str
    ) -> dict[str, Any]:
        """Opt a number in or out of a channel, for every account registered with it.
        A number no account has is not an error (0 accounts): STOP from a stranger is fine."""
        number = normalise_phone(phone)
        if number is None:
            raise _bad("phone")
        if channel not in CHANNELS:
            raise _bad("channel")
        source = source.strip()
        if not 1 <= len(source) <= 30:
            raise _bad("source")
        now = self.clock()
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            accounts = int(
                await conn.scalar(select(func.count(Account.id)).where(Account.phone == number))
                or 0
            )
            if accounts:
                insert = dialect_insert(s)(ContactPreference).from_select(
                    ["account_id", "channel", "opted_in", "source", "updated_at"],
                    select(
                        Account.id,
                        literal(channel, String(10)),
                        literal(opted_in, Boolean),
                        literal(source, String(30)),
                        literal(now, DateTime),
                    ).where(Account.phone == number),
                )
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["account_id", "channel"],
                        set_={
                            "opted_in": insert.excluded.opted_in,
                            "source": insert.excluded.source,
                            "updated_at": insert.excluded.updated_at,
                        },
                    )
                )
        # Never the number itself in logs (tasdeed.logs masks it too, by key and by shape).
        log.info(
            "contact preference",
            channel=channel,
            opted_in=opted_in,
            source=source,
            accounts=accounts,
        )
        return {"accounts": accounts, "channel": channel, "opted_in": opted_in}
