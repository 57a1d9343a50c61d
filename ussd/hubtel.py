"""A JSON-style aggregator (Hubtel's Programmable Services USSD format).

Request: {"SessionId", "Mobile", "ServiceCode", "Type": "Initiation" | "Response" |
"Release" | "Timeout", "Message", "Operator", "Sequence", "ClientState"}; only the latest
input is sent, and "Sequence" counts hops from 1 (the dial). Answer: {"SessionId", "Type":
"Response" to continue or "Release" to end, "Message", "Label", "DataType", "FieldType"}.
"""

from __future__ import annotations

from typing import Any

from ussd.events import UssdReply, UssdRequest, clean_input


class MalformedRequest(ValueError):
    pass


def parse(body: Any) -> UssdRequest:
    if not isinstance(body, dict):
        raise MalformedRequest("body must be a JSON object")
    session_id = str(body.get("SessionId") or "").strip()
    phone = str(body.get("Mobile") or "").strip()
    kind = str(body.get("Type") or "").strip().lower()
    if not session_id or not phone or len(session_id) > 128 or len(phone) > 20:
        raise MalformedRequest("SessionId and Mobile are required")
    if kind not in ("initiation", "response", "release", "timeout"):
        raise MalformedRequest("unknown Type")
    try:
        sequence = int(body.get("Sequence") or 0) or None
    except (TypeError, ValueError) as exc:
        raise MalformedRequest("Sequence must be a number") from exc
    message = str(body.get("Message") or "")
    return UssdRequest(
        session_id=session_id,
        phone=phone,
        service_code=str(body.get("ServiceCode") or ""),
        network=str(body.get("Operator") or ""),
        latest=None if kind == "initiation" else clean_input(message),
        sequence=1 if kind == "initiation" else sequence,
        ended=kind in ("release", "timeout"),
    )


def render(reply: UssdReply, session_id: str) -> dict[str, Any]:
    return {
        "SessionId": session_id,
        "Type": "Release" if reply.end else "Response",
        "Message": reply.text,
        "Label": "Tasdeed",
        "DataType": "display" if reply.end else "input",
        "FieldType": "text",
    }
