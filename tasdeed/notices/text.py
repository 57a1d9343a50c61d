"""A notice's words: the catalogue message `notice.<kind>.<channel>` filled with the facts,
rendered like every other text screen (money and dates by babel in the profile's locale and
digits, identifiers as digit strings), with its SMS segment count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from tasdeed.flows.text_render import TextRenderer
from tasdeed.money import Money
from tasdeed.notices.kinds import Channel, NoticeKind
from tasdeed.profile import Profile
from tasdeed.sms import SegmentCount, count_segments
from tasdeed.text import DigitString, Months, Param, Text

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What a notice can mention; each kind uses its own subset (missing ones raise)."""

    kind: NoticeKind
    language: str
    payment_code: str | None = None
    amount_minor: int | None = None
    due_date: date | None = None
    month: str | None = None  # YYYY-MM
    receipt_number: str | None = None
    paid_on: date | None = None
    ticket_number: str | None = None
    complaint_status: str | None = None
    unpaid_bills: int | None = None


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    body: str
    segments: SegmentCount


class MissingFact(ValueError):
    """The outbox row lacks something its kind's template needs: a ledger bug, not a person's."""


def _need(value: T | None, name: str, kind: NoticeKind) -> T:
    if value is None:
        raise MissingFact(f"{kind.value} needs {name}")
    return value


def _params(facts: NoticeFacts, profile: Profile) -> dict[str, Param]:
    kind = facts.kind
    how_to_pay: dict[str, Param] = {
        "ussd": profile.ussd_service_code,
        "line": profile.contact_line,
        "wa": f"wa.me/{profile.notices.whatsapp_number}",
        "utility": profile.utility_name_ar if facts.language == "ar" else profile.utility_name_en,
    }
    if kind in (NoticeKind.BILL_ISSUED, NoticeKind.DUE_REMINDER):
        return how_to_pay | {
            "amount": Money(_need(facts.amount_minor, "amount", kind), profile.currency),
            "date": _need(facts.due_date, "due date", kind).isoformat(),
            "month": Months((_need(facts.month, "month", kind),)),
            "code": DigitString(_need(facts.payment_code, "payment code", kind)),
        }
    if kind is NoticeKind.PAYMENT_RECEIPT:
        return how_to_pay | {
            "amount": Money(_need(facts.amount_minor, "amount", kind), profile.currency),
            "date": _need(facts.paid_on, "payment date", kind).isoformat(),
            "receipt": DigitString(_need(facts.receipt_number, "receipt", kind)),
        }
    if kind is NoticeKind.COMPLAINT_UPDATE:
        status = _need(facts.complaint_status, "status", kind)
        return how_to_pay | {
            "ticket": DigitString(_need(facts.ticket_number, "ticket", kind)),
            "status": Text(f"complaint.state.{status}"),
        }
    if kind is NoticeKind.COMPLAINT_SLA_BREACH:
        return how_to_pay | {"ticket": DigitString(_need(facts.ticket_number, "ticket", kind))}
    if kind is NoticeKind.COMPLAINT_COMPENSATION:
        return how_to_pay | {
            "ticket": DigitString(_need(facts.ticket_number, "ticket", kind)),
            "date": _need(facts.due_date, "due date", kind).isoformat(),
            "amount": Money(_need(facts.amount_minor, "amount", kind), profile.currency),
        }
    if kind is NoticeKind.COMPENSATION_CREDITED:
        return how_to_pay | {
            "amount": Money(_need(facts.amount_minor, "amount", kind), profile.currency)
        }
    return how_to_pay | {  # PREPAID_WARNING
        "count": _need(facts.unpaid_bills, "unpaid bills", kind),
        "code": DigitString(_need(facts.payment_code, "payment code", kind)),
    }


_renderers: dict[tuple[str, str], TextRenderer] = {}


def _renderer(profile: Profile, language: str) -> TextRenderer:
    key = (profile.id, language)
    renderer = _renderers.get(key)
    if renderer is None or renderer.profile is not profile:
        renderer = _renderers[key] = TextRenderer(profile, language)
    return renderer


def notice_message(facts: NoticeFacts, channel: Channel, profile: Profile) -> Text:
    return Text(f"notice.{facts.kind.value}.{channel}", _params(facts, profile))


def render_notice(facts: NoticeFacts, channel: Channel, profile: Profile) -> RenderedNotice:
    """The body to send and what it costs."""
    body = _renderer(profile, facts.language).text(notice_message(facts, channel, profile))
    return RenderedNotice(body=body, segments=count_segments(body))
