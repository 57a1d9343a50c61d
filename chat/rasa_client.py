"""Rasa's REST channel, on an internal address (it has no authentication of its own)."""

from __future__ import annotations

from typing import Any

import aiohttp


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float = 8.0):
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(
                self.url, json={"sender": sender, "message": text}
            ) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"rasa answered {response.status}")
                replies = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc
        return [r for r in replies if isinstance(r, dict)] if isinstance(replies, list) else []

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
