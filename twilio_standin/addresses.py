"""Message addresses as Twilio reads them: E.164 numbers, channel addresses, sender IDs."""

from __future__ import annotations

import re
from enum import StrEnum

from tasdeed.logs import mask_digits_in

WHATSAPP_PREFIX = "whatsapp:"

_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
_SHORT_CODE = re.compile(r"[0-9]{3,8}", re.ASCII)
# Alphanumeric sender IDs: up to 11 ASCII letters, digits and spaces, at least one letter.
_ALPHANUMERIC = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}", re.ASCII)
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-f]{32}", re.ASCII)


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


def channel_of(address: str) -> Channel:
    return Channel.WHATSAPP if address.startswith(WHATSAPP_PREFIX) else Channel.SMS


def bare_number(address: str) -> str:
    """The E.164 part of a channel address (`whatsapp:+9665…` -> `+9665…`)."""
    return address.removeprefix(WHATSAPP_PREFIX)


def is_valid_to(address: str) -> bool:
    """A recipient: an E.164 number, bare or as a WhatsApp address."""
    return _E164.fullmatch(bare_number(address)) is not None


def is_valid_from(address: str) -> bool:
    """A sender: E.164, a WhatsApp address, a short code or an alphanumeric sender ID."""
    if address.startswith(WHATSAPP_PREFIX):
        return _E164.fullmatch(bare_number(address)) is not None
    return any(
        pattern.fullmatch(address) is not None for pattern in (_E164, _SHORT_CODE, _ALPHANUMERIC)
    )


def is_messaging_service_sid(value: str) -> bool:
    return _MESSAGING_SERVICE_SID.fullmatch(value) is not None


def masked(address: str | None) -> str | None:
    """An address fit for a log line: all but the last four digits hidden.

    Well-formed numbers take a plain slice (this runs on every create); anything else goes
    through Tasdeed's general digit masking.
    """
    if address is None:
        return None
    number = bare_number(address)
    if _E164.fullmatch(number) is not None:
        return address[: len(address) - len(number) + 1] + "*" * (len(number) - 5) + number[-4:]
    return mask_digits_in(address)
