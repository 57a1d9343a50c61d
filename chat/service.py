"""One chat message in, the bot's replies out: once per channel, sender and message id."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from chat.rasa_client import RasaClient, RasaUnavailable
from chat.receipt_image import receipt_lines, render_receipt
from tasdeed.billing_client import BillingClient, BillingError, NoticeChannel
from tasdeed.i18n import translate
from tasdeed.language import guess_language
from tasdeed.logs import get_logger
from tasdeed.metrics import HOP_SECONDS, HOPS, PAYMENTS
from tasdeed.normalise import normalise_input
from tasdeed.notices.consent import ConsentChange, consent_in_normalised
from tasdeed.profile import Profile
from tasdeed.state_store import StateStore

log = get_logger("chat")
SEEN_TTL_S = 86_400
IMAGE_TTL_S = 86_400
MAX_MESSAGE_CHARS = 500


@dataclass
class Reply:
    text: str
    image_token: str | None = None


@dataclass
class ChatTurn:
    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False


class ChatService:
    def __init__(
        self,
        profile: Profile,
        rasa: RasaClient,
        store: StateStore,
        billing: BillingClient | None = None,
    ):
        self.profile = profile
        self.rasa = rasa
        self.store = store
        self.billing = billing  # records STOP / START for the notices (tasdeed.notices.consent)

    @staticmethod
    def sender_id(channel: str, address: str) -> str:
        """Rasa sees a hash, never the phone number."""
        return channel + ":" + hashlib.sha256(address.encode()).hexdigest()[:24]

    @staticmethod
    def seen_key(channel: str, address: str, message_id: str) -> str:
        """Where a message's replies are kept for its retries: by channel, sender and message
        id together. A message id alone is not enough: a web page picks its own, and nothing
        stops it from picking someone else's (or a WhatsApp MessageSid) to read their reply.
        Without an id every message is new (a random one stands in)."""
        if not message_id:
            message_id = "random:" + secrets.token_hex(16)
        # JSON keeps the three apart ("a:b" + "c" is not "a" + "b:c") and is ASCII.
        identity = json.dumps([channel, address, message_id]).encode("ascii")
        return f"chat:seen:{hashlib.sha256(identity).hexdigest()[:32]}"

    async def handle(
        self, *, channel: str, address: str, message_id: str, text: str, images: bool
    ) -> ChatTurn:
        started = time.perf_counter()
        turn: ChatTurn | None = None
        try:
            seen_key = self.seen_key(channel, address, message_id)
            async with self.store.lock(seen_key):
                seen = await self.store.get(seen_key)
                if seen is not None:
                    HOPS.labels(channel, "duplicate").inc()
                    return ChatTurn([Reply(**r) for r in seen["replies"]], duplicate=True)
                turn = await self._answer(channel, address, text, images)
                replies = [{"text": r.text, "image_token": r.image_token} for r in turn.replies]
                await self.store.set(seen_key, {"replies": replies}, SEEN_TTL_S)
            HOPS.labels(channel, "message").inc()
            return turn
        except RedisError as exc:
            # The state store failed: an answer, never a 500. A turn already answered (maybe
            # a receipt) is still the answer, though a retry of it is no longer recognised.
            log.warning("chat state store failed", error=type(exc).__name__)
            HOPS.labels(channel, "store_error").inc()
            if turn is not None:
                return turn
            language = guess_language(text) or "ar"
            return ChatTurn([Reply(self._t("error.billing_unavailable", language))])
        finally:
            HOP_SECONDS.labels(channel).observe(time.perf_counter() - started)

    async def _answer(self, channel: str, address: str, text: str, images: bool) -> ChatTurn:
        language = guess_language(text) or "ar"
        normalised = normalise_input(text, max_chars=MAX_MESSAGE_CHARS)
        if normalised.truncated:
            return ChatTurn([Reply(self._t("error.input_too_long", language))])
        if not normalised.text:
            return ChatTurn([Reply(self._t("chat.fallback", language))])
        change = consent_in_normalised(normalised.text)
        if change is not None and channel in ("sms", "whatsapp") and self.billing is not None:
            return await self._change_consent(channel, address, change, language)
        try:
            answers = await self.rasa.send(self.sender_id(channel, address), normalised.text)
        except RasaUnavailable as exc:
            log.warning("rasa unavailable", error=str(exc))
            return ChatTurn([Reply(self._t("error.billing_unavailable", language))])
        if not any(answer.get("text") for answer in answers):
            # Rasa answered nothing (its action server is down): say so, never stay silent.
            # Not "try again" alone: a confirmation sent just before may have paid.
            log.warning("rasa answered nothing")
            return ChatTurn([Reply(self._t("error.payment_outcome_unknown", language))])
        turn = ChatTurn()
        for answer in answers:
            if answer.get("text"):
                turn.replies.append(Reply(str(answer["text"])))
            receipt = (answer.get("custom") or {}).get("receipt")
            if receipt:
                PAYMENTS.labels(channel).inc()
                if images:
                    token = await self._receipt_image(receipt, language)
                    if token is not None:
                        turn.replies.append(Reply(self._t("chat.receipt_title", language), token))
        return turn

    async def _change_consent(
        self, channel: str, address: str, change: ConsentChange, language: str
    ) -> ChatTurn:
        """STOP / إيقاف and START / اشتراك: for every account registered with this number."""
        assert self.billing is not None
        opted_in = change == "opt_in"
        notice_channel: NoticeChannel = "whatsapp" if channel == "whatsapp" else "sms"
        try:
            await self.billing.set_contact_preference(
                address, notice_channel, opted_in, source=f"{channel}_keyword"
            )
        except BillingError:
            return ChatTurn([Reply(self._t("error.billing_unavailable", language))])
        return ChatTurn([Reply(self._t(f"consent.opted_{'in' if opted_in else 'out'}", language))])

    def _t(self, key: str, language: str) -> str:
        return translate(key, language, self.profile.dialect)

    async def _receipt_image(self, receipt: dict[str, Any], language: str) -> str | None:
        """The receipt as a PNG (time in the utility's zone, the profile's digits, the months
        paid), kept for IMAGE_TTL_S under a random token; None when it cannot be drawn or kept
        (no Arabic font in the image, Redis down). The payment already happened: the receipt's
        words go out without the picture rather than as an error."""
        try:
            lines = receipt_lines(receipt, self.profile, language)
            png = render_receipt(lines, rtl=language == "ar")
            token = secrets.token_urlsafe(16)
            await self.store.set(
                f"chat:image:{token}", {"png": base64.b64encode(png).decode()}, IMAGE_TTL_S
            )
        except (OSError, RedisError) as exc:
            log.error("receipt image failed", error=type(exc).__name__)
            return None
        return token

    async def image(self, token: str) -> bytes | None:
        stored = await self.store.get(f"chat:image:{token}")
        return base64.b64decode(stored["png"]) if stored else None
