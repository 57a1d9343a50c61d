"""aiohttp handlers for Twilio Voice; every request's signature is checked first."""

from __future__ import annotations

from aiohttp import web

from ivr.calls import IvrService
from tasdeed.logs import get_logger
from twilio_webhooks.signature import TwilioSignatures

log = get_logger("ivr.http")
SERVICE = web.AppKey("ivr_service", IvrService)
SIGNATURES = web.AppKey("ivr_signatures", TwilioSignatures)
TWIML = "text/xml"


async def _verified(request: web.Request) -> dict[str, str]:
    form = await request.app[SIGNATURES].verified_form(request)
    if form is None:
        log.warning("ivr request refused: missing or wrong Twilio signature", path=request.path)
        raise web.HTTPForbidden(text="invalid or missing X-Twilio-Signature")
    return form


def _step(request: web.Request) -> int:
    try:
        return int(request.query["step"])
    except (KeyError, ValueError) as exc:
        raise web.HTTPBadRequest(text="step is required") from exc


async def incoming_call(request: web.Request) -> web.Response:
    form = await _verified(request)
    return web.Response(text=await request.app[SERVICE].incoming(form), content_type=TWIML)


async def gather(request: web.Request) -> web.Response:
    form = await _verified(request)
    reply = await request.app[SERVICE].gather(_step(request), form)
    return web.Response(text=reply, content_type=TWIML)


async def silence(request: web.Request) -> web.Response:
    form = await _verified(request)
    reply = await request.app[SERVICE].silence(_step(request), form)
    return web.Response(text=reply, content_type=TWIML)


async def call_status(request: web.Request) -> web.Response:
    form = await _verified(request)
    await request.app[SERVICE].completed(form)
    return web.Response(status=204)


def add_routes(app: web.Application, service: IvrService, signatures: TwilioSignatures) -> None:
    app[SERVICE] = service
    app[SIGNATURES] = signatures
    app.router.add_post("/ivr/voice", incoming_call)
    app.router.add_post("/ivr/gather", gather)
    app.router.add_post("/ivr/silence", silence)
    app.router.add_post("/ivr/status", call_status)
