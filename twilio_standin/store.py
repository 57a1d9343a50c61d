"""Every accepted message, in memory: by SID, in creation order, and by recipient.

Creates append in O(1). The newest-first list walks a creation-ordered log backwards, so a
page costs its size, whichever page it is; the `To` filter walks that recipient's own log.
Past `max_messages` the oldest message is forgotten (O(1)), so a long benchmark cannot
exhaust memory.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator

from twilio_standin.resource import StoredMessage


class SeqLog:
    """Messages in ascending `seq`, with O(1) append, O(1) drop-oldest and O(1) indexing."""

    __slots__ = ("_head", "_items")

    def __init__(self) -> None:
        self._items: list[StoredMessage] = []
        self._head = 0

    def __len__(self) -> int:
        return len(self._items) - self._head

    def append(self, message: StoredMessage) -> None:
        self._items.append(message)

    def popleft(self) -> StoredMessage:
        message = self._items[self._head]
        self._head += 1
        # Compact once the dropped prefix is half the list: amortised O(1) per drop.
        if self._head > 1024 and self._head * 2 > len(self._items):
            del self._items[: self._head]
            self._head = 0
        return message

    def oldest(self) -> StoredMessage | None:
        return self._items[self._head] if len(self) else None

    def index_of_seq(self, seq: int) -> int:
        """Position of the first message whose seq is >= `seq`."""
        return bisect_left(self._items, seq, lo=self._head, key=_seq) - self._head

    def newest_first(self, before: int | None = None) -> Iterator[StoredMessage]:
        """Messages with seq < `before` (all when None), newest first."""
        stop = len(self) if before is None else self.index_of_seq(before)
        for index in range(self._head + stop - 1, self._head - 1, -1):
            yield self._items[index]

    def oldest_first(self, after: int) -> Iterator[StoredMessage]:
        """Messages with seq > `after`, oldest first."""
        for index in range(self._head + self.index_of_seq(after + 1), len(self._items)):
            yield self._items[index]

    def __iter__(self) -> Iterator[StoredMessage]:
        return iter(self._items[self._head :])


def _seq(message: StoredMessage) -> int:
    return message.seq


class MessageStore:
    def __init__(self, max_messages: int = 0) -> None:
        self.max_messages = max_messages
        self._by_sid: dict[str, StoredMessage] = {}
        self._all = SeqLog()
        self._by_to: dict[str, SeqLog] = {}
        self._next_seq = 0
        # Messages per current status, kept up to date on every change (for /_standin/stats).
        self.status_counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._by_sid)

    def next_seq(self) -> int:
        self._next_seq += 1
        return self._next_seq

    def add(self, message: StoredMessage) -> None:
        self._by_sid[message.sid] = message
        self._all.append(message)
        self._by_to.setdefault(message.to, SeqLog()).append(message)
        self.status_counts[message.status] += 1
        if self.max_messages and len(self._all) > self.max_messages:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        old = self._all.popleft()
        del self._by_sid[old.sid]
        log = self._by_to[old.to]
        log.popleft()  # the oldest message overall is also the oldest to its recipient
        if not log:
            del self._by_to[old.to]
        self.status_counts[old.status] -= 1

    def set_status(self, message: StoredMessage, status: str) -> None:
        self.status_counts[message.status] -= 1
        self.status_counts[status] += 1
        message.status = status

    def get(self, sid: str) -> StoredMessage | None:
        return self._by_sid.get(sid)

    def contains(self, message: StoredMessage) -> bool:
        return self._by_sid.get(message.sid) is message

    def log_for(self, to: str | None) -> SeqLog:
        """The creation-ordered log a query walks: one recipient's, or everyone's."""
        if to is None:
            return self._all
        return self._by_to.get(to) or SeqLog()

    def select(
        self, to: str | None, keep: Callable[[StoredMessage], bool] | None = None
    ) -> Iterator[StoredMessage]:
        """Every stored message (to `to`, if given) passing `keep`, newest first."""
        for message in self.log_for(to).newest_first():
            if keep is None or keep(message):
                yield message

    def clear(self) -> None:
        self._by_sid.clear()
        self._all = SeqLog()
        self._by_to.clear()
        self.status_counts.clear()
