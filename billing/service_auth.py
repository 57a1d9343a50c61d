"""Service-to-service authentication for the billing API: `Authorization: Bearer <token>`.

When SERVICE_TOKEN is set, every call except `/health` and `/metrics` (probes and Prometheus)
must carry it; anything else is a 401 before the body is read, so a caller without the token
learns nothing and changes nothing. The comparison is constant-time (hmac.compare_digest over
the bytes). With no token configured (the embedded default) the API asks for none;
`TASDEED_ENV=production` refuses to start that way (tasdeed/production.py).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from tasdeed.logs import get_logger
from tasdeed.service_token import bearer_matches
from tasdeed.settings import get_settings

log = get_logger("billing.auth")
OPEN_PATHS = frozenset({"/health", "/metrics"})


def _unauthorized() -> web.Response:
    return web.json_response(
        {"error": "unauthorized"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="tasdeed-billing"'},
    )


def bearer_token_required(token: str) -> Middleware:
    """A middleware that admits only requests carrying `token` (any request when it is "")."""

    @web.middleware
    async def service_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not token or request.path in OPEN_PATHS:
            return await handler(request)
        given = request.headers.get("Authorization")
        if not bearer_matches(given, token):
            # Neither the header nor the token is logged.
            log.warning("service token refused", path=request.path, given=bool(given))
            return _unauthorized()
        return await handler(request)

    return service_token


def from_settings() -> Middleware:
    """The middleware for SERVICE_TOKEN as this process's settings give it."""
    return bearer_token_required(get_settings().service_token)
