"""Questions answered from the account: balance, installments, Ahsemha, compensation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.codes import CodeSlotValidation
from actions.context import billing, conversation, profile, remember, say
from actions.payment import refusal_text
from tasdeed.billing_client import BillingRefused, BillingUnavailable
from tasdeed.text import Months, Text

RULE_TOPICS = {"incentive": "incentive", "compensation": "compensation"}


class ValidateCodeForm(CodeSlotValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_code_form"


class ActionAnswerWithCode(Action):
    def name(self) -> str:
        return "action_answer_with_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = (await conversation(tracker)).get("code")
        purpose = tracker.get_slot("purpose") or "balance"
        reset: list[EventType] = [SlotSet("payment_code", None), SlotSet("purpose", None)]
        if not code:
            await say(dispatcher, tracker, Text("chat.fallback"))
            return reset
        try:
            if purpose in RULE_TOPICS:
                answer = await billing().rule_answer(RULE_TOPICS[purpose], code=code)
                await say(dispatcher, tracker, *answer.reasons)
            else:
                await self._balance(dispatcher, tracker, code, purpose)
        except BillingRefused as refused:
            await say(dispatcher, tracker, refusal_text(refused))
        except BillingUnavailable:
            await say(dispatcher, tracker, Text("error.billing_unavailable"))
        await remember(tracker, code=None)
        return reset

    async def _balance(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, code: str, purpose: str
    ) -> None:
        balance = await billing().balance(code=code)
        payee = Text("balance.payee", {"payee": balance.payee_masked, "area": balance.area})
        if balance.amount_due.minor == 0:
            await say(dispatcher, tracker, payee, Text("refusal.nothing_due"))
            return
        if purpose == "installments":
            settings = profile().installments
            await say(
                dispatcher,
                tracker,
                payee,
                Text(
                    "chat.installments",
                    {
                        "amount": balance.amount_due,
                        "min": settings.min_months,
                        "max": settings.max_months,
                    },
                ),
                Text(
                    "chat.installments_how",
                    {"code": profile().ussd_service_code, "line": profile().contact_line},
                ),
            )
            return
        due = Text(
            "balance.due",
            {"amount": balance.amount_due, "months": Months(balance.unpaid_months)},
        )
        await say(dispatcher, tracker, payee, due)
