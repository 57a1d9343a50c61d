"""The Messages list: Twilio's filters, its page tokens and its page envelope.

Filters: `To`, `From`, `DateSent`, `DateSent<`, `DateSent>`. Twilio documents date
granularity for DateSent (the library sends `YYYY-MM-DDTHH:MM:SSZ`, Twilio reads the date),
bounds are inclusive, and a message not yet sent (date_sent null) never matches a date filter.
Pages are newest first; `PageToken` is `PA<sid>` (the page after that message) or `PB<sid>`
(the page before it), the form Twilio's own tokens take, and every URI in the envelope carries
the filters so the library can follow `next_page_uri` to the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode

from twilio_standin.errors import TwilioError
from twilio_standin.resource import API_VERSION, StoredMessage, resource_json
from twilio_standin.store import MessageStore

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
FILTER_KEYS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?)?", re.ASCII)


def _parse_date(name: str, raw: str) -> date:
    match = _DATE.fullmatch(raw.strip())
    if match is None:
        raise TwilioError(20001, f"Invalid {name}: {raw}")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise TwilioError(20001, f"Invalid {name}: {raw}") from exc


def _parse_int(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise TwilioError(20001, f"Invalid {name}: {raw}") from exc


@dataclass(frozen=True, slots=True)
class ListQuery:
    filters: dict[str, str]  # as received, echoed into the envelope's URIs
    to: str | None
    from_: str | None
    sent_on: date | None
    sent_on_or_before: date | None
    sent_on_or_after: date | None
    page: int
    page_size: int
    page_token: str | None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListQuery:
        filters = {key: query[key] for key in FILTER_KEYS if query.get(key)}
        on = filters.get("DateSent")
        before = filters.get("DateSent<")
        after = filters.get("DateSent>")
        page_size = _parse_int("PageSize", query.get("PageSize"), DEFAULT_PAGE_SIZE)
        page = _parse_int("Page", query.get("Page"), 0)
        if page < 0:
            raise TwilioError(20001, f"Invalid Page: {page}")
        return cls(
            filters=filters,
            to=filters.get("To"),
            from_=filters.get("From"),
            sent_on=_parse_date("DateSent", on) if on else None,
            sent_on_or_before=_parse_date("DateSent<", before) if before else None,
            sent_on_or_after=_parse_date("DateSent>", after) if after else None,
            page=page,
            # Twilio caps a page at 1000 records.
            page_size=min(max(page_size, 1), MAX_PAGE_SIZE),
            page_token=query.get("PageToken") or None,
        )

    def matches(self, message: StoredMessage) -> bool:
        """Every filter but `To`, which picks the log the query walks."""
        if self.from_ is not None and message.from_ != self.from_:
            return False
        if self.sent_on or self.sent_on_or_before or self.sent_on_or_after:
            if message.date_sent is None:
                return False
            sent = message.date_sent.date()
            if self.sent_on is not None and sent != self.sent_on:
                return False
            if self.sent_on_or_before is not None and sent > self.sent_on_or_before:
                return False
            if self.sent_on_or_after is not None and sent < self.sent_on_or_after:
                return False
        return True

    def uri(self, account_sid: str, page: int, token: str | None) -> str:
        params: list[tuple[str, str]] = list(self.filters.items())
        params.append(("PageSize", str(self.page_size)))
        params.append(("Page", str(page)))
        if token is not None:
            params.append(("PageToken", token))
        # Percent-encode everything but unreserved characters: `+` must reach the next
        # request as %2B, not as a space.
        query = urlencode(params, quote_via=quote, safe="")
        return f"/{API_VERSION}/Accounts/{account_sid}/Messages.json?{query}"


def _take(messages: Iterator[StoredMessage], count: int) -> list[StoredMessage]:
    taken: list[StoredMessage] = []
    for message in messages:
        taken.append(message)
        if len(taken) == count:
            break
    return taken


def _seq_of_token(store: MessageStore, token: str) -> tuple[str, int]:
    direction, sid = token[:2], token[2:]
    message = store.get(sid)
    if direction not in ("PA", "PB") or message is None:
        raise TwilioError(20001, f"Invalid PageToken: {token}")
    return direction, message.seq


def select_page(store: MessageStore, query: ListQuery) -> tuple[list[StoredMessage], bool]:
    """The page's messages, newest first, and whether older matching messages remain."""
    log = store.log_for(query.to)
    size = query.page_size
    if query.page_token is None:
        # No token: Page counts whole pages from the newest message.
        newest = (m for m in log.newest_first() if query.matches(m))
        for _ in range(query.page * size):
            if next(newest, None) is None:
                break
        found = _take(newest, size + 1)
        return found[:size], len(found) > size
    direction, seq = _seq_of_token(store, query.page_token)
    if direction == "PA":
        found = _take((m for m in log.newest_first(before=seq) if query.matches(m)), size + 1)
        return found[:size], len(found) > size
    newer = _take((m for m in log.oldest_first(after=seq) if query.matches(m)), size)
    newer.reverse()
    return newer, True  # the message the PB token names is still ahead


def page_json(
    store: MessageStore, account_sid: str, query: ListQuery, request_uri: str
) -> dict[str, object]:
    messages, more = select_page(store, query)
    start = query.page * query.page_size
    next_uri = (
        query.uri(account_sid, query.page + 1, "PA" + messages[-1].sid)
        if more and messages
        else None
    )
    previous_uri = (
        query.uri(account_sid, query.page - 1, "PB" + messages[0].sid)
        if query.page > 0 and messages
        else None
    )
    return {
        "end": start + max(len(messages) - 1, 0),
        "first_page_uri": query.uri(account_sid, 0, None),
        "messages": [resource_json(m) for m in messages],
        "next_page_uri": next_uri,
        "page": query.page,
        "page_size": query.page_size,
        "previous_page_uri": previous_uri,
        "start": start,
        "uri": request_uri,
    }
