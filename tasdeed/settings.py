"""Every setting Tasdeed reads from the environment, typed, in one place.

`.env.example` lists each one with its local default; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    tasdeed_profile: str = Field(default="eg", description="utility profile: eg, kw or sa")
    # "production": every process refuses to start on an unsafe default (tasdeed/production.py).
    tasdeed_env: Literal["development", "production"] = "development"
    # Bearer token for service-to-service calls (gateway, actions, messaging -> billing).
    # Empty: the billing API asks for none (embedded default only; production refuses it).
    service_token: str = ""

    # Reference billing backend (the utility's system stand-in).
    database_url: str = Field(
        default="",
        description="SQLAlchemy async URL; empty: the embedded SQLite var/tasdeed-<profile>.db",
    )
    billing_host: str = "127.0.0.1"
    billing_port: int = 8090
    billing_url: str = "http://127.0.0.1:8090"
    billing_connect_timeout_s: float = 1.0
    billing_total_timeout_s: float = 3.0
    billing_retries: int = 2
    demo_seed: int = 153
    # Public-school exam periods to load into the ledger at `billing serve` start-up (and by
    # `python -m billing exam-periods`): a TOML or CSV file (billing/exam_periods.py). Empty:
    # none from a file (an operator can still load them over the API).
    exam_periods_file: str = ""

    # Shared state; empty means in-process (embedded default).
    redis_url: str = ""
    redis_prefix: str = "tasdeed:"

    # Twilio (used by the IVR and chat adapters for request signing).
    twilio_account_sid: str = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    twilio_auth_token: str = "local-dev-auth-token"
    public_base_url: str = "http://localhost:8080"

    # Twilio's REST API origin for outbound messages; the local stand-in (twilio_standin) in
    # `make run` and tests. Empty: Twilio itself (https://api.twilio.com).
    twilio_api_base: str = "http://127.0.0.1:8099"
    twilio_standin_host: str = "127.0.0.1"
    twilio_standin_port: int = 8099

    # Outbound notices (messaging/): provider rate limit shared by all workers, retries, and
    # how long a claimed message may stay "sending" before another worker reconciles it.
    notices_rate_per_s: float = 100.0
    notices_max_attempts: int = 5
    notices_send_timeout_s: float = 10.0
    notices_stale_after_s: int = 30
    notices_workers: int = 4
    # "profile": bulk notices wait out the profile's quiet hours; "off": an operator's
    # override for an urgent bulk message at night (receipts never wait either way).
    notices_quiet_hours: Literal["profile", "off"] = "profile"
    # Where `messaging worker|serve --metrics-port` listens (0.0.0.0 in a container, so
    # Prometheus can scrape it over the internal network).
    metrics_host: str = "127.0.0.1"

    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    # The browser simulator (gateway/simulator/). Its IVR relay signs any /ivr/* request with
    # TWILIO_AUTH_TOKEN for whoever asks: false in production (never mounted there anyway).
    simulator_enabled: bool = True
    # The operator view at /operator (gateway/operator/): live sessions, payments, complaints.
    # OPERATOR_TOKEN guards it (a bearer token, or the password of the browser's prompt);
    # empty: open (embedded default only; production refuses it while the view is enabled).
    operator_enabled: bool = True
    operator_token: str = ""

    # USSD: a gateway session lives about 180 s; a dropped payment can be resumed for 300 s.
    ussd_session_ttl_s: int = 180
    ussd_resume_ttl_s: int = 300
    # Network codes whose handsets cannot shape Arabic: pages are sent pre-shaped.
    ussd_reshape_networks: str = ""
    # Aggregators do not sign callbacks: configure the callback URL with `?key=<secret>` (or
    # send it as the X-Tasdeed-Key header); empty means no check (embedded default only).
    ussd_callback_secret: str = ""
    # Comma-separated addresses or networks (CIDR) the aggregator calls from; empty: any.
    ussd_allowed_sources: str = ""
    # Budgets: new sessions per phone number per minute, inputs applied from one request.
    ussd_sessions_per_minute: int = 6
    ussd_max_inputs_per_hop: int = 8
    # Salt for the hashes that key records by phone number (language, resume, budgets).
    phone_hash_salt: str = "tasdeed-local-salt"

    # Rasa (REST channel and NLU) on an internal address, and the action server it calls.
    rasa_url: str = "http://127.0.0.1:5005"
    # Rasa's HTTP API (`--enable-api --auth-token`): the IVR's NLU at the main menu. Empty: the
    # IVR understands spoken digits and the reviewed answer lists only.
    rasa_token: str = ""
    action_server_url: str = "http://127.0.0.1:5055/webhook"

    log_level: str = "INFO"
    log_json: bool = False

    # Test-only: a comma-separated list of named points where the process SIGKILLs itself.
    tasdeed_fault_points: str = ""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = PROJECT_ROOT / "var" / f"tasdeed-{self.tasdeed_profile}.db"
        return f"sqlite+aiosqlite:///{path}"

    def reshape_networks(self) -> frozenset[str]:
        return frozenset(n.strip() for n in self.ussd_reshape_networks.split(",") if n.strip())

    def ussd_sources(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.ussd_allowed_sources.split(",") if n.strip())

    def fault_points(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.tasdeed_fault_points.split(",") if p.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
