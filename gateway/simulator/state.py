"""What the simulator's handlers share on the app: the settings, the profile, the backend."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from tasdeed.billing_client import BillingClient
from tasdeed.profile import Profile
from tasdeed.settings import Settings


@dataclass(frozen=True)
class Simulator:
    settings: Settings
    profile: Profile
    billing: BillingClient

    @property
    def public_base(self) -> str:
        return self.settings.public_base_url.rstrip("/")


SIMULATOR = web.AppKey("simulator", Simulator)
