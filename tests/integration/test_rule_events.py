"""Service events reported to the backend earn their compensation automatically and once."""

from __future__ import annotations

from datetime import datetime

import pytest

from billing.ledger import Refusal
from tasdeed.contract import RefusalReason
from tests.conftest import WorldFactory

# Riyadh is UTC+3: 07:00 UTC is 10:00 local (allowed hour), 09:30 UTC is 12:30 local.
MORNING = datetime(2026, 11, 10, 7, 0)
AFTERNOON = datetime(2026, 11, 10, 9, 30)


async def test_prohibited_disconnection_credits_500_riyals_once(make_world: WorldFactory) -> None:
    world = await make_world("sa")
    special_needs = world.account(3)
    result = await world.ledger.record_event(
        account_number=special_needs.account_number,
        event_id="DISC-1",
        kind="disconnection",
        started_at=MORNING,
        ended_at=None,
        details={"for_non_payment": True},
    )
    assert result["compensation"] is True and result["credit_minor"] == 50000
    with pytest.raises(Refusal) as again:
        await world.ledger.record_event(
            account_number=special_needs.account_number,
            event_id="DISC-1",
            kind="disconnection",
            started_at=MORNING,
            ended_at=None,
            details={"for_non_payment": True},
        )
    assert again.value.reason is RefusalReason.INVALID_REQUEST
    answer = await world.ledger.rule_answer("compensation", special_needs.code)
    assert answer["outcome"] is True
    assert (await world.ledger.balance(code=special_needs.code))["credit_minor"] == 50000


@pytest.mark.parametrize(("moment", "credited"), [(MORNING, 0), (AFTERNOON, 50000)])
async def test_disconnection_after_noon_is_prohibited(
    make_world: WorldFactory, moment: datetime, credited: int
) -> None:
    world = await make_world("sa")
    ordinary = world.account(1)
    result = await world.ledger.record_event(
        account_number=ordinary.account_number,
        event_id="DISC-2",
        kind="disconnection",
        started_at=moment,
        ended_at=None,
        details={"for_non_payment": True},
    )
    assert result["credit_minor"] == credited


async def test_unknown_topic_for_a_profile_is_refused(make_world: WorldFactory) -> None:
    world = await make_world("eg")
    with pytest.raises(Refusal) as refused:
        await world.ledger.rule_answer("compensation", world.account(0).code)
    assert refused.value.reason is RefusalReason.TOPIC_NOT_OFFERED
