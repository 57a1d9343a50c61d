"""Chat webhooks: Twilio Messaging (WhatsApp and SMS), the web chat, receipt images."""

from __future__ import annotations

import json
import secrets

from aiohttp import web
from twilio.twiml.messaging_response import Message, MessagingResponse

from chat.service import ChatService
from tasdeed.logs import get_logger
from twilio_webhooks.signature import TwilioSignatures

log = get_logger("chat.http")
SERVICE = web.AppKey("chat_service", ChatService)
SIGNATURES = web.AppKey("chat_signatures", TwilioSignatures)
PUBLIC_BASE = web.AppKey("chat_public_base", str)


async def twilio_message(request: web.Request) -> web.Response:
    form = await request.app[SIGNATURES].verified_form(request)
    if form is None:
        log.warning("chat request refused: missing or wrong Twilio signature")
        raise web.HTTPForbidden(text="invalid or missing X-Twilio-Signature")
    sender = form.get("From", "")
    whatsapp = sender.startswith("whatsapp:")
    turn = await request.app[SERVICE].handle(
        channel="whatsapp" if whatsapp else "sms",
        address=sender.removeprefix("whatsapp:"),
        message_id=form.get("MessageSid", "") or form.get("SmsMessageSid", ""),
        text=form.get("Body", ""),
        images=whatsapp,
    )
    response = MessagingResponse()
    base = request.app[PUBLIC_BASE]
    for reply in turn.replies:
        message = Message()
        message.body(reply.text)
        if reply.image_token:
            message.media(f"{base}/chat/receipts/{reply.image_token}.png")
        response.append(message)
    return web.Response(text=str(response), content_type="text/xml")


async def web_chat(request: web.Request) -> web.Response:
    try:
        body = await request.json()
        sender, text = str(body["sender"]), str(body["message"])
        message_id = str(body.get("message_id") or "")
    except (ValueError, KeyError, TypeError) as exc:
        raise web.HTTPBadRequest(text="sender and message are required") from exc
    turn = await request.app[SERVICE].handle(
        channel="web",
        address=sender,
        # A page that retries sends the same message_id; without one, every message counts.
        message_id=message_id or secrets.token_hex(16),
        text=text,
        images=True,
    )
    replies = [
        {
            "text": reply.text,
            "image": f"/chat/receipts/{reply.image_token}.png" if reply.image_token else None,
        }
        for reply in turn.replies
    ]
    return web.json_response({"replies": replies}, dumps=_dumps)


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


async def receipt_image(request: web.Request) -> web.Response:
    png = await request.app[SERVICE].image(request.match_info["token"])
    if png is None:
        raise web.HTTPNotFound()
    return web.Response(body=png, content_type="image/png")


def add_routes(
    app: web.Application, service: ChatService, signatures: TwilioSignatures, public_base: str
) -> None:
    app[SERVICE] = service
    app[SIGNATURES] = signatures
    app[PUBLIC_BASE] = public_base.rstrip("/")
    app.router.add_post("/chat/twilio", twilio_message)
    app.router.add_post("/chat/web", web_chat)
    app.router.add_get("/chat/receipts/{token}.png", receipt_image)
