"""The payment form: code → local check → quote (masked payee, months, amount, no refund)
→ an explicit yes → receipt. "No", "cancel" or a changed mind leaves no money moved. The
idempotency key comes from the conversation and the quote, so a resent "yes" pays once."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.codes import masked, take_code
from actions.context import CHANNEL, billing, conversation, conversation_key, profile, remember, say
from tasdeed.billing_client import (
    BillingRefused,
    BillingUnavailable,
    PaymentOutcomeUnknown,
)
from tasdeed.money import Money
from tasdeed.text import DigitString, Months, Text


def refusal_text(refused: BillingRefused) -> Text:
    params: dict[str, Any] = {}
    if "receipt" in refused.details:
        params["receipt"] = DigitString(str(refused.details["receipt"]))
    for name in ("minimum", "due"):
        if f"{name}_minor" in refused.details:
            params[name] = Money(int(refused.details[f"{name}_minor"]), profile().currency)
    return Text(f"refusal.{refused.reason.value}", params)


class ActionAskPaymentCode(Action):
    def name(self) -> str:
        return "action_ask_payment_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await say(dispatcher, tracker, Text("ask.code", {"length": profile().payment_code.length}))
        return []


class ActionAskPaymentConfirmed(Action):
    def name(self) -> str:
        return "action_ask_payment_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await say(dispatcher, tracker, Text("chat.confirm_question"))
        return []


class ValidatePayForm(FormValidationAction):
    def name(self) -> str:
        return "validate_pay_form"

    async def validate_payment_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        code = await take_code(slot_value, dispatcher, tracker)
        if code is None:
            return {"payment_code": None}
        try:
            quote = await billing().quote(code, channel=CHANNEL)
        except BillingRefused as refused:
            # Nothing to pay (or paid moments ago): say so and close the form, no money moves.
            await say(dispatcher, tracker, refusal_text(refused))
            await remember(tracker, quote=None, said_refusal=True)
            return {"payment_code": masked(code), "payment_confirmed": False}
        except BillingUnavailable:
            await say(dispatcher, tracker, Text("error.billing_unavailable"))
            return {"payment_code": None}
        await remember(tracker, quote={"id": quote.quote_id}, said_refusal=False)
        await say(
            dispatcher,
            tracker,
            Text("quote.payee", {"payee": quote.payee_masked, "area": quote.area}),
            Text("quote.months", {"months": Months(quote.bill_months)}),
            Text("quote.amount", {"amount": quote.amount}),
            Text("quote.no_refund"),
        )
        return {"payment_code": masked(code)}

    async def validate_payment_confirmed(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        return {"payment_confirmed": slot_value if isinstance(slot_value, bool) else None}


class ActionSubmitPayment(Action):
    def name(self) -> str:
        return "action_submit_payment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        state = await conversation(tracker)
        quote = state.get("quote")
        reset: list[EventType] = [
            SlotSet("payment_code", None),
            SlotSet("payment_confirmed", None),
            SlotSet("requested_slot", None),
        ]
        await remember(tracker, quote=None, code=None)
        if tracker.get_slot("payment_confirmed") is not True or not quote:
            if not state.get("said_refusal"):
                await say(dispatcher, tracker, Text("flow.cancelled"))
            return reset
        key = f"{CHANNEL}:{conversation_key(tracker)}:pay:{quote['id']}"
        try:
            receipt = await billing().confirm(quote["id"], key)
        except PaymentOutcomeUnknown:
            await say(dispatcher, tracker, Text("error.payment_outcome_unknown"))
            return reset
        except BillingRefused as refused:
            await say(dispatcher, tracker, refusal_text(refused))
            return reset
        await say(
            dispatcher,
            tracker,
            Text(
                "receipt.summary",
                {"amount": receipt.amount, "receipt": DigitString(receipt.receipt_number)},
            ),
        )
        dispatcher.utter_message(
            json_message={
                "receipt": {
                    "number": receipt.receipt_number,
                    "amount_minor": receipt.amount.minor,
                    "currency": receipt.amount.currency,
                    "payee": receipt.payee_masked,
                    "months": list(receipt.bill_months),
                    "paid_at": receipt.paid_at.isoformat(),
                }
            }
        )
        return reset
