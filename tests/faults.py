"""Real faults for tests: a billing backend that does the work but answers too late."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def lose_payment_answers(delay_s: float, count: int = 1_000_000) -> Middleware:
    """Process each confirm for real, then hold its answer past the client's timeout (the
    first `count` times): the committed-but-unanswered confirm that retries and redials
    must never turn into a second charge."""
    remaining = {"n": count}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.path == "/v1/payments" and request.method == "POST" and remaining["n"] > 0:
            remaining["n"] -= 1
            await asyncio.sleep(delay_s)
        return response

    return middleware
