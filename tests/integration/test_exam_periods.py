"""Public-school exam periods an operator loads (billing/exam_periods.py), on real SQLite and
PostgreSQL ledgers: over the operator API behind the service token, or from a TOML/CSV file;
a disconnection for non-payment inside one is refused for the accounts of its region (and a
cut made anyway is compensated); production warns at start-up when none is loaded."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from billing import service_auth
from billing.app import create_app
from billing.exam_periods import ExamPeriods, read_exam_periods_file
from billing.ledger import Refusal
from tasdeed.contract import RefusalReason
from tasdeed.production import warn_in_production
from tasdeed.rules.settings import ExamPeriod
from tasdeed.settings import Settings
from tests.conftest import LedgerWorld, WorldFactory
from tests.processes import free_port

TOKEN = "operator-" + "t" * 40
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAMMAM, JEDDAH, RIYADH = 0, 6, 10  # demo accounts' areas (billing/demo_data.py, seed 153)
# Riyadh's exams, Sunday 6 to Thursday 10 December 2026 (test dates, not real ones).
RIYADH_EXAMS = {"start": "2026-12-06", "end": "2026-12-10", "region": "الرياض", "source": "t"}
DURING = "2026-12-07T06:00:00Z"  # 09:00 in Riyadh: before noon, not Ramadan
AFTER = "2026-12-13T06:00:00Z"


@pytest.fixture
async def operator_api(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[LedgerWorld, str]]:
    world = await make_world("sa")
    monkeypatch.setattr(
        service_auth, "from_settings", lambda: service_auth.bearer_token_required(TOKEN)
    )
    server = TestServer(create_app(world.ledger), host="127.0.0.1")
    await server.start_server()
    yield world, str(server.make_url(""))
    await server.close()


async def call(
    url: str, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] = AUTH
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        method = http.get(url + path, headers=headers) if body is None else None
        if method is None:
            method = http.post(url + path, json=body, headers=headers)
        async with method as response:
            return response.status, await response.json()


async def test_an_operator_loads_exam_periods_and_a_cut_in_one_is_refused_in_its_region(
    operator_api: tuple[LedgerWorld, str],
) -> None:
    world, url = operator_api
    riyadh, jeddah = world.account(RIYADH), world.account(JEDDAH)
    assert riyadh.area.startswith("الرياض") and jeddah.area.startswith("جدة")

    def ask(index: int, at: str) -> dict[str, Any]:
        return {"account_number": world.account(index).account_number, "at": at}

    # Nothing loaded: allowed (before noon, not Ramadan, no special needs).
    assert (await call(url, "/v1/operator/disconnections", ask(RIYADH, DURING)))[0] == 200
    # Operator endpoints need the service token.
    status, _ = await call(url, "/v1/operator/exam-periods", {"periods": [RIYADH_EXAMS]}, {})
    assert status == 401
    status, loaded = await call(url, "/v1/operator/exam-periods", {"periods": [RIYADH_EXAMS]})
    assert status == 200 and loaded == {"loaded": 1, "removed": 0, "total": 1}
    # Loading the same period again changes nothing.
    again = await call(url, "/v1/operator/exam-periods", {"periods": [RIYADH_EXAMS]})
    assert again[1]["total"] == 1
    status, listed = await call(url, "/v1/operator/exam-periods")
    assert status == 200
    [period] = listed["exam_periods"]
    assert {k: period[k] for k in RIYADH_EXAMS} == RIYADH_EXAMS

    status, refused = await call(url, "/v1/operator/disconnections", ask(RIYADH, DURING))
    assert status == 409 and refused["error"] == "disconnection_prohibited"
    assert refused["reasons"] == [
        {"key": "rules.disconnection.exam_period", "params": {"date": "2026-12-10"}}
    ]
    # Another region's accounts are not protected by it; after the exams Riyadh's are not.
    assert (await call(url, "/v1/operator/disconnections", ask(JEDDAH, DURING)))[0] == 200
    assert (await call(url, "/v1/operator/disconnections", ask(DAMMAM, DURING)))[0] == 200
    assert (await call(url, "/v1/operator/disconnections", ask(RIYADH, AFTER)))[0] == 200
    # The customer's rules answer agrees on the day.
    world.clock.current = datetime(2026, 12, 7, 6, 0)
    answer = await world.ledger.rule_answer("disconnection", riyadh.code)
    assert answer["outcome"] is False
    # A cut made anyway in the exams is prohibited: 500 SAR, automatically.
    before = (await world.ledger.balance(code=riyadh.code))["credit_minor"]
    recorded = await world.ledger.record_event(
        account_number=riyadh.account_number,
        event_id="DISC-EXAMS",
        kind="disconnection",
        started_at=datetime(2026, 12, 7, 6, 0),
        ended_at=None,
        details={"for_non_payment": True},
    )
    assert recorded["compensation"] is True and recorded["credit_minor"] == before + 50000
    # `replace` starts again from the periods given (here: none).
    status, replaced = await call(
        url, "/v1/operator/exam-periods", {"periods": [], "replace": True}
    )
    assert status == 200 and replaced == {"loaded": 0, "removed": 1, "total": 0}
    assert (await call(url, "/v1/operator/disconnections", ask(RIYADH, DURING)))[0] == 200


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({**RIYADH_EXAMS, "source": ""}, "source"),  # dates without a source are refused
        ({**RIYADH_EXAMS, "end": "2026-12-05"}, "start/end"),  # ends before it starts
        ({**RIYADH_EXAMS, "start": "6/12/2026"}, "start/end"),
        ({**RIYADH_EXAMS, "region": "x" * 101}, "region"),
        ("2026-12-06", "periods"),
    ],
)
async def test_a_bad_period_is_refused_and_nothing_is_loaded(
    operator_api: tuple[LedgerWorld, str], period: Any, field: str
) -> None:
    _world, url = operator_api
    good = {**RIYADH_EXAMS, "region": ""}
    status, body = await call(url, "/v1/operator/exam-periods", {"periods": [good, period]})
    assert status == 422 and body["field"] == field and body["index"] == 1
    assert (await call(url, "/v1/operator/exam-periods"))[1] == {"exam_periods": []}


async def test_periods_load_from_a_toml_or_csv_file(
    make_world: WorldFactory, tmp_path: Path
) -> None:
    world = await make_world("sa")
    toml = tmp_path / "exams.toml"
    toml.write_text(
        "[[exam_periods]]\n"
        'start = 2026-12-06\nend = "2026-12-10"\nregion = "الرياض"\nsource = "t"\n',
        encoding="utf-8",
    )
    csv = tmp_path / "exams.csv"
    csv.write_text(
        "start,end,region,source\n2027-01-03,2027-01-07,,https://example.org/calendar\n",
        encoding="utf-8",
    )
    from_toml, from_csv = read_exam_periods_file(toml), read_exam_periods_file(csv)
    assert from_toml == [
        ExamPeriod(start=date(2026, 12, 6), end=date(2026, 12, 10), region="الرياض", source="t")
    ]
    assert from_csv[0].region == "" and from_csv[0].end == date(2027, 1, 7)
    exams = ExamPeriods(world.sessions, world.profile, world.clock)
    await exams.load(from_toml)
    assert (await exams.load(from_csv))["total"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("start,end,region,source\n2027-01-03,2027-01-07,,\n", encoding="utf-8")
    with pytest.raises(Refusal) as refused:
        read_exam_periods_file(bad)
    assert refused.value.reason is RefusalReason.INVALID_REQUEST
    assert refused.value.details["field"] == "source"


async def test_startup_warns_when_no_exam_period_covers_today_or_later(
    make_world: WorldFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    world = await make_world("sa")  # the shipped period (January 2026) is over by now
    exams = ExamPeriods(world.sessions, world.profile, world.clock)
    [warning] = await exams.startup_warnings()
    assert "no public-school exam period from 2026-11-24 on is loaded" in warning
    production = Settings(tasdeed_env="production")
    warn_in_production(Settings(tasdeed_env="development"), "billing", [warning])
    assert capsys.readouterr().err == ""
    warn_in_production(production, "billing", [warning])
    assert capsys.readouterr().err == (f"billing: warning with TASDEED_ENV=production: {warning}\n")
    await exams.load([ExamPeriod(start=date(2027, 1, 3), end=date(2027, 1, 7), source="t")])
    assert await exams.startup_warnings() == []
    egypt = await make_world("eg")  # no exam-period protection to warn about
    assert await ExamPeriods(egypt.sessions, egypt.profile).startup_warnings() == []


@pytest.mark.slow
async def test_billing_serve_in_production_warns_and_still_starts(
    pg_world: WorldFactory, tmp_path: Path
) -> None:
    """`python -m billing serve` with TASDEED_ENV=production: a warning line, not a refusal;
    with EXAM_PERIODS_FILE naming a period to come, no warning."""
    world = await pg_world("sa")

    async def serve(**env: str) -> str:
        port = free_port()
        log = tmp_path / f"serve-{port}.err"
        with log.open("wb") as err:
            process = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "billing", "serve"],
                env={
                    **os.environ,
                    "TASDEED_ENV": "production",
                    "TASDEED_PROFILE": "sa",
                    "DATABASE_URL": world.database.url,
                    "SERVICE_TOKEN": TOKEN,
                    "BILLING_PORT": str(port),
                    **env,
                },
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(300):
                    assert process.poll() is None, log.read_text(encoding="utf-8")
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/health") as response:
                            if response.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("billing serve did not start")
        finally:
            process.kill()
            process.wait(timeout=10)
        return log.read_text(encoding="utf-8")

    warned = await serve()
    assert "billing: warning with TASDEED_ENV=production: no public-school exam period" in warned
    exams = tmp_path / "exams.csv"
    exams.write_text("start,end,region,source\n2099-01-04,2099-01-08,,t\n", encoding="utf-8")
    assert "warning" not in await serve(EXAM_PERIODS_FILE=str(exams))
