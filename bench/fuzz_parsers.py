"""Fuzz the pure parsers with a million generated inputs and count what escapes.

Each input is a text, an Africa's Talking form, a Hubtel body or a JSON body, and goes through
every parser of that kind:
Africa's Talking's form (`ussd.africastalking.parse`), Hubtel's JSON (`ussd.hubtel.parse`),
JSON bodies (`tasdeed.safe_json.loads_limited`, the web chat's `read_web_chat`), the
normaliser (`normalise_input`, `digits_only`), `read_answer`, `find_account_ref`,
`parse_amount` and `spoken_digits`. A parser may refuse only with its documented error
(`MalformedRequest` for the USSD formats, `ValueError` for JSON); any other exception is
counted, and the first few are printed with the input that raised them.

Inputs come from a fast random generator (hypothesis is far too slow for a million): runs of
Arabic letters and words, diacritics, Arabic-Indic and Persian digits, ASCII, `*` and `#`,
invisible marks (bidi controls, zero-width, tatweel), Arabic number separators, characters
NFKC expands (ligatures, fullwidth and circled digits), lone surrogates and undecodable
bytes (surrogate-escaped), codes and amounts, and now and then strings thousands long.

    .venv/bin/python bench/fuzz_parsers.py --inputs 1000000 [--workers 2] [--seed 153]

Prints the count, the exceptions escaped (must be 0) and inputs/s; exits 1 if any escaped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from chat.routes import read_web_chat
from tasdeed.answers import read_answer
from tasdeed.identifiers import find_account_ref
from tasdeed.money import parse_amount
from tasdeed.normalise import digits_only, normalise_input
from tasdeed.profile import load_profile
from tasdeed.safe_json import loads_limited
from tasdeed.spoken import spoken_digits
from ussd import africastalking, hubtel

ARABIC_LETTERS = [chr(c) for c in range(0x0621, 0x064B)] + list("پچژگکیی")
DIACRITICS = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0654", "\u0655", "\u0670"]
ARABIC_DIGITS = list("٠١٢٣٤٥٦٧٨٩")
PERSIAN_DIGITS = list("۰۱۲۳۴۵۶۷۸۹")
ASCII = [chr(c) for c in range(0x20, 0x7F)]
INVISIBLE = list("\u200b\u200c\u200d\u200e\u200f\u061c\ufeff\u0640\u202a\u202b\u202c\u202d\u202e")
INVISIBLE += list("\u2066\u2067\u2068\u2069\u00ad\u2060")
SEPARATORS = list("٫٬،؛؟*#.,-_ \t\n\r\u00a0\u2028\u3000")
NFKC_EXPANDING = list("ﷺﷻ﷽ﷲﻻﻷ①⑳²³¼０１９ＡＺﬁ㍱ﹰﹱﹲ")
SURROGATES = [chr(c) for c in range(0xDC80, 0xDD00)] + ["\ud800", "\udbff", "\udfff"]
WORD_LINE = (
    "ادفع الفاتورة فاتوره كود رمز حساب حسابي رقم الحساب ايوه أيوة نعم اه لا لأ الغاء إلغاء "
    "موظف خدمة العملاء شكرا خلاص مع السلامة صفر واحد واحده اتنين اثنين ثلاثه تلاته اربعه "
    "خمسه سته ست سبعه ثمانيه تمانيه تسعه وستة yes no cancel agent bye six two seven oh "
    "account code EG KW SA 7esab kod"
)
WORDS = WORD_LINE.split()
NUMBERS = [
    "627898622241",
    "251441605789",
    "2435939698",
    "71839503164",
    "1,234.500",
    "150.75",
    "١٬٢٣٤٫٥",
    "0",
    "-5",
    "99",
    "999999999",
    "1e400",
    "٦٢٧٨ ٩٨٦٢ ٢٢٤١",
    "6278-9862-2241",
    "EG000123",
]
ATOM_POOLS: list[tuple[list[str], int]] = [
    (ARABIC_LETTERS, 30),
    (DIACRITICS, 6),
    (ARABIC_DIGITS, 10),
    (PERSIAN_DIGITS, 3),
    (ASCII, 20),
    (INVISIBLE, 6),
    (SEPARATORS, 10),
    (NFKC_EXPANDING, 3),
    (SURROGATES, 2),
    ([w + " " for w in WORDS], 10),
    (NUMBERS, 4),
]
ATOMS = [atom for pool, weight in ATOM_POOLS for atom in pool * weight]
CURRENCIES = ("EGP", "KWD", "SAR")
JSON_TOKENS = [*list('[]{}",:'), "NaN", "Infinity", "-Infinity", "1e400", "-5", "0", "2.5"]
JSON_TOKENS += ['"\\ud800"', '"\\u0000"', '"\\\\"', "true", "null", '"SessionId"', '"Sequence"']
JSON_TOKENS += ['"message"', '"sender"', " ", "\n", "\\", "\xff"]


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return ""
        if roll < 0.93:
            n = rng.randint(1, 24)
        elif roll < 0.99:
            n = rng.randint(25, 400)
        else:
            n = rng.randint(400, 6000)
        return "".join(rng.choices(ATOMS, k=n))

    def raw_bytes(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.5:
            return _encode(self.text())
        return rng.randbytes(rng.randint(0, 64))

    def scalar(self) -> Any:
        rng = self.rng
        kind = rng.randrange(10)
        if kind == 0:
            return None
        if kind == 1:
            return rng.choice([True, False])
        if kind == 2:
            return rng.choice([0, 1, -5, 2, 1000, 1001, 10**30, -(10**400), 2**63])
        if kind == 3:
            return rng.choice([float("inf"), float("-inf"), float("nan"), 2.0, 2.5, 1e300, -0.0])
        if kind in (4, 5):
            return str(rng.randint(0, 2000))
        return self.text()

    def json_value(self, depth: int = 0) -> Any:
        rng = self.rng
        roll = rng.random()
        if depth < 4 and roll < 0.1:
            return [self.json_value(depth + 1) for _ in range(rng.randint(0, 3))]
        if depth < 4 and roll < 0.2:
            return {self.text(): self.json_value(depth + 1) for _ in range(rng.randint(0, 3))}
        return self.scalar()

    def hubtel_body(self) -> Any:
        rng = self.rng
        if rng.random() < 0.05:
            return self.json_value()
        body: dict[str, Any] = {}
        fields = {
            "SessionId": lambda: self.text() if rng.random() < 0.5 else "s" + str(rng.random()),
            "Mobile": lambda: rng.choice(["233246912184", "+201001234567", self.scalar()]),
            "ServiceCode": lambda: rng.choice(["*121#", self.scalar()]),
            "Type": lambda: rng.choice(
                ["Initiation", "Response", "Release", "Timeout", "response ", self.scalar()]
            ),
            "Message": self.scalar,
            "Operator": self.scalar,
            "Sequence": self.scalar,
            "ClientState": self.scalar,
        }
        for key, make in fields.items():
            if rng.random() < 0.9:
                body[key] = make()
        return body

    def at_form(self) -> dict[str, str]:
        rng = self.rng
        form: dict[str, str] = {}
        if rng.random() < 0.9:
            form["sessionId"] = rng.choice(["ATUid_1", self.text()])
        if rng.random() < 0.9:
            form["phoneNumber"] = rng.choice(["+201001234567", self.text()])
        form["serviceCode"] = rng.choice(["*121#", self.text()])
        form["networkCode"] = rng.choice(["60201", self.text()])
        parts = [self.text() for _ in range(rng.randint(0, 6))]
        form["text"] = "*".join(parts)
        return form

    def json_text(self) -> str | bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            return "".join(rng.choices(JSON_TOKENS, k=rng.randint(0, 40)))
        if roll < 0.5:
            depth = rng.choice([7, 8, 9, 50, 5000])
            return "[" * depth + "]" * depth
        if roll < 0.6:
            return self.raw_bytes()
        value = {"sender": self.scalar(), "message": self.scalar()}
        if rng.random() < 0.5:
            value["message_id"] = self.scalar()
        try:
            return json.dumps(value, ensure_ascii=rng.random() < 0.5)
        except ValueError:
            return "{}"


Check = Callable[[Any], Any]
# Each generated input is one of these, and goes through every parser that reads that kind.
KINDS = [("text", 60), ("form", 15), ("hubtel", 15), ("json", 10)]


def parsers() -> list[tuple[str, str, Check, tuple[type[BaseException], ...]]]:
    """(name, which input, call, documented errors)."""
    profiles = [load_profile(p) for p in ("eg", "kw", "sa")]
    return [
        ("africastalking.parse", "form", africastalking.parse, (africastalking.MalformedRequest,)),
        ("hubtel.parse", "hubtel", hubtel.parse, (hubtel.MalformedRequest,)),
        ("loads_limited", "json", loads_limited, (ValueError,)),
        ("read_web_chat", "json", _web_chat, (ValueError,)),
        ("normalise_input", "text", normalise_input, ()),
        ("digits_only", "text", digits_only, ()),
        ("read_answer", "text", read_answer, ()),
        ("find_account_ref", "text", lambda s: [find_account_ref(s, p) for p in profiles], ()),
        ("parse_amount", "text", lambda s: [parse_amount(s, c) for c in CURRENCIES], ()),
        ("spoken_digits", "text", spoken_digits, ()),
    ]


def _encode(text: str) -> bytes:
    """Text as the bytes a client could send: U+DC80..U+DCFF become the raw bytes they stand
    for (undecodable), other lone surrogates their (invalid) UTF-8 forms."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _web_chat(raw: str | bytes) -> Any:
    return read_web_chat(_encode(raw) if isinstance(raw, str) else raw)


def run_chunk(args: tuple[int, int]) -> tuple[int, int, dict[str, int], list[str]]:
    """Generate `count` inputs from `seed`; returns (inputs, calls, escapes by parser, samples)."""
    seed, count = args
    gen = Generator(seed)
    checks = parsers()
    escapes: dict[str, int] = {}
    samples: list[str] = []
    calls = 0
    by_kind = {kind: [c for c in checks if c[1] == kind] for kind, _ in KINDS}
    makers: dict[str, Callable[[], Any]] = {
        "text": gen.text,
        "form": gen.at_form,
        "hubtel": gen.hubtel_body,
        "json": gen.json_text,
    }
    kinds = gen.rng.choices([k for k, _ in KINDS], [w for _, w in KINDS], k=count)
    for kind in kinds:
        value = makers[kind]()
        for name, _, call, allowed in by_kind[kind]:
            calls += 1
            try:
                call(value)
            except allowed:
                pass
            except Exception as exc:
                escapes[name] = escapes.get(name, 0) + 1
                if len(samples) < 5:
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    samples.append(
                        f"{name}: {type(exc).__name__}: {str(exc)[:120]} at "
                        f"{where.filename}:{where.lineno}; input {ascii(value)[:300]}"
                    )
    return count, calls, escapes, samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    parser.add_argument("--seed", type=int, default=153)
    parser.add_argument("--chunk", type=int, default=10_000)
    args = parser.parse_args()
    chunks = [
        (args.seed * 1_000_003 + i, min(args.chunk, args.inputs - start))
        for i, start in enumerate(range(0, args.inputs, args.chunk))
    ]
    print(
        f"fuzzing {len(parsers())} parsers with {args.inputs:,} generated inputs "
        f"({args.workers} workers, seed {args.seed}) ...",
        flush=True,
    )
    started = time.perf_counter()
    total = calls = 0
    escapes: dict[str, int] = {}
    samples: list[str] = []
    with multiprocessing.Pool(args.workers) as pool:
        for count, chunk_calls, chunk_escapes, chunk_samples in pool.imap_unordered(
            run_chunk, chunks
        ):
            total += count
            calls += chunk_calls
            for name, n in chunk_escapes.items():
                escapes[name] = escapes.get(name, 0) + n
            samples += chunk_samples[: max(0, 10 - len(samples))]
    elapsed = time.perf_counter() - started
    escaped = sum(escapes.values())
    print(f"inputs:            {total:,}")
    print(f"parser calls:      {calls:,}")
    print(f"exceptions escaped: {escaped}")
    for name, n in sorted(escapes.items()):
        print(f"  {name}: {n}")
    for sample in samples:
        print(f"  e.g. {sample}")
    print(f"elapsed:           {elapsed:.1f} s")
    print(f"inputs/s:          {total / elapsed:,.0f}")
    print(f"parser calls/s:    {calls / elapsed:,.0f}")
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
