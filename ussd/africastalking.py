"""Africa's Talking USSD callback: form-encoded POST, plain-text answer.

Request fields: sessionId, serviceCode, phoneNumber, networkCode, text. `text` is every
input of the session joined by "*" ("" on the dial, "1*2*4567891234" later): it carries
secrets, so it is never logged or stored raw. The answer starts with "CON " to continue or
"END " to finish. The app has about 10 s to answer (the gateway gives up at ~15 s).
"""

from __future__ import annotations

from collections.abc import Mapping

from ussd.events import UssdReply, UssdRequest, clean_input


class MalformedRequest(ValueError):
    pass


def parse(form: Mapping[str, str]) -> UssdRequest:
    session_id = form.get("sessionId", "").strip()
    phone = form.get("phoneNumber", "").strip()
    if not session_id or not phone or len(session_id) > 128 or len(phone) > 20:
        raise MalformedRequest("sessionId and phoneNumber are required")
    text = form.get("text", "")
    inputs = tuple(clean_input(part) for part in text.split("*")) if text else ()
    return UssdRequest(
        session_id=session_id,
        phone=phone,
        service_code=form.get("serviceCode", ""),
        network=form.get("networkCode", ""),
        inputs=inputs,
        latest=inputs[-1] if inputs else None,
    )


def render(reply: UssdReply) -> str:
    return ("END " if reply.end else "CON ") + reply.text
