"""Every TwiML document the IVR can produce, for every screen of every flow in every profile
and language (worst-case values), is accepted by Twilio's rules; amounts are spoken in words
and never as figures."""

from __future__ import annotations

import itertools
import re

import pytest

from ivr.calls import IvrService
from ivr.voice import TwimlBuilder
from tasdeed.billing_client import BillingClient
from tasdeed.flows.engine import SCREEN_NAMES
from tasdeed.profile import available_profiles, load_profile
from tasdeed.state_store import MemoryStore
from tasdeed.text import Text
from tests.flow_states import worst_state
from tests.twiml_rules import check_twiml

CASES = list(itertools.product(available_profiles(), ("ar", "en"), SCREEN_NAMES))
PUBLIC = "https://ivr.example"


def service(profile_id: str) -> IvrService:
    profile = load_profile(profile_id)
    return IvrService(
        profile, BillingClient("http://127.0.0.1:9"), MemoryStore(), TwimlBuilder(profile, PUBLIC)
    )


@pytest.mark.parametrize(("profile_id", "language", "screen_name"), CASES)
def test_every_screen_becomes_valid_twiml(profile_id: str, language: str, screen_name: str) -> None:
    ivr = service(profile_id)
    state = worst_state(screen_name, language, profile_id)
    screen = ivr.engine.render(state)
    for extra in ((), (Text("ivr.no_input"),)):
        root = check_twiml(ivr._screen_reply(7, state, screen, *extra))
        spoken = " ".join(say.text or "" for say in root.iter("Say"))
        assert spoken.strip()
        # Amounts in words: no run of digits long enough to be a figure is ever spoken,
        # except identifiers read one digit at a time.
        # (Years are fine: "2026" is said as a year.)
        assert not re.search(r"(?<![0-9])(?!(?:19|20)[0-9]{2}(?![0-9]))[0-9]{3,}", spoken), spoken
        if screen.final:
            assert root.find("Hangup") is not None
        elif screen_name != "language":
            gather = root.find("Gather")
            assert gather is not None
            assert gather.attrib["action"] == f"{PUBLIC}/ivr/gather?step=7"
            assert root.find("Redirect") is not None


@pytest.mark.parametrize("profile_id", available_profiles())
def test_transfer_offer_and_closing_are_valid(profile_id: str) -> None:
    ivr = service(profile_id)
    for language in ("ar", "en"):
        dial = check_twiml(ivr.twiml.transfer(language)).find("Dial")
        assert dial is not None and dial.text == load_profile(profile_id).agent_number
        check_twiml(ivr._agent_offer(3, language))
        check_twiml(ivr._ended(language))
    check_twiml(ivr.twiml.language_menu(1))
