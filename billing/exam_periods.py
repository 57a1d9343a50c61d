"""Public-school exam periods an operator loads into the ledger: no disconnection for
non-payment inside one, for the accounts of its region (tasdeed/rules/disconnection.py).

The profile may ship periods of its own (`[rules.protected_disconnection] exam_periods`, each
with its source); the ones loaded here add to them. An operator loads them
- over the API: `POST /v1/operator/exam-periods` with `{"periods": [{"start": "2027-01-03",
  "end": "2027-01-07", "region": "", "source": "…"}], "replace": false}` (the service token,
  like every call but /health), `GET /v1/operator/exam-periods` to list them; or
- from a file: EXAM_PERIODS_FILE (TOML with `[[exam_periods]]` tables, or CSV with the header
  `start,end,region,source`), read by `python -m billing serve` at start-up and by
  `python -m billing exam-periods [FILE]`.
Every period needs a source (where its dates were published): dates are never guessed.
Loading is idempotent: the same start, end and region again only updates the source.
`replace` first removes every loaded period (to correct a wrong load), in the same transaction.

With TASDEED_ENV=production the billing backend warns at start-up (a warning, not a refusal)
when the profile protects exam periods and none, shipped or loaded, ends today or later.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import CursorResult, delete, func, select

from billing.db import SessionFactory
from billing.ledger import Clock, Refusal, iso, utc_now
from billing.models import ExamPeriodRow
from billing.outbox import dialect_insert
from billing.rule_answers import calendar_date
from tasdeed.contract import RefusalReason
from tasdeed.profile import Profile
from tasdeed.rules.settings import ExamPeriod, rule_settings

MAX_PERIODS = 1000  # in one load
REGION_MAX, SOURCE_MAX = 100, 500  # the columns' lengths


def _bad(field: str, index: int | None = None, detail: str | None = None) -> Refusal:
    details: dict[str, Any] = {"field": field}
    if index is not None:
        details["index"] = index
    if detail:
        details["detail"] = detail
    return Refusal(RefusalReason.INVALID_REQUEST, 422, details)


def parse_exam_periods(items: Iterable[Any]) -> list[ExamPeriod]:
    """Periods from plain data (JSON or a file's rows); a Refusal (422) names the first bad
    one: dates not ISO or ending before they start, a missing source, a field too long."""
    periods = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad("periods", index)
        region = item.get("region") or ""
        source = item.get("source") or ""
        if not isinstance(region, str) or len(region.strip()) > REGION_MAX:
            raise _bad("region", index)
        if not isinstance(source, str) or not source.strip() or len(source.strip()) > SOURCE_MAX:
            raise _bad("source", index, "every period needs the source of its dates")
        try:
            period = ExamPeriod.model_validate(
                {
                    "start": item.get("start"),
                    "end": item.get("end"),
                    "region": region.strip(),
                    "source": source.strip(),
                }
            )
        except ValidationError as exc:
            raise _bad("start/end", index, exc.errors()[0]["msg"]) from exc
        periods.append(period)
        if len(periods) > MAX_PERIODS:
            raise _bad("periods", detail=f"at most {MAX_PERIODS} in one load")
    return periods


def read_exam_periods_file(path: Path) -> list[ExamPeriod]:
    """A TOML file (`[[exam_periods]]` tables) or a CSV file (header start,end,region,source).
    A Refusal names what is wrong; an unreadable file raises OSError."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return parse_exam_periods(csv.DictReader(fh))
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    items = data.get("exam_periods", [])
    if not isinstance(items, list):
        raise _bad("exam_periods")
    return parse_exam_periods(_toml_dates(item) for item in items)


def _toml_dates(item: Any) -> Any:
    """TOML's bare dates (`start = 2027-01-03`) as the ISO text quoted ones would be."""
    if not isinstance(item, dict):
        return item
    return {**item, **{key: str(item[key]) for key in ("start", "end") if key in item}}


def _view(row: ExamPeriodRow) -> dict[str, Any]:
    return {
        "start": row.start_date.isoformat(),
        "end": row.end_date.isoformat(),
        "region": row.region,
        "source": row.source,
        "loaded_at": iso(row.created_at),
    }


class ExamPeriods:
    def __init__(self, sessions: SessionFactory, profile: Profile, clock: Clock = utc_now):
        self.sessions = sessions
        self.profile = profile
        self.clock = clock
        protection = rule_settings(profile).protected_disconnection
        self.protected = protection is not None
        self.shipped: tuple[ExamPeriod, ...] = protection.exam_periods if protection else ()

    async def load(self, periods: Sequence[ExamPeriod], *, replace: bool = False) -> dict[str, Any]:
        now = self.clock()
        async with self.sessions() as s, s.begin():
            conn = await s.connection()
            removed = 0
            if replace:
                result = await conn.execute(delete(ExamPeriodRow))
                removed = int(cast(CursorResult[Any], result).rowcount)
            for period in periods:
                insert = dialect_insert(s)(ExamPeriodRow).values(
                    start_date=period.start,
                    end_date=period.end,
                    region=period.region,
                    source=period.source,
                    created_at=now,
                )
                await conn.execute(
                    insert.on_conflict_do_update(
                        index_elements=["start_date", "end_date", "region"],
                        set_={"source": insert.excluded.source},
                    )
                )
            total = await conn.scalar(select(func.count(ExamPeriodRow.id)))
        return {"loaded": len(periods), "removed": removed, "total": int(total or 0)}

    async def listed(self) -> list[dict[str, Any]]:
        async with self.sessions() as s, s.begin():
            rows = await s.scalars(
                select(ExamPeriodRow).order_by(
                    ExamPeriodRow.start_date, ExamPeriodRow.end_date, ExamPeriodRow.region
                )
            )
            return [_view(row) for row in rows]

    async def known_from(self, day: date) -> int:
        """Exam periods, shipped with the profile or loaded, that end on `day` or later."""
        async with self.sessions() as s, s.begin():
            loaded = await s.scalar(
                select(func.count(ExamPeriodRow.id)).where(ExamPeriodRow.end_date >= day)
            )
        return int(loaded or 0) + sum(1 for p in self.shipped if p.end >= day)

    async def startup_warnings(self) -> list[str]:
        """What production should hear at start-up: nothing for a profile without the
        exam-period protection, else a line when no period covers today or later."""
        if not self.protected:
            return []
        today = calendar_date(self.profile, self.clock())
        if await self.known_from(today):
            return []
        return [
            f"no public-school exam period from {today.isoformat()} on is loaded, so no "
            "disconnection is refused for exams: load this year's dates with "
            "POST /v1/operator/exam-periods or EXAM_PERIODS_FILE (each with its source)"
        ]
