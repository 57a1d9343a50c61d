"""Twilio's REST error catalogue and the JSON body Twilio answers errors with.

The body is Twilio's legacy error shape, which the twilio library turns into a
`TwilioRestException` (status, code, message, more_info). Messages follow the texts Twilio
returns; a few embed the offending value, as Twilio's do.
"""

from __future__ import annotations

import json

from aiohttp import web

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# code -> (HTTP status, message). Codes not listed answer 400 with a generic message.
CATALOGUE: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter"),
    20003: (401, "Authenticate"),
    20004: (405, "Method not allowed"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21212: (400, "Invalid 'From' Phone Number"),
    21266: (400, "'To' and 'From' number cannot be the same"),
    21408: (400, "Permission to send an SMS has not been enabled for the region"),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The 'From' phone number provided is not a valid message-capable Twilio phone "
        "number for this destination/account",
    ),
    21609: (400, "Invalid StatusCallback url"),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (400, "The 'To' phone number is not currently reachable via SMS"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21619: (400, "A Message Body, Media URL or Content SID is required"),
    21701: (400, "The Messaging Service Sid is invalid"),
    21910: (
        400,
        "Invalid 'From' and 'To' pair. 'From' and 'To' should be of the same channel",
    ),
}

# Delivery errors reported on the resource and in status callbacks (ErrorCode/ErrorMessage).
DELIVERY_ERRORS: dict[int, str] = {
    30001: "Queue overflow",
    30002: "Account suspended",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    63016: (
        "Failed to send freeform message because you are outside the allowed window. "
        "If you are using WhatsApp, please use a Message Template."
    ),
}


def delivery_error_message(code: int) -> str:
    return DELIVERY_ERRORS.get(code, f"Error {code}")


class TwilioError(Exception):
    """A refusal Twilio would answer with; `message` overrides the catalogue's text."""

    def __init__(self, code: int, message: str | None = None, status: int | None = None):
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status

    def http_status(self) -> int:
        if self.status is not None:
            return self.status
        return CATALOGUE.get(self.code, (400, ""))[0]

    def text(self) -> str:
        if self.message is not None:
            return self.message
        return CATALOGUE.get(self.code, (400, f"Error {self.code}"))[1]

    def body(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "code": self.code,
            "message": self.text(),
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.http_status(),
        }
        if self.code == 20003:
            # Twilio's 401 carries this extra field; the library ignores it.
            payload["detail"] = "Your AccountSid or AuthToken was incorrect."
        return payload

    def response(self) -> web.Response:
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.code == 20003 else None
        return web.Response(
            status=self.http_status(),
            text=json.dumps(self.body()),
            content_type="application/json",
            headers=headers,
        )
