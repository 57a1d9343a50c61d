"""Flow states holding worst-case values (longest names, largest amounts, every month), for
checking what every screen becomes on every channel."""

from __future__ import annotations

from tasdeed.flows.engine import FlowState
from tasdeed.money import Money
from tasdeed.profile import load_profile
from tasdeed.text import Text, text_to_json

LARGEST_MINOR = 10**12 - 1  # 999,999,999.999 KD or 9,999,999,999.99 EGP
MONTHS = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]


def worst_state(screen: str, language: str, profile_id: str) -> FlowState:
    profile = load_profile(profile_id)
    area = max(profile.areas, key=len)
    payee = "عبدالرحمن ع. الع."
    data = {
        "conversation": "c",
        "code": "9" * profile.payment_code.length,
        "balance": {
            "payee": payee,
            "area": area,
            "due_minor": LARGEST_MINOR,
            "months": MONTHS,
            "prepaid_flagged": True,  # the prepaid-meter warning's line too
        },
        "quote": {
            "id": "q",
            "payee": payee,
            "area": area,
            "months": MONTHS,
            "amount_minor": LARGEST_MINOR,
            "due_minor": LARGEST_MINOR,
            "override": False,
            "prepaid_flagged": True,
        },
        "recent_receipt": "EG261124ABCDEF12",
        "recent": {"amount_minor": LARGEST_MINOR, "date": "2026-12-31"},
        "receipt": {"number": "EG261124ABCDEF12", "amount_minor": LARGEST_MINOR},
        "ticket": {
            "number": "12345678",
            "status": "in_progress",
            "due": "2026-12-31",
            # A guaranteed standard's line (Saudi billing complaints), at its longest.
            "standard": {"working_days": 120, "amount_minor": LARGEST_MINOR},
        },
        "due_minor": LARGEST_MINOR,
        "plan": {
            "number": "P12345678",
            "months": 24,
            "installment_minor": LARGEST_MINOR,
            "first_due": "2026-12-31",
        },
        "resume": {"code": "9" * profile.payment_code.length},
        "topic": "compensation",
        "answer": [
            text_to_json(
                Text("refusal.below_minimum", {"minimum": Money(LARGEST_MINOR, profile.currency)})
            ),
            text_to_json(Text("refusal.already_paid_recently")),
            text_to_json(Text("error.payment_outcome_unknown")),
        ],
        "reading_kind": "electricity",
        "reading": {"kind": "water", "value": 999_999_999, "consumption": 999_999_999},
    }
    return FlowState(screen=screen, language=language, data=data, back=["main"])
