"""Production mode: every unsafe default is named on its own line, per process role, and
`refuse_unsafe_defaults` exits only when TASDEED_ENV=production."""

from __future__ import annotations

import pytest

from tasdeed.production import (
    EX_CONFIG,
    check_production,
    refuse_in_production,
    refuse_unsafe_defaults,
)
from tasdeed.settings import Settings

TOKEN = "s" * 40


def safe(**overrides: object) -> Settings:
    """A configuration production accepts, with `overrides` applied."""
    values: dict[str, object] = {
        "tasdeed_env": "production",
        "twilio_account_sid": "AC" + "1" * 32,
        "twilio_auth_token": "a-real-token-from-the-console",
        "twilio_api_base": "",
        "simulator_enabled": False,
        "operator_token": "o" * 40,
        "redis_url": "redis://redis:6379/0",
        "database_url": "postgresql+asyncpg://tasdeed@db/tasdeed",
        "public_base_url": "https://pay.example.com",
        "service_token": TOKEN,
        "ussd_callback_secret": "aggregator-secret",
        "rasa_token": "rasa-secret",
        "tasdeed_fault_points": "",
    }
    if "phone_hash_salt" in Settings.model_fields:
        values["phone_hash_salt"] = "a-random-salt"
    values.update(overrides)
    return Settings.model_validate(values)


def defaults() -> Settings:
    return Settings.model_validate({"tasdeed_env": "production"})


def test_a_safe_configuration_has_no_problems() -> None:
    assert check_production(safe()) == []
    for role in ("gateway", "billing", "actions", "messaging", "cli"):
        assert check_production(safe(), role) == []  # type: ignore[arg-type]


def test_the_embedded_defaults_are_each_named() -> None:
    problems = check_production(defaults())
    named = [line.split(" ", 1)[0] for line in problems]
    for setting in (
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_BASE",
        "SIMULATOR_ENABLED",
        "OPERATOR_TOKEN",
        "REDIS_URL",
        "DATABASE_URL",
        "PUBLIC_BASE_URL",
        "SERVICE_TOKEN",
        "USSD_CALLBACK_SECRET",
        "RASA_TOKEN",
    ):
        assert setting in named, (setting, problems)
    assert all("\n" not in line for line in problems)
    assert len(named) == len(set(named))  # one line per setting


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"twilio_auth_token": "local-dev-auth-token"}, "TWILIO_AUTH_TOKEN"),
        ({"twilio_auth_token": ""}, "TWILIO_AUTH_TOKEN"),
        ({"simulator_enabled": True}, "SIMULATOR_ENABLED"),
        ({"operator_token": ""}, "OPERATOR_TOKEN"),
        ({"operator_token": "short"}, "OPERATOR_TOKEN"),
        ({"redis_url": ""}, "REDIS_URL"),
        ({"database_url": ""}, "DATABASE_URL"),
        ({"database_url": "sqlite+aiosqlite:///var/x.db"}, "DATABASE_URL"),
        ({"public_base_url": "http://pay.example.com"}, "PUBLIC_BASE_URL"),
        ({"service_token": ""}, "SERVICE_TOKEN"),
        ({"service_token": "short"}, "SERVICE_TOKEN"),
        ({"ussd_callback_secret": ""}, "USSD_CALLBACK_SECRET"),
        ({"rasa_token": ""}, "RASA_TOKEN"),
        ({"twilio_api_base": "http://127.0.0.1:8099"}, "TWILIO_API_BASE"),
        ({"tasdeed_fault_points": "confirm.after_commit"}, "TASDEED_FAULT_POINTS"),
    ],
)
def test_each_unsafe_setting_alone_is_one_line(override: dict[str, object], setting: str) -> None:
    problems = check_production(safe(**override))
    assert len(problems) == 1, problems
    assert problems[0].startswith(setting + " ")


def test_each_process_checks_what_it_uses() -> None:
    def names(role: str) -> set[str]:
        return {
            line.split(" ", 1)[0]
            for line in check_production(defaults(), role)  # type: ignore[arg-type]
        }

    assert names("billing") == {"DATABASE_URL", "SERVICE_TOKEN"}
    assert {"TWILIO_AUTH_TOKEN", "SIMULATOR_ENABLED", "USSD_CALLBACK_SECRET"} <= names("gateway")
    assert "OPERATOR_TOKEN" in names("gateway")
    assert all("OPERATOR_TOKEN" not in names(role) for role in ("billing", "actions", "cli"))
    assert "DATABASE_URL" not in names("gateway")
    assert names("actions") == {"REDIS_URL", "SERVICE_TOKEN"}
    assert {"TWILIO_AUTH_TOKEN", "REDIS_URL", "TWILIO_API_BASE"} <= names("messaging")
    assert names("cli") == {"SERVICE_TOKEN"}


def test_the_operator_view_needs_its_token_only_while_it_is_enabled() -> None:
    """The operator view is allowed in production behind OPERATOR_TOKEN; switched off, it
    needs none."""
    assert check_production(safe(operator_token="", operator_enabled=False), "gateway") == []
    [problem] = check_production(safe(operator_token=""), "gateway")
    assert problem.startswith("OPERATOR_TOKEN is empty") and "OPERATOR_ENABLED=false" in problem


def test_refusal_exits_with_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        refuse_unsafe_defaults(safe(simulator_enabled=True, redis_url=""), "gateway")
    assert exited.value.code == EX_CONFIG
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "gateway: refusing to start with TASDEED_ENV=production:"
    assert [line.split()[0] for line in err[1:]] == ["SIMULATOR_ENABLED", "REDIS_URL"]


def test_development_never_refuses() -> None:
    settings = Settings.model_validate({"tasdeed_env": "development"})
    assert check_production(settings)  # the problems are there …
    refuse_unsafe_defaults(settings)  # … but only production acts on them
    refuse_in_production(settings, "twilio_standin", "tests only")


def test_the_stand_in_never_runs_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        refuse_in_production(safe(), "twilio_standin", "tests only")
    assert "twilio_standin" in capsys.readouterr().err


def test_an_unknown_environment_name_is_refused() -> None:
    with pytest.raises(ValueError, match="tasdeed_env"):
        Settings.model_validate({"tasdeed_env": "prod"})
