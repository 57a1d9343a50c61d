"""A token bucket over accepted creates: the account's messages-per-second allowance."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """`rate` tokens a second, holding at most one second's worth (`rate`, at least 1).

    A rate of 0 never refuses. The bucket starts full, so a burst of `rate` creates passes
    at once and the next one within that second is refused, as an over-limit account is.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(rate, 1.0)
        self._clock = clock
        self._tokens = self.capacity
        self._stamp = clock()

    def try_take(self) -> bool:
        if self.rate <= 0:
            return True
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def refill(self) -> None:
        self._tokens = self.capacity
        self._stamp = self._clock()
