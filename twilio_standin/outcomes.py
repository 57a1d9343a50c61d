"""What happens to messages for a given recipient, set at startup or through the control API.

A recipient is an exact address (`+9665…` for SMS, `whatsapp:+9665…` for WhatsApp). One
outcome may combine:
- `create_error`: every create to that address is refused with that Twilio error (400);
- `transient_errors` N (with `transient_status` 500 or 503): the next N creates answer that
  HTTP status (Twilio codes 20500 / 20503), later ones go through;
- `delivery` (with `error_code`): how the message ends: "delivered", "read" (WhatsApp),
  "sent" (no delivery receipt ever comes), "undelivered" (after "sent") or "failed".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DELIVERY_STATES = ("delivered", "read", "sent", "undelivered", "failed")
_DEFAULT_ERROR = {"undelivered": 30003, "failed": 30008}
_TRANSIENT_CODES = {500: 20500, 503: 20503}


class OutcomeError(ValueError):
    """An outcome the control API cannot accept (answered with 400 and this text)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    create_error: int | None = None
    create_error_message: str | None = None
    transient_errors: int = 0
    transient_status: int = 500
    delivery: str | None = None
    error_code: int | None = None

    @property
    def transient_code(self) -> int:
        return _TRANSIENT_CODES[self.transient_status]

    def as_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__slots__}


def _int(spec: dict[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutcomeError(f"{key} must be an integer")
    return value


def parse_outcome(spec: Any) -> Outcome:
    if not isinstance(spec, dict):
        raise OutcomeError("an outcome is a JSON object")
    unknown = set(spec) - set(Outcome.__slots__)
    if unknown:
        raise OutcomeError(f"unknown outcome keys: {sorted(unknown)}")
    delivery = spec.get("delivery")
    if delivery is not None and delivery not in DELIVERY_STATES:
        raise OutcomeError(f"delivery must be one of {DELIVERY_STATES}")
    error_code = _int(spec, "error_code")
    if delivery in _DEFAULT_ERROR and error_code is None:
        error_code = _DEFAULT_ERROR[delivery]
    transient_status = _int(spec, "transient_status") or 500
    if transient_status not in _TRANSIENT_CODES:
        raise OutcomeError("transient_status must be 500 or 503")
    transient = _int(spec, "transient_errors") or 0
    if transient < 0:
        raise OutcomeError("transient_errors must not be negative")
    message = spec.get("create_error_message")
    if message is not None and not isinstance(message, str):
        raise OutcomeError("create_error_message must be a string")
    return Outcome(
        create_error=_int(spec, "create_error"),
        create_error_message=message,
        transient_errors=transient,
        transient_status=transient_status,
        delivery=delivery,
        error_code=error_code,
    )


class OutcomeBook:
    """Outcomes by address, with each address's transient errors counted down."""

    def __init__(self) -> None:
        self._outcomes: dict[str, Outcome] = {}
        self._transient_left: dict[str, int] = {}

    def update(self, specs: Any) -> None:
        """Merge `{address: outcome | null}`; null removes that address's outcome."""
        if not isinstance(specs, dict):
            raise OutcomeError('expected {"<address>": {...outcome...}}')
        parsed = {
            address: None if spec is None else parse_outcome(spec)
            for address, spec in specs.items()
        }
        for address, outcome in parsed.items():
            if outcome is None:
                self._outcomes.pop(address, None)
                self._transient_left.pop(address, None)
            else:
                self._outcomes[address] = outcome
                self._transient_left[address] = outcome.transient_errors

    def get(self, address: str) -> Outcome | None:
        return self._outcomes.get(address)

    def take_transient(self, address: str) -> bool:
        """True while the address still owes a transient failure (and counts one down)."""
        left = self._transient_left.get(address, 0)
        if left <= 0:
            return False
        self._transient_left[address] = left - 1
        return True

    def as_json(self) -> dict[str, Any]:
        return {
            address: {**outcome.as_json(), "transient_left": self._transient_left[address]}
            for address, outcome in self._outcomes.items()
        }

    def clear(self) -> None:
        self._outcomes.clear()
        self._transient_left.clear()
