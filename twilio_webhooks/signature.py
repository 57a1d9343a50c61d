"""X-Twilio-Signature checks with the twilio library's own RequestValidator.

Twilio signs the exact public URL it called plus the sorted POST parameters. Behind a TLS
proxy the request this process sees has another scheme and host, so the URL is built from
configuration (PUBLIC_BASE_URL) plus the path and query, never from the request's Host.
Signatures carry no timestamp: replays are the receiver's to handle.
"""

from __future__ import annotations

from aiohttp import web
from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioSignatures:
    def __init__(self, auth_token: str, public_base_url: str):
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/")

    def public_url(self, request: web.Request) -> str:
        return self.public_base_url + request.path_qs

    async def verified_form(self, request: web.Request) -> dict[str, str] | None:
        """The POSTed parameters if the signature is Twilio's, else None."""
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            return None
        form = {key: str(value) for key, value in (await request.post()).items()}
        if not self.validator.validate(self.public_url(request), form, signature):
            return None
        return form
