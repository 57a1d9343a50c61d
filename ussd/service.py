"""The USSD hop: from one normalised request to one page, exactly once per input.

Gateways and people retry. Each session record keeps how many inputs were consumed and a
salted hash of the input chain after each one (never the raw inputs: they hold codes), so:
- the same hop seen again gets the same page and changes nothing;
- an older chain that matches what was consumed gets the current page again;
- a chain that does not match, an unknown session id, or a phone number that changed gets a
  closing screen and changes nothing.
A session dropped on a payment screen leaves a resume record for the phone number; the next
dial within minutes offers to continue, which shows a fresh quote (never straight into
confirm) or the receipt of a confirm that was already sent.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import replace
from typing import Any

from redis.exceptions import RedisError

from tasdeed.billing_client import BillingClient
from tasdeed.flows.engine import FlowEngine, FlowState
from tasdeed.flows.screens import Screen
from tasdeed.flows.text_render import TextRenderer
from tasdeed.flows.walks import SPARE_ON_CONFIRM
from tasdeed.i18n import translate
from tasdeed.logs import get_logger
from tasdeed.metrics import HOP_SECONDS, HOPS, PAYMENTS
from tasdeed.profile import Profile
from tasdeed.state_store import Held, StateStore
from tasdeed.text import Text
from ussd.events import MAX_INPUT_CHARS, UssdReply, UssdRequest
from ussd.pages import MORE, for_unshaped_handset, paginate

log = get_logger("ussd")
CHANNEL = "ussd"
MAX_RESUME_PROOFS = 3
CLAIMS_NOTHING_PAID = frozenset(
    {"pay.cancelled", "walk.cancelled", "walk.too_many_tries", "walk.over_budget"}
)
TERMINAL_PAYMENT_SCREENS = frozenset({"pay.receipt", "pay.cancelled", "pay.unknown"})
# Screens whose "1" moves money: answered only on their own screen, after it was shown.
CONFIRMATIONS = frozenset({"pay.confirm", "pay.again"})


def _chain_hash(session_id: str, inputs: tuple[str, ...] | list[str]) -> str:
    joined = "\x1f".join([session_id, *inputs])
    return hashlib.sha256(joined.encode()).hexdigest()[:20]


LANGUAGE_TTL_S = 180 * 86_400


class UssdService:
    def __init__(
        self,
        profile: Profile,
        billing: BillingClient,
        store: StateStore,
        *,
        session_ttl_s: int = 180,
        resume_ttl_s: int = 300,
        reshape_networks: frozenset[str] = frozenset(),
        sessions_per_minute: int = 6,
        max_inputs_per_hop: int = 8,
        phone_salt: str = "",
    ):
        self.profile = profile
        self.store = store
        self.engine = FlowEngine(profile, billing, CHANNEL)
        self.session_ttl_s = session_ttl_s
        self.resume_ttl_s = resume_ttl_s
        self.reshape_networks = reshape_networks
        self.sessions_per_minute = sessions_per_minute
        self.max_inputs_per_hop = max_inputs_per_hop
        self.phone_salt = phone_salt.encode()

    def _phone_key(self, phone: str) -> str:
        """Phone numbers are never stored: records are keyed by a salted hash."""
        return hmac.new(self.phone_salt, phone.encode(), hashlib.sha256).hexdigest()[:24]

    async def handle(self, request: UssdRequest) -> UssdReply:
        started = time.perf_counter()
        try:
            if request.ended:
                await self.store.delete(f"ussd:s:{request.session_id}")
                return UssdReply("", end=True)
            reply = None
            phone_key = self._phone_key(request.phone)
            keys = _keys(request.session_id, phone_key)
            try:
                # One round trip reads all a hop may need; one more writes it all back.
                async with self.store.claim(f"ussd:{request.session_id}", keys) as held:
                    reply, outcome = await self._handle_locked(request, held, phone_key)
            except (RedisError, TimeoutError) as exc:
                # State store unreachable, or the lock expired with a restarted Redis: a page,
                # never a 500. A reply already computed (maybe a receipt) is still the answer.
                log.warning("ussd state store failed", error=type(exc).__name__)
                if reply is None:
                    return UssdReply(
                        translate("error.billing_unavailable", "ar", self.profile.dialect), end=True
                    )
                outcome = "store_error"
            HOPS.labels(CHANNEL, outcome).inc()
            return reply
        finally:
            HOP_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)

    # ---- the hop ----------------------------------------------------------------------

    async def _handle_locked(
        self, request: UssdRequest, held: Held, phone_key: str
    ) -> tuple[UssdReply, str]:
        key = f"ussd:s:{request.session_id}"
        record = held.get(key)
        if record is None:
            seen = held.get(f"ussd:seen:{request.session_id}")
            if request.inputs and seen is None:
                # A shortcut dial (*121*2*<code>#): the aggregator's first request already
                # carries the typed-ahead inputs, which start from the main menu.
                return await self._start(request, held, phone_key, typed=request.inputs), "shortcut"
            if request.hop > 0 or request.hop == -1:
                log.info("ussd unknown session", session=request.session_id, hop=request.hop)
                return self._closing("session.out_of_sync", "ar"), "unknown_session"
            return await self._start(request, held, phone_key), "start"
        language = record["state"]["language"]
        if record["phone"] != phone_key:
            log.warning("ussd phone changed", session=request.session_id)
            return self._closing("session.phone_changed", language), "phone_changed"
        consumed: int = record["hops"]
        hop = request.hop if request.hop != -1 else consumed + 1
        if request.inputs is not None:
            prefix = request.inputs[: min(hop, consumed)]
            if _chain_hash(request.session_id, prefix) != record["chain"][len(prefix)]:
                log.warning("ussd chain mismatch", session=request.session_id, hop=hop)
                return self._closing("session.out_of_sync", language), "chain_mismatch"
        if hop <= consumed:
            return UssdReply(**record["reply"]), "replay"
        if request.inputs is not None:
            new_inputs = list(request.inputs[consumed:])
        else:
            new_inputs = [request.latest or ""]
        if len(new_inputs) > self.max_inputs_per_hop:
            # A person types ahead a few inputs, not dozens: each can cost a look-up.
            log.warning("ussd too many inputs in one hop", count=len(new_inputs))
            return self._closing("ussd.too_many_inputs", language), "over_budget"
        state = FlowState.from_dict(record["state"])
        screen = self.engine.render(state)
        stopped = False
        for offset, raw in enumerate(new_inputs):
            # Typed ahead ("1*99", "<code>*1"): each input as if typed on its own, on whatever
            # screen the one before led to; the hop shows the last screen. A run stops at a
            # payment confirmation it reached: that is answered on its own screen, after it
            # was shown, so what was typed past it is dropped (consumed, never applied).
            stopped = stopped or (offset > 0 and _answers_confirmation(record, state, raw))
            if not stopped:
                screen = await self._apply(record, state, raw, held)
                if offset < len(new_inputs) - 1:
                    record["pages"] = len(self.pages(state, screen))  # "99" may come next
            chain_inputs = (
                list(request.inputs[: consumed + offset + 1])
                if request.inputs is not None
                else None
            )
            record["chain"].append(
                _chain_hash(request.session_id, chain_inputs)
                if chain_inputs is not None
                else record["chain"][-1]
            )
        record["hops"] = hop if request.inputs is None else len(request.inputs)
        reply = self._finish(record, state, screen, request, held)
        held.put(key, record, self.session_ttl_s)
        return reply, "final" if reply.end else "continue"

    async def _start(
        self, request: UssdRequest, held: Held, phone_key: str, typed: tuple[str, ...] = ()
    ) -> UssdReply:
        key = f"ussd:s:{request.session_id}"
        started = await self.store.incr(f"ussd:n:{phone_key}", 60)
        if started > self.sessions_per_minute:
            log.warning("ussd sessions per phone over budget", count=started)
            return self._closing("session.too_many", "ar")
        if len(typed) > self.max_inputs_per_hop:
            return self._closing("ussd.too_many_inputs", "ar")
        saved = None if typed else held.get(f"ussd:r:{phone_key}")
        language = held.get(f"ussd:lang:{phone_key}")
        if saved is not None:
            state, screen = self.engine.resume(saved)
        else:
            state = FlowState()
            # A returning caller (or a shortcut) skips the language menu.
            known = str(language["language"]) if language else ("ar" if typed else None)
            screen = self.engine.start(state, language=known)
        record: dict[str, Any] = {
            "phone": phone_key,
            "hops": 0,
            "chain": [_chain_hash(request.session_id, ())],
            "page": 0,
            "pages": 1,
            "resumable": saved is not None,
        }
        held.put(f"ussd:seen:{request.session_id}", {}, self.session_ttl_s * 4)
        for count, raw in enumerate(typed, start=1):
            if _answers_confirmation(record, state, raw):
                # Money moves only on a key pressed at a confirmation the person has seen: a
                # typed-ahead "1" (or a lost session's resent chain) stops here.
                return self._closing("session.out_of_sync", state.language)
            screen = await self._apply(record, state, raw, held)
            if screen.error is not None or screen.name in CLAIMS_NOTHING_PAID:
                # A shortcut is clean or it is not one: a lost session's resent chain must not
                # end on an error or on a claim about what was (not) paid.
                return self._closing("session.out_of_sync", state.language)
            if count < len(typed):
                record["pages"] = len(self.pages(state, screen))  # "99" may come next
            record["chain"].append(_chain_hash(request.session_id, typed[:count]))
        record["hops"] = len(typed)
        reply = self._finish(record, state, screen, request, held)
        held.put(key, record, self.session_ttl_s)
        await self.store.mark_live(CHANNEL, key)  # the operator view's live sessions
        return reply

    async def _apply(
        self, record: dict[str, Any], state: FlowState, raw: str, held: Held
    ) -> Screen:
        if len(raw) > MAX_INPUT_CHARS:
            state.error = {"key": "error.input_too_long", "params": {}}
            return self.engine.render(state)
        if raw == MORE and record["page"] < record["pages"] - 1:
            record["page"] += 1
            return self.engine.render(state)
        record["page"] = 0
        before = state.screen
        screen = await self.engine.handle(state, raw, conversation_id=record["chain"][0])
        if before == "resume" and (screen.error is not None or screen.final):
            await self._count_failed_proof(record["phone"], screen, held)
        if before == "language" and state.screen == "main":
            held.put(f"ussd:lang:{record['phone']}", {"language": state.language}, LANGUAGE_TTL_S)
        if screen.name == "pay.receipt" and before != "pay.receipt":
            PAYMENTS.labels(CHANNEL).inc()
        return screen

    def _finish(
        self,
        record: dict[str, Any],
        state: FlowState,
        screen: Screen,
        request: UssdRequest,
        held: Held,
    ) -> UssdReply:
        pages = self.pages(state, screen)
        page = min(record["page"], len(pages) - 1)
        text = pages[page]
        if request.network and request.network in self.reshape_networks:
            text = for_unshaped_handset(text)
        reply = UssdReply(text, end=screen.final and page == len(pages) - 1)
        record.update(state=state.to_dict(), page=page, pages=len(pages), reply=vars_of(reply))
        self._keep_resume(record, state, held)
        return reply

    async def _count_failed_proof(self, phone_key: str, screen: Screen, held: Held) -> None:
        """Wrong last digits on a resume count for the phone number across sessions (each
        session is a new claim of that number): after a few, the dropped payment is no
        longer offered to anyone."""
        wrong_digits = screen.error is not None and screen.error.key == "resume.wrong_digits"
        if screen.name != "walk.too_many_tries" and not wrong_digits:
            return
        failures = await self.store.incr(f"ussd:rp:{phone_key}", self.resume_ttl_s)
        if failures >= MAX_RESUME_PROOFS or screen.final:
            held.drop(f"ussd:r:{phone_key}")
            log.warning("ussd resume withdrawn after wrong digits", failures=failures)

    def _keep_resume(self, record: dict[str, Any], state: FlowState, held: Held) -> None:
        resume_key = f"ussd:r:{record['phone']}"
        saved = self.engine.resumable(state)
        if saved is not None:
            held.put(resume_key, saved, self.resume_ttl_s)
            record["resumable"] = True
        elif record.get("resumable") and state.screen != "resume":
            held.drop(resume_key)
            record["resumable"] = False

    # ---- rendering --------------------------------------------------------------------

    def pages(self, state: FlowState, screen: Screen) -> list[str]:
        """The screen as USSD pages for this person's language."""
        renderer = TextRenderer(self.profile, state.language)
        lines = renderer.body_lines(screen) + renderer.option_lines(screen)
        more = renderer.text(Text("nav.more"))
        pages = paginate(lines, self._footer(state, screen, renderer), more)
        if screen.name == "pay.confirm" and len(pages) > 1:
            # A spare line (a prepaid-meter warning) never costs the confirmation a page: the
            # options stay with the payee and the amount (tasdeed.flows.walks._quote).
            body = tuple(text for text in screen.body if text.key not in SPARE_ON_CONFIRM)
            if body != screen.body:
                slim = replace(screen, body=body)
                lines = renderer.body_lines(slim) + renderer.option_lines(slim)
                fewer = paginate(lines, self._footer(state, slim, renderer), more)
                pages = fewer if len(fewer) < len(pages) else pages
        if screen.expects.is_data and len(pages) > 1:
            # On a screen that asks for a code or an amount, "99" is data, so it must never
            # need paging: drop the footer hint, then the prompt (the error says what to do).
            pages = paginate(lines, "", more)
            if len(pages) > 1 and screen.error is not None:
                pages = paginate([renderer.text(screen.error)], "", more)
        return pages

    def _footer(self, state: FlowState, screen: Screen, renderer: TextRenderer) -> str:
        # The confirmation is one page with no footer: 0 and 00 still work there.
        if screen.final or screen.name in ("language", "main", "resume", "pay.confirm"):
            return ""
        home = f"00 {renderer.text(Text('nav.home'))}"
        if screen.can_go_back and state.back:
            return f"0 {renderer.text(Text('nav.back'))}  {home}"
        return home

    def _closing(self, key: str, language: str) -> UssdReply:
        return UssdReply(translate(key, language, self.profile.dialect), end=True)


def _keys(session_id: str, phone_key: str) -> tuple[str, ...]:
    """Every record a hop may read: the session, whether its id was seen, and the phone's
    dropped payment and language."""
    return (
        f"ussd:s:{session_id}",
        f"ussd:seen:{session_id}",
        f"ussd:r:{phone_key}",
        f"ussd:lang:{phone_key}",
    )


def _answers_confirmation(record: dict[str, Any], state: FlowState, raw: str) -> bool:
    """Whether `raw` would answer the payment confirmation on screen (anything but turning
    to its next page)."""
    if state.screen not in CONFIRMATIONS:
        return False
    return not (raw == MORE and record["page"] < record["pages"] - 1)


def vars_of(reply: UssdReply) -> dict[str, Any]:
    return {"text": reply.text, "end": reply.end}
