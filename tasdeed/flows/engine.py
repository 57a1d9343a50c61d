"""The engine every channel drives: it walks the table in `tasdeed.flows.walks`.

State is a small JSON-able `FlowState`; the channel stores it between hops. What an input
does, in order:
1. On a final step nothing more happens.
2. A leaving answer from the reviewed lists (cancel, no where "no" is not an option, goodbye,
   "a person please") leaves the walk from any step: nothing is paid.
3. Keypad navigation: `00` home, `0` back (only on choice steps: on data steps they are data).
4. A choice step takes its option's key, or an explicit yes/no from the reviewed lists where
   the table says which option that stands for. Nothing else picks an option: a question,
   another intent or a long message at a confirmation is "not a valid choice" and re-asks.
5. A data step hands the answer to its core call.
After `MAX_TRIES` answers in a row that a step did not take, the walk ends with nothing paid.
Money moves only from `pay.confirm` (see `tasdeed.flows.calls.WalkCalls.confirm_quote`).
"""

from __future__ import annotations

from typing import Any

from tasdeed.answers import Answer, read_answer
from tasdeed.billing_client import BillingClient, BillingUnavailable
from tasdeed.flows.calls import OverBudget, Retry, WalkCalls, rule_topics
from tasdeed.flows.screens import Option, Screen
from tasdeed.flows.state import FlowState
from tasdeed.flows.steps import Go, Step
from tasdeed.flows.walks import STEPS, WALK_STARTS
from tasdeed.normalise import digits_only
from tasdeed.profile import Profile
from tasdeed.text import Text, text_from_json, text_to_json

__all__ = ["BACK", "HOME", "SCREEN_NAMES", "FlowEngine", "FlowState", "Retry"]

BACK = "0"
HOME = "00"
MAX_TRIES = 3
# Screens a dropped session can come back to; "pay.unknown" so that the redial can tell
# what became of a confirm whose answer never came.
PAYMENT_SCREENS = frozenset({"pay.confirm", "pay.again", "pay.amount", "pay.unknown"})
SCREEN_NAMES = tuple(STEPS)


class FlowEngine:
    def __init__(self, profile: Profile, billing: BillingClient, channel: str):
        self.profile = profile
        self.channel = channel
        self.calls = WalkCalls(profile, billing, channel)

    # ---- entry points -------------------------------------------------------------------

    def start(self, state: FlowState, language: str | None = None) -> Screen:
        """A keypad session: from the language menu, or from the main menu in a language
        the channel remembers for this caller."""
        state.screen = "language" if language is None else "main"
        if language is not None:
            state.language = language
        state.back.clear()
        return self.render(state)

    def begin(self, state: FlowState, walk: str, conversation_id: str) -> Screen | None:
        """Chat: straight into a walk's first step (None when this utility has no such walk,
        e.g. a rules topic its profile does not offer)."""
        if walk not in WALK_STARTS:
            return None
        first, preset = WALK_STARTS[walk]
        topic = preset.get("topic")
        if topic is not None and topic not in rule_topics(self.profile):
            return None
        state.screen, state.error, state.tries = first, None, 0
        state.back.clear()
        state.data = {"conversation": conversation_id, **preset}
        return self.render(state)

    async def handle(self, state: FlowState, raw: str, conversation_id: str) -> Screen:
        """Apply one input to the state and return the screen to show next."""
        state.error = None
        state.data["conversation"] = conversation_id
        step = STEPS[state.screen]
        if step.final:
            return self.render(state)
        key = (digits_only(raw) or "") if raw.strip() else ""
        answer = read_answer(raw) if not key else None
        if answer is not None and answer.leaves and not (answer is Answer.NO and step.no):
            self._go(state, "walk.handoff" if answer is Answer.AGENT else "walk.cancelled")
            return self.render(state)
        if key == HOME and state.screen != "language":
            self._go(state, "main", remember=False)
            state.back.clear()
            return self.render(state)
        if key == BACK and not step.expects.is_data and state.back:
            state.screen, state.tries = state.back.pop(), 0
            return self.render(state)
        try:
            next_step = await self._next(state, step, raw, key, answer)
        except Retry as retry:
            return self._retry(state, retry.text)
        except BillingUnavailable:
            # The backend's failure is not the person's try: it never ends the walk.
            state.error = text_to_json(Text("error.billing_unavailable"))
            return self.render(state)
        except OverBudget:
            next_step = "walk.over_budget"
        self._go(state, next_step)
        return self.render(state)

    def _retry(self, state: FlowState, reason: Text) -> Screen:
        state.tries += 1
        if state.tries >= MAX_TRIES:
            self._go(state, "walk.too_many_tries")
            return self.render(state)
        state.error = text_to_json(reason)
        return self.render(state)

    async def _next(
        self, state: FlowState, step: Step, raw: str, key: str, answer: Answer | None
    ) -> str:
        if step.take is not None:
            return _checked(await step.take(self.calls, state, raw), step.leads, step.name)
        choice = key
        if answer is Answer.YES and step.yes:
            choice = step.yes
        elif answer is Answer.NO and step.no:
            choice = step.no
        chosen = self._option(step, state, choice)
        if chosen.to is not None:
            return chosen.to
        assert chosen.call is not None, f"{step.name} option {chosen.choice} leads nowhere"
        return _checked(await chosen.call(self.calls, state, choice), chosen.leads, step.name)

    def _option(self, step: Step, state: FlowState, choice: str) -> Go:
        for go in step.shown_options(self.profile, state.data):
            if go.choice == choice:
                return go
        raise Retry(Text("error.invalid_choice"))

    def resumable(self, state: FlowState) -> dict[str, Any] | None:
        """What a channel keeps when a session drops mid-payment (never the quote itself)."""
        if state.screen not in PAYMENT_SCREENS or "quote_ref" not in state.data:
            return None
        kept: dict[str, Any] = {"language": state.language}
        # The masked code and the quote id: enough to prove (last digits) and re-quote.
        for name in ("code", "quote_ref", "amount_minor", "payment_key"):
            if name in state.data:
                kept[name] = state.data[name]
        if state.screen == "pay.confirm" and "quote" in state.data:
            # The key a confirm from this screen would use: if the drop happened while that
            # confirm was in flight, the resumed session finds the payment under it.
            kept["payment_key"] = self.calls.key(state, f"pay:{state.data['quote']['id']}")
        return kept

    def resume(self, saved: dict[str, Any]) -> tuple[FlowState, Screen]:
        state = FlowState(screen="resume", language=saved.get("language", "ar"))
        state.data["resume"] = {k: v for k, v in saved.items() if k != "language"}
        return state, self.render(state)

    def rule_topics(self) -> tuple[str, ...]:
        return rule_topics(self.profile)

    def _go(self, state: FlowState, screen: str, *, remember: bool = True) -> None:
        if screen == state.screen:
            return
        if remember and not STEPS[state.screen].final:
            state.back.append(state.screen)
        state.screen, state.tries = screen, 0

    # ---- screens --------------------------------------------------------------------------

    def render(self, state: FlowState) -> Screen:
        step = STEPS[state.screen]
        options = tuple(
            Option(go.choice, go.label) for go in step.shown_options(self.profile, state.data)
        )
        return Screen(
            step.name,
            step.body(self.profile, state.data),
            options,
            step.expects,
            step.final,
            error=text_from_json(state.error) if state.error is not None else None,
        )


def _checked(next_step: str, allowed: tuple[str, ...], at: str) -> str:
    """A call may lead only where the table says (so the diagram never lies)."""
    if next_step not in allowed:
        raise AssertionError(f"{at} led to {next_step!r}, the table allows {allowed}")
    return next_step
