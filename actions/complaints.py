"""Complaints in chat: the account's code, a short description, a ticket; and following one."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.codes import CodeSlotValidation
from actions.context import CHANNEL, billing, conversation, conversation_key, remember, say
from actions.payment import refusal_text
from tasdeed.billing_client import BillingRefused, BillingUnavailable
from tasdeed.normalise import normalise_digits, normalise_input, strip_invisible
from tasdeed.text import DigitString, Text

TICKET = re.compile(r"(?<![0-9])[0-9]{8}(?![0-9])", re.ASCII)
MAX_DESCRIPTION = 500


class ActionAskComplaintDescription(Action):
    def name(self) -> str:
        return "action_ask_complaint_description"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await say(dispatcher, tracker, Text("ask.description"))
        return []


class ValidateComplaintForm(CodeSlotValidation, FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    async def validate_complaint_description(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        text = " ".join(strip_invisible(str(slot_value or "")).split())
        if not normalise_input(text).text:
            await say(dispatcher, tracker, Text("error.empty_description"))
            return {"complaint_description": None}
        return {"complaint_description": text[:MAX_DESCRIPTION]}


class ActionFileComplaint(Action):
    def name(self) -> str:
        return "action_file_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = (await conversation(tracker)).get("code")
        description = str(tracker.get_slot("complaint_description") or "")
        category = tracker.get_slot("complaint_category") or "billing"
        reset: list[EventType] = [
            SlotSet("payment_code", None),
            SlotSet("complaint_description", None),
            SlotSet("complaint_category", None),
        ]
        # The same complaint resent (a retried webhook) gets the same ticket.
        digest = hashlib.sha256(description.encode()).hexdigest()[:12]
        try:
            ticket = await billing().file_complaint(
                category=category,
                description=description,
                channel=CHANNEL,
                idempotency_key=f"{CHANNEL}:{conversation_key(tracker)}:complaint:{digest}",
                code=code,
            )
        except BillingRefused as refused:
            await say(dispatcher, tracker, refusal_text(refused))
            return reset
        except BillingUnavailable:
            await say(dispatcher, tracker, Text("error.billing_unavailable"))
            return reset
        await remember(tracker, code=None)
        await say(
            dispatcher,
            tracker,
            Text("complaint.filed", {"ticket": DigitString(ticket.ticket_number)}),
            Text("complaint.due", {"date": ticket.sla_due_at.date().isoformat()}),
        )
        return reset


class ActionComplaintStatus(Action):
    def name(self) -> str:
        return "action_complaint_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = normalise_digits(str((tracker.latest_message or {}).get("text") or ""))
        found = TICKET.search(str(tracker.get_slot("complaint_id") or "")) or TICKET.search(text)
        if found is None:
            await say(dispatcher, tracker, Text("ask.ticket", {"length": 8}))
            return []
        try:
            status = await billing().complaint_status(found.group(0))
        except BillingRefused as refused:
            await say(dispatcher, tracker, refusal_text(refused))
            return [SlotSet("complaint_id", None)]
        except BillingUnavailable:
            await say(dispatcher, tracker, Text("error.billing_unavailable"))
            return []
        await say(
            dispatcher,
            tracker,
            Text(
                "complaint.status",
                {
                    "ticket": DigitString(status.ticket_number),
                    "status": Text(f"complaint.state.{status.status}"),
                },
            ),
            Text("complaint.due", {"date": status.sla_due_at.date().isoformat()}),
        )
        return [SlotSet("complaint_id", None)]
