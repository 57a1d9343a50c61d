"""Twilio's delivery status callbacks (`StatusCallback` of every message we send), mounted
by the gateway: signature checked like every Twilio webhook, then recorded in the ledger.

Callbacks come out of order and more than once, and a signature carries no timestamp, so a
replay is always possible: the ledger only ever moves a message forward (sent → delivered →
read, or undelivered/failed), which makes a replayed or late callback change nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from messaging.metrics import NOTICE_STATUS_CALLBACKS, NOTICES_BY_STATE
from tasdeed.billing_client import BillingClient, BillingRefused, BillingUnavailable
from tasdeed.logs import get_logger
from twilio_webhooks.signature import TwilioSignatures

STATUS_PATH = "/notices/status"
KNOWN_STATUSES = frozenset(
    {"accepted", "queued", "sending", "sent", "delivered", "read", "undelivered", "failed"}
)
log = get_logger("messaging.status")


def add_routes(app: web.Application, billing: BillingClient, signatures: TwilioSignatures) -> None:
    async def status_callback(request: web.Request) -> web.Response:
        form = await signatures.verified_form(request)
        if form is None:
            return web.Response(status=403, text="signature required")
        sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
        if not sid or status not in KNOWN_STATUSES:
            return web.Response(status=400, text="MessageSid and a known MessageStatus required")
        NOTICE_STATUS_CALLBACKS.labels(status=status).inc()
        try:
            await billing.notice_status(sid, status, form.get("ErrorCode") or None)
        except BillingRefused:
            # Not one of ours (or not recorded yet); Twilio does not retry, so just say so.
            log.info("notice.status_unknown_sid", status=status)
            return web.Response(status=404, text="unknown message")
        except BillingUnavailable:
            return web.Response(status=503, text="try again")
        return web.Response(status=204)

    app.router.add_post(STATUS_PATH, status_callback)


def outbox_gauge(
    billing: BillingClient, every_s: float = 5.0
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context keeping `tasdeed_notices{campaign,state}` in /metrics current."""

    async def refresh_forever() -> None:
        while True:
            with contextlib.suppress(Exception):  # a billing outage must not stop the gateway
                for campaign, counts in (await billing.notice_counts_by_campaign()).items():
                    for state, count in counts.items():
                        NOTICES_BY_STATE.labels(campaign=campaign, state=state).set(count)
            await asyncio.sleep(every_s)

    async def context(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(refresh_forever())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
