"""What the operator view's handlers share on the app."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.metrics_sampling import MetricsSampler
from tasdeed.billing_client import BillingClient
from tasdeed.profile import Profile
from tasdeed.state_store import StateStore


@dataclass(frozen=True)
class OperatorView:
    profile: Profile
    billing: BillingClient
    store: StateStore
    sampler: MetricsSampler


OPERATOR = web.AppKey("operator_view", OperatorView)
