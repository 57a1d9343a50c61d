"""Status callbacks: Twilio's form parameters, signed, POSTed from a small pool of workers.

Each callback carries the parameters Twilio sends for an outbound message's status change and
an `X-Twilio-Signature` computed by the twilio library's own `RequestValidator` over the exact
StatusCallback URL and those parameters. A callback that fails (refused, timed out, not 2xx)
is recorded and not retried: Twilio does not retry status callbacks by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

from tasdeed.logs import get_logger
from twilio_standin.addresses import Channel, bare_number, masked
from twilio_standin.errors import delivery_error_message
from twilio_standin.resource import API_VERSION, CallbackRecord, StoredMessage, now_utc
from twilio_standin.stats import Stats

_log = get_logger("twilio_standin.callbacks")
USER_AGENT = "TwilioProxy/1.1"


def callback_params(message: StoredMessage) -> dict[str, str]:
    """The form Twilio posts to StatusCallback for the message's current status."""
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or "",
        "To": message.to,
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "SmsStatus": message.status,
        "MessageStatus": message.status,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None and message.status in ("failed", "undelivered"):
        params["ErrorCode"] = str(message.error_code)
        params["ErrorMessage"] = delivery_error_message(message.error_code)
    if message.channel is Channel.WHATSAPP:
        params["ChannelPrefix"] = "whatsapp"
        params["ChannelToAddress"] = bare_number(message.to)
        params["StructuredMessage"] = "false"
    elif message.status in ("delivered", "undelivered"):
        # The carrier's delivery receipt time, YYMMDDhhmm, as Twilio passes it on.
        params["RawDlrDoneDate"] = now_utc().strftime("%y%m%d%H%M")
    return params


@dataclass(frozen=True, slots=True)
class CallbackJob:
    message: StoredMessage
    status: str
    url: str
    params: dict[str, str]
    signature: str
    # Twilio marks every delivery of one callback with the same token.
    idempotency_token: str
    # Encoded once here: aiohttp's own form building costs more than the rest of the send.
    form: bytes


class CallbackSender:
    def __init__(
        self,
        auth_token: str,
        stats: Stats,
        done: Callable[[CallbackJob], None],
        concurrency: int = 64,
        timeout_s: float = 15.0,
        duplicate: bool = False,
    ) -> None:
        self._validator = RequestValidator(auth_token)
        self._stats = stats
        self._done = done
        self._concurrency = max(concurrency, 1)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.duplicate = duplicate
        self._queue: asyncio.Queue[CallbackJob] = asyncio.Queue()
        self._session: aiohttp.ClientSession | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._in_flight = 0

    def job_for(self, message: StoredMessage, url: str) -> CallbackJob:
        params = callback_params(message)
        signature = str(self._validator.compute_signature(url, params))
        return CallbackJob(
            message,
            message.status,
            url,
            params,
            signature,
            secrets.token_hex(16),
            urlencode(params).encode(),
        )

    def submit(self, job: CallbackJob) -> None:
        self._queue.put_nowait(job)

    def pending(self) -> int:
        return self._queue.qsize() + self._in_flight

    def clear(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
            self._queue.task_done()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._concurrency),
            timeout=self._timeout,
        )
        self._workers = [asyncio.create_task(self._work()) for _ in range(self._concurrency)]

    async def close(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            self._in_flight += 1
            try:
                for _ in range(2 if self.duplicate else 1):
                    job.message.callbacks.append(await self._post(job))
            except Exception:  # one bad job must not take a worker down
                _log.exception("callback_job_failed", sid=job.message.sid)
            finally:
                self._in_flight -= 1
                self._queue.task_done()
            # Whatever became of the callback, the message moves on to its next status.
            try:
                self._done(job)
            except Exception:
                _log.exception("callback_follow_up_failed", sid=job.message.sid)

    async def _post(self, job: CallbackJob) -> CallbackRecord:
        assert self._session is not None, "start() first"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": job.signature,
            "I-Twilio-Idempotency-Token": job.idempotency_token,
            "User-Agent": USER_AGENT,
        }
        try:
            async with self._session.post(job.url, data=job.form, headers=headers) as reply:
                await reply.read()
                status: int | None = reply.status
                error = None if 200 <= reply.status < 300 else f"HTTP {reply.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        if error is None:
            self._stats.callbacks_sent += 1
        else:
            self._stats.callbacks_failed += 1
            _log.warning(
                "status_callback_failed",
                sid=job.message.sid,
                to=masked(job.message.to),
                message_status=job.status,
                error=error,
            )
        return CallbackRecord(job.status, now_utc(), status, error)
