"""A sender: takes queued messages, claims each in the ledger's outbox, sends it through
Twilio at the shared rate, records the result, and only then acks the queue entry.

Why each message goes out once, even when workers die:
- the claim is a guarded UPDATE in the ledger (queued → sending): of two workers holding the
  same message (a relay that queued it twice, an entry reclaimed from a slow worker) one sends;
- an entry is acked only after its outcome is recorded, so a SIGKILLed worker's entries stay
  pending and another worker reclaims them (XAUTOCLAIM after `stale_after_s` + a margin);
- a message left "sending" by a dead worker comes back as "reconcile": the provider is asked
  whether it already has it (`TwilioSender.find_sent`) before anything is sent.
Bulk notices are neither read nor claimed inside the profile's quiet hours.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from messaging.metrics import (
    NOTICE_RETRIES,
    NOTICE_SEND_SECONDS,
    NOTICES_FAILED,
    NOTICES_RECONCILED,
    NOTICES_SENT,
)
from messaging.rate_limit import RateLimiter
from messaging.sender import (
    PermanentSendError,
    RetryableSendError,
    SendOutcomeUnknown,
    SentMessage,
    TwilioSender,
)
from messaging.work_queue import LANES, Delivery, Lane, WorkQueue
from tasdeed.billing_client import BillingClient, BillingError, NoticeClaim
from tasdeed.logs import get_logger
from tasdeed.notices.kinds import NoticeKind, is_bulk
from tasdeed.notices.quiet_hours import quiet_until
from tasdeed.profile import Profile

log = get_logger("messaging.worker")
Clock = Callable[[], datetime]
Outcome = Literal["sent", "failed", "suppressed", "done", "held", "busy", "retry_later"]
CLOCK_SLACK = timedelta(seconds=5)  # our clock against Twilio's, for the lookup window


def utc_now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime:
    """The ledger speaks naive UTC; the provider lookup compares aware times."""
    if moment is None:
        return utc_now()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Worker:
    def __init__(
        self,
        *,
        consumer: str,
        billing: BillingClient,
        queue: WorkQueue,
        sender: TwilioSender,
        limiter: RateLimiter,
        profile: Profile,
        max_attempts: int = 5,
        stale_after_s: int = 30,
        backoff_s: float = 0.5,
        respect_quiet_hours: bool = True,
        clock: Clock = utc_now,
    ):
        self.consumer = consumer
        self.billing = billing
        self.queue = queue
        self.sender = sender
        self.limiter = limiter
        self.profile = profile
        self.max_attempts = max_attempts
        self.stale_after_s = stale_after_s
        self.backoff_s = backoff_s
        self.respect_quiet_hours = respect_quiet_hours
        self.clock = clock

    # --- the loop ------------------------------------------------------------------------

    def quiet_now(self) -> bool:
        return self.respect_quiet_hours and quiet_until(self.clock(), self.profile) is not None

    def lanes_open(self) -> tuple[Lane, ...]:
        return ("immediate",) if self.quiet_now() else LANES

    async def run(self, stop: asyncio.Event, block_ms: int = 1000, batch: int = 50) -> None:
        reclaim_every = max(1.0, self.stale_after_s / 3)
        next_reclaim = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            lanes = self.lanes_open()
            deliveries: list[Delivery] = []
            if loop.time() >= next_reclaim:
                for lane in lanes:
                    deliveries += await self.queue.reclaim(
                        self.consumer, lane, (self.stale_after_s + 5) * 1000, batch
                    )
                next_reclaim = loop.time() + reclaim_every
            if not deliveries:
                deliveries = await self.queue.read(self.consumer, lanes, batch, block_ms)
            if deliveries and not stop.is_set():
                await self.handle_many(deliveries)

    # --- one message -------------------------------------------------------------------

    async def handle(self, delivery: Delivery) -> Outcome:
        return (await self.handle_many([delivery]))[0]

    async def handle_many(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """One batch: claimed in one ledger call, sent concurrently (at the shared rate),
        recorded in one ledger call, then acked; outcomes in the deliveries' order."""
        outcomes: dict[int, Outcome] = {}
        live: list[tuple[int, Delivery]] = []
        seen: set[int] = set()
        for index, delivery in enumerate(deliveries):
            message = delivery.message
            if is_bulk(NoticeKind(message.kind)) and self.quiet_now():
                outcomes[index] = "held"  # stays pending; reclaimed after the quiet hours
            elif message.outbox_id in seen:
                outcomes[index] = "busy"  # a second copy in this batch: its claim is ours
            else:
                seen.add(message.outbox_id)
                live.append((index, delivery))
        if live:
            try:
                claims = await self.billing.claim_notices(
                    [d.message.outbox_id for _, d in live], self.consumer, self.stale_after_s
                )
            except BillingError:
                claims = {}  # nothing claimed; the entries stay pending
            acted = await asyncio.gather(
                *(
                    self._act(d, claims[d.message.outbox_id])
                    for _, d in live
                    if d.message.outbox_id in claims
                )
            )
            claimed = [(i, d) for i, d in live if d.message.outbox_id in claims]
            outcomes.update(
                {i: "retry_later" for i, d in live if d.message.outbox_id not in claims}
            )
            to_record: list[tuple[int, Delivery, SentMessage]] = []
            for (index, delivery), result in zip(claimed, acted, strict=True):
                if isinstance(result, SentMessage):
                    to_record.append((index, delivery, result))
                else:
                    outcomes[index] = result
            if to_record:
                outcomes.update(await self._record(to_record))
        return [outcomes[index] for index in range(len(deliveries))]

    async def _act(self, delivery: Delivery, claim: NoticeClaim) -> Outcome | SentMessage:
        """What the claim says to do; a message the provider has is returned for recording."""
        decision = claim.decision
        if decision in ("done", "suppressed"):
            await self.queue.ack(delivery)
            return "done" if decision == "done" else "suppressed"
        if decision == "busy":
            return "busy"  # another worker is on it; its own entry covers the message
        if decision == "reconcile":
            since = _aware(claim.previous_claimed_at) - CLOCK_SLACK
            found = await self.sender.find_sent(delivery.message, since)
            NOTICES_RECONCILED.labels(found="yes" if found else "no").inc()
            if found is not None:
                return found
            claimed_at = since
        else:
            claimed_at = _aware(claim.claimed_at) - CLOCK_SLACK
        return await self._send(delivery, claimed_at, claim.attempt)

    async def _send(
        self, delivery: Delivery, claimed_at: datetime, claim_attempt: int | None
    ) -> Outcome | SentMessage:
        message = delivery.message
        last_code = "retries"
        for attempt in range(self.max_attempts):
            if attempt:
                await self.queue.keep(self.consumer, delivery)
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1))
            await self.limiter.acquire()
            try:
                with NOTICE_SEND_SECONDS.time():
                    return await self.sender.send(message)
            except RetryableSendError as error:
                last_code = error.code
                NOTICE_RETRIES.labels(code=error.code).inc()
            except SendOutcomeUnknown:
                # Give a request Twilio may still be working on time to land, then look.
                await asyncio.sleep(self.backoff_s)
                found = await self.sender.find_sent(message, claimed_at)
                NOTICES_RECONCILED.labels(found="yes" if found else "no").inc()
                if found is not None:
                    return found
                last_code = "unknown"
            except PermanentSendError as error:
                return await self._failed(delivery, error.code, claim_attempt)
        return await self._failed(delivery, last_code, claim_attempt)

    async def _record(self, sent: list[tuple[int, Delivery, SentMessage]]) -> dict[int, Outcome]:
        items = [(d.message.outbox_id, m.sid, m.status) for _, d, m in sent]
        problem = ""
        for attempt in range(3):
            try:
                results = await self.billing.notices_sent(items)
                break
            except BillingError as error:
                problem = f"{type(error).__name__}: {error}"
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            # Sent but not recorded: leave the entries pending. Whoever reclaims them gets
            # "reconcile", finds each message at the provider and records it.
            log.warning("notice.record_failed", messages=len(items), error=problem)
            return {index: "retry_later" for index, _, _ in sent}
        outcomes: dict[int, Outcome] = {}
        for index, delivery, _ in sent:
            result = results.get(delivery.message.outbox_id)
            if isinstance(result, str) or result is None:
                # Another SID holds this message: a second copy went out. Nothing to undo;
                # say so loudly for the operator.
                log.error(
                    "notice.sent_twice", outbox_id=delivery.message.outbox_id, conflict=result
                )
            else:
                NOTICES_SENT.labels(
                    kind=delivery.message.kind, channel=delivery.message.channel
                ).inc()
            await self.queue.ack(delivery)
            outcomes[index] = "sent" if not isinstance(result, str) and result else "done"
        return outcomes

    async def _failed(self, delivery: Delivery, code: str, claim_attempt: int | None) -> Outcome:
        message = delivery.message
        try:
            await self.billing.notice_failed(
                message.outbox_id, code[:10], release=False, attempt=claim_attempt
            )
        except BillingError:
            return "retry_later"
        NOTICES_FAILED.labels(kind=message.kind, code=code).inc()
        log.info("notice.failed", outbox_id=message.outbox_id, code=code, kind=message.kind)
        await self.queue.ack(delivery)
        return "failed"


async def run_workers(workers: list[Worker], stop: asyncio.Event) -> None:
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
