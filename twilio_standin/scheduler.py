"""When each message's next status change is due: one FIFO queue, one task.

Every change is due a fixed delay after it is scheduled, and scheduling happens in event-loop
time order, so due times only grow along the queue: a deque is an exact timer wheel, O(1) per
change, with no task per message (thousands of creates a second stay cheap).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from tasdeed.logs import get_logger
from twilio_standin.resource import StoredMessage

_log = get_logger("twilio_standin.scheduler")

# Changes fired in one go before yielding, so a burst does not stall the API's handlers.
_BATCH = 500


class Scheduler:
    def __init__(self, delay_s: float, fire: Callable[[StoredMessage], None]) -> None:
        self.delay_s = delay_s
        self._fire = fire
        self._due: deque[tuple[float, StoredMessage]] = deque()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, message: StoredMessage) -> None:
        self._due.append((time.monotonic() + self.delay_s, message))
        self._wake.set()

    def clear(self) -> None:
        self._due.clear()

    async def run(self) -> None:
        while True:
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = self._due[0][0] - time.monotonic()
            if wait > 0:
                # Nothing scheduled later can be due sooner than the head: just sleep.
                await asyncio.sleep(wait)
                continue
            fired = 0
            now = time.monotonic()
            while self._due and self._due[0][0] <= now and fired < _BATCH:
                _, message = self._due.popleft()
                try:
                    self._fire(message)
                except Exception:  # one bad message must not stop every other's statuses
                    _log.exception("status_change_failed", sid=message.sid)
                fired += 1
            await asyncio.sleep(0)
