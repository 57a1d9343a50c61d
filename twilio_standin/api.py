"""Twilio's Messages endpoints under /2010-04-01, answering in Twilio's wire format."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from twilio_standin.errors import TwilioError
from twilio_standin.paging import ListQuery, page_json
from twilio_standin.resource import API_VERSION, resource_json, resource_uri
from twilio_standin.service import CreateParams, Standin

STANDIN: web.AppKey[Standin] = web.AppKey("standin", Standin)
PREFIX = f"/{API_VERSION}"
MESSAGES = PREFIX + "/Accounts/{account_sid}/Messages.json"
MESSAGE = PREFIX + "/Accounts/{account_sid}/Messages/{sid}.json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _credentials(request: web.Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def authenticate(request: web.Request) -> None:
    """HTTP Basic AccountSid:AuthToken, for the account named in the path (else 20003)."""
    config = request.app[STANDIN].config
    given = _credentials(request)
    path_sid = request.match_info.get("account_sid", config.account_sid)
    if (
        given is None
        or not hmac.compare_digest(given[0].encode(), config.account_sid.encode())
        or not hmac.compare_digest(given[1].encode(), config.auth_token.encode())
        or path_sid != config.account_sid
    ):
        raise TwilioError(20003)


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
    )


@web.middleware
async def twilio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Twilio's error JSON and a Twilio-Request-Id on everything under /2010-04-01."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        response = await handler(request)
    except TwilioError as error:
        response = error.response()
    except web.HTTPNotFound:
        response = TwilioError(
            20404, f"The requested resource {request.path} was not found"
        ).response()
    except web.HTTPMethodNotAllowed:
        response = TwilioError(20004).response()
    response.headers["Twilio-Request-Id"] = "RQ" + secrets.token_hex(16)
    return response


async def create_message(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    authenticate(request)
    form = await request.post()

    def text(name: str) -> str | None:
        value = form.get(name)
        return value if isinstance(value, str) and value != "" else None

    params = CreateParams(
        to=text("To"),
        from_=text("From"),
        messaging_service_sid=text("MessagingServiceSid"),
        body=text("Body"),
        media_urls=[v for v in form.getall("MediaUrl", []) if isinstance(v, str) and v],
        content_sid=text("ContentSid"),
        status_callback=text("StatusCallback"),
    )
    message = standin.create(params)
    return _json(resource_json(message), status=201)


async def list_messages(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    authenticate(request)
    query = ListQuery.parse(request.query)
    return _json(page_json(standin.store, standin.config.account_sid, query, request.path_qs))


async def fetch_message(request: web.Request) -> web.Response:
    standin = request.app[STANDIN]
    authenticate(request)
    sid = request.match_info["sid"]
    message = standin.store.get(sid)
    if message is None:
        uri = resource_uri(request.match_info["account_sid"], sid)
        raise TwilioError(20404, f"The requested resource {uri} was not found")
    return _json(resource_json(message))


def add_routes(app: web.Application) -> None:
    app.router.add_post(MESSAGES, create_message)
    app.router.add_get(MESSAGES, list_messages)
    app.router.add_get(MESSAGE, fetch_message)
