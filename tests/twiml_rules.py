"""What Twilio accepts in a TwiML voice document, as far as Tasdeed uses it: verbs, their
attributes and values, and nesting. Every TwiML the IVR answers in tests goes through
`check_twiml`, which raises AssertionError naming the first thing Twilio would reject."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

URL = re.compile(r"^https?://[^\s]+$")
INT = re.compile(r"^[0-9]+$")
POLLY_LANGUAGES = {
    "Polly.Zeina": "arb",
    "Polly.Hala-Neural": "ar-AE",
    "Polly.Zayd-Neural": "ar-AE",
    "Polly.Joanna": "en-US",
}
SPEECH_LANGUAGES = {"ar-EG", "ar-KW", "ar-SA", "ar-AE", "ar-JO", "en-US", "en-GB"}

VERBS: dict[str, dict[str, object]] = {
    "Response": {
        "attrs": {},
        "children": {"Say", "Play", "Gather", "Redirect", "Dial", "Hangup", "Pause"},
    },
    "Gather": {
        "attrs": {
            "action": URL,
            "method": {"GET", "POST"},
            "input": {"dtmf", "speech", "dtmf speech", "speech dtmf"},
            "language": SPEECH_LANGUAGES,
            "timeout": INT,
            "speechTimeout": re.compile(r"^(auto|[0-9]+)$"),
            "numDigits": INT,
            "finishOnKey": re.compile(r"^[0-9#*]?$"),
            "actionOnEmptyResult": {"true", "false"},
            "hints": re.compile(r".*"),
            "bargeIn": {"true", "false"},
        },
        "children": {"Say", "Play", "Pause"},
    },
    "Say": {
        "attrs": {
            "voice": set(POLLY_LANGUAGES),
            "language": set(POLLY_LANGUAGES.values()),
            "loop": INT,
        },
        "children": set(),
        "text": True,
    },
    "Redirect": {"attrs": {"method": {"GET", "POST"}}, "children": set(), "text": URL},
    "Dial": {
        "attrs": {
            "action": URL,
            "method": {"GET", "POST"},
            "timeout": INT,
            "callerId": re.compile(r"^\+?[0-9]+$"),
        },
        "children": {"Number"},
        "text": re.compile(r"^\+?[0-9]+$"),
    },
    "Number": {"attrs": {}, "children": set(), "text": re.compile(r"^\+?[0-9]+$")},
    "Hangup": {"attrs": {}, "children": set()},
    "Pause": {"attrs": {"length": INT}, "children": set()},
    "Play": {
        "attrs": {"loop": INT, "digits": re.compile(r"^[0-9wW#*]+$")},
        "children": set(),
        "text": URL,
    },
}
TERMINAL = {"Hangup", "Dial", "Redirect"}


def _check_value(verb: str, name: str, value: str, rule: object) -> None:
    if isinstance(rule, re.Pattern):
        assert rule.match(value), f"<{verb} {name}={value!r}> is not accepted"
    else:
        assert value in rule, f"<{verb} {name}={value!r}> is not one of {sorted(rule)}"  # type: ignore[operator]


def _check(element: ET.Element) -> None:
    verb = element.tag
    assert verb in VERBS, f"<{verb}> is not a TwiML voice verb"
    spec = VERBS[verb]
    attrs: dict[str, object] = spec["attrs"]  # type: ignore[assignment]
    for name, value in element.attrib.items():
        assert name in attrs, f"<{verb}> has no attribute {name!r}"
        _check_value(verb, name, value, attrs[name])
    if verb == "Say" and "voice" in element.attrib and "language" in element.attrib:
        expected = POLLY_LANGUAGES[element.attrib["voice"]]
        assert element.attrib["language"] == expected, f"{element.attrib} speaks {expected}"
    children: set[str] = spec["children"]  # type: ignore[assignment]
    for child in element:
        assert child.tag in children, f"<{child.tag}> cannot be inside <{verb}>"
        _check(child)
    text = (element.text or "").strip()
    rule = spec.get("text")
    if rule is True:
        assert text, f"<{verb}> needs text"
    elif isinstance(rule, re.Pattern):
        if verb == "Dial" and len(element):
            pass
        else:
            assert rule.match(text), f"<{verb}> text {text!r} is not accepted"
    elif rule is None and verb not in ("Response", "Gather", "Dial"):
        assert not text, f"<{verb}> takes no text"


def check_twiml(document: str) -> ET.Element:
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>'), document[:60]
    root = ET.fromstring(document)
    assert root.tag == "Response", "the root must be <Response>"
    _check(root)
    verbs = [child.tag for child in root]
    for index, verb in enumerate(verbs):
        if verb in TERMINAL:
            assert index == len(verbs) - 1, f"nothing runs after <{verb}>: {verbs}"
    return root
