"""What every action shares: profile, billing client, state store, and how replies are worded."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tasdeed.billing_client import BillingClient, Timeouts
from tasdeed.flows.text_render import TextRenderer
from tasdeed.language import guess_language
from tasdeed.profile import Profile, load_profile
from tasdeed.settings import get_settings
from tasdeed.state_store import StateStore, create_store
from tasdeed.text import Text

CHANNEL = "chat"
STATE_TTL_S = 1800


@lru_cache(maxsize=1)
def profile() -> Profile:
    return load_profile(get_settings().tasdeed_profile)


@lru_cache(maxsize=1)
def billing() -> BillingClient:
    settings = get_settings()
    # Short timeouts: Rasa waits up to five minutes for an action, a person does not.
    return BillingClient(
        settings.billing_url,
        timeouts=Timeouts(settings.billing_connect_timeout_s, settings.billing_total_timeout_s),
        retries=settings.billing_retries,
        service_token=settings.service_token,
    )


@lru_cache(maxsize=1)
def store() -> StateStore:
    settings = get_settings()
    return create_store(settings.redis_url, settings.redis_prefix)


def conversation_key(tracker: Tracker) -> str:
    return hashlib.sha256(str(tracker.sender_id).encode()).hexdigest()[:24]


async def conversation(tracker: Tracker) -> dict[str, Any]:
    return await store().get(f"chat:{conversation_key(tracker)}") or {}


async def remember(tracker: Tracker, **values: Any) -> dict[str, Any]:
    state = await conversation(tracker)
    state.update(values)
    await store().set(f"chat:{conversation_key(tracker)}", state, STATE_TTL_S)
    return state


async def language(tracker: Tracker) -> str:
    """The language of the latest message, or of the conversation when it says nothing."""
    text = str((tracker.latest_message or {}).get("text") or "")
    guessed = guess_language(text)
    if guessed is not None:
        await remember(tracker, language=guessed)
        return guessed
    return str((await conversation(tracker)).get("language", "ar"))


async def say(dispatcher: CollectingDispatcher, tracker: Tracker, *texts: Text) -> None:
    """One chat message made of catalogue texts, one per line."""
    renderer = TextRenderer(profile(), await language(tracker))
    dispatcher.utter_message(text="\n".join(renderer.text(text) for text in texts))
