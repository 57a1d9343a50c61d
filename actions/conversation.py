"""Greetings, goodbyes, things out of scope, not understood, a person, cancelling."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.context import profile, remember, say
from tasdeed.text import Text

REPLIES = {
    "greet": "chat.greet",
    "goodbye": "chat.goodbye",
    "out_of_scope": "chat.out_of_scope",
}


class ActionReply(Action):
    def name(self) -> str:
        return "action_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = str((tracker.latest_message or {}).get("intent", {}).get("name", ""))
        await say(dispatcher, tracker, Text(REPLIES.get(intent, "chat.fallback")))
        return []


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await say(dispatcher, tracker, Text("chat.handoff", {"line": profile().contact_line}))
        dispatcher.utter_message(json_message={"handoff": True})
        return []


class ActionCancel(Action):
    """The person changed their mind: nothing moved, nothing kept."""

    def name(self) -> str:
        return "action_cancel"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await remember(tracker, code=None, quote=None)
        await say(dispatcher, tracker, Text("flow.cancelled"))
        return [ActiveLoop(None), SlotSet("requested_slot", None), AllSlotsReset()]
