"""Live sessions as an operator may see them: channel, step, age and a masked code.

Each channel's session record (USSD's `ussd:s:<session id>`, a call's `ivr:c:<hash>`) holds
the walk's state (tasdeed.flows.state.FlowState), and the hop that opens a session puts the
record's key in the channel's live index (`StateStore.mark_live`). Reading the index costs
the operator view a round trip or two per channel; the hops pay nothing for it after their
first.

Each record is reduced to what an operator needs and nothing that identifies or pays for an
account: the e-payment code or account number cut to its last four digits (a balance walk
keeps the full code between hops), no phone number (records hold only its salted hash
anyway), and the session named by a short hash of its key, never the aggregator's session id
or a call SID.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tasdeed.codes import mask_code
from tasdeed.state_store import LiveRecord, StateStore

LIVE_CHANNELS = ("ussd", "ivr")
MAX_SHOWN = 50


@dataclass(frozen=True)
class LiveSession:
    channel: str
    session: str  # a short hash of the record's key: tells rows apart, names nobody
    step: str  # the walk's step (tasdeed/flows/walks.py), e.g. "pay.confirm"
    language: str
    started: float  # epoch seconds
    age_s: int
    inputs: int  # hops (USSD) or answered webhooks (calls) consumed so far
    code: str | None  # the code or account number in the walk, masked
    ended: bool  # the last page closed the session (its record stays a while for retries)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def masked_reference(data: dict[str, Any]) -> str | None:
    """The code or account number a walk holds, cut to its last four digits."""
    for name in ("code", "account"):
        value = data.get(name)
        if isinstance(value, str | int) and str(value):
            return mask_code(str(value))
    return None


def session_view(channel: str, record: LiveRecord, now: float) -> LiveSession:
    value = record.value
    state = _dict(value.get("state"))
    inputs = value.get("hops", value.get("step", 0))
    return LiveSession(
        channel=channel,
        session=hashlib.sha256(record.key.encode()).hexdigest()[:8],
        step=str(state.get("screen", "")),
        language=str(state.get("language", "")),
        started=record.started,
        age_s=max(0, int(now - record.started)),
        inputs=inputs if isinstance(inputs, int) else 0,
        code=masked_reference(_dict(state.get("data"))),
        ended=bool(_dict(value.get("reply")).get("end", False)),
    )


async def live_sessions(
    store: StateStore,
    channels: Sequence[str] = LIVE_CHANNELS,
    limit: int = MAX_SHOWN,
    clock: Callable[[], float] = time.time,
) -> list[LiveSession]:
    """The newest live sessions of every channel, newest first, at most `limit`."""
    now = clock()
    sessions = [
        session_view(channel, record, now)
        for channel in channels
        for record in await store.live_records(channel, limit)
    ]
    sessions.sort(key=lambda session: session.started, reverse=True)
    return sessions[:limit]
