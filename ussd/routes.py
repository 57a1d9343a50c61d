"""aiohttp handlers for the aggregators' USSD callbacks."""

from __future__ import annotations

import json

from aiohttp import web

from tasdeed.logs import get_logger
from tasdeed.safe_json import loads_limited
from ussd import africastalking, hubtel
from ussd.aggregator_check import AggregatorCheck
from ussd.service import UssdService

log = get_logger("ussd.http")
SERVICE = web.AppKey("ussd_service", UssdService)
CHECK = web.AppKey("ussd_aggregator_check", AggregatorCheck)


def _refused(request: web.Request) -> bool:
    allowed = request.app[CHECK].allows(request.remote, request.query, request.headers)
    if not allowed:
        log.warning("ussd request refused: not from the configured aggregator")
    return not allowed


async def africastalking_callback(request: web.Request) -> web.Response:
    if _refused(request):
        return web.Response(text="END Forbidden", status=403, content_type="text/plain")
    form = await request.post()
    try:
        event = africastalking.parse({k: str(v) for k, v in form.items()})
    except africastalking.MalformedRequest as exc:
        log.warning("ussd malformed request", format="africastalking", error=str(exc))
        return web.Response(text="END Invalid request", status=400, content_type="text/plain")
    reply = await request.app[SERVICE].handle(event)
    return web.Response(text=africastalking.render(reply), content_type="text/plain")


async def africastalking_session_end(request: web.Request) -> web.Response:
    """Africa's Talking's end-of-session notification (user cancelled, timed out, done)."""
    if _refused(request):
        return web.Response(text="Forbidden", status=403, content_type="text/plain")
    form = await request.post()
    session_id = str(form.get("sessionId", ""))
    if session_id:
        await request.app[SERVICE].store.delete(f"ussd:s:{session_id}")
    return web.Response(text="OK", content_type="text/plain")


async def hubtel_callback(request: web.Request) -> web.Response:
    if _refused(request):
        return web.json_response({"error": "forbidden"}, status=403)
    try:
        event = hubtel.parse(loads_limited(await request.read(), max_depth=8))
    except (ValueError, hubtel.MalformedRequest) as exc:
        log.warning("ussd malformed request", format="hubtel", error=str(exc))
        return web.json_response({"error": "invalid request"}, status=400)
    reply = await request.app[SERVICE].handle(event)
    return web.json_response(hubtel.render(reply, event.session_id), dumps=_dumps_arabic)


def _dumps_arabic(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


def add_routes(
    app: web.Application, service: UssdService, check: AggregatorCheck | None = None
) -> None:
    app[SERVICE] = service
    app[CHECK] = check or AggregatorCheck()
    app.router.add_post("/ussd/at", africastalking_callback)
    app.router.add_post("/ussd/at/events", africastalking_session_end)
    app.router.add_post("/ussd/hubtel", hubtel_callback)
