"""The twilio library's REST client, optionally pointed at a stand-in of Twilio's API.

The library builds absolute `https://api.twilio.com/...` URLs; this HTTP client swaps that
origin for `api_base` (the local stand-in in tests and `make run`) and keeps everything
else — paths, form encoding, Basic auth, error parsing — the library's own.
"""

from __future__ import annotations

import base64
import logging

import aiohttp
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

TWILIO_API_ORIGIN = "https://api.twilio.com"
_logger = logging.getLogger("tasdeed.twilio_api")


class RedirectingAsyncHttpClient(AsyncHttpClient):  # type: ignore[misc]
    """An aiohttp client for the twilio library that can send its calls elsewhere."""

    def __init__(self, api_base: str | None, timeout_s: float, max_connections: int = 64):
        super().__init__(_logger, True, timeout_s)
        self.api_base = api_base.rstrip("/") if api_base else None
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _target(self, url: str) -> str:
        if self.api_base and url.startswith(TWILIO_API_ORIGIN):
            return self.api_base + url[len(TWILIO_API_ORIGIN) :]
        return url

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the twilio library's signature
        allow_redirects: bool = False,
    ) -> Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                timeout=self.timeout,
            )
        headers = dict(headers or {})
        if auth:  # Basic auth as a header: aiohttp 3.14 deprecates its `auth=` argument
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        async with self._session.request(
            method.upper(),
            self._target(url),
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            allow_redirects=allow_redirects,
            timeout=aiohttp.ClientTimeout(total=timeout) if timeout else None,
        ) as response:
            text = await response.text()
            return Response(response.status, text, response.headers)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def messaging_client(
    account_sid: str, auth_token: str, api_base: str | None, timeout_s: float = 10.0
) -> tuple[Client, RedirectingAsyncHttpClient]:
    """A twilio `Client` whose `*_async` calls go to `api_base` (None: Twilio itself)."""
    http = RedirectingAsyncHttpClient(api_base, timeout_s)
    return Client(account_sid, auth_token, http_client=http), http
