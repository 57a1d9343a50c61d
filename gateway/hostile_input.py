"""Request bodies nobody meant: refused with a 400 before a handler can trip over them.

Every webhook reads its body with aiohttp's `request.post()` or `request.json()`, and both
raise on input a real aggregator or Twilio never sends but anyone can: bytes that are not
UTF-8 (`UnicodeDecodeError`), an unknown charset (`LookupError`), broken multipart, JSON
nested thousands deep (`RecursionError`), `NaN`/`Infinity`/`1e400`, lone surrogates. Each of
those used to surface as a 500. This middleware reads the body once, before the handler:

- form bodies (`application/x-www-form-urlencoded`, `multipart/form-data`, or no content
  type, which aiohttp reads as a form) are parsed with `request.post()`, which aiohttp
  caches, so the handler gets the same parsed form;
- any other body must decode in its charset (UTF-8 by default), and a JSON body (a JSON
  content type, or text starting with `{` or `[`) must pass `tasdeed.safe_json.loads_limited`
  with a generous depth (routes apply their own, smaller one);
- as a last guard, a `UnicodeDecodeError`, `json.JSONDecodeError` or `RecursionError`
  escaping a handler (only body parsing raises them there) is answered 400 as well.

The answer is short and never echoes the body; 413 for an oversize body stays 413, and
what was wrong is logged by kind only (bodies carry codes and phone numbers).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from tasdeed.logs import get_logger
from tasdeed.safe_json import loads_limited

log = get_logger("gateway.input")
# Outer limit for every JSON body; chat and USSD read theirs with a smaller one.
MAX_JSON_DEPTH = 32
FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data"})
# What aiohttp's form parsing raises on a body it cannot read (HTTPException passes: 413).
_FORM_ERRORS = (UnicodeError, LookupError, ValueError, AssertionError, TypeError)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class UnreadableBody(Exception):
    """The body cannot be read as what its content type says; `reason` is safe to log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def bad_request(request: web.Request, reason: str) -> web.Response:
    """A short 400: JSON for JSON callers, plain text otherwise; the body is never quoted."""
    log.warning("request body refused", path=request.path, reason=reason)
    if _is_json_type(request.content_type):
        return web.json_response({"error": "invalid request body"}, status=400)
    return web.Response(status=400, text="invalid request body", content_type="text/plain")


@web.middleware
async def refuse_hostile_input(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Forms are parsed even when the body is empty: an empty multipart body is an error too.
    if request.method in request.POST_METHODS:
        try:
            await check_body(request)
        except UnreadableBody as exc:
            return bad_request(request, exc.reason)
    try:
        return await handler(request)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return bad_request(request, type(exc).__name__)


async def check_body(request: web.Request) -> None:
    """Read (and for forms, parse and cache) the body; `UnreadableBody` if it cannot be."""
    if request.content_type in FORM_TYPES:
        try:
            await request.post()
        except web.HTTPException:
            raise  # 413 and aiohttp's own 400s stay what they are
        except _FORM_ERRORS as exc:
            raise UnreadableBody(f"form: {type(exc).__name__}") from None
        return
    raw = await request.read()
    try:
        text = raw.decode(request.charset or "utf-8")
    except (UnicodeError, LookupError) as exc:
        raise UnreadableBody(f"text: {type(exc).__name__}") from None
    if _is_json_type(request.content_type) or text.lstrip()[:1] in ("{", "["):
        try:
            loads_limited(text, max_depth=MAX_JSON_DEPTH)
        except ValueError as exc:
            raise UnreadableBody(f"json: {_reason(exc)}") from None


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _reason(exc: ValueError) -> str:
    # loads_limited's messages name what was wrong and a position, never the input.
    return str(exc).split(":", 1)[0][:60]
