"""The operator view's JSON: what the page polls, and what a script may read with the token.

- `metrics.json`: sessions started, payments per minute and hop latency, from the registry
  `/metrics` exposes (gateway/metrics_sampling.py);
- `sessions.json`: the live USSD sessions and calls, newest first: channel, step, age and the
  code masked (tasdeed/live_sessions.py reads them from the state store);
- `recent.json`: the newest payments and complaints, from the billing backend;
- `complaints/<ticket>.json`: one complaint's history, oldest first, from the billing backend.
Payees are masked as on every channel; no phone number, account number or full code leaves.
Words and times are in the asked language (`?lang=`), amounts and times as the profile shows
them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from gateway.operator.state import OPERATOR
from gateway.page_shell import dumps, local_time, money, page_language
from tasdeed.billing_client import BillingError, BillingRefused
from tasdeed.contract import RefusalReason
from tasdeed.i18n import catalogue, translate
from tasdeed.live_sessions import live_sessions
from tasdeed.logs import get_logger

log = get_logger("gateway.operator")
RECENT_ROWS = 20
OPERATOR_SOURCE = "operator"


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def _labeller(language: str) -> Callable[[str, str], str]:
    words = catalogue(language)

    def label(key: str, fallback: str) -> str:
        return words.get(key, fallback)

    return label


def _billing_unavailable(language: str, exc: BillingError) -> web.Response:
    log.warning("operator view without billing data", error=str(exc))
    return _json({"error": translate("sim.billing_unavailable", language)}, 502)


async def metrics_json(request: web.Request) -> web.Response:
    return _json(request.app[OPERATOR].sampler.snapshot())


async def sessions_json(request: web.Request) -> web.Response:
    view = request.app[OPERATOR]
    label = _labeller(page_language(request))
    sessions = await live_sessions(view.store)
    return _json(
        {
            "sessions": [
                {
                    **session.to_json(),
                    "channel_label": label(f"sim.channel.{session.channel}", session.channel),
                }
                for session in sessions
            ]
        }
    )


async def recent_json(request: web.Request) -> web.Response:
    view = request.app[OPERATOR]
    language = page_language(request)
    try:
        payments, complaints = await asyncio.gather(
            view.billing.recent_payments(RECENT_ROWS), view.billing.recent_complaints(RECENT_ROWS)
        )
    except BillingError as exc:
        return _billing_unavailable(language, exc)
    label = _labeller(language)
    return _json(
        {
            "payments": [
                {
                    "receipt_number": str(p["receipt_number"]),
                    "payee_masked": str(p["payee_masked"]),
                    "amount": money(
                        view.profile, int(p["amount_minor"]), str(p["currency"]), language
                    ),
                    "channel": str(p["channel"]),
                    "channel_label": label(f"sim.channel.{p['channel']}", str(p["channel"])),
                    "time": local_time(view.profile, str(p["paid_at"]), language),
                }
                for p in payments
            ],
            "complaints": [
                {
                    "ticket_number": str(c["ticket_number"]),
                    "category": label(f"complaint.category.{c['category']}", str(c["category"])),
                    "status": label(f"complaint.state.{c['status']}", str(c["status"])),
                    "channel_label": label(f"sim.channel.{c['channel']}", str(c["channel"])),
                    "payee_masked": str(c["payee_masked"]),
                    "created": local_time(view.profile, str(c["created_at"]), language),
                    "sla_seconds_left": c["sla_seconds_left"],
                }
                for c in complaints
            ],
        }
    )


async def complaint_json(request: web.Request) -> web.Response:
    view = request.app[OPERATOR]
    language = page_language(request)
    ticket = request.match_info["ticket"]
    try:
        found = await view.billing.complaint_history(ticket)
    except BillingRefused as refused:
        if refused.reason is RefusalReason.COMPLAINT_UNKNOWN:
            return _json({"error": translate("sim.op.no_such_ticket", language)}, 404)
        return _billing_unavailable(language, refused)
    except BillingError as exc:
        return _billing_unavailable(language, exc)
    label = _labeller(language)

    def source_label(source: str) -> str:
        if source == OPERATOR_SOURCE:
            return translate("sim.op.by_operator", language)
        return label(f"sim.channel.{source}", source)

    def event(raw: dict[str, Any]) -> dict[str, Any]:
        notice = raw.get("notice")
        return {
            "status": str(raw["status"]),
            "status_label": label(f"complaint.state.{raw['status']}", str(raw["status"])),
            "source": str(raw["source"]),
            "source_label": source_label(str(raw["source"])),
            "time": local_time(view.profile, str(raw["at"]), language),
            "notice": None
            if not isinstance(notice, dict)
            else {
                "state": str(notice["state"]),
                "time": local_time(view.profile, str(notice["at"]), language),
            },
        }

    return _json(
        {
            "ticket_number": str(found["ticket_number"]),
            "category": label(f"complaint.category.{found['category']}", str(found["category"])),
            "status": str(found["status"]),
            "status_label": label(f"complaint.state.{found['status']}", str(found["status"])),
            "channel_label": label(f"sim.channel.{found['channel']}", str(found["channel"])),
            "payee_masked": str(found["payee_masked"]),
            "sla_seconds_left": found.get("sla_seconds_left"),
            "events": [event(raw) for raw in found["events"]],
        }
    )
