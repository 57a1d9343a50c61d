"""Production mode: with `TASDEED_ENV=production` every process refuses to start on a default
that is only safe on one developer's machine.

The embedded defaults make `make run` work with nothing configured: a public Twilio token, the
simulator that signs webhooks for anyone, an operator view without a token, state in one
process, a SQLite file, no secret on the USSD callback, no token between services. Each of
those is a hole once the process faces the outside or runs as one replica of several.
`check_production` names each problem on one line with the setting to change;
`refuse_unsafe_defaults` prints those lines and exits at start-up (status 78, EX_CONFIG),
before anything listens.

A process checks only what it uses (`role`), so the billing backend does not need the Twilio
token and the gateway does not need the database; `role="all"` checks everything, as a
single-host deployment sharing one environment would.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NoReturn

from tasdeed.settings import Settings

Role = Literal["all", "gateway", "billing", "actions", "messaging", "cli"]

# The values `tasdeed/settings.py` ships with: public, so never a secret.
DEFAULT_TWILIO_AUTH_TOKEN = Settings.model_fields["twilio_auth_token"].default
DEFAULT_TWILIO_ACCOUNT_SID = Settings.model_fields["twilio_account_sid"].default
MIN_SECRET_CHARS = 32
EX_CONFIG = 78  # sysexits.h: configuration error


@dataclass(frozen=True)
class _Check:
    roles: frozenset[str]
    problem: Callable[[Settings], str | None]


def _twilio_token(s: Settings) -> str | None:
    if not s.twilio_auth_token:
        return "TWILIO_AUTH_TOKEN is empty: set the account's auth token from the Twilio console"
    if s.twilio_auth_token == DEFAULT_TWILIO_AUTH_TOKEN:
        return (
            "TWILIO_AUTH_TOKEN is the public default (anyone can sign webhooks with it): "
            "set the account's auth token from the Twilio console"
        )
    return None


def _twilio_sid(s: Settings) -> str | None:
    if not s.twilio_account_sid or s.twilio_account_sid == DEFAULT_TWILIO_ACCOUNT_SID:
        return "TWILIO_ACCOUNT_SID is the placeholder: set the account SID (AC…) from Twilio"
    return None


def _twilio_api(s: Settings) -> str | None:
    if s.twilio_api_base and not s.twilio_api_base.startswith("https://"):
        return (
            f"TWILIO_API_BASE is {s.twilio_api_base} (the local stand-in): "
            "leave it empty to send through Twilio"
        )
    return None


def _simulator(s: Settings) -> str | None:
    if s.simulator_enabled:
        return (
            "SIMULATOR_ENABLED is true: the simulator signs IVR webhooks for anyone; "
            "set SIMULATOR_ENABLED=false"
        )
    return None


def _operator_token(s: Settings) -> str | None:
    if not s.operator_enabled:
        return None
    if not s.operator_token:
        return (
            "OPERATOR_TOKEN is empty (anyone could open the operator view at /operator): set a "
            f"random token of at least {MIN_SECRET_CHARS} characters, or OPERATOR_ENABLED=false"
        )
    if len(s.operator_token) < MIN_SECRET_CHARS:
        return f"OPERATOR_TOKEN is shorter than {MIN_SECRET_CHARS} characters: use a random one"
    return None


def _redis(s: Settings) -> str | None:
    if not s.redis_url:
        return (
            "REDIS_URL is empty (state in this process only: replicas would not see each "
            "other's sessions): set REDIS_URL=redis://…"
        )
    return None


def _database(s: Settings) -> str | None:
    if not s.database_url:
        return (
            "DATABASE_URL is empty (the embedded SQLite file): "
            "set DATABASE_URL=postgresql+asyncpg://…"
        )
    if s.database_url.startswith("sqlite"):
        return "DATABASE_URL is SQLite: set DATABASE_URL=postgresql+asyncpg://…"
    return None


def _public_url(s: Settings) -> str | None:
    if not s.public_base_url.startswith("https://"):
        return (
            f"PUBLIC_BASE_URL is {s.public_base_url or 'empty'}: set the https:// URL "
            "Twilio and the aggregator call (signatures are checked over it)"
        )
    return None


def _service_token(s: Settings) -> str | None:
    if not s.service_token:
        return (
            "SERVICE_TOKEN is empty: set the same random token (at least "
            f"{MIN_SECRET_CHARS} characters) for billing and every process that calls it"
        )
    if len(s.service_token) < MIN_SECRET_CHARS:
        return f"SERVICE_TOKEN is shorter than {MIN_SECRET_CHARS} characters: use a random one"
    return None


def _ussd_secret(s: Settings) -> str | None:
    if not s.ussd_callback_secret:
        return (
            "USSD_CALLBACK_SECRET is empty (anyone could post USSD hops): set it and give the "
            "aggregator the callback URL with ?key=<secret>"
        )
    return None


def _rasa_token(s: Settings) -> str | None:
    if not s.rasa_token:
        return (
            "RASA_TOKEN is empty: start Rasa with --auth-token and give the gateway the same token"
        )
    return None


def _phone_salt(s: Settings) -> str | None:
    # PHONE_HASH_SALT keys records by phone number; the shipped default is public.
    salt = getattr(s, "phone_hash_salt", None)
    default = getattr(Settings.model_fields.get("phone_hash_salt"), "default", None)
    if salt is not None and (not salt or salt == default):
        return "PHONE_HASH_SALT is the public default: set a random salt, the same on every replica"
    return None


def _fault_points(s: Settings) -> str | None:
    if s.tasdeed_fault_points:
        return "TASDEED_FAULT_POINTS is set (the process kills itself there): tests only, unset it"
    return None


# "cli": an operator's command (`python -m messaging status` …) that only calls the backend.
_ALL = frozenset({"gateway", "billing", "actions", "messaging", "cli"})
_CHECKS: tuple[_Check, ...] = (
    _Check(frozenset({"gateway", "messaging"}), _twilio_token),
    _Check(frozenset({"messaging"}), _twilio_sid),
    _Check(frozenset({"messaging"}), _twilio_api),
    _Check(frozenset({"gateway"}), _simulator),
    _Check(frozenset({"gateway"}), _operator_token),
    _Check(frozenset({"gateway", "actions", "messaging"}), _redis),
    _Check(frozenset({"billing"}), _database),
    _Check(frozenset({"gateway", "messaging"}), _public_url),
    _Check(_ALL, _service_token),
    _Check(frozenset({"gateway"}), _ussd_secret),
    _Check(frozenset({"gateway"}), _rasa_token),
    _Check(frozenset({"gateway"}), _phone_salt),
    _Check(_ALL, _fault_points),
)


def check_production(settings: Settings, role: Role = "all") -> list[str]:
    """Every unsafe default `role` would run with, one line each naming the setting.

    Checks the values whatever TASDEED_ENV says (a deployment can run it before going live);
    `refuse_unsafe_defaults` acts on it only in production."""
    problems = []
    for check in _CHECKS:
        if role != "all" and role not in check.roles:
            continue
        problem = check.problem(settings)
        if problem:
            problems.append(problem)
    return problems


def _exit(process: str, lines: list[str]) -> NoReturn:
    print(f"{process}: refusing to start with TASDEED_ENV=production:", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    sys.stderr.flush()
    raise SystemExit(EX_CONFIG)


def refuse_unsafe_defaults(settings: Settings, role: Role = "all") -> None:
    """In production, exit (status 78) naming every unsafe setting; otherwise do nothing."""
    if settings.tasdeed_env != "production":
        return
    problems = check_production(settings, role)
    if problems:
        _exit(role if role != "all" else "tasdeed", problems)


def warn_in_production(settings: Settings, process: str, lines: list[str]) -> None:
    """In production, print a warning line per item at start-up and carry on: for what is
    not unsafe enough to refuse (no exam periods loaded: disconnections in exams would not be
    refused), but must not pass unseen."""
    if settings.tasdeed_env != "production" or not lines:
        return
    for line in lines:
        print(f"{process}: warning with TASDEED_ENV=production: {line}", file=sys.stderr)
    sys.stderr.flush()


def refuse_in_production(settings: Settings, process: str, why: str) -> None:
    """For processes that have no place in production at all (the Twilio stand-in)."""
    if settings.tasdeed_env == "production":
        _exit(process, [why])
