"""The status changes an accepted outbound message goes through, as Twilio reports them.

Twilio sends no callback for a message's initial status (queued, or accepted through a
Messaging Service); a Messaging Service message reports "queued" once a sender is chosen.
Then: SMS "sent" -> "delivered"; WhatsApp "sent" -> "delivered" -> "read"; a handset or
carrier problem "sent" -> "undelivered" (30003, 30005, 30006, 30008…); a message Twilio
could not send at all reports only "failed" (63016 for WhatsApp outside the 24-hour window).
"""

from __future__ import annotations

from twilio_standin.addresses import Channel
from twilio_standin.outcomes import Outcome
from twilio_standin.resource import Transition

WHATSAPP_WINDOW_CLOSED = 63016

_SENT = Transition("sent")
_DELIVERED = Transition("delivered")
_READ = Transition("read")


def _ending(channel: Channel, outcome: Outcome | None) -> tuple[Transition, ...]:
    delivery = outcome.delivery if outcome else None
    code = outcome.error_code if outcome else None
    if delivery == "failed":
        return (Transition("failed", code),)
    if delivery == "undelivered":
        return (_SENT, Transition("undelivered", code))
    if delivery == "sent":
        return (_SENT,)
    if delivery == "delivered" or channel is Channel.SMS:
        return (_SENT, _DELIVERED)  # SMS has no read receipts
    return (_SENT, _DELIVERED, _READ)


def plan_for(
    channel: Channel,
    via_messaging_service: bool,
    outcome: Outcome | None,
    window_closed: bool = False,
) -> tuple[Transition, ...]:
    prefix = (Transition("queued"),) if via_messaging_service else ()
    if window_closed:
        return (*prefix, Transition("failed", WHATSAPP_WINDOW_CLOSED))
    return prefix + _ending(channel, outcome)
