"""What each SMS template costs at worst, measured: every profile, language, month name and
complaint state, with the largest household bill and the profile's longest code. The budgets
in `budgets.toml` must cover these figures (tests/unit/test_notices.py checks they do)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from tasdeed.money import currency_exponent
from tasdeed.notices.kinds import NoticeKind, sms_segment_budget
from tasdeed.notices.text import NoticeFacts, render_notice
from tasdeed.profile import available_profiles, load_profile
from tasdeed.sms import SegmentCount

COMPLAINT_STATES = ("open", "in_progress", "resolved", "closed")
LARGEST_BILL_MAJOR = 100_000  # 99,999.99: a household bill's ceiling


@dataclass(frozen=True, slots=True)
class TemplateCost:
    profile_id: str
    language: str
    kind: NoticeKind
    worst: SegmentCount
    budget: int


def worst_case_facts(kind: NoticeKind, language: str, profile_id: str) -> Iterator[NoticeFacts]:
    profile = load_profile(profile_id)
    largest_bill = LARGEST_BILL_MAJOR * 10 ** currency_exponent(profile.currency) - 1
    for month in range(1, 13):  # the longest month name differs by language
        for status in COMPLAINT_STATES:
            yield NoticeFacts(
                kind=kind,
                language=language,
                payment_code="8" * profile.payment_code.length,
                amount_minor=largest_bill,
                due_date=date(2026, 12, 28),
                month=f"2026-{month:02d}",
                receipt_number=f"{profile_id.upper()}261228ABCDEF12",
                paid_on=date(2026, 12, 28),
                ticket_number="12345678",
                complaint_status=status,
                unpaid_bills=24,
            )


def template_costs() -> list[TemplateCost]:
    budgets = sms_segment_budget()
    costs = []
    for profile_id in available_profiles():
        profile = load_profile(profile_id)
        for language in ("ar", "en"):
            for kind in NoticeKind:
                worst = max(
                    (
                        render_notice(facts, "sms", profile).segments
                        for facts in worst_case_facts(kind, language, profile_id)
                    ),
                    key=lambda count: (count.segments, count.units),
                )
                costs.append(TemplateCost(profile_id, language, kind, worst, budgets[kind]))
    return costs
