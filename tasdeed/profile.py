"""Utility profiles: one deployment serves one utility, described by a data file.

The files live in `tasdeed/profiles/<id>.toml`; code reads them only through `load_profile`.
Rule figures stay as data (`rules`), typed by the rules module that uses them.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PROFILE_DIR = Path(__file__).parent / "profiles"

DigitStyle = Literal["arab", "latn"]
Dialect = Literal["egyptian", "gulf", "msa"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PaymentCodeFormat(_Frozen):
    length: int = Field(ge=6, le=20)
    check: Literal["damm"] = "damm"


class AccountNumberFormat(_Frozen):
    """The utility's account number: the country letters and a run of digits ("EG000123").
    On a keypad a person types only the digits; its length tells it from an e-payment code."""

    digits: int = Field(default=6, ge=4, le=12)


class PaymentSettings(_Frozen):
    quote_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    recent_payment_window_hours: int = Field(default=24, ge=0)
    allow_partial: bool = False
    min_partial_minor: int = Field(default=0, ge=0)
    allow_overpayment: bool = False


class ComplaintSettings(_Frozen):
    # Hours from filing to the SLA due time, per category (tasdeed.contract.COMPLAINT_CATEGORIES).
    sla_hours: dict[str, int] = Field(
        default_factory=lambda: {
            "billing": 240,
            "outage": 6,
            "meter": 72,
            "reading": 72,
            "service": 120,
            "other": 120,
        }
    )


class InstallmentSettings(_Frozen):
    min_months: int = Field(default=2, ge=2)
    max_months: int = Field(default=12, ge=2)
    requires_debt_acknowledgment: bool = False


class VoiceSettings(_Frozen):
    speech_language: str  # what the caller speaks, for speech recognition (ar-EG, ar-SA …)
    voice_ar: str
    voice_en: str
    say_language_ar: str = "arb"  # the text-to-speech voice's own language code
    say_language_en: str = "en-US"


class NoticeSettings(_Frozen):
    """Outbound messages (tasdeed.notices): who sends them and when bulk ones may go out."""

    # Bulk notices (bills, reminders, warnings) wait outside these local hours; receipts and
    # complaint updates answer something the person just did and go at once.
    quiet_start: str = Field(default="21:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    quiet_end: str = Field(default="08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    reminder_days_before: int = Field(default=3, ge=1, le=30)
    sms_sender: str  # alphanumeric sender ID or number the utility sends SMS from
    whatsapp_number: str  # E.164 digits without "+", for wa.me links and the WhatsApp sender


class Profile(_Frozen):
    id: str
    country: str
    utility_name_ar: str
    utility_name_en: str
    currency: Literal["EGP", "KWD", "SAR"]
    locale: str
    english_locale: str = "en"
    digits: DigitStyle
    dialect: Dialect
    timezone: str
    contact_line: str
    agent_number: str
    ussd_service_code: str
    areas: tuple[str, ...]
    payment_code: PaymentCodeFormat
    account_number: AccountNumberFormat = Field(default_factory=AccountNumberFormat)
    payments: PaymentSettings
    voice: VoiceSettings
    notices: NoticeSettings
    complaints: ComplaintSettings = Field(default_factory=ComplaintSettings)
    installments: InstallmentSettings = Field(default_factory=InstallmentSettings)
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _code_and_account_differ(self) -> Profile:
        if self.account_number.digits == self.payment_code.length:
            raise ValueError("account numbers and e-payment codes must differ in length")
        return self

    def locale_for(self, language: str) -> str:
        """The babel locale for a person's language choice ("ar" or "en")."""
        return self.locale if language == "ar" else self.english_locale


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.toml"))


@cache
def load_profile(profile_id: str) -> Profile:
    path = PROFILE_DIR / f"{profile_id}.toml"
    if not path.is_file():
        raise ValueError(
            f"unknown utility profile {profile_id!r}; available: {', '.join(available_profiles())}"
        )
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    profile = Profile.model_validate(data)
    if profile.id != profile_id:
        raise ValueError(f"{path} declares id {profile.id!r}, expected {profile_id!r}")
    return profile
