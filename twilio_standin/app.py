"""The aiohttp application: Twilio's Messages API, the control API, and their background work."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from twilio_standin import api, control
from twilio_standin.api import STANDIN
from twilio_standin.config import StandinConfig
from twilio_standin.service import Standin

_SCHEDULER_TASK: web.AppKey[asyncio.Task[None]] = web.AppKey("scheduler_task", asyncio.Task)


async def _background(app: web.Application) -> AsyncIterator[None]:
    standin = app[STANDIN]
    await standin.callbacks.start()
    app[_SCHEDULER_TASK] = asyncio.create_task(standin.scheduler.run())
    yield
    app[_SCHEDULER_TASK].cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app[_SCHEDULER_TASK]
    await standin.callbacks.close()


def create_app(config: StandinConfig) -> web.Application:
    app = web.Application(middlewares=[api.twilio_errors])
    app[STANDIN] = Standin(config)
    api.add_routes(app)
    control.add_routes(app)
    app.cleanup_ctx.append(_background)
    return app
