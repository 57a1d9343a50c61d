"""Structured logs that never carry a full e-payment code, card data or a phone number.

Two layers: values under sensitive keys are masked by name, and any run of seven or more
digits in any string value is masked too, so a code that slips into a message or an error
text is still cut to its last four digits.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_LONG_DIGITS = re.compile(r"(?<![0-9])[0-9]{3,}([0-9]{4})(?![0-9])", re.ASCII)
_DIGIT_RUN_MIN = 7
_DROP_KEYS = frozenset({"card", "card_number", "pin", "cvv", "text", "ussd_text", "body"})
_MASK_KEYS = frozenset({"code", "payment_code", "phone", "phone_number", "msisdn", "caller", "to"})


def mask_digits_in(text: str) -> str:
    """Every run of 7+ ASCII digits becomes asterisks and its last four digits."""

    def _mask(match: re.Match[str]) -> str:
        run = match.group(0)
        if len(run) < _DIGIT_RUN_MIN:
            return run
        return "*" * (len(run) - 4) + match.group(1)

    return _LONG_DIGITS.sub(_mask, text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_digits_in(value)
    return value


def mask_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key in _DROP_KEYS:
            event_dict[key] = "<redacted>"
        elif key in _MASK_KEYS and isinstance(value, str):
            event_dict[key] = "*" * max(len(value) - 4, 0) + value[-4:]
        else:
            event_dict[key] = _mask_value(value)
    return event_dict


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_sensitive,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
