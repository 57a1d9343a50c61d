"""The one client every channel and the action server use to reach the billing backend.

Timeouts are short and explicit (a USSD hop or a Twilio webhook has seconds, and Rasa gives
actions five minutes, which is far too long for a person waiting). Retries happen only for
calls that are safe to repeat: reads, quotes (they move no money) and the writes that carry
an idempotency key (confirm, complaint, installment plan). The outbound-notice calls are safe
to repeat by design: campaigns and sweeps are deduplicated by key, every state change is
guarded by the state it leaves (a repeat finds it done and answers the state), and a claim
carries a token made once per call, so a claim whose answer was lost is answered again
instead of "busy". A confirm whose answer never
arrived raises `PaymentOutcomeUnknown`, never a plain failure: the channel must not offer to
pay again under a new key, and can ask `payment_status(key)` later.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlencode

import aiohttp

from tasdeed.contract import (
    Balance,
    ComplaintTicket,
    InstallmentPlan,
    Quote,
    ReadingReceipt,
    Receipt,
    RefusalReason,
    RuleAnswer,
)
from tasdeed.money import Money
from tasdeed.text import text_from_json


class BillingError(Exception):
    """Base of everything the billing client raises."""


class BillingUnavailable(BillingError):
    """The backend could not be reached or failed; nothing was changed by this call."""


class BillingUnauthorized(BillingUnavailable):
    """The backend refused this client's service token (401/403): it read nothing, changed
    nothing, and asking again will not help (SERVICE_TOKEN differs between the two)."""


class PaymentOutcomeUnknown(BillingError):
    """A confirm was sent but no answer came back: the payment may or may not have happened."""

    def __init__(self, idempotency_key: str):
        super().__init__("payment outcome unknown")
        self.idempotency_key = idempotency_key


@dataclass
class BillingRefused(BillingError):
    """The backend refused; `reason` is machine-readable, `details` fill the message."""

    reason: RefusalReason
    details: dict[str, Any]

    def __str__(self) -> str:
        return self.reason.value


DEMO_RESET_TIMEOUT_S = 60.0  # refilling a demo ledger takes seconds on SQLite


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 1.0
    total_s: float = 3.0


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def _maybe_when(text: str | None) -> datetime | None:
    return _when(text) if text else None


# ---- outbound notices (the backend's billing/notices.py) -----------------------------------

NoticeChannel = Literal["sms", "whatsapp"]
ClaimVerdict = Literal["send", "reconcile", "busy", "done", "suppressed"]
_VERDICTS: dict[str, ClaimVerdict] = {
    "send": "send",
    "reconcile": "reconcile",
    "busy": "busy",
    "done": "done",
    "suppressed": "suppressed",
}


@dataclass(frozen=True, slots=True)
class BillCycleNotices:
    cycle: str  # YYYY-MM
    campaign: str  # "bill:YYYY-MM"
    created: int  # rows this call wrote (0 when the cycle was already issued)
    total: int  # rows of the campaign in all


@dataclass(frozen=True, slots=True)
class SweepResult:
    now: datetime
    created: Mapping[str, int]  # per kind: due_reminder, complaint_sla_breach, prepaid_warning


@dataclass(frozen=True, slots=True)
class NoticeBill:
    month: str  # YYYY-MM
    amount_due_minor: int  # what is still due on that bill, in the profile's currency
    due_date: date


@dataclass(frozen=True, slots=True)
class PendingNotice:
    id: int
    kind: str  # tasdeed.notices.kinds.NoticeKind values
    dedupe_key: str | None
    campaign: str | None
    account_id: int
    phone: str | None  # E.164; None: suppress as "no_phone"
    language: str
    payment_code: str | None
    sms_opt_in: bool
    whatsapp_opt_in: bool
    payload: Mapping[str, Any]
    bill: NoticeBill | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingNotices:
    items: tuple[PendingNotice, ...]
    next_after: int | None  # pass as `after` for the next page; None: nothing more now


@dataclass(frozen=True, slots=True)
class QueuedNotice:
    id: int
    channel: NoticeChannel
    segments: int | None


@dataclass(frozen=True, slots=True)
class SuppressedNotice:
    id: int
    reason: Literal["opted_out", "no_phone", "bad_data"]  # bad_data: cannot be rendered


@dataclass(frozen=True, slots=True)
class MarkedNotices:
    queued: int  # rows moved new → queued by this call
    suppressed: int  # rows moved new → suppressed


@dataclass(frozen=True, slots=True)
class NoticeClaim:
    """`send`: go ahead (attempt n). `reconcile`: a sender died mid-send; look the message up
    at the provider before sending again. `busy`: another worker holds it. `done`: past
    sending (`state` says where). `suppressed`: the person opted out since it was queued."""

    decision: ClaimVerdict
    attempt: int | None = None
    claimed_at: datetime | None = None
    previous_claimed_at: datetime | None = None
    state: str | None = None
    replayed: bool = False  # the answer to an earlier try of this same call


@dataclass(frozen=True, slots=True)
class NoticeState:
    state: str  # the row's state after the call
    changed: bool  # False: the call had already been applied, or came too late to matter


@dataclass(frozen=True, slots=True)
class NoticeCounts:
    campaign: str | None
    counts: Mapping[str, int]  # state → rows


@dataclass(frozen=True, slots=True)
class ContactPreferenceResult:
    accounts: int  # accounts registered with the number (0: none, not an error)
    channel: NoticeChannel
    opted_in: bool


def _pending_notice(data: dict[str, Any]) -> PendingNotice:
    bill = data.get("bill")
    return PendingNotice(
        id=int(data["id"]),
        kind=str(data["kind"]),
        dedupe_key=data.get("dedupe_key"),
        campaign=data.get("campaign"),
        account_id=int(data["account_id"]),
        phone=data.get("phone"),
        language=str(data["language"]),
        payment_code=data.get("payment_code"),
        sms_opt_in=bool(data["sms_opt_in"]),
        whatsapp_opt_in=bool(data["whatsapp_opt_in"]),
        payload=dict(data.get("payload") or {}),
        bill=None
        if bill is None
        else NoticeBill(
            month=str(bill["month"]),
            amount_due_minor=int(bill["amount_due_minor"]),
            due_date=date.fromisoformat(bill["due_date"]),
        ),
        created_at=_when(data["created_at"]),
    )


def _notice_claim(data: dict[str, Any]) -> NoticeClaim:
    decision = _VERDICTS.get(str(data.get("decision")))
    if decision is None:
        raise BillingUnavailable("backend answered an unknown claim decision")
    return NoticeClaim(
        decision=decision,
        attempt=int(data["attempt"]) if data.get("attempt") is not None else None,
        claimed_at=_maybe_when(data.get("claimed_at")),
        previous_claimed_at=_maybe_when(data.get("previous_claimed_at")),
        state=data.get("state"),
        replayed=bool(data.get("replayed", False)),
    )


def _notice_state(data: dict[str, Any]) -> NoticeState:
    return NoticeState(state=str(data["state"]), changed=bool(data["changed"]))


def _money(data: dict[str, Any], key: str) -> Money:
    return Money(int(data[key]), str(data["currency"]))


class BillingClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeouts: Timeouts | None = None,
        retries: int = 2,
        backoff_s: float = 0.05,
        session: aiohttp.ClientSession | None = None,
        service_token: str = "",
    ):
        self.base_url = base_url.rstrip("/")
        # `Authorization: Bearer <SERVICE_TOKEN>` on every call when one is configured.
        self._headers = {"Authorization": f"Bearer {service_token}"} if service_token else None
        self.timeouts = timeouts or Timeouts()
        self.retries = retries
        self.backoff_s = backoff_s
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.timeouts.total_s, sock_connect=self.timeouts.connect_s
                ),
                connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30),
            )
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One request with retries on connection errors, timeouts and 5xx answers. Every
        call this client makes is safe to repeat (see the module docstring)."""
        last_error: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                async with self._client().request(
                    method, self.base_url + path, json=body, headers=self._headers
                ) as response:
                    if response.status in (401, 403):
                        raise BillingUnauthorized(f"backend refused the service token ({path})")
                    if response.status >= 500:
                        last_error = BillingUnavailable(f"backend answered {response.status}")
                        continue
                    data = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                last_error = exc
                continue
            if not isinstance(data, dict):
                raise BillingUnavailable("backend answered something that is not an object")
            if response.status >= 400:
                reason = data.pop("error", RefusalReason.INVALID_REQUEST.value)
                try:
                    refusal = RefusalReason(reason)
                except ValueError:
                    refusal = RefusalReason.INVALID_REQUEST
                raise BillingRefused(refusal, data)
            return data
        raise BillingUnavailable(str(last_error)) from last_error

    # ---- reads ----------------------------------------------------------------------

    async def balance(
        self, *, code: str | None = None, account_number: str | None = None
    ) -> Balance:
        data = await self._call(
            "POST", "/v1/balance", {"code": code, "account_number": account_number}
        )
        return Balance(
            account_number=data["account_number"],
            payee_masked=data["payee_masked"],
            area=data["area"],
            amount_due=_money(data, "amount_due_minor"),
            unpaid_months=tuple(data["unpaid_months"]),
            next_due_date=data["next_due_date"],
            credit=_money(data, "credit_minor"),
            prepaid_flagged=bool(data.get("prepaid_flagged", False)),
        )

    async def complaint_status(self, ticket_number: str) -> ComplaintTicket:
        data = await self._call("GET", f"/v1/complaints/{ticket_number}")
        return _ticket(data)

    async def payment_status(self, idempotency_key: str) -> Receipt:
        return _receipt(await self._call("GET", f"/v1/payments/{idempotency_key}"))

    # ---- the payment contract -----------------------------------------------------------

    async def quote(
        self,
        code: str | None,
        *,
        amount: Money | None = None,
        override: bool = False,
        channel: str,
        from_quote: str | None = None,
    ) -> Quote:
        """A quote for a code, or (`from_quote`) for the account of an earlier quote."""
        data = await self._call(
            "POST",
            "/v1/quotes",
            {
                "code": code,
                "from_quote": from_quote,
                "amount_minor": amount.minor if amount else None,
                "override": override,
                "channel": channel,
            },
        )
        return Quote(
            quote_id=data["quote_id"],
            payee_masked=data["payee_masked"],
            area=data["area"],
            bill_months=tuple(data["bill_months"]),
            amount_due=_money(data, "amount_due_minor"),
            amount=_money(data, "amount_minor"),
            expires_at=_when(data["expires_at"]),
            recently_paid=bool(data["recently_paid"]),
            override=bool(data["override"]),
            prepaid_flagged=bool(data.get("prepaid_flagged", False)),
        )

    async def confirm(self, quote_id: str, idempotency_key: str) -> Receipt:
        try:
            data = await self._call(
                "POST",
                "/v1/payments",
                {"quote_id": quote_id, "idempotency_key": idempotency_key},
            )
        except BillingUnauthorized:
            raise  # refused before the payment was read: nothing happened
        except BillingUnavailable as exc:
            raise PaymentOutcomeUnknown(idempotency_key) from exc
        return _receipt(data)

    # ---- complaints and plans ---------------------------------------------------------

    async def file_complaint(
        self,
        *,
        category: str,
        description: str,
        channel: str,
        idempotency_key: str,
        code: str | None = None,
        account_number: str | None = None,
    ) -> ComplaintTicket:
        data = await self._call(
            "POST",
            "/v1/complaints",
            {
                "category": category,
                "description": description,
                "channel": channel,
                "idempotency_key": idempotency_key,
                "code": code,
                "account_number": account_number,
            },
        )
        return _ticket(data)

    async def request_installments(
        self,
        *,
        months: int,
        acknowledge_debt: bool,
        idempotency_key: str,
        code: str | None = None,
        account_number: str | None = None,
    ) -> InstallmentPlan:
        data = await self._call(
            "POST",
            "/v1/installment-plans",
            {
                "months": months,
                "acknowledge_debt": acknowledge_debt,
                "idempotency_key": idempotency_key,
                "code": code,
                "account_number": account_number,
            },
        )
        return InstallmentPlan(
            plan_id=data["plan_number"],
            account_number=account_number or "",
            total=_money(data, "total_minor"),
            installment=_money(data, "installment_minor"),
            months=int(data["months"]),
            status=data["status"],
            first_due_date=data["first_due_date"],
        )

    # ---- utility rules ------------------------------------------------------------------

    async def rule_answer(self, topic: str, *, code: str) -> RuleAnswer:
        data = await self._call("POST", f"/v1/rules/{topic}", {"code": code})
        return RuleAnswer(
            topic=str(data["topic"]),
            outcome=bool(data["outcome"]),
            reasons=tuple(text_from_json(reason) for reason in data["reasons"]),
        )

    async def submit_reading(
        self,
        *,
        code: str | None = None,
        kind: str,
        value: int,
        channel: str,
        idempotency_key: str,
        account_number: str | None = None,
    ) -> ReadingReceipt:
        data = await self._call(
            "POST",
            "/v1/readings",
            {
                "code": code,
                "account_number": account_number,
                "kind": kind,
                "value": value,
                "channel": channel,
                "idempotency_key": idempotency_key,
            },
        )
        return ReadingReceipt(
            kind=str(data["kind"]),
            month=str(data["month"]),
            value=int(data["value"]),
            consumption=int(data["consumption"]),
        )

    async def set_complaint_status(self, ticket_number: str, status: str) -> ComplaintTicket:
        """An operator moves a complaint to in_progress, resolved or closed (the person is
        told once per status). Unknown ticket: BillingRefused(COMPLAINT_UNKNOWN)."""
        data = await self._call(
            "POST", f"/v1/complaints/{ticket_number}/status", {"status": status}
        )
        return _ticket(data)

    # ---- outbound notices: campaigns, the relay, the workers, consent ---------------------

    async def issue_bill_cycle(self, cycle: str) -> BillCycleNotices:
        """One `bill_issued` notice per unpaid bill of the month (YYYY-MM); run it again and
        nothing more is written."""
        data = await self._call("POST", "/v1/notices/bill-cycle", {"cycle": cycle})
        return BillCycleNotices(
            cycle=str(data["cycle"]),
            campaign=str(data["campaign"]),
            created=int(data["created"]),
            total=int(data["total"]),
        )

    async def sweep_notices(self, now: datetime | None = None) -> SweepResult:
        """Due reminders, complaint SLA breaches and prepaid warnings (each written once)."""
        body = {"now": now.isoformat()} if now is not None else {}
        data = await self._call("POST", "/v1/notices/sweep", body)
        return SweepResult(
            now=_when(data["now"]),
            created={str(kind): int(n) for kind, n in data["created"].items()},
        )

    async def pending_notices(
        self, after: int = 0, limit: int = 1000, campaign: str | None = None
    ) -> PendingNotices:
        """New outbox rows after `after` (oldest first, at most `limit` ≤ 5000), with the
        account's phone, language, payment code, channel choices and the bill."""
        query: dict[str, str | int] = {"after": int(after), "limit": int(limit)}
        if campaign is not None:
            query["campaign"] = campaign
        data = await self._call("GET", f"/v1/outbox/pending?{urlencode(query)}")
        items = data.get("items")
        if not isinstance(items, list):
            raise BillingUnavailable("backend answered without a list of items")
        next_after = data.get("next_after")
        return PendingNotices(
            items=tuple(_pending_notice(item) for item in items),
            next_after=None if next_after is None else int(next_after),
        )

    async def mark_notices_queued(
        self,
        items: Sequence[QueuedNotice],
        suppressed: Sequence[SuppressedNotice] = (),
    ) -> MarkedNotices:
        """The relay's verdicts in one call: queued on a channel, or suppressed with a reason.
        Only rows still `new` move, so repeating the call changes nothing."""
        data = await self._call(
            "POST",
            "/v1/outbox/queued",
            {
                "items": [
                    {"id": item.id, "channel": item.channel, "segments": item.segments}
                    for item in items
                ],
                "suppressed": [{"id": item.id, "reason": item.reason} for item in suppressed],
            },
        )
        return MarkedNotices(queued=int(data["queued"]), suppressed=int(data["suppressed"]))

    async def claim_notice(
        self, outbox_id: int, worker: str, stale_after_s: int = 30
    ) -> NoticeClaim:
        """May this worker send the message now (see NoticeClaim)? The claim token is made
        here, once per call, and kept across this client's retries."""
        data = await self._call(
            "POST",
            f"/v1/outbox/{int(outbox_id)}/claim",
            {
                "worker": worker,
                "stale_after_s": int(stale_after_s),
                "claim_token": secrets.token_hex(16),
            },
        )
        return _notice_claim(data)

    async def claim_notices(
        self, outbox_ids: Sequence[int], worker: str, stale_after_s: int = 30
    ) -> dict[int, NoticeClaim]:
        """`claim_notice` for a batch in one ledger transaction (one token for the call)."""
        data = await self._call(
            "POST",
            "/v1/outbox/claims",
            {
                "ids": [int(i) for i in outbox_ids],
                "worker": worker,
                "stale_after_s": int(stale_after_s),
                "claim_token": secrets.token_hex(16),
            },
        )
        return {int(i): _notice_claim(answer) for i, answer in data["claims"].items()}

    async def notices_sent(
        self, items: Sequence[tuple[int, str, str]]
    ) -> dict[int, NoticeState | str]:
        """Record a batch of (outbox id, provider SID, status); per id the resulting state,
        or the conflict's name when another SID already holds that message."""
        data = await self._call(
            "POST",
            "/v1/outbox/sent",
            {"items": [{"id": i, "provider_sid": sid, "status": st} for i, sid, st in items]},
        )
        results: dict[int, NoticeState | str] = {}
        for key, answer in data["results"].items():
            conflict = answer.get("conflict")
            results[int(key)] = str(conflict) if conflict else _notice_state(answer)
        return results

    async def notice_sent(
        self, outbox_id: int, provider_sid: str, status: str = "queued"
    ) -> NoticeState:
        """The provider accepted the message (its SID). The same SID again is fine; another
        SID for a message that has one: BillingRefused with details["conflict"]."""
        data = await self._call(
            "POST",
            f"/v1/outbox/{int(outbox_id)}/sent",
            {"provider_sid": provider_sid, "status": status},
        )
        return _notice_state(data)

    async def notice_failed(
        self, outbox_id: int, error_code: str, release: bool, attempt: int | None = None
    ) -> NoticeState:
        """Sending failed for good (release=False), or should be retried later (release=True:
        back to queued). Pass the claim's `attempt` so that only that claim is ended."""
        data = await self._call(
            "POST",
            f"/v1/outbox/{int(outbox_id)}/failed",
            {"error_code": error_code, "release": release, "attempt": attempt},
        )
        return _notice_state(data)

    async def notice_status(
        self, provider_sid: str, status: str, error_code: str | None = None
    ) -> NoticeState:
        """A provider status callback; applied only if it moves the message further along
        (sending < sent < delivered|undelivered|failed < read)."""
        data = await self._call(
            "POST",
            "/v1/outbox/status",
            {"provider_sid": provider_sid, "status": status, "error_code": error_code},
        )
        return _notice_state(data)

    async def requeue_stale_notices(self, older_than_s: int) -> int:
        """Rows 'queued' for longer than this go back to 'new' (a lost work queue)."""
        data = await self._call("POST", "/v1/outbox/requeue", {"older_than_s": older_than_s})
        return int(data["requeued"])

    async def notice_counts(self, campaign: str | None = None) -> NoticeCounts:
        path = "/v1/outbox/counts"
        if campaign is not None:
            path += "?" + urlencode({"campaign": campaign})
        data = await self._call("GET", path)
        return NoticeCounts(
            campaign=data.get("campaign"),
            counts={str(state): int(n) for state, n in data["counts"].items()},
        )

    async def notice_counts_by_campaign(self) -> dict[str, dict[str, int]]:
        """Every campaign's rows by state ("none": rows from before campaigns existed)."""
        data = await self._call("GET", "/v1/outbox/campaigns")
        campaigns = data.get("campaigns")
        if not isinstance(campaigns, dict):
            raise BillingUnavailable("backend answered without campaigns")
        return {
            str(name): {str(state): int(n) for state, n in counts.items()}
            for name, counts in campaigns.items()
        }

    async def set_contact_preference(
        self, phone: str, channel: NoticeChannel, opted_in: bool, source: str
    ) -> ContactPreferenceResult:
        """Opt a number in or out of a channel, for every account registered with it."""
        data = await self._call(
            "POST",
            "/v1/contact-preferences",
            {"phone": phone, "channel": channel, "opted_in": opted_in, "source": source},
        )
        return ContactPreferenceResult(
            accounts=int(data["accounts"]),
            channel=data["channel"],
            opted_in=bool(data["opted_in"]),
        )

    # ---- operator views (read-only: the simulator's operator page and demo codes) -------

    async def recent_payments(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest payments: receipt number, masked payee, amount, channel, time."""
        data = await self._call("GET", f"/v1/operator/payments?limit={int(limit)}")
        return self._rows(data, "payments")

    async def recent_complaints(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest complaints with their SLA clocks (`sla_seconds_left`, negative: overdue)."""
        data = await self._call("GET", f"/v1/operator/complaints?limit={int(limit)}")
        return self._rows(data, "complaints")

    async def complaint_history(self, ticket_number: str) -> dict[str, Any]:
        """One complaint as an operator follows it: category, status, masked payee, SLA
        clock and `events` (status, source, at, and the notice that told the person), oldest
        first. Unknown ticket: BillingRefused(COMPLAINT_UNKNOWN)."""
        if not (ticket_number.isascii() and ticket_number.isdigit() and len(ticket_number) <= 20):
            raise BillingRefused(RefusalReason.COMPLAINT_UNKNOWN, {})
        data = await self._call("GET", f"/v1/operator/complaints/{ticket_number}")
        if not isinstance(data.get("events"), list):
            raise BillingUnavailable("backend answered without events")
        return data

    async def demo_codes(self) -> list[dict[str, Any]]:
        """The demo ledger's scenario accounts: code, masked payee, what is due now. A ledger
        that was not filled by the demo seed refuses (BillingRefused)."""
        return self._rows(await self._call("GET", "/v1/operator/demo-codes"), "demo_codes")

    async def demo_reset(self, timeout_s: float = DEMO_RESET_TIMEOUT_S) -> dict[str, Any]:
        """The demo ledger back as the demo seed made it, every demo code payable again: the
        simulator page's button. The backend has the route only in simulator mode (billing/
        demo_routes.py) and refuses a ledger the demo seed did not fill (BillingRefused).
        Refilling the ledger takes seconds, so one try with its own timeout, no retries."""
        timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=self.timeouts.connect_s)
        try:
            async with self._client().request(
                "POST",
                self.base_url + "/v1/demo/reset",
                json={},
                headers=self._headers,
                timeout=timeout,
            ) as response:
                status = response.status
                body = await response.text()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise BillingUnavailable(f"demo reset failed: {exc!r}") from exc
        if status in (401, 403):
            raise BillingUnauthorized("backend refused the service token (/v1/demo/reset)")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if status == 404 and not isinstance(data, dict):  # a backend without the route
            raise BillingRefused(RefusalReason.INVALID_REQUEST, {"detail": "no demo routes"})
        if not isinstance(data, dict) or status >= 500:
            raise BillingUnavailable(f"backend answered {status} to the demo reset")
        if status >= 400:
            raise BillingRefused(RefusalReason.INVALID_REQUEST, data)
        return data

    @staticmethod
    def _rows(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        rows = data.get(key)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise BillingUnavailable(f"backend answered without a list of {key}")
        return rows


def _receipt(data: dict[str, Any]) -> Receipt:
    return Receipt(
        receipt_number=data["receipt_number"],
        quote_id=data["quote_id"],
        amount=_money(data, "amount_minor"),
        paid_at=_when(data["paid_at"]),
        payee_masked=data["payee_masked"],
        bill_months=tuple(data["bill_months"]),
    )


def _ticket(data: dict[str, Any]) -> ComplaintTicket:
    standard = data.get("standard")
    return ComplaintTicket(
        ticket_number=data["ticket_number"],
        category=data["category"],
        status=data["status"],
        sla_due_at=_when(data["sla_due_at"]),
        created_at=_when(data["created_at"]),
        due_date=data.get("due_date"),
        standard_working_days=int(standard["working_days"]) if standard else None,
        standard_compensation=_money(standard, "amount_minor") if standard else None,
    )
