"""Rasa on an internal address: its REST channel (no authentication of its own) for chat, and
its HTTP API's `/model/parse` (Rasa started with `--enable-api --auth-token`) for the NLU alone,
which the IVR asks what a caller said at the main menu."""

from __future__ import annotations

from typing import Any

import aiohttp

from tasdeed.logs import get_logger

log = get_logger("chat.rasa")
PARSE_TIMEOUT_S = 2.0


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(
        self,
        base_url: str,
        timeout_s: float = 8.0,
        *,
        token: str = "",
        parse_timeout_s: float = PARSE_TIMEOUT_S,
    ):
        base = base_url.rstrip("/")
        self.url = base + "/webhooks/rest/webhook"
        self.parse_url = base + "/model/parse"
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.parse_timeout = aiohttp.ClientTimeout(total=parse_timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        try:
            async with self._open().post(
                self.url, json={"sender": sender, "message": text}
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"rasa answered {response.status}")
                replies = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc
        return [r for r in replies if isinstance(r, dict)] if isinstance(replies, list) else []

    async def parse(self, text: str) -> tuple[str, float] | None:
        """The intent Rasa's NLU reads in `text` (already normalised) and its confidence; None
        on any error or timeout, so a caller is never stopped by the NLU being down."""
        try:
            async with self._open().post(
                self.parse_url,
                params={"token": self.token} if self.token else None,
                json={"text": text},
                timeout=self.parse_timeout,
            ) as response:
                if response.status != 200:
                    log.warning("rasa parse refused", status=response.status)
                    return None
                body = await response.json()
            intent = body.get("intent") or {}
            name, confidence = intent.get("name"), intent.get("confidence")
            if not isinstance(name, str) or not isinstance(confidence, int | float):
                return None
            return name, float(confidence)
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as exc:
            log.warning("rasa parse unavailable", error=str(exc) or type(exc).__name__)
            return None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
