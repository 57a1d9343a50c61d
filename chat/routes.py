"""Chat webhooks: Twilio Messaging (WhatsApp and SMS), the web chat, receipt images."""

from __future__ import annotations

import json
import secrets
from typing import NamedTuple

from aiohttp import web
from twilio.twiml.messaging_response import Message, MessagingResponse

from chat.service import ChatService
from tasdeed.logs import get_logger
from tasdeed.safe_json import loads_limited
from twilio_webhooks.signature import TwilioSignatures

log = get_logger("chat.http")
SERVICE = web.AppKey("chat_service", ChatService)
SIGNATURES = web.AppKey("chat_signatures", TwilioSignatures)
PUBLIC_BASE = web.AppKey("chat_public_base", str)
MAX_JSON_DEPTH = 8  # the web chat's body is one flat object
MAX_SENDER_CHARS = 200
MAX_MESSAGE_ID_CHARS = 200


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


class WebChatRequest(NamedTuple):
    sender: str
    message: str
    message_id: str


def read_web_chat(raw: bytes) -> WebChatRequest:
    """`{"sender": str, "message": str, "message_id"?: str}` from the page; `ValueError`
    with a message safe to show (it never quotes the body) for anything else."""
    try:
        body = loads_limited(raw, max_depth=MAX_JSON_DEPTH)
    except ValueError as exc:
        raise ValueError("body must be JSON: {sender, message}") from exc
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object: {sender, message}")
    sender, message, message_id = body.get("sender"), body.get("message"), body.get("message_id")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise ValueError(f"sender must be a non-empty string of at most {MAX_SENDER_CHARS} chars")
    if not isinstance(message, str) or not message.strip():
        raise ValueError("message must be a non-empty string")
    if message_id is None:
        message_id = ""
    if not isinstance(message_id, str) or len(message_id) > MAX_MESSAGE_ID_CHARS:
        raise ValueError(f"message_id must be a string of at most {MAX_MESSAGE_ID_CHARS} chars")
    return WebChatRequest(sender, message, message_id)


async def web_chat(request: web.Request) -> web.Response:
    try:
        chat = read_web_chat(await request.read())
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    turn = await request.app[SERVICE].handle(
        channel="web",
        address=chat.sender,
        # A page that retries sends the same message_id; without one, every message counts.
        # It is the page's choice, so it only means something together with the sender:
        # the service keys its reply cache by channel + sender + message id.
        message_id=chat.message_id or secrets.token_hex(16),
        text=chat.message,
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
