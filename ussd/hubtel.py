"""A JSON-style aggregator (Hubtel's Programmable Services USSD format).

Request: {"SessionId", "Mobile", "ServiceCode", "Type": "Initiation" | "Response" |
"Release" | "Timeout", "Message", "Operator", "Sequence", "ClientState"}; only the latest
input is sent, and "Sequence" counts hops from 1 (the dial). Answer: {"SessionId", "Type":
"Response" to continue or "Release" to end, "Message", "Label", "DataType", "FieldType"}.

Every field is a claim from outside: text fields must be strings (or, for numbers such as
Mobile, integers), and Sequence a whole number from 1 to MAX_SEQUENCE (a JSON number or a
string of ASCII digits); anything else (Infinity, 1e400, -5, 2.5, a list) is a
`MalformedRequest`, never a crash.
"""

from __future__ import annotations

import math
from typing import Any

from ussd.events import UssdReply, UssdRequest, clean_input

MAX_SEQUENCE = 1000  # hops in one session; a handset session times out long before
MAX_FIELD_CHARS = 1000  # no field of a real callback comes near; the body limit is 64 KiB
MAX_INT_FIELD = 10**20  # a number given for a text field (Mobile): longer is no phone number


class MalformedRequest(ValueError):
    pass


def parse(body: Any) -> UssdRequest:
    if not isinstance(body, dict):
        raise MalformedRequest("body must be a JSON object")
    session_id = _text(body, "SessionId").strip()
    phone = _text(body, "Mobile").strip()
    kind = _text(body, "Type").strip().lower()
    if not session_id or not phone or len(session_id) > 128 or len(phone) > 20:
        raise MalformedRequest("SessionId and Mobile are required")
    if kind not in ("initiation", "response", "release", "timeout"):
        raise MalformedRequest("unknown Type")
    sequence = _sequence(body.get("Sequence"))
    message = _text(body, "Message")
    return UssdRequest(
        session_id=session_id,
        phone=phone,
        service_code=_text(body, "ServiceCode"),
        network=_text(body, "Operator"),
        latest=None if kind == "initiation" else clean_input(message),
        sequence=1 if kind == "initiation" else sequence,
        ended=kind in ("release", "timeout"),
    )


def _text(body: dict[Any, Any], key: str) -> str:
    """A text field: a string, or an integer written as one ("Mobile": 233246912184);
    missing or null is ""."""
    value = body.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedRequest(f"{key} must be text")
    if isinstance(value, int) and not -MAX_INT_FIELD < value < MAX_INT_FIELD:
        raise MalformedRequest(f"{key} is too long")
    text = str(value)
    if len(text) > MAX_FIELD_CHARS:
        raise MalformedRequest(f"{key} is too long")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedRequest(f"{key} is not valid Unicode") from None
    return text


def _sequence(value: Any) -> int | None:
    """The hop number: None when absent (a gateway that does not count), else a whole number
    in 1..MAX_SEQUENCE, given as a JSON number (2 or 2.0) or ASCII digits ("2")."""
    if value is None or value == "":
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            number = int(value)
    elif isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) <= len(str(MAX_SEQUENCE)):
            number = int(digits)
    if number is None or not 1 <= number <= MAX_SEQUENCE:
        raise MalformedRequest(f"Sequence must be a whole number from 1 to {MAX_SEQUENCE}")
    return number


def render(reply: UssdReply, session_id: str) -> dict[str, Any]:
    return {
        "SessionId": session_id,
        "Type": "Release" if reply.end else "Response",
        "Message": reply.text,
        "Label": "Tasdeed",
        "DataType": "display" if reply.end else "input",
        "FieldType": "text",
    }
