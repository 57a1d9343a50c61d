"""Chat drives the core's walks: Rasa decides when a walk starts, the engine does the rest.

Rasa activates `walk_form` when it recognises a walk's intent (pay_bill, check_balance …).
The form has one slot, `walk_input`, filled from the text of every message while the form is
active (and from the message that started it), so inside a walk every message reaches
`validate_walk_input`, which hands it to `tasdeed.flows.engine.FlowEngine` unchanged. The
classifier's intent is never an answer: a yes pays only when the engine reads it as one
(the key 1 or the reviewed yes-list), and a question at the confirmation re-asks.

The walk's state stays in this server's state store, keyed by conversation; slots hold only
a marker, never a code (the action server's error handler can echo slots).
"""

from __future__ import annotations

import secrets
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import CHANNEL, billing, conversation_key, language, profile, say, store
from tasdeed.flows.engine import FlowEngine, FlowState
from tasdeed.flows.screens import Expects, Screen
from tasdeed.flows.text_render import TextRenderer
from tasdeed.flows.walks import STEPS
from tasdeed.text import Text

WALK_TTL_S = 1800
DONE = "done"
# Which walk each of Rasa's intents starts (what the person wants, never what they answer).
WALK_OF_INTENT = {
    "pay_bill": "pay",
    "check_balance": "balance",
    "file_complaint": "complaint",
    "report_outage": "outage",
    "complaint_status": "follow",
    "installment_request": "installments",
    "incentive_inquiry": "rules:incentive",
    "incentive_calculator": "calculator",
    "compensation_inquiry": "rules:compensation",
    "prepaid_inquiry": "rules:prepaid",
}
# Entities Rasa found in the first message, used as the first answer where a step asks for
# exactly that (a hint: the engine still checks it like anything typed).
HINTS = {
    Expects.CODE: ("payment_code", "account_number"),
    Expects.TICKET: ("complaint_id",),
}


def engine() -> FlowEngine:
    return FlowEngine(profile(), billing(), CHANNEL)


def _walk_key(tracker: Tracker) -> str:
    return f"chat:walk:{conversation_key(tracker)}"


async def load_walk(tracker: Tracker) -> tuple[FlowState, str] | None:
    saved = await store().get(_walk_key(tracker))
    if not saved:
        return None
    return FlowState.from_dict(saved["state"]), str(saved["conversation"])


async def save_walk(tracker: Tracker, state: FlowState, conversation: str) -> None:
    record = {"state": state.to_dict(), "conversation": conversation}
    await store().set(_walk_key(tracker), record, WALK_TTL_S)


def show(dispatcher: CollectingDispatcher, screen: Screen, language: str) -> None:
    """A screen as one chat message: the reason an answer was not taken, the body, the
    options; on a confirmation, how to say yes or no. In the language the walk started in:
    a one-word "ok" or "cancel" in an Arabic chat does not switch it to English."""
    renderer = TextRenderer(profile(), language)
    lines = renderer.body_lines(screen) + renderer.option_lines(screen)
    if STEPS[screen.name].yes and STEPS[screen.name].no:
        lines.append(renderer.text(Text("chat.yes_no_hint")))
    dispatcher.utter_message(text="\n".join(lines))


def _finished(dispatcher: CollectingDispatcher, state: FlowState, screen: Screen) -> None:
    """What the gateway needs after a walk ends: the receipt (for the image) or a handoff."""
    if screen.name == "pay.receipt":
        receipt = state.data["receipt"]
        dispatcher.utter_message(
            json_message={"receipt": {**receipt, "currency": profile().currency}}
        )
    elif screen.name == "walk.handoff":
        dispatcher.utter_message(json_message={"handoff": True})


class ValidateWalkForm(FormValidationAction):
    def name(self) -> str:
        return "validate_walk_form"

    async def validate_walk_input(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        text = slot_value if isinstance(slot_value, str) else ""
        flow = engine()
        walk = await load_walk(tracker)
        if walk is None or STEPS[walk[0].screen].final:
            state, conversation = FlowState(language=await language(tracker)), ""
            screen = await self._begin(flow, state, tracker, dispatcher)
            if screen is None:
                return {"walk_input": DONE}
            conversation = state.data["conversation"]
        else:
            state, conversation = walk
            screen = await flow.handle(state, text, conversation)
        await save_walk(tracker, state, conversation)
        if screen.final:
            show(dispatcher, screen, state.language)
            _finished(dispatcher, state, screen)
            return {"walk_input": DONE}
        return {"walk_input": None}  # the form asks again: action_ask_walk_input shows it

    async def _begin(
        self,
        flow: FlowEngine,
        state: FlowState,
        tracker: Tracker,
        dispatcher: CollectingDispatcher,
    ) -> Screen | None:
        intent = str((tracker.latest_message or {}).get("intent", {}).get("name", ""))
        conversation = f"{conversation_key(tracker)}-{secrets.token_hex(4)}"
        screen = flow.begin(state, WALK_OF_INTENT.get(intent, ""), conversation)
        if screen is None:
            await say(dispatcher, tracker, Text("chat.walk_unavailable"))
            return None
        hint = _hint(tracker, screen.expects)
        if hint is not None:
            screen = await flow.handle(state, hint, conversation)
        return screen


def _hint(tracker: Tracker, expects: Expects) -> str | None:
    wanted = HINTS.get(expects, ())
    for entity in (tracker.latest_message or {}).get("entities", []):
        if entity.get("entity") in wanted and isinstance(entity.get("value"), str):
            return str(entity["value"])
    return None


class ActionAskWalkInput(Action):
    """The form asks for the next answer: the walk's current screen."""

    def name(self) -> str:
        return "action_ask_walk_input"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        walk = await load_walk(tracker)
        if walk is not None:
            show(dispatcher, engine().render(walk[0]), walk[0].language)
        return []


class ActionEndWalk(Action):
    """After a walk's last screen: the form's slot is cleared for the next walk."""

    def name(self) -> str:
        return "action_end_walk"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await store().delete(_walk_key(tracker))
        return [SlotSet("walk_input", None), SlotSet("requested_slot", None)]
