"""The one client every channel and the action server use to reach the billing backend.

Timeouts are short and explicit (a USSD hop or a Twilio webhook has seconds, and Rasa gives
actions five minutes, which is far too long for a person waiting). Retries happen only for
calls that are safe to repeat: reads, quotes (they move no money) and the writes that carry
an idempotency key (confirm, complaint, installment plan). A confirm whose answer never
arrived raises `PaymentOutcomeUnknown`, never a plain failure: the channel must not offer to
pay again under a new key, and can ask `payment_status(key)` later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

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
from tasdeed.flows.screens import text_from_json
from tasdeed.money import Money


class BillingError(Exception):
    """Base of everything the billing client raises."""


class BillingUnavailable(BillingError):
    """The backend could not be reached or failed; nothing was changed by this call."""


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


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float = 1.0
    total_s: float = 3.0


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


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
    ):
        self.base_url = base_url.rstrip("/")
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
                    method, self.base_url + path, json=body
                ) as response:
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
        )

    async def complaint_status(self, ticket_number: str) -> ComplaintTicket:
        data = await self._call("GET", f"/v1/complaints/{ticket_number}")
        return _ticket(data)

    async def payment_status(self, idempotency_key: str) -> Receipt:
        return _receipt(await self._call("GET", f"/v1/payments/{idempotency_key}"))

    # ---- the payment contract -----------------------------------------------------------

    async def quote(
        self,
        code: str,
        *,
        amount: Money | None = None,
        override: bool = False,
        channel: str,
    ) -> Quote:
        data = await self._call(
            "POST",
            "/v1/quotes",
            {
                "code": code,
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
        )

    async def confirm(self, quote_id: str, idempotency_key: str) -> Receipt:
        try:
            data = await self._call(
                "POST",
                "/v1/payments",
                {"quote_id": quote_id, "idempotency_key": idempotency_key},
            )
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
        self, *, code: str, kind: str, value: int, channel: str, idempotency_key: str
    ) -> ReadingReceipt:
        data = await self._call(
            "POST",
            "/v1/readings",
            {
                "code": code,
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

    # ---- operator views (read-only: the simulator's operator page and demo codes) -------

    async def recent_payments(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest payments: receipt number, masked payee, amount, channel, time."""
        data = await self._call("GET", f"/v1/operator/payments?limit={int(limit)}")
        return self._rows(data, "payments")

    async def recent_complaints(self, limit: int = 20) -> list[dict[str, Any]]:
        """Newest complaints with their SLA clocks (`sla_seconds_left`, negative: overdue)."""
        data = await self._call("GET", f"/v1/operator/complaints?limit={int(limit)}")
        return self._rows(data, "complaints")

    async def demo_codes(self) -> list[dict[str, Any]]:
        """The demo ledger's scenario accounts: code, masked payee, what is due now. A ledger
        that was not filled by the demo seed refuses (BillingRefused)."""
        return self._rows(await self._call("GET", "/v1/operator/demo-codes"), "demo_codes")

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
    return ComplaintTicket(
        ticket_number=data["ticket_number"],
        category=data["category"],
        status=data["status"],
        sla_due_at=_when(data["sla_due_at"]),
        created_at=_when(data["created_at"]),
    )
