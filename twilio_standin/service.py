"""The stand-in's state and rules: accept or refuse a create, then walk the message's statuses.

HTTP handlers (api.py, control.py) stay thin; everything Twilio would decide is decided here,
in the order Twilio reports problems: missing parameters, then malformed ones, then the
recipient's configured fate, then the account's rate limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from yarl import URL

from tasdeed.logs import get_logger
from twilio_standin.addresses import (
    Channel,
    channel_of,
    is_messaging_service_sid,
    is_valid_from,
    is_valid_to,
    masked,
)
from twilio_standin.callbacks import CallbackJob, CallbackSender
from twilio_standin.config import StandinConfig
from twilio_standin.errors import TwilioError, delivery_error_message
from twilio_standin.outcomes import OutcomeBook
from twilio_standin.plans import plan_for
from twilio_standin.ratelimit import TokenBucket
from twilio_standin.resource import StoredMessage, new_sid, now_utc
from twilio_standin.scheduler import Scheduler
from twilio_standin.segments import sms_segments
from twilio_standin.stats import Stats
from twilio_standin.store import MessageStore

MAX_BODY = 1600
WHATSAPP_WINDOW_S = 24 * 3600
# The sender a Messaging Service picks when it moves a message from accepted to queued:
# Twilio's documented test number for SMS and its WhatsApp sandbox number.
SERVICE_SMS_SENDER = "+15005550006"
SERVICE_WHATSAPP_SENDER = "whatsapp:+14155238886"

_log = get_logger("twilio_standin")


@dataclass(frozen=True, slots=True)
class CreateParams:
    """The create form's fields the stand-in reads (`MediaUrl` may repeat)."""

    to: str | None
    from_: str | None
    messaging_service_sid: str | None
    body: str | None
    media_urls: Sequence[str]
    content_sid: str | None
    status_callback: str | None


def _is_callback_url(url: str) -> bool:
    try:
        parsed = URL(url)
    except ValueError:
        return False
    host = parsed.host
    # Twilio refuses callback hosts with underscores.
    return parsed.scheme in ("http", "https") and bool(host) and "_" not in (host or "")


class Standin:
    def __init__(self, config: StandinConfig) -> None:
        self.config = config
        self.store = MessageStore(config.max_messages)
        self.outcomes = OutcomeBook()
        self.outcomes.update(config.outcomes)
        self.bucket = TokenBucket(config.mps)
        self.stats = Stats()
        self.enforce_whatsapp_window = config.enforce_whatsapp_window
        self._whatsapp_sessions: dict[str, float] = {}
        self.scheduler = Scheduler(config.callback_delay_ms / 1000, self._advance)
        self.callbacks = CallbackSender(
            config.auth_token,
            self.stats,
            self._callback_done,
            concurrency=config.callback_concurrency,
            timeout_s=config.callback_timeout_s,
            duplicate=config.duplicate_callbacks,
        )

    # -- creating -------------------------------------------------------------------------

    def create(self, params: CreateParams) -> StoredMessage:
        try:
            self._validate(params)
            assert params.to is not None
            self._apply_configured_refusals(params.to)
            if not self.bucket.try_take():
                self.stats.rate_limited += 1
                raise TwilioError(20429)
        except TwilioError as error:
            self.stats.rejected[error.code] += 1
            _log.info(
                "message_rejected",
                to=masked(params.to),
                from_=masked(params.from_),
                error_code=error.code,
                http_status=error.http_status(),
            )
            raise
        message = self._accept(params, params.to)
        _log.info(
            "message_accepted",
            sid=message.sid,
            to=masked(message.to),
            from_=masked(message.from_),
            segments=message.segments,
            status=message.status,
        )
        return message

    def _validate(self, params: CreateParams) -> None:
        to, from_, service = params.to, params.from_, params.messaging_service_sid
        if not to:
            raise TwilioError(21604)
        if not from_ and not service:
            raise TwilioError(21603)
        if not params.body and not params.media_urls and not params.content_sid:
            raise TwilioError(21619 if service else 21602)
        if params.body and len(params.body) > MAX_BODY:
            raise TwilioError(21617)
        if not is_valid_to(to):
            raise TwilioError(21211, f"The 'To' number {to} is not a valid phone number.")
        if from_ and not is_valid_from(from_):
            raise TwilioError(
                21212,
                f"The 'From' number {from_} is not a valid phone number, shortcode, "
                "or alphanumeric sender ID.",
            )
        if service and not is_messaging_service_sid(service):
            raise TwilioError(21701, f"The Messaging Service Sid {service} is invalid.")
        if from_ and channel_of(from_) is not channel_of(to):
            raise TwilioError(21910)
        if from_ == to:
            raise TwilioError(21266)
        if params.status_callback and not _is_callback_url(params.status_callback):
            raise TwilioError(21609)

    def _apply_configured_refusals(self, to: str) -> None:
        outcome = self.outcomes.get(to)
        if outcome is None:
            return
        if outcome.create_error is not None:
            raise TwilioError(outcome.create_error, outcome.create_error_message)
        if self.outcomes.take_transient(to):
            raise TwilioError(outcome.transient_code, status=outcome.transient_status)

    def _window_closed(self, channel: Channel, to: str, params: CreateParams) -> bool:
        if channel is not Channel.WHATSAPP or not self.enforce_whatsapp_window:
            return False
        if params.content_sid:  # approved templates may open a conversation
            return False
        opened = self._whatsapp_sessions.get(to)
        return opened is None or time.time() - opened > WHATSAPP_WINDOW_S

    def _accept(self, params: CreateParams, to: str) -> StoredMessage:
        channel = channel_of(to)
        body = params.body or ""
        service = params.messaging_service_sid
        # WhatsApp and MMS are billed as one message whatever their length.
        whole = channel is Channel.WHATSAPP or bool(params.media_urls)
        segments = 1 if whole else sms_segments(body)
        message = StoredMessage(
            seq=self.store.next_seq(),
            sid=new_sid("SM"),
            account_sid=self.config.account_sid,
            to=to,
            from_=params.from_ or None,
            body=body,
            channel=channel,
            messaging_service_sid=service,
            status_callback=params.status_callback or None,
            content_sid=params.content_sid,
            num_media=len(params.media_urls),
            segments=segments,
            # A Messaging Service has not picked a sender yet: Twilio shows 0 segments.
            num_segments=0 if service and not params.from_ else segments,
            status="accepted" if service else "queued",
            date_created=now_utc(),
            plan=plan_for(
                channel,
                bool(service),
                self.outcomes.get(to),
                self._window_closed(channel, to, params),
            ),
        )
        self.store.add(message)
        self.stats.accepted += 1
        self.scheduler.schedule(message)
        return message

    # -- statuses after the create ----------------------------------------------------------

    def _advance(self, message: StoredMessage) -> None:
        """Apply the message's next status change and report it (scheduler callback)."""
        if not self.store.contains(message) or message.step >= len(message.plan):
            return  # reset, forgotten, or done
        change = message.plan[message.step]
        message.step += 1
        moment = now_utc()
        self.store.set_status(message, change.status)
        message.date_updated = moment
        if change.status == "queued":  # a Messaging Service has picked the sender
            if message.from_ is None:
                whatsapp = message.channel is Channel.WHATSAPP
                message.from_ = SERVICE_WHATSAPP_SENDER if whatsapp else SERVICE_SMS_SENDER
            message.num_segments = message.segments
        if change.status == "sent":
            message.date_sent = moment
        if change.error_code is not None:
            message.error_code = change.error_code
            message.error_message = delivery_error_message(change.error_code)
        if message.status_callback:
            self.callbacks.submit(self.callbacks.job_for(message, message.status_callback))
        elif message.step < len(message.plan):
            self.scheduler.schedule(message)

    def _callback_done(self, job: CallbackJob) -> None:
        # The next change waits for this callback, so one message's callbacks stay in order.
        message = job.message
        if self.store.contains(message) and message.step < len(message.plan):
            self.scheduler.schedule(message)

    # -- control ------------------------------------------------------------------------------

    def open_whatsapp_sessions(self, addresses: Sequence[str]) -> None:
        now = time.time()
        for address in addresses:
            self._whatsapp_sessions[address] = now

    def close_whatsapp_sessions(self, addresses: Sequence[str]) -> None:
        for address in addresses:
            self._whatsapp_sessions.pop(address, None)

    def reset(self) -> None:
        self.store.clear()
        self.outcomes.clear()
        self.stats.clear()
        self.scheduler.clear()
        self.callbacks.clear()
        self.bucket.refill()
        self._whatsapp_sessions.clear()
        self.enforce_whatsapp_window = self.config.enforce_whatsapp_window
