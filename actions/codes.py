"""Taking an e-payment code in chat: checked locally first, then kept off the slots."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.context import profile, remember, say
from tasdeed.codes import check_payment_code, mask_code
from tasdeed.text import Text


async def take_code(
    slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> str | None:
    """The code (ASCII digits) if it passes the local checks, else None after saying why.
    The full code is remembered for this conversation; the slot gets it masked."""
    raw = slot_value if isinstance(slot_value, str) else ""
    checked = check_payment_code(raw, profile().payment_code)
    if not checked.ok or checked.code is None:
        assert checked.problem is not None
        length = profile().payment_code.length
        await say(dispatcher, tracker, Text(f"code.{checked.problem.value}", {"length": length}))
        return None
    await remember(tracker, code=checked.code)
    return checked.code


def masked(code: str) -> str:
    return mask_code(code)


class CodeSlotValidation:
    """Mixed into a form's validator: its `payment_code` slot takes a locally checked code
    and holds it masked (a plain mixin, not an Action, so rasa-sdk does not register it)."""

    async def validate_payment_code(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> dict[str, Any]:
        code = await take_code(slot_value, dispatcher, tracker)
        return {"payment_code": masked(code) if code else None}
