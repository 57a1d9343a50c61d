"""The notices' words and costs (tasdeed/notices/, tasdeed/sms.py): every template in every
profile and language fits its stated SMS segment count with worst-case values; segment
counting at its boundaries; quiet hours; opt-out keywords."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasdeed.notices.consent import consent_keyword
from tasdeed.notices.costs import template_costs, worst_case_facts
from tasdeed.notices.kinds import CHANNELS, NoticeKind, is_bulk, sms_segment_budget
from tasdeed.notices.quiet_hours import quiet_until
from tasdeed.notices.text import MissingFact, NoticeFacts, render_notice
from tasdeed.profile import available_profiles, load_profile
from tasdeed.sms import count_segments

PROFILES = available_profiles()


@pytest.mark.parametrize("profile_id", PROFILES)
@pytest.mark.parametrize("language", ["ar", "en"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_sms_template_fits_its_stated_segments(
    profile_id: str, language: str, kind: NoticeKind
) -> None:
    profile = load_profile(profile_id)
    budget = sms_segment_budget()[kind]
    for facts in worst_case_facts(kind, language, profile_id):
        rendered = render_notice(facts, "sms", profile)
        assert rendered.segments.segments <= budget, (rendered.segments, rendered.body)
        # English notices must stay GSM-7: one stray character would cost UCS-2 rates.
        expected = "UCS-2" if language == "ar" else "GSM-7"
        assert rendered.segments.encoding == expected, rendered.body


@pytest.mark.parametrize("profile_id", PROFILES)
@pytest.mark.parametrize("language", ["ar", "en"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_whatsapp_template_renders_within_twilios_body_limit(
    profile_id: str, language: str, kind: NoticeKind
) -> None:
    profile = load_profile(profile_id)
    facts = next(worst_case_facts(kind, language, profile_id))
    body = render_notice(facts, "whatsapp", profile).body
    assert 0 < len(body) <= 1600
    assert "{" not in body and "}" not in body


def test_bill_notice_says_everything_needed_to_pay() -> None:
    profile = load_profile("eg")
    facts = NoticeFacts(
        kind=NoticeKind.BILL_ISSUED,
        language="ar",
        payment_code="123456789012",
        amount_minor=15075,
        due_date=date(2026, 12, 15),
        month="2026-11",
    )
    body = render_notice(facts, "sms", profile).body
    assert body == (
        "فاتورة نوفمبر ٢٠٢٦: ١٥٠٫٧٥ ج.م. تستحق ١٥/١٢/٢٠٢٦\n"
        "كود السداد ١٢٣٤٥٦٧٨٩٠١٢\n"
        "ادفع: *121# أو 121 أو wa.me/20221210153"
    )
    english = render_notice(replace(facts, language="en"), "sms", profile).body
    assert english == (
        "Your November 2026 bill: EGP150.75, due 15/12/2026. Payment code 123456789012. "
        "Pay: dial *121#, call 121 or wa.me/20221210153"
    )


def test_kuwaiti_amounts_keep_three_decimals() -> None:
    body = render_notice(
        NoticeFacts(
            kind=NoticeKind.PAYMENT_RECEIPT,
            language="ar",
            amount_minor=12345,
            paid_on=date(2026, 12, 1),
            receipt_number="KW261201ABCDEF12",
        ),
        "sms",
        load_profile("kw"),
    ).body
    assert "١٢٫٣٤٥ د.ك." in body
    assert "KW261201ABCDEF12" in body


def test_a_missing_fact_is_an_error_not_a_blank() -> None:
    with pytest.raises(MissingFact, match="payment code"):
        render_notice(
            NoticeFacts(
                kind=NoticeKind.BILL_ISSUED,
                language="ar",
                amount_minor=1,
                due_date=date(2026, 1, 1),
                month="2026-01",
            ),
            "sms",
            load_profile("eg"),
        )


def test_cost_table_covers_every_profile_language_and_kind_within_budget() -> None:
    costs = template_costs()
    assert len(costs) == len(PROFILES) * 2 * len(NoticeKind)
    assert all(cost.worst.segments <= cost.budget for cost in costs)
    # The bill notice is the one that needs two segments in Arabic (it carries three ways to
    # pay); in English it fits one.
    bill = {(c.profile_id, c.language): c.worst.segments for c in costs if c.kind == "bill_issued"}
    assert bill == {(p, "ar"): 2 for p in PROFILES} | {(p, "en"): 1 for p in PROFILES}


def test_every_kind_has_a_budget_and_templates_on_both_channels() -> None:
    assert set(sms_segment_budget()) == set(NoticeKind)
    assert CHANNELS == ("sms", "whatsapp")


def test_receipts_and_complaint_updates_are_not_held_for_quiet_hours() -> None:
    assert not is_bulk(NoticeKind.PAYMENT_RECEIPT)
    assert not is_bulk(NoticeKind.COMPLAINT_UPDATE)
    assert is_bulk(NoticeKind.BILL_ISSUED)
    assert is_bulk(NoticeKind.DUE_REMINDER)
    assert is_bulk(NoticeKind.PREPAID_WARNING)


# --- SMS segments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("ب" * 70, "UCS-2", 70, 1),
        ("ب" * 71, "UCS-2", 71, 2),
        ("ب" * 134, "UCS-2", 134, 2),
        ("ب" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "٣", "UCS-2", 70, 1),  # one Arabic-Indic digit makes it all UCS-2
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, "UCS-2", 72, 2),
        ("’", "UCS-2", 1, 1),  # a typographic apostrophe is not GSM-7
        ("a" * 152 + "{" + "a" * 152, "GSM-7", 306, 3),  # "{" is not split across parts
        ("ب" * 66 + "😀" + "ب" * 66, "UCS-2", 134, 3),  # nor is a surrogate pair
    ],
)
def test_segment_boundaries(text: str, encoding: str, units: int, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.units, counted.segments) == (encoding, units, segments)


@given(st.text(max_size=400))
def test_segments_cover_the_text(text: str) -> None:
    counted = count_segments(text)
    assert counted.units <= counted.segments * counted.per_segment
    assert counted.segments == 1 or counted.units > {"GSM-7": 160, "UCS-2": 70}[counted.encoding]


@given(st.text(max_size=300), st.text(min_size=1, max_size=5))
def test_longer_text_never_costs_fewer_segments(text: str, more: str) -> None:
    assert count_segments(text + more).segments >= count_segments(text).segments or (
        count_segments(text).encoding == "GSM-7" and count_segments(text + more).encoding == "UCS-2"
    )


# --- quiet hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "ends"),
    [
        (datetime(2026, 12, 1, 18, 59), None),  # 20:59 in Cairo
        (datetime(2026, 12, 1, 19, 0), datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),  # 21:00
        (datetime(2026, 12, 1, 23, 30), datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),
        (datetime(2026, 12, 2, 6, 59), datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),  # 08:59
        (datetime(2026, 12, 2, 7, 0), None),  # 09:00: quiet_end itself is outside
    ],
)
def test_quiet_hours_in_cairo(utc: datetime, ends: datetime | None) -> None:
    assert quiet_until(utc, load_profile("eg")) == ends


def test_quiet_hours_follow_the_profiles_timezone() -> None:
    # 21:30 in Riyadh (UTC+3) is inside Kuwait's window (21:00-08:00, also UTC+3) but not
    # Saudi Arabia's (22:00-08:00).
    moment = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert quiet_until(moment, load_profile("kw")) == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    assert quiet_until(moment, load_profile("sa")) is None


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)))
def test_quiet_hours_always_end_later_and_outside_them(moment: datetime) -> None:
    profile = load_profile("sa")
    ends = quiet_until(moment, profile)
    if ends is not None:
        assert ends > moment.replace(tzinfo=UTC)
        assert quiet_until(ends, profile) is None


# --- opt-out keywords --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        (" Stop. ", "opt_out"),
        ("إيقاف", "opt_out"),
        ("ايقاف", "opt_out"),
        ("أوقف", "opt_out"),
        ("إيقاف الرسائل", "opt_out"),
        ("START", "opt_in"),
        ("اشتراك", "opt_in"),
        ("تفعيل", "opt_in"),
        ("cancel", None),  # cancels a payment in a conversation, not the notices
        ("إلغاء", None),
        ("stop the payment please", None),
        ("عايز أدفع", None),
        ("", None),
    ],
)
def test_consent_keywords(text: str, change: str | None) -> None:
    assert consent_keyword(text) == change
