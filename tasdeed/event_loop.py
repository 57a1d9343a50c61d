"""The event loop the services run on: uvloop when it is installed (it is a dependency on
Linux; its transports and loop are C, which many small requests and Redis/PostgreSQL round
trips feel: about a third of a USSD hop's CPU was asyncio's socket writes), asyncio's own
loop otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def new_loop() -> asyncio.AbstractEventLoop:
    factory = loop_factory()
    return factory() if factory is not None else asyncio.new_event_loop()
