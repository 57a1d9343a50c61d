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
from collections.abc import Callable
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
from tasdeed.billing_client import BillingClient, BillingError
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

    async def run(self, stop: asyncio.Event, block_ms: int = 1000, batch: int = 16) -> None:
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
            for delivery in deliveries:
                if stop.is_set():
                    break
                await self.handle(delivery)

    # --- one message -------------------------------------------------------------------

    async def handle(self, delivery: Delivery) -> Outcome:
        message = delivery.message
        if is_bulk(NoticeKind(message.kind)) and self.quiet_now():
            return "held"  # stays pending; reclaimed once the quiet hours are over
        try:
            claim = await self.billing.claim_notice(
                message.outbox_id, self.consumer, self.stale_after_s
            )
        except BillingError:
            return "retry_later"  # nothing claimed; the entry stays pending
        decision = claim.decision
        if decision in ("done", "suppressed"):
            await self.queue.ack(delivery)
            return "done" if decision == "done" else "suppressed"
        if decision == "busy":
            return "busy"  # another worker is on it; its own entry covers the message
        if decision == "reconcile":
            since = _aware(claim.previous_claimed_at) - CLOCK_SLACK
            found = await self.sender.find_sent(message, since)
            NOTICES_RECONCILED.labels(found="yes" if found else "no").inc()
            if found is not None:
                return await self._sent(delivery, found)
            claimed_at = since
        else:
            claimed_at = _aware(claim.claimed_at) - CLOCK_SLACK
        return await self._send(delivery, claimed_at, claim.attempt)

    async def _send(
        self, delivery: Delivery, claimed_at: datetime, claim_attempt: int | None
    ) -> Outcome:
        message = delivery.message
        last_code = "retries"
        for attempt in range(self.max_attempts):
            if attempt:
                await self.queue.keep(self.consumer, delivery)
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1))
            await self.limiter.acquire()
            try:
                with NOTICE_SEND_SECONDS.time():
                    sent = await self.sender.send(message)
            except RetryableSendError as error:
                last_code = error.code
                NOTICE_RETRIES.labels(code=error.code).inc()
                continue
            except SendOutcomeUnknown:
                # Give a request Twilio may still be working on time to land, then look.
                await asyncio.sleep(self.backoff_s)
                found = await self.sender.find_sent(message, claimed_at)
                NOTICES_RECONCILED.labels(found="yes" if found else "no").inc()
                if found is not None:
                    return await self._sent(delivery, found)
                last_code = "unknown"
                continue
            except PermanentSendError as error:
                return await self._failed(delivery, error.code, claim_attempt)
            return await self._sent(delivery, sent)
        return await self._failed(delivery, last_code, claim_attempt)

    async def _sent(self, delivery: Delivery, sent: SentMessage) -> Outcome:
        message = delivery.message
        problem = ""
        for attempt in range(3):
            try:
                await self.billing.notice_sent(message.outbox_id, sent.sid, sent.status)
                break
            except BillingError as error:
                problem = f"{type(error).__name__}: {error}"
                await asyncio.sleep(0.2 * (attempt + 1))
        else:
            # Sent but not recorded: leave the entry pending. Whoever reclaims it gets
            # "reconcile", finds this message at the provider and records it.
            log.warning("notice.record_failed", outbox_id=message.outbox_id, error=problem)
            return "retry_later"
        NOTICES_SENT.labels(kind=message.kind, channel=message.channel).inc()
        await self.queue.ack(delivery)
        return "sent"

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
