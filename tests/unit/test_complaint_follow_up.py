"""Following a complaint (the "follow" walk, on the engine every channel drives): the answer
states the day the reply is due as the backend gives it (under the Saudi guaranteed standard,
the 10th working day, not the UTC date of the SLA moment), and what the standard promises."""

from __future__ import annotations

from datetime import datetime

from tasdeed.billing_client import BillingClient
from tasdeed.contract import ComplaintTicket
from tasdeed.flows.engine import FlowEngine, FlowState
from tasdeed.flows.screens import Screen
from tasdeed.flows.text_render import TextRenderer
from tasdeed.money import Money
from tasdeed.profile import load_profile
from tasdeed.text import Text

SA = load_profile("sa")
# Filed Tuesday 24 November 2026 in Riyadh: due Tuesday 8 December (10 working days); the
# standard counts it late from 00:00 on Wednesday 9 December in Riyadh, 21:00 UTC the day
# before, whose UTC date would say the 8th only by luck of the timezone.
UNDER_STANDARD = ComplaintTicket(
    ticket_number="12345678",
    category="billing",
    status="in_progress",
    sla_due_at=datetime(2026, 12, 8, 21, 0),
    created_at=datetime(2026, 11, 24, 9, 0),
    due_date="2026-12-08",
    standard_working_days=10,
    standard_compensation=Money(10000, "SAR"),
)


class Backend(BillingClient):
    def __init__(self, ticket: ComplaintTicket):
        super().__init__("http://127.0.0.1:9")
        self.ticket = ticket

    async def complaint_status(self, ticket_number: str) -> ComplaintTicket:
        assert ticket_number == self.ticket.ticket_number
        return self.ticket


async def follow(ticket: ComplaintTicket) -> Screen:
    flow = FlowEngine(SA, Backend(ticket), "ussd")
    state = FlowState()
    assert flow.begin(state, "follow", "c") is not None
    return await flow.handle(state, ticket.ticket_number, "c")


async def test_the_answer_states_the_standards_deadline_and_its_compensation() -> None:
    screen = await follow(UNDER_STANDARD)
    assert screen.name == "follow.result"
    assert Text("complaint.due", {"date": "2026-12-08"}) in screen.body
    assert Text("complaint.standard", {"max": 10, "amount": Money(10000, "SAR")}) in screen.body
    english = "\n".join(TextRenderer(SA, "en").body_lines(screen))
    assert english.splitlines()[1:] == [
        "Answer due 8/12/2026",
        "Guaranteed standard: an answer within 10 working days.",
        "If it is late, SAR100.00 is credited to you.",
    ]
    arabic = "\n".join(TextRenderer(SA, "ar").body_lines(screen))
    assert "المعيار المضمون" in arabic


async def test_a_complaint_under_no_standard_keeps_its_sla_date() -> None:
    plain = ComplaintTicket(
        ticket_number="87654321",
        category="outage",
        status="open",
        sla_due_at=datetime(2026, 11, 24, 15, 0),
        created_at=datetime(2026, 11, 24, 9, 0),
    )
    screen = await follow(plain)
    assert Text("complaint.due", {"date": "2026-11-24"}) in screen.body
    assert all(text.key != "complaint.standard" for text in screen.body)
