"""The operator view's own lock: OPERATOR_TOKEN, compared in constant time.

Two ways to present it: `Authorization: Bearer <token>` (scripts, monitoring) or HTTP Basic
with the token as the password and any user name (a browser asks for it by itself and sends
it again with the page's own requests). Nothing presented: 401 with a Basic challenge, so a
browser prompts. A wrong token: 403 for a bearer token; 401 again for Basic, since only a 401
makes a browser ask again instead of resending what it remembered.

An empty OPERATOR_TOKEN leaves the view open: the embedded default for one developer's
machine only; production refuses to start that way while the view is enabled
(tasdeed/production.py).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from tasdeed.logs import get_logger

log = get_logger("gateway.operator.auth")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REALM = "Tasdeed operator view"
CHALLENGE = f'Basic realm="{REALM}", charset="UTF-8"'
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Presented:
    scheme: str  # "bearer" or "basic"
    token: str


def presented(request: web.Request) -> Presented | None:
    """The token in the Authorization header; None when there is none to check."""
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if not value:
        return None
    if scheme == "bearer":
        return Presented("bearer", value)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return Presented("basic", "")
        _user, _, password = decoded.partition(":")
        return Presented("basic", password)
    return None


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def _refused(status: int, reason: str, challenge: bool) -> web.Response:
    headers = {**NO_STORE, **({"WWW-Authenticate": CHALLENGE} if challenge else {})}
    return web.json_response({"error": reason}, status=status, headers=headers)


def require_token(token: str, handler: Handler) -> Handler:
    """`handler` behind OPERATOR_TOKEN; every answer marked not to be cached."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if token:
            given = presented(request)
            if given is None:
                return _refused(401, "the operator view needs OPERATOR_TOKEN", challenge=True)
            if not token_matches(given.token, token):
                log.warning("operator view: wrong token", scheme=given.scheme, path=request.path)
                basic = given.scheme == "basic"
                return _refused(401 if basic else 403, "wrong operator token", challenge=basic)
        response = await handler(request)
        response.headers.update(NO_STORE)
        return response

    return guarded
