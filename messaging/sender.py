"""Sending one message through Twilio's Messaging API, and finding one already sent.

Twilio's create call takes no idempotency key, so a message whose request may have reached
Twilio (a timeout, a dropped connection) is never simply sent again: `find_sent` looks for it
among the messages to that number since it was claimed, matching sender and body.

Errors, by what a worker should do next:
- `RetryableSendError`: Twilio said "later" (HTTP 429 / 20429, 5xx) or the connection was
  refused before any request left — send again after a pause.
- `PermanentSendError`: Twilio refused the message itself (invalid or unsubscribed number,
  body too long …) — record it failed; sending again would fail the same way.
- `SendOutcomeUnknown`: the request may have been accepted — look it up before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from messaging.twilio_api import RedirectingAsyncHttpClient, messaging_client
from messaging.work_queue import QueuedMessage

LOOKUP_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class SentMessage:
    sid: str
    status: str


class RetryableSendError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class PermanentSendError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class SendOutcomeUnknown(Exception):
    pass


def _address(message: QueuedMessage) -> tuple[str, str]:
    if message.channel == "whatsapp":
        return f"whatsapp:{message.to}", f"whatsapp:+{message.sender.lstrip('+')}"
    return message.to, message.sender


def _created(resource: Any) -> datetime | None:
    value = getattr(resource, "date_created", None)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return parsedate_to_datetime(value)
    return None


class TwilioSender:
    def __init__(self, client: Client, http: RedirectingAsyncHttpClient, status_callback: str):
        self.client = client
        self.http = http
        self.status_callback = status_callback

    @classmethod
    def create(
        cls,
        account_sid: str,
        auth_token: str,
        api_base: str | None,
        status_callback: str,
        timeout_s: float,
    ) -> TwilioSender:
        client, http = messaging_client(account_sid, auth_token, api_base, timeout_s)
        return cls(client, http, status_callback)

    async def send(self, message: QueuedMessage) -> SentMessage:
        to, sender = _address(message)
        try:
            created = await self.client.messages.create_async(
                to=to, from_=sender, body=message.body, status_callback=self.status_callback
            )
        except TwilioRestException as error:
            code = str(error.code or error.status)
            if error.status == 429 or error.status >= 500:
                raise RetryableSendError(code) from error
            raise PermanentSendError(code) from error
        except aiohttp.ClientConnectorError as error:
            raise RetryableSendError("connect") from error  # nothing reached Twilio
        except (TimeoutError, aiohttp.ClientError) as error:
            raise SendOutcomeUnknown(type(error).__name__) from error
        return SentMessage(sid=str(created.sid), status=str(created.status))

    async def find_sent(self, message: QueuedMessage, since: datetime) -> SentMessage | None:
        """The message Twilio accepted for this body, number and sender at or after `since`
        (aware UTC), if any. Newest first, so the search stops at the first older page."""
        to, sender = _address(message)
        page = await self.client.messages.page_async(
            to=to, from_=sender, page_size=LOOKUP_PAGE_SIZE
        )
        while True:
            older = False
            for resource in page:
                created = _created(resource)
                if created is not None and created < since:
                    older = True
                    break
                if resource.body == message.body:
                    return SentMessage(sid=str(resource.sid), status=str(resource.status))
            if older:
                return None
            page = await page.next_page_async()
            if page is None:
                return None

    async def close(self) -> None:
        await self.http.close()
