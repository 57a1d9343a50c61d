"""The relay: reads outbox rows still 'new' from the ledger, decides each one's channel,
renders it from the catalogues and queues it for the workers, then marks the rows queued.

Channel: WhatsApp for an account that opted in to it, else SMS unless it opted out of SMS,
else nothing (the row is marked suppressed, and says why). A crash between queueing and
marking leaves rows 'new': the next run queues them again, and the workers' claim in the
ledger lets only one copy out.

The next page is fetched while the current one is rendered and queued, and with
`max_backlog` the relay waits while the queue holds that many entries (on bill day the
provider, not the relay, sets the pace; the queue need not hold the whole cycle).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from messaging.work_queue import Lane, QueuedMessage, WorkQueue
from tasdeed.billing_client import (
    BillingClient,
    PendingNotice,
    PendingNotices,
    QueuedNotice,
    SuppressedNotice,
)
from tasdeed.logs import get_logger
from tasdeed.notices.kinds import Channel, NoticeKind, is_bulk
from tasdeed.notices.text import MissingFact, NoticeFacts, render_notice
from tasdeed.profile import Profile

log = get_logger("messaging.relay")
Progress = Callable[["RelayCounts"], None]


@dataclass
class RelayCounts:
    queued: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)
    segments: int = 0  # SMS segments queued: what the cycle will cost

    def add_suppressed(self, reason: str) -> None:
        self.suppressed[reason] = self.suppressed.get(reason, 0) + 1

    @property
    def handled(self) -> int:
        return self.queued + sum(self.suppressed.values())


def _date(value: object) -> date | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "")).date()


def notice_facts(item: PendingNotice) -> NoticeFacts:
    """What the outbox row says, in the words' terms (the ledger's payloads per kind)."""
    payload = item.payload
    bill = item.bill
    amount = bill.amount_due_minor if bill is not None else payload.get("amount_minor")
    unpaid = payload.get("unpaid_bills")
    return NoticeFacts(
        kind=NoticeKind(item.kind),
        language="en" if item.language == "en" else "ar",
        payment_code=item.payment_code,
        amount_minor=int(amount) if amount is not None else None,
        # A bill's due date, or the day a complaint was due (complaint_compensation).
        due_date=bill.due_date if bill is not None else _date(payload.get("due_date")),
        month=bill.month if bill is not None else None,
        receipt_number=payload.get("receipt_number"),
        paid_on=_date(payload.get("paid_at")),
        ticket_number=payload.get("ticket_number"),
        complaint_status=payload.get("status"),
        unpaid_bills=int(unpaid) if unpaid is not None else None,
    )


def choose_channel(item: PendingNotice) -> Channel | None:
    if item.whatsapp_opt_in:
        return "whatsapp"
    if item.sms_opt_in:
        return "sms"
    return None


class Relay:
    def __init__(
        self,
        billing: BillingClient,
        queue: WorkQueue,
        profile: Profile,
        *,
        page_size: int = 2000,
        max_backlog: int | None = None,
    ):
        self.billing = billing
        self.queue = queue
        self.profile = profile
        self.page_size = page_size
        self.max_backlog = max_backlog

    def _sender(self, channel: Channel) -> str:
        notices = self.profile.notices
        return notices.whatsapp_number if channel == "whatsapp" else notices.sms_sender

    async def _wait_for_room(self) -> None:
        if self.max_backlog is None:
            return
        while await self.queue.backlog() >= self.max_backlog:  # noqa: ASYNC110 - polls Redis
            await asyncio.sleep(0.5)

    async def relay_page(self, items: Sequence[PendingNotice], counts: RelayCounts) -> None:
        """Render and queue one page, then mark its rows in the ledger."""
        queued, suppressed = await self.queue_page(items, counts)
        await self._mark(queued, suppressed)

    async def _mark(
        self, queued: Sequence[QueuedNotice], suppressed: Sequence[SuppressedNotice]
    ) -> None:
        if queued or suppressed:
            await self.billing.mark_notices_queued(queued, suppressed)

    async def queue_page(
        self, items: Sequence[PendingNotice], counts: RelayCounts
    ) -> tuple[list[QueuedNotice], list[SuppressedNotice]]:
        """Render one page and add it to the queue; the rows are still to be marked."""
        lanes: dict[Lane, list[QueuedMessage]] = {"immediate": [], "bulk": []}
        queued: list[QueuedNotice] = []
        suppressed: list[SuppressedNotice] = []
        for item in items:
            channel = choose_channel(item)
            phone = item.phone
            if not phone:
                suppressed.append(SuppressedNotice(item.id, "no_phone"))
                continue
            if channel is None:
                suppressed.append(SuppressedNotice(item.id, "opted_out"))
                continue
            try:
                facts = notice_facts(item)
                rendered = render_notice(facts, channel, self.profile)
            except (MissingFact, ValueError, KeyError) as error:
                log.error("notice.unrenderable", outbox_id=item.id, error=str(error))
                suppressed.append(SuppressedNotice(item.id, "bad_data"))
                continue
            lane: Lane = "bulk" if is_bulk(facts.kind) else "immediate"
            lanes[lane].append(
                QueuedMessage(
                    outbox_id=item.id,
                    kind=facts.kind.value,
                    channel=channel,
                    to=str(phone),
                    sender=self._sender(channel),
                    body=rendered.body,
                )
            )
            segments = rendered.segments.segments if channel == "sms" else 1
            queued.append(QueuedNotice(item.id, channel, segments))
            counts.segments += segments if channel == "sms" else 0
        for lane, messages in lanes.items():
            if messages:
                await self.queue.add(lane, messages)
        counts.queued += len(queued)
        for entry in suppressed:
            counts.add_suppressed(entry.reason)
        return queued, suppressed

    async def run_once(
        self, campaign: str | None = None, progress: Progress | None = None
    ) -> RelayCounts:
        """Relay every row that is 'new' now (of one campaign, or all); returns the counts."""
        counts = RelayCounts()
        after = 0

        async def fetch(cursor: int) -> PendingNotices:
            return await self.billing.pending_notices(
                after=cursor, limit=self.page_size, campaign=campaign
            )

        # Three things overlap: the ledger reads the next page and marks the previous one
        # while this process renders and queues the current one.
        next_page = asyncio.create_task(fetch(after))
        marking: asyncio.Task[None] | None = None
        while True:
            page = await next_page
            if not page.items or page.next_after is None:
                break
            next_page = asyncio.create_task(fetch(page.next_after))
            await self._wait_for_room()
            queued, suppressed = await self.queue_page(page.items, counts)
            if marking is not None:
                await marking
            marking = asyncio.create_task(self._mark(queued, suppressed))
            if progress is not None:
                progress(counts)
        if marking is not None:
            await marking
        return counts

    async def run_forever(self, stop: asyncio.Event, interval_s: float = 2.0) -> None:
        while not stop.is_set():
            try:
                counts = await self.run_once()
                if counts.handled:
                    log.info("relay.page", queued=counts.queued, suppressed=counts.suppressed)
            except Exception as error:  # the relay must outlive a billing outage
                log.warning("relay.error", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)
