"""What happens on each input, for every keypad channel (USSD, IVR).

State is a small JSON-able `FlowState`; the channel stores it between hops. Money moves only
from the `pay.confirm` screen on an explicit "1", with an idempotency key made from the
conversation and the quote, so a replayed hop returns the same receipt. A quote that expired
or went stale is replaced by a fresh one and shown again, never confirmed blindly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tasdeed.billing_client import (
    BillingClient,
    BillingRefused,
    BillingUnavailable,
    PaymentOutcomeUnknown,
)
from tasdeed.codes import check_payment_code
from tasdeed.contract import COMPLAINT_CATEGORIES, READING_KINDS, Quote, RefusalReason
from tasdeed.flows.screens import (
    DigitString,
    Expects,
    Months,
    Option,
    Screen,
    Text,
    text_from_json,
    text_to_json,
)
from tasdeed.money import Money, parse_amount
from tasdeed.normalise import digits_only, normalise_input, strip_invisible
from tasdeed.profile import Profile

BACK = "0"
HOME = "00"
MAX_DESCRIPTION = 160
TICKET_LENGTH = 8
# Screens a dropped session can come back to; "pay.unknown" so that the redial can tell
# what became of a confirm whose answer never came.
PAYMENT_SCREENS = frozenset({"pay.confirm", "pay.again", "pay.amount", "pay.unknown"})


@dataclass
class FlowState:
    screen: str = "language"
    language: str = "ar"
    data: dict[str, Any] = field(default_factory=dict)
    back: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FlowState:
        return cls(**raw)


class Retry(Exception):
    """The input was not taken; show the same screen with this reason."""

    def __init__(self, text: Text):
        super().__init__(text.key)
        self.text = text


Handler = Callable[[FlowState, str], Awaitable[str]]


class FlowEngine:
    def __init__(self, profile: Profile, billing: BillingClient, channel: str):
        self.profile = profile
        self.billing = billing
        self.channel = channel
        self._handlers: dict[str, Handler] = {
            "language": self._on_language,
            "main": self._on_main,
            "balance.code": self._on_balance_code,
            "balance.result": self._on_balance_result,
            "pay.code": self._on_pay_code,
            "pay.confirm": self._on_pay_confirm,
            "pay.amount": self._on_pay_amount,
            "pay.again": self._on_pay_again,
            "complaint.category": self._on_complaint_category,
            "complaint.code": self._on_complaint_code,
            "complaint.description": self._on_complaint_description,
            "follow.ticket": self._on_follow_ticket,
            "installments.code": self._on_installments_code,
            "installments.months": self._on_installments_months,
            "installments.ack": self._on_installments_ack,
            "resume": self._on_resume,
            "rules.menu": self._on_rules_menu,
            "rules.code": self._on_rules_code,
            "reading.kind": self._on_reading_kind,
            "reading.value": self._on_reading_value,
        }

    # ---- entry points -------------------------------------------------------------

    def start(self, state: FlowState) -> Screen:
        state.screen = "language"
        state.back.clear()
        return self.render(state)

    async def handle(self, state: FlowState, raw: str, conversation_id: str) -> Screen:
        """Apply one input to the state and return the screen to show next."""
        state.error = None
        state.data["conversation"] = conversation_id
        current = self.render(state)
        if current.final:
            return current
        key = (digits_only(raw) or "") if raw.strip() else ""
        if key == HOME and state.screen != "language":
            self._go(state, "main", remember=False)
            state.back.clear()
            return self.render(state)
        if key == BACK and current.can_go_back and state.back:
            state.screen = state.back.pop()
            return self.render(state)
        handler = self._handlers.get(state.screen)
        if handler is None:
            return self.render(state)
        try:
            next_screen = await handler(state, raw)
        except Retry as retry:
            state.error = text_to_json(retry.text)
            return self.render(state)
        except BillingUnavailable:
            state.error = text_to_json(Text("error.billing_unavailable"))
            return self.render(state)
        self._go(state, next_screen)
        return self.render(state)

    def resumable(self, state: FlowState) -> dict[str, Any] | None:
        """What a channel keeps when a session drops mid-payment (never the quote itself)."""
        if state.screen not in PAYMENT_SCREENS or "code" not in state.data:
            return None
        kept: dict[str, Any] = {"language": state.language}
        for name in ("code", "amount_minor", "payment_key"):
            if name in state.data:
                kept[name] = state.data[name]
        if state.screen == "pay.confirm" and "quote" in state.data:
            # The key a confirm from this screen would use: if the drop happened while that
            # confirm was in flight, the resumed session finds the payment under it.
            kept["payment_key"] = self._key(state, f"pay:{state.data['quote']['id']}")
        return kept

    def resume(self, saved: dict[str, Any]) -> tuple[FlowState, Screen]:
        state = FlowState(screen="resume", language=saved.get("language", "ar"))
        state.data["resume"] = {k: v for k, v in saved.items() if k != "language"}
        return state, self.render(state)

    def _go(self, state: FlowState, screen: str, *, remember: bool = True) -> None:
        if screen == state.screen:
            return
        if remember and not self.render(state).final:
            state.back.append(state.screen)
        state.screen = screen

    def _main_items(self) -> tuple[str, ...]:
        items = ("balance", "pay", "complaint", "follow", "installments")
        return (*items, "rules") if self.rule_topics() else items

    def rule_topics(self) -> tuple[str, ...]:
        """What this utility's rules let a person ask (the profile decides), plus meter
        readings where an incentive depends on them."""
        rules = self.profile.rules
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
            topics.append("reading")
        return tuple(topics)

    # ---- parsing helpers ------------------------------------------------------------

    def _choice(self, state: FlowState, raw: str) -> str:
        choice = digits_only(raw)
        valid = {option.choice for option in self.render(state).options}
        if choice is None or choice not in valid:
            raise Retry(Text("error.invalid_choice"))
        return choice

    def _code(self, raw: str) -> str:
        checked = check_payment_code(raw, self.profile.payment_code)
        if not checked.ok or checked.code is None:
            assert checked.problem is not None
            raise Retry(
                Text(f"code.{checked.problem.value}", {"length": self.profile.payment_code.length})
            )
        return checked.code

    def _refusal(self, refused: BillingRefused) -> Text:
        params: dict[str, Any] = {}
        details = refused.details
        currency = self.profile.currency
        if "minimum_minor" in details:
            params["minimum"] = Money(int(details["minimum_minor"]), currency)
        if "due_minor" in details:
            params["due"] = Money(int(details["due_minor"]), currency)
        if "receipt" in details:
            params["receipt"] = DigitString(str(details["receipt"]))
        if "previous" in details:
            params["previous"] = int(details["previous"])
        if "min" in details:
            params["min"], params["max"] = int(details["min"]), int(details["max"])
        return Text(f"refusal.{refused.reason.value}", params)

    def _key(self, state: FlowState, purpose: str) -> str:
        return f"{self.channel}:{state.data['conversation']}:{purpose}"

    # ---- handlers -------------------------------------------------------------------

    async def _on_language(self, state: FlowState, raw: str) -> str:
        state.language = "ar" if self._choice(state, raw) == "1" else "en"
        return "main"

    async def _on_main(self, state: FlowState, raw: str) -> str:
        return {
            "1": "balance.code",
            "2": "pay.code",
            "3": "complaint.category",
            "4": "follow.ticket",
            "5": "installments.code",
            "6": "rules.menu",
        }[self._choice(state, raw)]

    async def _on_balance_code(self, state: FlowState, raw: str) -> str:
        code = self._code(raw)
        try:
            balance = await self.billing.balance(code=code)
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["code"] = code
        state.data["balance"] = {
            "payee": balance.payee_masked,
            "area": balance.area,
            "due_minor": balance.amount_due.minor,
            "months": list(balance.unpaid_months),
        }
        return "balance.result"

    async def _on_balance_result(self, state: FlowState, raw: str) -> str:
        self._choice(state, raw)  # the only option is "pay now"
        return await self._quote(state, amount=None, override=False)

    async def _on_pay_code(self, state: FlowState, raw: str) -> str:
        state.data["code"] = self._code(raw)
        state.data.pop("amount_minor", None)
        return await self._quote(state, amount=None, override=False)

    async def _quote(self, state: FlowState, *, amount: Money | None, override: bool) -> str:
        try:
            quote = await self.billing.quote(
                state.data["code"], amount=amount, override=override, channel=self.channel
            )
        except BillingRefused as refused:
            if refused.reason is RefusalReason.ALREADY_PAID_RECENTLY:
                state.data["recent_receipt"] = str(refused.details.get("receipt", ""))
                return "pay.again"
            raise Retry(self._refusal(refused)) from refused
        self._keep_quote(state, quote)
        return "pay.confirm"

    def _keep_quote(self, state: FlowState, quote: Quote) -> None:
        state.data["quote"] = {
            "id": quote.quote_id,
            "payee": quote.payee_masked,
            "area": quote.area,
            "months": list(quote.bill_months),
            "amount_minor": quote.amount.minor,
            "due_minor": quote.amount_due.minor,
            "override": quote.override,
        }

    async def _on_pay_confirm(self, state: FlowState, raw: str) -> str:
        choice = self._choice(state, raw)
        if choice == "2":
            return "pay.cancelled"
        if choice == "3":
            return "pay.amount"
        quote = state.data["quote"]
        key = self._key(state, f"pay:{quote['id']}")
        state.data["payment_key"] = key
        try:
            receipt = await self.billing.confirm(quote["id"], key)
        except PaymentOutcomeUnknown:
            return "pay.unknown"
        except BillingRefused as refused:
            return await self._after_refused_confirm(state, refused)
        state.data["receipt"] = {
            "number": receipt.receipt_number,
            "amount_minor": receipt.amount.minor,
        }
        return "pay.receipt"

    async def _after_refused_confirm(self, state: FlowState, refused: BillingRefused) -> str:
        state.data.pop("payment_key", None)
        if refused.reason in (RefusalReason.QUOTE_EXPIRED, RefusalReason.QUOTE_STALE):
            amount = state.data.get("amount_minor")
            money = Money(int(amount), self.profile.currency) if amount else None
            await self._quote(state, amount=money, override=False)
            raise Retry(Text(f"refusal.{refused.reason.value}.requoted"))
        if refused.reason is RefusalReason.ALREADY_PAID_RECENTLY:
            state.data["recent_receipt"] = str(refused.details.get("receipt", ""))
            return "pay.again"
        raise Retry(self._refusal(refused))

    async def _on_pay_amount(self, state: FlowState, raw: str) -> str:
        amount = parse_amount(raw, self.profile.currency)
        if amount is None:
            raise Retry(Text("refusal.invalid_amount"))
        state.data["amount_minor"] = amount.minor
        return await self._quote(state, amount=amount, override=False)

    async def _on_pay_again(self, state: FlowState, raw: str) -> str:
        if self._choice(state, raw) == "2":
            return "pay.cancelled"
        return await self._quote(state, amount=None, override=True)

    async def _on_complaint_category(self, state: FlowState, raw: str) -> str:
        state.data["category"] = COMPLAINT_CATEGORIES[int(self._choice(state, raw)) - 1]
        return "complaint.code"

    async def _on_complaint_code(self, state: FlowState, raw: str) -> str:
        code = self._code(raw)
        try:
            await self.billing.balance(code=code)
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["code"] = code
        return "complaint.description"

    async def _on_complaint_description(self, state: FlowState, raw: str) -> str:
        # Stored as the person wrote it (minus invisible marks), cut to a USSD-sized note.
        description = " ".join(strip_invisible(raw).split())
        if not normalise_input(description).text:
            raise Retry(Text("error.empty_description"))
        try:
            ticket = await self.billing.file_complaint(
                category=state.data["category"],
                description=description[:MAX_DESCRIPTION],
                channel=self.channel,
                idempotency_key=self._key(state, "complaint"),
                code=state.data["code"],
            )
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["ticket"] = {
            "number": ticket.ticket_number,
            "due": ticket.sla_due_at.date().isoformat(),
        }
        return "complaint.done"

    async def _on_follow_ticket(self, state: FlowState, raw: str) -> str:
        ticket = digits_only(raw)
        if ticket is None or len(ticket) != TICKET_LENGTH:
            raise Retry(Text("error.ticket_format", {"length": TICKET_LENGTH}))
        try:
            status = await self.billing.complaint_status(ticket)
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["ticket"] = {
            "number": status.ticket_number,
            "status": status.status,
            "due": status.sla_due_at.date().isoformat(),
        }
        return "follow.result"

    async def _on_installments_code(self, state: FlowState, raw: str) -> str:
        code = self._code(raw)
        try:
            balance = await self.billing.balance(code=code)
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        if balance.amount_due.minor == 0:
            raise Retry(Text("refusal.nothing_due"))
        state.data["code"] = code
        state.data["due_minor"] = balance.amount_due.minor
        return "installments.months"

    async def _on_installments_months(self, state: FlowState, raw: str) -> str:
        settings = self.profile.installments
        months = digits_only(raw)
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

    async def _on_installments_ack(self, state: FlowState, raw: str) -> str:
        if self._choice(state, raw) == "2":
            return "installments.cancelled"
        return await self._request_plan(state, acknowledge=True)

    async def _request_plan(self, state: FlowState, *, acknowledge: bool) -> str:
        try:
            plan = await self.billing.request_installments(
                months=state.data["months"],
                acknowledge_debt=acknowledge,
                idempotency_key=self._key(state, "installments"),
                code=state.data["code"],
            )
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["plan"] = {
            "number": plan.plan_id,
            "months": plan.months,
            "installment_minor": plan.installment.minor,
            "first_due": plan.first_due_date,
        }
        return "installments.done"

    async def _on_resume(self, state: FlowState, raw: str) -> str:
        saved = state.data.pop("resume", {})
        if self._choice_from(raw, {"1", "2"}) == "2":
            return "main"
        state.data["code"] = saved["code"]
        if saved.get("payment_key"):
            # A confirm was sent before the drop: tell what became of it, never pay again.
            try:
                receipt = await self.billing.payment_status(saved["payment_key"])
            except BillingRefused:
                pass
            else:
                state.data["receipt"] = {
                    "number": receipt.receipt_number,
                    "amount_minor": receipt.amount.minor,
                }
                return "pay.receipt"
        amount = saved.get("amount_minor")
        if amount:
            state.data["amount_minor"] = amount
        money = Money(int(amount), self.profile.currency) if amount else None
        try:
            return await self._quote(state, amount=money, override=False)
        except Retry:
            state.data["resume"] = saved
            raise

    async def _on_rules_menu(self, state: FlowState, raw: str) -> str:
        topic = self.rule_topics()[int(self._choice(state, raw)) - 1]
        state.data["topic"] = topic
        return "rules.code"

    async def _on_rules_code(self, state: FlowState, raw: str) -> str:
        code = self._code(raw)
        state.data["code"] = code
        if state.data["topic"] == "reading":
            return "reading.kind"
        try:
            answer = await self.billing.rule_answer(state.data["topic"], code=code)
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["answer"] = [text_to_json(reason) for reason in answer.reasons]
        return "rules.answer"

    async def _on_reading_kind(self, state: FlowState, raw: str) -> str:
        state.data["reading_kind"] = READING_KINDS[int(self._choice(state, raw)) - 1]
        return "reading.value"

    async def _on_reading_value(self, state: FlowState, raw: str) -> str:
        value = digits_only(raw)
        if value is None or len(value) > 9:
            raise Retry(Text("reading.invalid"))
        try:
            receipt = await self.billing.submit_reading(
                code=state.data["code"],
                kind=state.data["reading_kind"],
                value=int(value),
                channel=self.channel,
                idempotency_key=self._key(state, "reading"),
            )
        except BillingRefused as refused:
            raise Retry(self._refusal(refused)) from refused
        state.data["reading"] = {
            "kind": receipt.kind,
            "value": receipt.value,
            "consumption": receipt.consumption,
        }
        return "reading.done"

    @staticmethod
    def _choice_from(raw: str, valid: set[str]) -> str:
        choice = digits_only(raw)
        if choice is None or choice not in valid:
            raise Retry(Text("error.invalid_choice"))
        return choice

    # ---- screens --------------------------------------------------------------------

    def render(self, state: FlowState) -> Screen:
        screen = self._screen(state)
        if state.error is not None:
            return Screen(
                screen.name,
                screen.body,
                screen.options,
                screen.expects,
                screen.final,
                error=text_from_json(state.error),
            )
        return screen

    def _money(self, minor: int) -> Money:
        return Money(int(minor), self.profile.currency)

    def _screen(self, state: FlowState) -> Screen:
        name = state.screen
        data = state.data
        code_length = {"length": self.profile.payment_code.length}
        if name == "language":
            return Screen(
                name,
                (Text("lang.prompt"),),
                (Option("1", Text("lang.arabic")), Option("2", Text("lang.english"))),
            )
        if name == "main":
            return Screen(
                name,
                (Text("main.title"),),
                tuple(
                    Option(str(i), Text(f"main.{item}"))
                    for i, item in enumerate(self._main_items(), start=1)
                ),
            )
        if name in ("balance.code", "pay.code", "complaint.code", "installments.code"):
            return Screen(name, (Text("ask.code", code_length),), expects=Expects.CODE)
        if name == "balance.result":
            balance = data["balance"]
            due = self._money(balance["due_minor"])
            body = (
                Text("balance.payee", {"payee": balance["payee"], "area": balance["area"]}),
                Text("balance.due", {"amount": due, "months": Months(tuple(balance["months"]))})
                if due.minor
                else Text("refusal.nothing_due"),
            )
            options = (Option("1", Text("balance.pay_now")),) if due.minor else ()
            return Screen(name, body, options, final=not due.minor)
        if name == "pay.confirm":
            quote = data["quote"]
            choices: list[Option] = [
                Option("1", Text("pay.confirm")),
                Option("2", Text("pay.cancel")),
            ]
            if self.profile.payments.allow_partial and not quote["override"]:
                choices.append(Option("3", Text("pay.other_amount")))
            return Screen(
                name,
                (
                    Text("quote.payee", {"payee": quote["payee"], "area": quote["area"]}),
                    Text("quote.months", {"months": Months(tuple(quote["months"]))}),
                    Text("quote.amount", {"amount": self._money(quote["amount_minor"])}),
                    Text("quote.no_refund"),
                ),
                tuple(choices),
            )
        if name == "pay.amount":
            due = self._money(data["quote"]["due_minor"])
            return Screen(name, (Text("ask.amount", {"due": due}),), expects=Expects.AMOUNT)
        if name == "pay.again":
            return Screen(
                name,
                (
                    Text(
                        "pay.paid_recently",
                        {"receipt": DigitString(data.get("recent_receipt", ""))},
                    ),
                ),
                (Option("1", Text("pay.pay_again")), Option("2", Text("pay.cancel"))),
            )
        if name == "pay.receipt":
            receipt = data["receipt"]
            return Screen(
                name,
                (
                    Text(
                        "receipt.summary",
                        {
                            "amount": self._money(receipt["amount_minor"]),
                            "receipt": DigitString(receipt["number"]),
                        },
                    ),
                    Text("receipt.sms_follows"),
                ),
                final=True,
            )
        if name in ("pay.cancelled", "installments.cancelled"):
            return Screen(name, (Text("flow.cancelled"),), final=True)
        if name == "pay.unknown":
            return Screen(name, (Text("error.payment_outcome_unknown"),), final=True)
        if name == "complaint.category":
            return Screen(
                name,
                (Text("complaint.choose"),),
                tuple(
                    Option(str(i), Text(f"complaint.category.{category}"))
                    for i, category in enumerate(COMPLAINT_CATEGORIES, start=1)
                ),
            )
        if name == "complaint.description":
            return Screen(name, (Text("ask.description"),), expects=Expects.TEXT)
        if name == "complaint.done":
            ticket = data["ticket"]
            return Screen(
                name,
                (
                    Text("complaint.filed", {"ticket": DigitString(ticket["number"])}),
                    Text("complaint.due", {"date": ticket["due"]}),
                ),
                final=True,
            )
        if name == "follow.ticket":
            return Screen(
                name, (Text("ask.ticket", {"length": TICKET_LENGTH}),), expects=Expects.TICKET
            )
        if name == "follow.result":
            ticket = data["ticket"]
            return Screen(
                name,
                (
                    Text(
                        "complaint.status",
                        {
                            "ticket": DigitString(ticket["number"]),
                            "status": Text(f"complaint.state.{ticket['status']}"),
                        },
                    ),
                    Text("complaint.due", {"date": ticket["due"]}),
                ),
                final=True,
            )
        if name == "installments.months":
            settings = self.profile.installments
            return Screen(
                name,
                (Text("ask.months", {"min": settings.min_months, "max": settings.max_months}),),
                expects=Expects.NUMBER,
            )
        if name == "installments.ack":
            return Screen(
                name,
                (Text("installments.acknowledge", {"amount": self._money(data["due_minor"])}),),
                (Option("1", Text("installments.agree")), Option("2", Text("pay.cancel"))),
            )
        if name == "installments.done":
            plan = data["plan"]
            return Screen(
                name,
                (
                    Text(
                        "installments.plan",
                        {
                            "count": plan["months"],
                            "installment": self._money(plan["installment_minor"]),
                        },
                    ),
                    Text("installments.first_due", {"date": plan["first_due"]}),
                ),
                final=True,
            )
        if name == "rules.menu":
            return Screen(
                name,
                (Text("topic.choose"),),
                tuple(
                    Option(str(i), Text(f"topic.{topic}"))
                    for i, topic in enumerate(self.rule_topics(), start=1)
                ),
            )
        if name == "rules.code":
            return Screen(name, (Text("ask.code", code_length),), expects=Expects.CODE)
        if name == "rules.answer":
            return Screen(
                name, tuple(text_from_json(reason) for reason in data["answer"]), final=True
            )
        if name == "reading.kind":
            return Screen(
                name,
                (Text("reading.choose"),),
                tuple(
                    Option(str(i), Text(f"reading.kind.{kind}"))
                    for i, kind in enumerate(READING_KINDS, start=1)
                ),
            )
        if name == "reading.value":
            kind = Text(f"reading.kind.{data['reading_kind']}")
            return Screen(name, (Text("reading.ask", {"kind": kind}),), expects=Expects.NUMBER)
        if name == "reading.done":
            reading = data["reading"]
            return Screen(
                name,
                (
                    Text(
                        "reading.saved",
                        {
                            "kind": Text(f"reading.kind.{reading['kind']}"),
                            "value": DigitString(str(reading["value"])),
                        },
                    ),
                    Text("reading.consumption", {"consumption": reading["consumption"]}),
                ),
                final=True,
            )
        if name == "resume":
            saved = data.get("resume", {})
            return Screen(
                name,
                (Text("resume.prompt", {"code": DigitString(saved.get("code", "")[-4:])}),),
                (Option("1", Text("resume.continue")), Option("2", Text("resume.restart"))),
            )
        raise KeyError(f"unknown screen {name!r}")


SCREEN_NAMES = (
    "language", "main", "balance.code", "balance.result", "pay.code", "pay.confirm",
    "pay.amount", "pay.again", "pay.receipt", "pay.cancelled", "pay.unknown",
    "complaint.category", "complaint.code", "complaint.description", "complaint.done",
    "follow.ticket", "follow.result", "installments.code", "installments.months",
    "installments.ack", "installments.done", "installments.cancelled", "resume",
    "rules.menu", "rules.code", "rules.answer", "reading.kind", "reading.value", "reading.done",
)  # fmt: skip
