"""Structured logs that never carry a full e-payment code, card data or a phone number.

Two layers: values under sensitive keys are masked by name, and any long run of digits in
any value (strings, numbers, nested lists and dicts; Latin or Arabic-Indic digits; grouped by
spaces or dashes) is masked too, so a code that slips into a message or an error text is
still cut to its last four digits.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Any digits (Arabic-Indic too: `\d` is Unicode here on purpose), possibly grouped by
# spaces or dashes as people write codes and phone numbers.
_DIGIT_GROUPS = re.compile(r"(?<!\d)\d(?:[\d \-]*\d)?")
_MIN_RUN = 7  # an unbroken run this long is a code, a phone or an account number
_MIN_GROUPED = 9  # grouped digits need more, so dates like 2026-11-24 stay readable
_DROP_KEYS = frozenset({"card", "card_number", "pin", "cvv", "text", "ussd_text", "body"})
_MASK_KEYS = frozenset({"code", "payment_code", "phone", "phone_number", "msisdn", "caller", "to"})


def _mask_match(match: re.Match[str]) -> str:
    chunk = match.group(0)
    digits = sum(ch.isdigit() for ch in chunk)
    grouped = len(chunk) != digits
    if digits < (_MIN_GROUPED if grouped else _MIN_RUN):
        return chunk
    keep_from = digits - 4
    out, seen = [], 0
    for ch in chunk:
        if ch.isdigit():
            out.append(ch if seen >= keep_from else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_digits_in(text: str) -> str:
    """Long digit runs (codes, phones) become asterisks but for their last four digits."""
    return _DIGIT_GROUPS.sub(_mask_match, text)


def _mask_tail(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_digits_in(value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask_digits_in(str(value))
        return value if masked == str(value) else masked
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mask_value(v) for v in value]
    return value


def mask_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        value = event_dict[key]
        if key in _DROP_KEYS:
            event_dict[key] = "<redacted>"
        elif key in _MASK_KEYS and value is not None:
            event_dict[key] = _mask_tail(str(value))
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
            structlog.processors.format_exc_info,
            mask_sensitive,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
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
