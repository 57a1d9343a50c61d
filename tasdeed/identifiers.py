"""Which account a person means: an e-payment code or an account number, from what they typed,
said or wrote in a sentence ("رقم حسابي EG000123", "الكود ٦٢٧٨ ٩٨٦٢ ٢٢٤١").

They are told apart by context words, by length (the profile gives both, and they differ) and,
for codes, by the check digit. Codes are checked locally before any look-up, so a mistyped
code never reaches the backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tasdeed.codes import CodeProblem, check_payment_code
from tasdeed.normalise import digits_only, normalise_input
from tasdeed.profile import Profile

# A number as people write it: digits with spaces or dashes inside ("6278 9862-2241").
_NUMBER = re.compile(r"[0-9](?:[0-9 \-]*[0-9])?", re.ASCII)
_ACCOUNT_WORDS = re.compile(r"حساب|حسابي|رقم الحساب|رقم المشترك|account|acc\b|hesab|7esab", re.I)
_CODE_WORDS = re.compile(r"كود|رمز|code|kod", re.I)


@dataclass(frozen=True, slots=True)
class AccountRef:
    kind: Literal["code", "account"]
    value: str  # a code as ASCII digits, an account number with its country letters


def find_account_ref(raw: str, profile: Profile) -> AccountRef | CodeProblem:
    """The code or account number in `raw`, or why there is none (in a code's terms, since
    a code is what most people have)."""
    text = normalise_input(raw).text
    if not text:
        return CodeProblem.EMPTY
    prefix = profile.country.lower()
    compact = text.lower().replace(" ", "")
    if compact.startswith(prefix) and digits_only(compact[len(prefix) :]) is not None:
        return _account(digits_only(compact[len(prefix) :]) or "", profile)
    numbers = [digits_only(found) or "" for found in _NUMBER.findall(text)]
    if len(numbers) != 1:
        return CodeProblem.NOT_DIGITS if not numbers else CodeProblem.WRONG_LENGTH
    number = numbers[0]
    wants_account = bool(_ACCOUNT_WORDS.search(text)) and not _CODE_WORDS.search(text)
    if wants_account or len(number) == profile.account_number.digits:
        return _account(number, profile)
    checked = check_payment_code(number, profile.payment_code)
    if checked.code is None:
        assert checked.problem is not None
        return checked.problem
    return AccountRef("code", checked.code)


def find_code(raw: str, profile: Profile) -> AccountRef | CodeProblem:
    """Only an e-payment code (paying needs one: an account may have several bills)."""
    found = find_account_ref(raw, profile)
    if isinstance(found, AccountRef) and found.kind == "account":
        return CodeProblem.WRONG_LENGTH
    return found


def _account(digits: str, profile: Profile) -> AccountRef | CodeProblem:
    if len(digits) != profile.account_number.digits:
        return CodeProblem.WRONG_LENGTH
    return AccountRef("account", f"{profile.country}{digits}")
