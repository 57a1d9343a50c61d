"""The core functions the walk table calls: each reads one answer, talks to the billing
backend through the one client, keeps what later steps show, and names the next step.

A call raises `Retry` when the answer was not taken (the step is shown again with the
reason). Money moves in exactly one place, `confirm_quote`, and the table reaches it only
from the confirmation step's "1" (or an explicit yes from the reviewed list, which the
engine turns into "1"); its idempotency key comes from the conversation and the quote, so a
replayed hop returns the same receipt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tasdeed.billing_client import (
    BillingClient,
    BillingRefused,
    BillingUnavailable,
    PaymentOutcomeUnknown,
)
from tasdeed.codes import CodeProblem, mask_code
from tasdeed.contract import (
    COMPLAINT_CATEGORIES,
    READING_KINDS,
    Balance,
    ComplaintTicket,
    Quote,
    Receipt,
    RefusalReason,
)
from tasdeed.flows.state import FlowState
from tasdeed.identifiers import AccountRef, find_account_ref
from tasdeed.money import Money, parse_amount
from tasdeed.normalise import digits_only, normalise_input, strip_invisible
from tasdeed.profile import Profile
from tasdeed.quantity import QuantityProblem, read_quantity
from tasdeed.rules.kuwait import HUNDRED, ahsemha_estimate
from tasdeed.rules.settings import rule_settings
from tasdeed.text import DigitString, Text, text_to_json

MAX_DESCRIPTION = 500
TICKET_LENGTH = 8
MAX_READING_DIGITS = 9
# Quotes one conversation may ask for: each is a look-up at the backend, and a typed-ahead
# USSD string could otherwise ask for thousands.
MAX_QUOTES = 6
RESUME_DIGITS = 4
# The Ahsemha calculator: a year's consumption has at most this many whole digits (as a meter
# reading), and any figure at most this many after the decimal point.
MAX_CONSUMPTION_DIGITS = MAX_READING_DIGITS
MAX_PERCENT_DIGITS = 3
MAX_DECIMALS = 3
CALCULATOR = "calc.electricity_before"  # the calculator's first step


def _ticket_due(ticket: ComplaintTicket) -> dict[str, Any]:
    """When the answer is due, as the person is told: the backend's local due date (under a
    guaranteed standard, its last working day) and the standard, if the complaint is under
    one (its working days and the compensation a late answer earns)."""
    due: dict[str, Any] = {"due": ticket.due_date or ticket.sla_due_at.date().isoformat()}
    if ticket.standard_working_days is not None and ticket.standard_compensation is not None:
        due["standard"] = {
            "working_days": ticket.standard_working_days,
            "amount_minor": ticket.standard_compensation.minor,
        }
    return due


class Retry(Exception):
    """The input was not taken; show the same step with this reason."""

    def __init__(self, text: Text):
        super().__init__(text.key)
        self.text = text


class OverBudget(Exception):
    """The conversation asked for more work than one person needs; the walk ends."""


class WalkCalls:
    def __init__(self, profile: Profile, billing: BillingClient, channel: str):
        self.profile = profile
        self.billing = billing
        self.channel = channel

    # ---- shared pieces --------------------------------------------------------------------

    def key(self, state: FlowState, purpose: str) -> str:
        """Idempotency key: one per conversation and purpose, the same on every channel."""
        return f"{self.channel}:{state.data['conversation']}:{purpose}"

    def money(self, minor: int) -> Money:
        return Money(int(minor), self.profile.currency)

    def refusal(self, refused: BillingRefused) -> Text:
        params: dict[str, Any] = {}
        details = refused.details
        if "minimum_minor" in details:
            params["minimum"] = self.money(details["minimum_minor"])
        if "due_minor" in details:
            params["due"] = self.money(details["due_minor"])
        if "receipt" in details:
            params["receipt"] = DigitString(str(details["receipt"]))
        if "previous" in details:
            params["previous"] = int(details["previous"])
        if "min" in details:
            params["min"], params["max"] = int(details["min"]), int(details["max"])
        return Text(f"refusal.{refused.reason.value}", params)

    def _problem(self, problem: CodeProblem) -> Retry:
        return Retry(Text(f"code.{problem.value}", {"length": self.profile.payment_code.length}))

    def code(self, raw: str) -> str:
        """An e-payment code, checked locally (paying and the rules need the code itself)."""
        found = find_account_ref(raw, self.profile)
        if isinstance(found, CodeProblem):
            raise self._problem(found)
        if found.kind == "account":
            raise Retry(Text("code.account_not_code", {"length": self.profile.payment_code.length}))
        return found.value

    def account(self, raw: str) -> AccountRef:
        found = find_account_ref(raw, self.profile)
        if isinstance(found, CodeProblem):
            raise self._problem(found)
        return found

    @staticmethod
    def _by(ref: AccountRef) -> dict[str, str]:
        return {"code": ref.value} if ref.kind == "code" else {"account_number": ref.value}

    async def _balance_of(self, ref: AccountRef) -> Balance:
        """The account's balance; a refusal becomes the step's reason to ask again."""
        try:
            return await self.billing.balance(**self._by(ref))
        except BillingRefused as refused:
            raise Retry(self.refusal(refused)) from refused

    @staticmethod
    def _keep_receipt(state: FlowState, receipt: Receipt) -> None:
        state.data["receipt"] = {
            "number": receipt.receipt_number,
            "amount_minor": receipt.amount.minor,
            "payee": receipt.payee_masked,
            "months": list(receipt.bill_months),
            "paid_at": receipt.paid_at.isoformat(),
        }

    @staticmethod
    def _remember(state: FlowState, ref: AccountRef) -> None:
        state.data["code" if ref.kind == "code" else "account"] = ref.value
        state.data.pop("account" if ref.kind == "code" else "code", None)

    @staticmethod
    def _by_account(state: FlowState, account_number: str) -> None:
        """Later steps of a walk that does not pay name the account by its number: the full
        code is not kept between hops once the account is known."""
        state.data["account"] = account_number
        state.data.pop("code", None)

    # ---- language and menus -----------------------------------------------------------------

    async def choose_language(self, state: FlowState, choice: str) -> str:
        state.language = "ar" if choice == "1" else "en"
        return "main"

    async def choose_category(self, state: FlowState, choice: str) -> str:
        state.data["category"] = COMPLAINT_CATEGORIES[int(choice) - 1]
        return "complaint.code"

    async def choose_reading_kind(self, state: FlowState, choice: str) -> str:
        state.data["reading_kind"] = READING_KINDS[int(choice) - 1]
        return "reading.value"

    # ---- balance ----------------------------------------------------------------------------

    async def look_up_balance(self, state: FlowState, raw: str) -> str:
        ref = self.account(raw)
        balance = await self._balance_of(ref)
        self._remember(state, ref)
        state.data["balance"] = {
            "payee": balance.payee_masked,
            "area": balance.area,
            "due_minor": balance.amount_due.minor,
            "months": list(balance.unpaid_months),
            "prepaid_flagged": balance.prepaid_flagged,
        }
        # Paying needs the code (an account number does not name one bill).
        payable = balance.amount_due.minor > 0 and ref.kind == "code"
        return "balance.result" if payable else "balance.shown"

    # ---- paying -----------------------------------------------------------------------------

    async def quote_code(self, state: FlowState, raw: str) -> str:
        state.data["code"] = state.entered_code = self.code(raw)
        state.data.pop("amount_minor", None)
        state.data.pop("quote_ref", None)
        return await self.quote(state, amount=None, override=False)

    async def quote_balance(self, state: FlowState, choice: str) -> str:
        return await self.quote(state, amount=None, override=False)

    async def quote_amount(self, state: FlowState, raw: str) -> str:
        amount = parse_amount(raw, self.profile.currency)
        if amount is None:
            raise Retry(Text("refusal.invalid_amount"))
        state.data["amount_minor"] = amount.minor
        return await self.quote(state, amount=amount, override=False)

    async def quote_again(self, state: FlowState, choice: str) -> str:
        """A second, explicit confirmation after a recent payment: a quote that overrides."""
        return await self.quote(state, amount=None, override=True)

    async def quote(self, state: FlowState, *, amount: Money | None, override: bool) -> str:
        """A fresh quote: for the code just entered, or from the walk's last quote (so that
        the full code is not kept once a payment is open)."""
        quotes = int(state.data.get("quotes", 0)) + 1
        if quotes > MAX_QUOTES:
            raise OverBudget()
        state.data["quotes"] = quotes
        ref = state.data.get("quote_ref")
        code = None if ref else state.data.get("code")
        try:
            quote = await self.billing.quote(
                code, amount=amount, override=override, channel=self.channel, from_quote=ref
            )
        except BillingRefused as refused:
            if refused.reason is RefusalReason.ALREADY_PAID_RECENTLY:
                if refused.details.get("quote_id"):
                    self._forget_code(state, str(refused.details["quote_id"]))
                return self._paid_recently(state, refused)
            raise Retry(self.refusal(refused)) from refused
        self._keep_quote(state, quote)
        self._forget_code(state, quote.quote_id)
        return "pay.confirm"

    @staticmethod
    def _forget_code(state: FlowState, quote_ref: str) -> None:
        state.data["quote_ref"] = quote_ref
        code = str(state.data.get("code", ""))
        if code and "*" not in code:
            state.data["code"] = mask_code(code)

    @staticmethod
    def _keep_quote(state: FlowState, quote: Quote) -> None:
        state.data["quote"] = {
            "id": quote.quote_id,
            "payee": quote.payee_masked,
            "area": quote.area,
            "months": list(quote.bill_months),
            "amount_minor": quote.amount.minor,
            "due_minor": quote.amount_due.minor,
            "override": quote.override,
            "prepaid_flagged": quote.prepaid_flagged,
        }

    async def confirm_quote(self, state: FlowState, choice: str) -> str:
        """The one call that moves money: the quote the person saw, under a key that makes
        every retry of this confirmation the same payment."""
        quote = state.data["quote"]
        key = self.key(state, f"pay:{quote['id']}")
        state.data["payment_key"] = key
        try:
            receipt = await self.billing.confirm(quote["id"], key)
        except PaymentOutcomeUnknown:
            return "pay.unknown"
        except BillingRefused as refused:
            return await self._after_refused_confirm(state, refused)
        self._keep_receipt(state, receipt)
        return "pay.receipt"

    async def _after_refused_confirm(self, state: FlowState, refused: BillingRefused) -> str:
        state.data.pop("payment_key", None)
        if refused.reason in (RefusalReason.QUOTE_EXPIRED, RefusalReason.QUOTE_STALE):
            # Never confirm blindly: a fresh quote, shown again, asks again.
            amount = state.data.get("amount_minor")
            await self.quote(state, amount=self.money(amount) if amount else None, override=False)
            raise Retry(Text(f"refusal.{refused.reason.value}.requoted"))
        if refused.reason is RefusalReason.ALREADY_PAID_RECENTLY:
            return self._paid_recently(state, refused)
        raise Retry(self.refusal(refused))

    def _paid_recently(self, state: FlowState, refused: BillingRefused) -> str:
        """The bill was paid within the profile's window. A second payment is offered only
        where it could go through: something is still due, or the profile takes overpayments
        (`payments.allow_overpayment`). Otherwise the walk ends saying what was paid and when,
        rather than offering a "pay again" that can only be refused."""
        details = refused.details
        state.data["recent_receipt"] = str(details.get("receipt", ""))
        if "amount_minor" in details and details.get("paid_at"):
            state.data["recent"] = {
                "amount_minor": int(details["amount_minor"]),
                "date": self._local_date(str(details["paid_at"])),
            }
        due = int(details.get("due_minor") or 0)
        payable = due > 0 or self.profile.payments.allow_overpayment
        return "pay.again" if payable else "pay.paid"

    def _local_date(self, moment: str) -> str:
        """An ISO moment from the backend (UTC) as the utility's calendar date."""
        at = datetime.fromisoformat(moment.removesuffix("Z"))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        return at.astimezone(ZoneInfo(self.profile.timezone)).date().isoformat()

    async def prove_resume(self, state: FlowState, raw: str) -> str:
        """A dropped payment is shown again only to whoever can say the code's last four
        digits: the phone number in a USSD request is a claim, not a proof."""
        saved = state.data.get("resume", {})
        digits = digits_only(raw) or ""
        if len(digits) != RESUME_DIGITS or not str(saved.get("code", "")).endswith(digits):
            raise Retry(Text("resume.wrong_digits", {"count": RESUME_DIGITS}))
        return await self.resume_payment(state, raw)

    async def resume_payment(self, state: FlowState, choice: str) -> str:
        saved = state.data.pop("resume", {})
        state.data["code"] = saved["code"]
        if saved.get("quote_ref"):
            state.data["quote_ref"] = saved["quote_ref"]
        if saved.get("payment_key"):
            # A confirm was sent before the drop: tell what became of it, never pay again.
            try:
                receipt = await self.billing.payment_status(saved["payment_key"])
            except BillingRefused:
                pass
            except BillingUnavailable:
                state.data["resume"] = saved
                raise
            else:
                self._keep_receipt(state, receipt)
                return "pay.receipt"
        amount = saved.get("amount_minor")
        if amount:
            state.data["amount_minor"] = amount
        try:
            return await self.quote(
                state, amount=self.money(amount) if amount else None, override=False
            )
        except (Retry, BillingUnavailable):
            state.data["resume"] = saved
            raise

    # ---- complaints -------------------------------------------------------------------------

    async def check_complaint_account(self, state: FlowState, raw: str) -> str:
        ref = self.account(raw)
        balance = await self._balance_of(ref)
        self._by_account(state, balance.account_number)
        return "complaint.description"

    async def file_complaint(self, state: FlowState, raw: str) -> str:
        # Stored as the person wrote it (minus invisible marks and repeated spaces).
        description = " ".join(strip_invisible(raw).split())
        if not normalise_input(description).text:
            raise Retry(Text("error.empty_description"))
        try:
            ticket = await self.billing.file_complaint(
                category=state.data["category"],
                description=description[:MAX_DESCRIPTION],
                channel=self.channel,
                idempotency_key=self.key(state, "complaint"),
                code=state.data.get("code"),
                account_number=state.data.get("account"),
            )
        except BillingRefused as refused:
            raise Retry(self.refusal(refused)) from refused
        state.data["ticket"] = {"number": ticket.ticket_number, **_ticket_due(ticket)}
        return "complaint.done"

    async def follow_complaint(self, state: FlowState, raw: str) -> str:
        ticket = digits_only(raw) or _only_number(raw)
        if ticket is None or len(ticket) != TICKET_LENGTH:
            raise Retry(Text("error.ticket_format", {"length": TICKET_LENGTH}))
        try:
            status = await self.billing.complaint_status(ticket)
        except BillingRefused as refused:
            raise Retry(self.refusal(refused)) from refused
        state.data["ticket"] = {
            "number": status.ticket_number,
            "status": status.status,
            **_ticket_due(status),
        }
        return "follow.result"

    # ---- installments -----------------------------------------------------------------------

    async def check_installment_account(self, state: FlowState, raw: str) -> str:
        ref = self.account(raw)
        balance = await self._balance_of(ref)
        if balance.amount_due.minor == 0:
            raise Retry(Text("refusal.nothing_due"))
        self._by_account(state, balance.account_number)
        state.data["due_minor"] = balance.amount_due.minor
        return "installments.months"

    async def choose_months(self, state: FlowState, raw: str) -> str:
        settings = self.profile.installments
        months = digits_only(raw) or _only_number(raw)
        if months is None or not settings.min_months <= int(months) <= settings.max_months:
            raise Retry(
                Text(
                    "refusal.invalid_months",
                    {"min": settings.min_months, "max": settings.max_months},
                )
            )
        state.data["months"] = int(months)
        if settings.requires_debt_acknowledgment:
            return "installments.ack"
        return await self._request_plan(state, acknowledge=False)

    async def acknowledge_debt(self, state: FlowState, choice: str) -> str:
        return await self._request_plan(state, acknowledge=True)

    async def _request_plan(self, state: FlowState, *, acknowledge: bool) -> str:
        try:
            plan = await self.billing.request_installments(
                months=state.data["months"],
                acknowledge_debt=acknowledge,
                idempotency_key=self.key(state, "installments"),
                code=state.data.get("code"),
                account_number=state.data.get("account"),
            )
        except BillingRefused as refused:
            raise Retry(self.refusal(refused)) from refused
        state.data["plan"] = {
            "number": plan.plan_id,
            "months": plan.months,
            "installment_minor": plan.installment.minor,
            "first_due": plan.first_due_date,
        }
        return "installments.done"

    # ---- rules and readings -----------------------------------------------------------------

    async def choose_topic(self, state: FlowState, choice: str) -> str:
        topic = rule_topics(self.profile)[int(choice) - 1]
        state.data["topic"] = topic
        # The calculator needs no account: the person's own figures, before registering.
        return CALCULATOR if topic == "calculator" else "rules.code"

    async def answer_rule(self, state: FlowState, raw: str) -> str:
        code = self.code(raw)
        if state.data["topic"] == "reading":
            balance = await self._balance_of(AccountRef("code", code))
            self._by_account(state, balance.account_number)
            return "reading.kind"
        try:
            answer = await self.billing.rule_answer(state.data["topic"], code=code)
        except BillingRefused as refused:
            raise Retry(self.refusal(refused)) from refused
        state.data["answer"] = [text_to_json(reason) for reason in answer.reasons]
        return "rules.answer"

    async def submit_reading(self, state: FlowState, raw: str) -> str:
        value = digits_only(raw) or _only_number(raw)
        if value is None or len(value) > MAX_READING_DIGITS:
            raise Retry(Text("reading.invalid"))
        try:
            receipt = await self.billing.submit_reading(
                account_number=state.data["account"],
                kind=state.data["reading_kind"],
                value=int(value),
                channel=self.channel,
                idempotency_key=self.key(state, "reading"),
            )
        except BillingRefused as refused:
            raise Retry(self.refusal(refused)) from refused
        state.data["reading"] = {
            "kind": receipt.kind,
            "value": receipt.value,
            "consumption": receipt.consumption,
        }
        return "reading.done"

    # ---- the Ahsemha calculator -------------------------------------------------------------

    def _quantity(self, raw: str, max_digits: int) -> Decimal:
        """A figure the person states; anything else is the step's reason to ask again."""
        found = read_quantity(raw, max_digits=max_digits, max_decimals=MAX_DECIMALS)
        if isinstance(found, Decimal):
            return found
        params: dict[QuantityProblem, dict[str, Any]] = {
            QuantityProblem.TOO_LONG: {"length": max_digits},
            QuantityProblem.TOO_PRECISE: {"count": MAX_DECIMALS},
        }
        raise Retry(Text(f"calc.{found.value}", params.get(found, {})))

    def _consumption(self, state: FlowState, raw: str, figure: str) -> None:
        value = self._quantity(raw, MAX_CONSUMPTION_DIGITS)
        if figure.endswith("_before") and value == 0:
            raise Retry(Text("calc.reference_zero"))  # the saving is a share of it
        state.data.setdefault("calc", {})[figure] = str(value)

    async def calc_electricity_before(self, state: FlowState, raw: str) -> str:
        self._consumption(state, raw, "electricity_before")
        return "calc.electricity_now"

    async def calc_electricity_now(self, state: FlowState, raw: str) -> str:
        self._consumption(state, raw, "electricity_now")
        return "calc.water_before"

    async def calc_water_before(self, state: FlowState, raw: str) -> str:
        self._consumption(state, raw, "water_before")
        return "calc.water_now"

    async def calc_water_now(self, state: FlowState, raw: str) -> str:
        self._consumption(state, raw, "water_now")
        return "calc.pv"

    async def estimate_ahsemha(self, state: FlowState, raw: str) -> str:
        """The installed solar capacity (0: no panels), then the discount for the figures
        stated, by the same rule the account's stored readings go through
        (`tasdeed.rules.kuwait.ahsemha_estimate`), with its explanation and the caps."""
        settings = rule_settings(self.profile).ahsemha
        if settings is None:
            raise Retry(Text("refusal.topic_not_offered"))
        capacity = self._quantity(raw, MAX_PERCENT_DIGITS)
        if capacity > HUNDRED:
            raise Retry(Text("calc.percent_range", {"min": 0, "max": int(HUNDRED)}))
        figures = state.data["calc"]

        def year(kind: str) -> tuple[Decimal, Decimal]:
            return Decimal(figures[f"{kind}_before"]), Decimal(figures[f"{kind}_now"])

        estimate = ahsemha_estimate(
            year("electricity"), year("water"), None if capacity == 0 else capacity, settings
        )
        reasons = (*estimate.reasons, Text("calc.note"))
        state.data["answer"] = [text_to_json(reason) for reason in reasons]
        return "rules.answer"


def rule_topics(profile: Profile) -> tuple[str, ...]:
    """What this utility's rules let a person ask (the profile decides), plus meter readings
    and the calculator (own figures, no account) where an incentive depends on them."""
    rules = profile.rules
    topics = [
        topic
        for topic, section in (
            ("prepaid", "prepaid_conversion"),
            ("block", "transaction_block"),
            ("incentive", "ahsemha"),
            ("compensation", "compensation"),
            ("disconnection", "protected_disconnection"),
        )
        if section in rules
    ]
    if "ahsemha" in rules:
        topics += ["reading", "calculator"]
    return tuple(topics)


def _only_number(raw: str) -> str | None:
    """The one number in a sentence ("عايز اقسط على 6 شهور" → "6"), for chat."""
    numbers = [word for word in normalise_input(raw).text.split() if digits_only(word)]
    return digits_only(numbers[0]) if len(numbers) == 1 else None
