"""JSON from outside callers, read defensively: a pure function over the bytes or text.

`json.loads` alone accepts input no caller of ours ever means: nesting thousands of levels
deep (it recurses, and ends in `RecursionError`), `NaN` / `Infinity` and `1e400` (floats
that are not numbers or are infinite; `int()` of them raises `OverflowError`), lone
surrogates (`"\\ud800"`, a `str` that cannot be encoded back to UTF-8, so the first
`.encode()` or JSON response fails) and bytes that are not UTF-8. `loads_limited` refuses
all of them with `ValueError` (message short, never quoting the input), so a caller has one
error type to turn into a 400.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

DEFAULT_MAX_DEPTH = 8
# A JSON string token (what the depth scanner skips). The closing quote is optional so that
# an unterminated string ends the scan instead of making the pattern backtrack (quadratic
# on `"\"\"\"…`); `json.loads` fails at such a string, so nothing after it counts.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def loads_limited(raw: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """The JSON value in `raw`; `ValueError` if it is not UTF-8, not JSON, nested deeper than
    `max_depth` arrays/objects, or holds a non-finite number or a string that is not valid
    Unicode (a lone surrogate)."""
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("body is not UTF-8") from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise ValueError("body must be bytes or text")
    if nesting_depth(text, stop_above=max_depth) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # not reachable after the depth check; kept as a last guard
        raise ValueError("JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} (position {exc.pos})") from None
    except ValueError as exc:
        # Our own refusals, and int() of a number longer than Python's digit limit.
        raise ValueError(str(exc)[:80] or "not JSON") from None
    _check_strings(value)
    return value


def nesting_depth(text: str, stop_above: int | None = None) -> int:
    """How deep `[` and `{` nest in `text`, not counting brackets inside JSON strings.

    For valid JSON it is the exact depth; for invalid JSON it is never less than the depth
    `json.loads` reaches before it fails (both read strings the same way up to that point),
    so checking it first keeps the parser's recursion bounded. With `stop_above`, counting
    stops as soon as the depth passes it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        elif depth:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _check_strings(value: Any) -> None:
    """Every string, keys included, must encode to UTF-8 (no lone surrogates). Recursion is
    bounded by the depth already checked."""
    if isinstance(value, str):
        _encodable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _encodable(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("string is not valid Unicode") from None
