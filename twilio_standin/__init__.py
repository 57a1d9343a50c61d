"""A local stand-in for Twilio's Messaging REST API (tests and `make run`).

It speaks Twilio's wire format exactly where Tasdeed's workers touch it (the twilio library
is pointed at it through `messaging.twilio_api`): creating, listing and fetching Message
resources under /2010-04-01 with HTTP Basic auth and Twilio's error JSON, segment counts by
GSM-7/UCS-2 rules, a messages-per-second limit, and signed status callbacks. Per-recipient
outcomes (refusals, transient 5xx, undelivered or failed deliveries) are set at startup or
through the control API under /_standin/.

Modules: config (startup settings), errors (Twilio's error catalogue), addresses (E.164 and
channel addresses), segments (SMS parts), resource (a stored message and its JSON), store
(in-memory indexes), paging (list filters and page envelope), ratelimit, outcomes, plans (the
statuses a message goes through), scheduler (when the next one is due), callbacks (signed
status callbacks), service (the rules), api and control (HTTP), app (wiring), __main__ (CLI).
"""

from twilio_standin.app import create_app
from twilio_standin.config import StandinConfig

__all__ = ["StandinConfig", "create_app"]
