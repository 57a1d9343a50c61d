"""Hypothesis over every pure parser of outside input: nothing escapes but the documented
error, and what comes out has the shape callers rely on. A few hundred examples each here;
`bench/fuzz_parsers.py --inputs 1000000` runs a million with a faster generator."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chat.routes import WebChatRequest, read_web_chat
from tasdeed.answers import Answer, read_answer
from tasdeed.codes import CodeProblem, damm_valid
from tasdeed.identifiers import AccountRef, find_account_ref
from tasdeed.money import Money, parse_amount
from tasdeed.normalise import MAX_INPUT_CHARS, digits_only, normalise_input
from tasdeed.profile import load_profile
from tasdeed.safe_json import loads_limited, nesting_depth
from tasdeed.spoken import spoken_digits
from ussd import africastalking, hubtel
from ussd.events import UssdRequest

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILES = [load_profile(p) for p in ("eg", "kw", "sa")]
ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u061c\ufeff\u0640\u202a\u202b\u202c\u202d\u202e"
INVISIBLE += "\u2066\u2067\u2068\u2069"
SPECIAL = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬،؟*#.,- \t\n\u00a0\u2028" + INVISIBLE + "ﷺ﷽ﻻ①²０９ﬁ\u0654\u0670ًٌٍَُِّْ"
WORD_LINE = (
    "ادفع الفاتورة كود رمز حساب حسابي ايوه أيوة نعم لا الغاء موظف شكرا خلاص صفر واحد اتنين "
    "ثلاثه سته وستة تسعه yes no cancel agent six oh account code EG KW SA 627898622241 "
    "2435939698 71839503164 ٦٢٧٨٩٨٦٢٢٢٤١ 1,234.500 150.75 ١٬٢٣٤٫٥ -5 0 1e400"
)
WORDS = WORD_LINE.split()

# Any code point, lone surrogates included (what "surrogateescape" makes of bad bytes).
any_char = st.characters(codec=None, exclude_categories=())
arabic = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
hostile_char = st.one_of(
    st.sampled_from(SPECIAL), arabic, any_char, st.sampled_from(["\udc80", "\udcff", "\ud800"])
)
hostile_text = st.one_of(
    st.text(hostile_char, max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(hostile_char, max_size=4)), max_size=12).map(
        "".join
    ),
    st.text(hostile_char, min_size=500, max_size=3000),
)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -5, 1001, 10**30, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    st.integers(min_value=0, max_value=2000).map(str),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)
    ),
    max_leaves=8,
)


# ---- the core's text parsers -----------------------------------------------------------


@FUZZ
@given(hostile_text)
@example("\u200f٦٢٧٨\u200b٩٨٦٢\u00ad٢٢٤١")
@example("ﷺ" * 600)
def test_normaliser_never_raises_and_cleans(raw: str) -> None:
    out = normalise_input(raw)
    assert len(out.text) <= MAX_INPUT_CHARS
    assert out.text == out.text.strip() and "  " not in out.text
    assert not set(out.text) & set(INVISIBLE)
    digits = digits_only(raw)
    assert digits is None or ASCII_DIGITS.fullmatch(digits)


@FUZZ
@given(hostile_text)
@example("ايوه؟")
def test_read_answer_is_an_answer_or_none(raw: str) -> None:
    answer = read_answer(raw)
    assert answer is None or isinstance(answer, Answer)
    if answer is Answer.YES:
        assert "?" not in raw and "؟" not in raw


@FUZZ
@given(hostile_text)
@example("رقم حسابي EG000123")
@example("الكود ٦٢٧٨ ٩٨٦٢ ٢٢٤١")
def test_find_account_ref_is_a_ref_or_a_reason(raw: str) -> None:
    for profile in PROFILES:
        found = find_account_ref(raw, profile)
        if isinstance(found, AccountRef):
            if found.kind == "code":
                assert ASCII_DIGITS.fullmatch(found.value)
                assert len(found.value) == profile.payment_code.length
                assert damm_valid(found.value)
            else:
                assert found.value.startswith(profile.country)
                assert ASCII_DIGITS.fullmatch(found.value[len(profile.country) :])
        else:
            assert isinstance(found, CodeProblem)


@FUZZ
@given(hostile_text, st.sampled_from(["EGP", "KWD", "SAR"]))
@example("1e400", "EGP")
@example("١٬٢٣٤٫٥٠٠", "KWD")
@example("9" * 5000, "SAR")
def test_parse_amount_is_positive_money_or_none(raw: str, currency: str) -> None:
    money = parse_amount(raw, currency)
    if money is not None:
        assert isinstance(money, Money) and money.currency == currency and money.minor > 0


@FUZZ
@given(hostile_text)
@example("ستة اتنين وسبعة")
def test_spoken_digits_are_digits_or_none(raw: str) -> None:
    digits = spoken_digits(raw)
    assert digits is None or ASCII_DIGITS.fullmatch(digits)


# ---- the aggregators' formats -------------------------------------------------------------


def _parsed_or_refused(parse: Any, value: Any, error: type[Exception]) -> UssdRequest | None:
    try:
        result = parse(value)
    except error:
        return None
    assert isinstance(result, UssdRequest)
    return result


at_form = st.dictionaries(
    st.sampled_from(["sessionId", "phoneNumber", "serviceCode", "networkCode", "text"]),
    st.one_of(hostile_text, st.sampled_from(["ATUid_1", "+201001234567", "*121#"])),
) | st.fixed_dictionaries(
    {"sessionId": st.just("ATUid_1"), "phoneNumber": st.just("+201001234567")},
    optional={"text": st.lists(hostile_text, max_size=6).map("*".join)},
)


@FUZZ
@given(at_form)
@example({"sessionId": "s", "phoneNumber": "+20", "text": "\udcff*\ufeff#*"})
def test_africastalking_parse_refuses_only_with_malformed_request(form: dict[str, str]) -> None:
    event = _parsed_or_refused(africastalking.parse, form, africastalking.MalformedRequest)
    if event is not None:
        assert event.session_id and event.phone
        text = form.get("text", "")
        assert event.inputs is not None
        assert len(event.inputs) == (text.count("*") + 1 if text else 0)


hubtel_body = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {
            "SessionId": st.one_of(st.just("s1"), json_scalar),
            "Mobile": st.one_of(st.just("233246912184"), json_scalar),
            "Type": st.one_of(st.sampled_from(["Initiation", "Response", "Release"]), json_scalar),
        },
        optional={
            "Message": json_value,
            "Sequence": json_value,
            "ServiceCode": json_value,
            "Operator": json_value,
        },
    ),
)
HUBTEL = {"SessionId": "s1", "Mobile": "233246912184", "Type": "Response", "Message": "1"}


@FUZZ
@given(hubtel_body)
@example({**HUBTEL, "Sequence": math.inf})
@example({**HUBTEL, "Sequence": -math.inf})
@example({**HUBTEL, "Sequence": math.nan})
@example({**HUBTEL, "Sequence": 1e400})
@example({**HUBTEL, "Sequence": -5})
@example({**HUBTEL, "Sequence": 10**400})
@example({**HUBTEL, "Mobile": 10**5000})
@example({**HUBTEL, "Message": "\ud800"})
def test_hubtel_parse_refuses_only_with_malformed_request(body: Any) -> None:
    event = _parsed_or_refused(hubtel.parse, body, hubtel.MalformedRequest)
    if event is not None:
        assert event.sequence is None or 1 <= event.sequence <= hubtel.MAX_SEQUENCE
        for text in (event.session_id, event.phone, event.service_code, event.network):
            text.encode("utf-8")


# ---- JSON bodies ------------------------------------------------------------------------------

json_tokens = st.lists(
    st.sampled_from(
        [
            *list('[]{}",: \\'),
            "NaN",
            "Infinity",
            "1e400",
            "-5",
            "2.5",
            "true",
            "null",
            '"\\ud800"',
            '"\\ud83d\\ude00"',
            '"a"',
            '"message"',
            '"sender"',
        ]
    ),
    max_size=40,
).map("".join)
json_bodies = st.one_of(
    json_tokens,
    st.binary(max_size=80),
    st.integers(min_value=0, max_value=3000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=0, max_value=3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    json_value.map(lambda v: json.dumps(v, allow_nan=True)),
)


@FUZZ
@given(json_bodies, st.integers(min_value=1, max_value=40))
@example("[" * 100_000, 8)
@example('"' + '\\"' * 20_000, 8)
@example(b"\xff\xfe{}", 8)
def test_loads_limited_refuses_only_with_value_error(raw: str | bytes, depth: int) -> None:
    try:
        value = loads_limited(raw, max_depth=depth)
    except ValueError:
        return
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)  # finite, encodable
    text.encode("utf-8")
    assert nesting_depth(text) <= depth


@FUZZ
@given(json_bodies)
@example(b'{"sender": "a", "message": 5}')
@example(b'{"sender": ["a"], "message": "hi"}')
@example(b'{"sender": "a", "message": "  "}')
def test_read_web_chat_refuses_only_with_value_error(raw: str | bytes) -> None:
    body = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    try:
        chat = read_web_chat(body)
    except ValueError as exc:
        assert len(str(exc)) < 120
        return
    assert isinstance(chat, WebChatRequest)
    assert chat.sender.strip() and chat.message.strip() and isinstance(chat.message_id, str)


@pytest.mark.parametrize(
    ("raw", "depth"),
    [('{"a": [1, {"b": "]]]]"}]}', 3), ("[]", 1), ("1", 0), ('["[[[["]', 1), ("[[]]", 2)],
)
def test_nesting_depth_skips_strings(raw: str, depth: int) -> None:
    assert nesting_depth(raw) == depth
