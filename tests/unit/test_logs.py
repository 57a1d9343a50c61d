"""Tests for tasdeed.logs: no full e-payment code, card data or phone number in a log line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from tasdeed.logs import configure_logging, get_logger, mask_digits_in, mask_sensitive

CODE = "627898622241"
PHONE = "+201001234567"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"lookup {CODE} failed", "lookup ********2241 failed"),
        ("1234567", "***4567"),
        ("12345678901234567890", "****************7890"),
        (f"from {PHONE}", "from +********4567"),
        ("code=627898622241;", "code=********2241;"),
        ("a627898622241b", "a********2241b"),
        ("1*2*627898622241", "1*2*********2241"),
        ("two 1234567 and 7654321", "two ***4567 and ***4321"),
    ],
)
def test_mask_digits_in_masks_long_runs(text: str, masked: str) -> None:
    assert mask_digits_in(text) == masked


@pytest.mark.parametrize(
    "text",
    ["", "no digits", "150", "123456", "amount 150.75", "1234 5678", "2026-11-24", "*121#"],
)
def test_mask_digits_in_leaves_short_numbers(text: str) -> None:
    assert mask_digits_in(text) == text


def test_mask_digits_in_arabic_indic_run() -> None:
    # People in Egypt type codes in Arabic-Indic digits; such a code echoed into an error text
    # must not reach the log whole.
    masked = mask_digits_in("كود ٦٢٧٨٩٨٦٢٢٢٤١ غير موجود")
    assert "٦٢٧٨٩٨٦٢٢٢٤١" not in masked
    assert masked.endswith("٢٢٤١ غير موجود")


def _process(**event: Any) -> dict[str, Any]:
    return dict(mask_sensitive(None, "info", dict(event)))


def test_mask_sensitive_redacts_secret_keys() -> None:
    out = _process(
        event="hop",
        text="1*2*627898622241*1234",
        ussd_text="1*2*627898622241",
        pin="1234",
        card="4111111111111111",
        card_number="4111111111111111",
        cvv="123",
        body="Body=627898622241",
    )
    for key in ("text", "ussd_text", "pin", "card", "card_number", "cvv", "body"):
        assert out[key] == "<redacted>", key
    assert out["event"] == "hop"


def test_mask_sensitive_masks_codes_and_phones_to_last_four() -> None:
    out = _process(
        event="quote",
        code=CODE,
        payment_code="٦٢٧٨٩٨٦٢٢٢٤١",
        phone=PHONE,
        phone_number="0100123",
        msisdn="201001234567",
        caller="+96550012345",
        to="whatsapp:+966501234567",
    )
    assert out["code"] == "********2241"
    assert out["payment_code"] == "********٢٢٤١"
    assert out["phone"] == "*********4567"
    assert out["phone_number"] == "***0123"
    assert out["msisdn"] == "********4567"
    assert out["caller"] == "********2345"
    assert out["to"] == "******************4567"


def test_mask_sensitive_short_values_and_other_keys() -> None:
    out = _process(event=f"paid {CODE}", code="123", amount_minor=15075, area="شبرا")
    assert out["code"] == "123"
    assert out["event"] == "paid ********2241"
    assert out["amount_minor"] == 15075
    assert out["area"] == "شبرا"


def test_mask_sensitive_masks_a_code_given_as_a_number() -> None:
    # A code or phone that arrives as an int (a parsed JSON field, a DB column) is as secret
    # as the same digits in a string.
    out = _process(event="lookup", code=627898622241, phone=201001234567, account=627898622241)
    for key in ("code", "phone", "account"):
        assert "627898622241" not in str(out[key]) and "201001234567" not in str(out[key]), key


@pytest.fixture
def restore_structlog() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_json_log_line_never_carries_a_full_code_or_phone(
    restore_structlog: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json=True)
    log = get_logger("tasdeed.test")
    log.info(f"billing lookup failed for {CODE} from {PHONE}", phone=PHONE, step="lookup")
    log.debug(f"debug is filtered out {CODE}")
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert CODE not in err
    assert PHONE not in err and "201001234567" not in err
    assert "2241" in record["event"] and "4567" in record["event"]
    assert record["event"] == "billing lookup failed for ********2241 from +********4567"
    assert record["phone"] == "*********4567"
    assert record["step"] == "lookup"
    assert record["level"] == "info"


def test_exception_text_is_masked(
    restore_structlog: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json=True)
    log = get_logger("tasdeed.test")
    try:
        raise ValueError(f"no account for code {CODE}")
    except ValueError:
        log.exception("lookup crashed")
    err = capsys.readouterr().err
    assert CODE not in err
    assert "********2241" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code 6278 9862 2241 typed", "code **** **** 2241 typed"),
        ("phone +20 100-123-4567", "phone +** ***-***-4567"),
        ("due 2026-11-24", "due 2026-11-24"),
    ],
)
def test_grouped_digits_are_masked_but_dates_stay(text: str, expected: str) -> None:
    assert mask_digits_in(text) == expected
