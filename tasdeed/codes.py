"""E-payment code validation, done locally before any look-up.

Check digit: Damm. Money paid to a mistyped code cannot be refunded, so the check must catch
the two commonest keying errors: every single wrong digit and every swap of two adjacent
digits. Damm catches both (its table is a totally anti-symmetric quasigroup of order 10),
as Verhoeff does, but with one table and no position-dependent permutations, so it is
simpler to implement, explain to a utility's developers and port to their systems. Luhn
misses the 09<->90 swap, which is why it is not used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from tasdeed.normalise import digits_only, strip_invisible
from tasdeed.profile import PaymentCodeFormat

_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def _damm_interim(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM_TABLE[interim][ord(ch) - 48]
    return interim


def damm_check_digit(body: str) -> str:
    """The digit to append to `body` (ASCII digits) so the whole passes `damm_valid`."""
    if not _ASCII_DIGITS.fullmatch(body):
        raise ValueError("Damm check digit needs ASCII digits")
    return str(_damm_interim(body))


def damm_valid(code: str) -> bool:
    return bool(_ASCII_DIGITS.fullmatch(code)) and _damm_interim(code) == 0


class CodeProblem(StrEnum):
    """Why a code was refused locally; channels turn each into words."""

    EMPTY = "code_empty"
    NOT_DIGITS = "code_not_digits"
    WRONG_LENGTH = "code_wrong_length"
    BAD_CHECK_DIGIT = "code_bad_check_digit"


@dataclass(frozen=True, slots=True)
class CodeCheck:
    code: str | None
    problem: CodeProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_payment_code(raw: str, fmt: PaymentCodeFormat) -> CodeCheck:
    """Normalise what was typed or said and check it; `code` is the ASCII form when valid."""
    if not strip_invisible(raw).strip():
        return CodeCheck(None, CodeProblem.EMPTY)
    digits = digits_only(raw)
    if digits is None:
        return CodeCheck(None, CodeProblem.NOT_DIGITS)
    if len(digits) != fmt.length:
        return CodeCheck(None, CodeProblem.WRONG_LENGTH)
    if not damm_valid(digits):
        return CodeCheck(None, CodeProblem.BAD_CHECK_DIGIT)
    return CodeCheck(digits, None)


def mask_code(code: str, visible: int = 4) -> str:
    """For logs and screens: only the last digits of an e-payment code."""
    if len(code) <= visible:
        return "*" * len(code)
    return "*" * (len(code) - visible) + code[-visible:]
