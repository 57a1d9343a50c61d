"""The signing relay (`POST /simulator/ivr`): calls from the simulator page, signed as Twilio
signs them.

A browser cannot have the Twilio auth token that signs each call webhook, so the page posts
`{url, params}` here; the relay signs them (exactly as Twilio does, over the PUBLIC_BASE_URL
action URL) and forwards the request to this gateway's own `/ivr/*` handler over loopback
HTTP. It signs anything under `/ivr/` for whoever asks: it is mounted only in simulator mode
(gateway/simulator/__init__.py), never in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from tasdeed.logs import get_logger
from tasdeed.settings import Settings

log = get_logger("gateway.simulator.relay")
RELAY_PATHS = frozenset({"/ivr/voice", "/ivr/gather", "/ivr/silence", "/ivr/status"})
RELAY_MAX_PARAMS = 32
RELAY_MAX_VALUE = 1024
RELAY_TIMEOUT_S = 15.0


@dataclass
class Relay:
    auth_token: str
    public_base: str
    http: aiohttp.ClientSession | None = None


RELAY = web.AppKey("signing_relay", Relay)


def _refuse(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _own_address(request: web.Request) -> str | None:
    """The socket this request came in on: the relay posts back to it. Never the Host
    header, which the caller writes and could point anywhere."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return None
    host, port = str(sockname[0]), int(sockname[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def ivr_relay(request: web.Request) -> web.Response:
    """POST {url, params}: sign as Twilio would and forward to our own /ivr/* handler; the
    answer is the handler's TwiML (or its status, as Twilio would see it)."""
    relay = request.app[RELAY]
    try:
        body = await request.json()
    except ValueError:
        return _refuse("body is not JSON")
    if not isinstance(body, dict):
        return _refuse("body is not an object")
    url, params = body.get("url"), body.get("params", {})
    if not isinstance(url, str):
        return _refuse("url is required")
    if (
        not isinstance(params, dict)
        or len(params) > RELAY_MAX_PARAMS
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= RELAY_MAX_VALUE
            for k, v in params.items()
        )
    ):
        return _refuse("params must be an object of strings")
    # Only action URLs this gateway itself issued (PUBLIC_BASE_URL + /ivr/...): the "/" after
    # the base stops "https://base.example.evil/…" from passing as the base.
    if not url.startswith(relay.public_base + "/"):
        return _refuse("url must start with PUBLIC_BASE_URL")
    rest = url[len(relay.public_base) :]
    if rest.split("?", 1)[0] not in RELAY_PATHS:
        return _refuse("url must be one of the /ivr/ webhooks")
    own = _own_address(request)
    if own is None or relay.http is None:
        return _refuse("relay not ready", 503)
    signature = RequestValidator(relay.auth_token).compute_signature(url, params)
    try:
        async with relay.http.post(
            own + rest, data=params, headers={"X-Twilio-Signature": signature}
        ) as answer:
            text = await answer.text()
            status = answer.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("simulator relay failed", error=str(exc))
        return _refuse("the gateway did not answer", 502)
    if status == 204:
        return web.Response(status=204)
    return web.Response(status=status, text=text, content_type="text/xml")


def add_routes(app: web.Application, settings: Settings) -> None:
    relay = Relay(settings.twilio_auth_token, settings.public_base_url.rstrip("/"))
    app[RELAY] = relay

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        relay.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RELAY_TIMEOUT_S))
        yield
        await relay.http.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/simulator/ivr", ivr_relay)
