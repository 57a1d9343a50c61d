"""Outside a walk: greetings, goodbyes, things out of scope, not understood, a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.context import profile, say
from tasdeed.text import Text

REPLIES = {
    "greet": "chat.greet",
    "goodbye": "chat.goodbye",
    "out_of_scope": "chat.out_of_scope",
    # A yes or a no with no walk open answers nothing: nothing is waiting for it.
    "affirm": "chat.nothing_open",
    "deny": "chat.nothing_open",
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
