"""The simulator page (`/`) and the operator view (`/operator`): Tasdeed without a phone.

Everything the pages do goes through the gateway's real endpoints: USSD to `/ussd/at` in
Africa's Talking's form fields, chat to `/chat/web`, calls to `/ivr/*`. Calls need one thing
a browser cannot have, the Twilio auth token that signs each webhook, so `/simulator/ivr`
signs on the page's behalf (exactly as Twilio does, over the PUBLIC_BASE_URL action URL) and
forwards the request to this gateway's own `/ivr/*` handler over loopback HTTP. That relay
signs anything under `/ivr/` for whoever asks, which is why the whole simulator is mounted
only when SIMULATOR_ENABLED is true, and must be false in production.

The operator view reads the same Prometheus registry `/metrics` exposes (no second set of
counters that could disagree) and the billing backend's read-only operator endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from prometheus_client import REGISTRY, CollectorRegistry
from twilio.request_validator import RequestValidator

from tasdeed.billing_client import BillingClient, BillingError
from tasdeed.flows.diagram import mermaid
from tasdeed.i18n import LANGUAGES, Counted, catalogue, entries, plural_categories, translate
from tasdeed.logs import get_logger
from tasdeed.money import Money, format_money
from tasdeed.normalise import localise_digits
from tasdeed.profile import Profile, available_profiles, load_profile
from tasdeed.settings import Settings

log = get_logger("gateway.simulator")
STATIC_DIR = Path(__file__).parent / "static"
# Endonyms, not translations: each language is named in itself on the switch.
LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}

# ---- metrics: the registry /metrics exposes, read into JSON for the operator view ---------

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]
Reading = dict[SeriesKey, float]

KNOWN_CHANNELS = ("ussd", "ivr", "web", "whatsapp", "sms")
# USSD sessions and calls have a start (the hop that opens them, HOPS outcome "start");
# chat has no session boundary, so the honest figure there is messages answered.
SESSION_CHANNELS = frozenset({"ussd", "ivr"})
LIVE_WINDOW_S = 5 * 60
CHART_MINUTES = 15
SAMPLE_EVERY_S = 5.0
HORIZON_S = (CHART_MINUTES + 1) * 60


def read_registry(registry: CollectorRegistry) -> Reading:
    """Every tasdeed_* sample now, keyed by sample name and labels (`_created` left out)."""
    reading: Reading = {}
    for family in registry.collect():
        if not family.name.startswith("tasdeed_"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            reading[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return reading


def histogram_quantile(q: float, cumulative: list[tuple[float, float]]) -> float | None:
    """Prometheus's histogram_quantile over (upper bound, cumulative count) pairs sorted by
    bound, +Inf last: linear within the bucket the rank falls in; None when empty."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    rank = q * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound  # above the last finite bucket: its bound is all we know
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


@dataclass
class _Sample:
    at: float
    reading: Reading


class MetricsSampler:
    """Counter readings over time, so the operator view can show rates (payments per
    minute) and windows (sessions started in the last five minutes) from plain counters.

    The first reading, taken when the sampler is made (the gateway's start), is the baseline:
    anything before it counts as zero, so a process that shares the registry with an earlier
    app (tests) reports only what happened since this app started. Readings are taken every
    SAMPLE_EVERY_S by a background task; a window edge is placed on the latest reading at
    or before it, so edges are accurate to that interval."""

    def __init__(
        self,
        registry: CollectorRegistry = REGISTRY,
        clock: Callable[[], float] = time.monotonic,
        horizon_s: float = HORIZON_S,
    ):
        self.registry = registry
        self.clock = clock
        self.horizon_s = horizon_s
        self.samples: deque[_Sample] = deque()
        self.sample()

    def sample(self) -> None:
        now = self.clock()
        self.samples.append(_Sample(now, read_registry(self.registry)))
        # Keep one reading at or before the horizon: it anchors the oldest window edge.
        while len(self.samples) > 1 and self.samples[1].at <= now - self.horizon_s:
            self.samples.popleft()

    def _at(self, moment: float) -> Reading:
        chosen = self.samples[0].reading
        for sample in self.samples:
            if sample.at > moment:
                break
            chosen = sample.reading
        return chosen

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        current = read_registry(self.registry)
        channels = _channels(current)

        def delta(name: str, labels: Mapping[str, str], since: Reading, until: Reading) -> int:
            key = (name, tuple(sorted(labels.items())))
            return round(until.get(key, 0.0) - since.get(key, 0.0))

        live_since = self._at(now - LIVE_WINDOW_S)
        live = {}
        for channel in channels:
            session = channel in SESSION_CHANNELS
            outcome = "start" if session else "message"
            live[channel] = {
                "kind": "sessions" if session else "messages",
                "count": delta(
                    "tasdeed_hops_total",
                    {"channel": channel, "outcome": outcome},
                    live_since,
                    current,
                ),
            }
        edges = [self._at(now - (CHART_MINUTES - i) * 60) for i in range(CHART_MINUTES)]
        edges.append(current)
        payments = {
            channel: [
                delta("tasdeed_payments_total", {"channel": channel}, edges[i], edges[i + 1])
                for i in range(CHART_MINUTES)
            ]
            for channel in channels
        }
        return {
            "live_window_s": LIVE_WINDOW_S,
            "chart_minutes": CHART_MINUTES,
            "channels": channels,
            "live": live,
            "payments_per_minute": payments,
            "latency": {channel: _latency(channel, edges[0], current) for channel in channels},
        }


def _channels(reading: Reading) -> list[str]:
    seen = {
        dict(labels)["channel"]
        for (name, labels) in reading
        if name.startswith("tasdeed_") and "channel" in dict(labels)
    }
    return [*KNOWN_CHANNELS, *sorted(seen - set(KNOWN_CHANNELS))]


def _latency(channel: str, since: Reading, until: Reading) -> dict[str, Any]:
    """The hop-latency histogram of one channel over the window, with its median and p95."""
    buckets: list[tuple[float, float]] = []
    for (name, labels), value in until.items():
        label_map = dict(labels)
        if name == "tasdeed_hop_seconds_bucket" and label_map.get("channel") == channel:
            bound = float(label_map["le"])
            buckets.append((bound, value - since.get((name, labels), 0.0)))
    buckets.sort()
    count_key: SeriesKey = ("tasdeed_hop_seconds_count", (("channel", channel),))
    sum_key: SeriesKey = ("tasdeed_hop_seconds_sum", (("channel", channel),))
    count = round(until.get(count_key, 0.0) - since.get(count_key, 0.0))
    total = until.get(sum_key, 0.0) - since.get(sum_key, 0.0)
    per_bucket = []
    previous = 0.0
    for bound, cumulative in buckets:
        per_bucket.append(
            {"le": None if bound == float("inf") else bound, "count": round(cumulative - previous)}
        )
        previous = cumulative
    return {
        "count": count,
        "mean_s": total / count if count else None,
        "p50_s": histogram_quantile(0.5, buckets),
        "p95_s": histogram_quantile(0.95, buckets),
        "buckets": per_bucket,
    }


# ---- the simulator's state on the app ---------------------------------------------------


@dataclass
class Simulator:
    settings: Settings
    profile: Profile
    billing: BillingClient
    sampler: MetricsSampler = field(default_factory=MetricsSampler)
    http: aiohttp.ClientSession | None = None

    @property
    def public_base(self) -> str:
        return self.settings.public_base_url.rstrip("/")


SIMULATOR = web.AppKey("simulator", Simulator)


def _language(request: web.Request) -> str:
    language = request.query.get("lang", "ar")
    return language if language in LANGUAGES else "ar"


def _labels(language: str) -> dict[str, str]:
    """The page's words: every sim.* key of the catalogue, without the prefix."""
    return {
        key.removeprefix("sim."): text
        for key, text in catalogue(language).items()
        if key.startswith("sim.")
    }


def _plurals(language: str) -> dict[str, dict[str, Any]]:
    """The counted sim.* words (tasdeed.i18n plural entries) by plural category, for the
    page's own `t()` to pick with Intl.PluralRules, the same CLDR rules babel follows."""
    categories = plural_categories(language)
    return {
        key.removeprefix("sim."): {
            "counts": entry.counts,
            "forms": dict(zip(categories, entry.forms, strict=True)),
        }
        for key, entry in entries(language).items()
        if key.startswith("sim.") and isinstance(entry, Counted)
    }


def _t(key: str, language: str, **params: object) -> str:
    return html.escape(translate(key, language, "msa", **params))


def _ltr(text: str) -> str:
    """Isolated left-to-right inside Arabic text (LRI … PDI): "*121#" stays "*121#"
    instead of its neutral "*" and "#" being moved around by the bidi algorithm."""
    return f"\u2066{text}\u2069"


def _money(profile: Profile, minor: int, currency: str, language: str) -> str:
    digits = profile.digits if language == "ar" else "latn"
    return format_money(Money(minor, currency), profile.locale_for(language), digits, plain=True)


def _local_time(profile: Profile, iso_utc: str, language: str) -> str:
    """A backend timestamp (naive UTC, "…Z") in the utility's own time zone."""
    moment = datetime.fromisoformat(iso_utc.removesuffix("Z") + "+00:00")
    text = moment.astimezone(ZoneInfo(profile.timezone)).strftime("%Y-%m-%d %H:%M:%S")
    return localise_digits(text, profile.digits) if language == "ar" else text


# Simulated subscriber lines per country: dialling prefix, random digits after it, and an
# Africa's Talking networkCode (MCC+MNC) of a real operator there.
SIM_LINES = {"EG": ("+2010", 8, "60202"), "KW": ("+9656", 7, "41902"), "SA": ("+9665", 8, "42001")}


def _config_json(data: Mapping[str, Any]) -> str:
    # Inside <script type="application/json">: "<" escaped so no "</script>" can close it.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def _page(
    language: str, title: str, body: str, config: Mapping[str, Any], scripts: Iterable[str]
) -> str:
    direction = "rtl" if language == "ar" else "ltr"
    tags = "".join(f'<script src="/static/{name}" defer></script>' for name in scripts)
    return (
        "<!doctype html>\n"
        f'<html lang="{language}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        '<link rel="icon" href="data:,">\n'  # no favicon request to anywhere
        '<link rel="stylesheet" href="/static/simulator.css">\n'
        f'<script type="application/json" id="sim-config">{_config_json(config)}</script>\n'
        f"{tags}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _header(language: str, here: str, title: str) -> str:
    other = "en" if language == "ar" else "ar"
    links = []
    for path, key in (("/", "sim.nav.simulator"), ("/operator", "sim.nav.operator")):
        current = ' aria-current="page"' if path == here else ""
        links.append(f'<a href="{path}?lang={language}"{current}>{_t(key, language)}</a>')
    return (
        '<header class="top">'
        f"<h1>{title}</h1>"
        f"<nav>{''.join(links)}"
        f'<a id="lang-switch" href="{here}?lang={other}" lang="{other}" '
        f'hreflang="{other}">{LANGUAGE_NAMES[other]}</a></nav>'
        "</header>"
    )


def _profiles_section(profile: Profile, language: str) -> str:
    items = []
    for profile_id in available_profiles():
        other = load_profile(profile_id)
        name = other.utility_name_ar if language == "ar" else other.utility_name_en
        active = profile_id == profile.id
        marker = f' <strong class="badge">{_t("sim.profile.active", language)}</strong>'
        items.append(
            f'<li data-profile="{profile_id}"{" class=active" if active else ""}>'
            f"<code>{profile_id}</code> {html.escape(name)}{marker if active else ''}</li>"
        )
    return (
        '<section class="card" id="profiles">'
        f"<h2>{_t('sim.profile.title', language)}</h2><ul class=profiles>{''.join(items)}</ul>"
        f"<p class=note>{_t('sim.profile.note', language)} "
        '<code dir="ltr">TASDEED_PROFILE=kw make run</code></p></section>'
    )


def _demo_section(profile: Profile, demos: list[dict[str, Any]] | None, language: str) -> str:
    if demos is None:
        rows = f"<p class=error>{_t('sim.billing_unavailable', language)}</p>"
    else:
        cells = ""
        for demo in demos:
            due = _money(profile, int(demo["amount_due_minor"]), str(demo["currency"]), language)
            cells += (
                f'<tr><td><code class="demo-code" dir="ltr">{html.escape(str(demo["code"]))}'
                f"</code></td><td>{html.escape(str(demo['payee_masked']))}</td>"
                f"<td>{html.escape(due)}</td></tr>"
            )
        rows = (
            '<table class="demo"><thead><tr>'
            f"<th>{_t('sim.demo.code', language)}</th><th>{_t('sim.demo.payee', language)}</th>"
            f"<th>{_t('sim.demo.due', language)}</th></tr></thead><tbody>{cells}</tbody></table>"
        )
    # Only on this page, which exists only in simulator mode (SIMULATOR_ENABLED).
    reset = (
        f'<div class="row"><button id="demo-reset" type="button">'
        f"{_t('sim.demo.reset', language)}</button></div>"
        '<p class="fine" id="demo-reset-status" aria-live="polite"></p>'
    )
    return (
        f'<section class="card" id="demo-codes"><h2>{_t("sim.demo.title", language)}</h2>'
        f"{rows}{reset}</section>"
    )


def _ussd_section(profile: Profile, language: str) -> str:
    code = html.escape(profile.ussd_service_code)
    return f"""
<section class="card sim" id="ussd">
  <h2>{_t("sim.ussd.title", language)}</h2>
  <div class="handset">
    <div class="screen" id="ussd-screen" dir="auto" aria-live="polite">{
        _t("sim.ussd.idle", language, code=_ltr(profile.ussd_service_code))
    }</div>
    <div class="screen-meta"><span id="ussd-counter"></span> <span id="ussd-encoding"></span></div>
    <div class="row">
      <label>{_t("sim.ussd.short_code", language)}
        <input id="ussd-code" value="{code}" dir="ltr" size="8" autocomplete="off"></label>
      <button id="ussd-dial" type="button" class="go">{_t("sim.ussd.dial", language)}</button>
      <button id="ussd-cancel" type="button" disabled>{_t("sim.ussd.cancel", language)}</button>
    </div>
    <form class="row" id="ussd-form" autocomplete="off">
      <label>{_t("sim.ussd.reply", language)}
        <input id="ussd-reply" inputmode="numeric" dir="ltr" size="14" disabled></label>
      <button id="ussd-send" type="submit" disabled>{_t("sim.send", language)}</button>
    </form>
    <p class="fine">{_t("sim.ussd.phone", language)}: <span id="ussd-phone" dir="ltr"></span></p>
  </div>
</section>"""


def _chat_section(language: str) -> str:
    return f"""
<section class="card sim" id="chat">
  <h2>{_t("sim.chat.title", language)}</h2>
  <div class="messenger whatsapp" id="chat-app">
    <div class="switch" role="radiogroup">
      <label><input type="radio" name="chat-mode" value="whatsapp" id="chat-mode-whatsapp"
        checked> {_t("sim.chat.whatsapp", language)}</label>
      <label><input type="radio" name="chat-mode" value="sms" id="chat-mode-sms">
        {_t("sim.chat.sms", language)}</label>
    </div>
    <div class="messages" id="chat-messages" aria-live="polite"></div>
    <form class="composer" id="chat-form" autocomplete="off">
      <input id="chat-input" dir="auto" placeholder="{_t("sim.chat.placeholder", language)}">
      <button id="chat-send" type="submit">{_t("sim.send", language)}</button>
    </form>
  </div>
</section>"""


def _call_section(profile: Profile, language: str) -> str:
    keys = "".join(
        f'<button type="button" class="key" data-key="{k}">{k}</button>' for k in "123456789*0#"
    )
    return f"""
<section class="card sim" id="call">
  <h2>{_t("sim.call.title", language)}</h2>
  <div class="phone-call">
    <div class="row">
      <button id="call-start" type="button" class="go">{
        _t("sim.call.start", language, line=profile.contact_line)
    }</button>
      <button id="call-hangup" type="button" class="stop" disabled>{
        _t("sim.call.hangup", language)
    }</button>
    </div>
    <label class="fine"><input type="checkbox" id="call-speak" checked> {
        _t("sim.call.speak", language)
    }</label>
    <div class="transcript" id="call-transcript" aria-live="polite"></div>
    <p class="status" id="call-status"></p>
    <div class="entered" id="call-entered" dir="ltr"></div>
    <div class="keypad" dir="ltr" aria-label="{_t("sim.call.keypad", language)}">{keys}</div>
    <form class="row" id="call-speech-form" autocomplete="off">
      <input id="call-speech" dir="auto" placeholder="{_t("sim.call.speech", language)}">
      <button id="call-say" type="submit">{_t("sim.call.say", language)}</button>
    </form>
    <button id="call-silence" type="button">{_t("sim.call.silence", language)}</button>
  </div>
</section>"""


def _page_config(sim: Simulator, language: str) -> dict[str, Any]:
    prefix, digits, network = SIM_LINES.get(sim.profile.country, ("+1555", 7, "00101"))
    return {
        "lang": language,
        "labels": _labels(language),
        "plurals": _plurals(language),
        "profile": {
            "id": sim.profile.id,
            "ussd_service_code": sim.profile.ussd_service_code,
            "contact_line": sim.profile.contact_line,
            "agent_number": sim.profile.agent_number,
            "phone_prefix": prefix,
            "phone_digits": digits,
            "network_code": network,
        },
        # Calls start at the URL Twilio would call; the relay only signs URLs under it.
        "public_base_url": sim.public_base,
    }


async def simulator_page(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    language = _language(request)
    demos: list[dict[str, Any]] | None
    try:
        demos = await sim.billing.demo_codes()
    except BillingError as exc:
        log.warning("simulator page without demo codes", error=str(exc))
        demos = None
    name = sim.profile.utility_name_ar if language == "ar" else sim.profile.utility_name_en
    title = _t("sim.title", language)
    body = (
        _header(language, "/", title)
        + '<main class="layout">'
        + f'<section class="card intro"><p><strong>{html.escape(name)}</strong> '
        + f'(<code id="active-profile">{sim.profile.id}</code>)</p>'
        + f"<p>{_t('sim.intro', language)}</p>"
        + f"<p class=fine>{_t('sim.offline_note', language)}</p></section>"
        + _ussd_section(sim.profile, language)
        + _chat_section(language)
        + _call_section(sim.profile, language)
        + _demo_section(sim.profile, demos, language)
        + _profiles_section(sim.profile, language)
        + _walks_section(sim.profile, language)
        + "</main>"
    )
    page = _page(language, title, body, _page_config(sim, language), ["common.js", "simulator.js"])
    return web.Response(text=page, content_type="text/html")


# Words of the menu-tree section (not yet in the sim.* catalogue keys).
WALKS_WORDS = {
    "ar": ("شجرة القوائم", "نص Mermaid مولَّد من جدول الخطوات: الصقه في أي عارض Mermaid."),
    "en": ("Menu tree", "Mermaid text drawn from the walk table: paste into any Mermaid viewer."),
}


def _walks_section(profile: Profile, language: str) -> str:
    """The walk table as Mermaid text in a <pre> (no diagram script: the page stays offline)."""
    title, note = WALKS_WORDS[language]
    return (
        f'<section class="card wide" id="walks"><h2>{html.escape(title)}</h2>'
        f'<p class=fine>{html.escape(note)} <a href="/simulator/walks?lang={language}" '
        'dir="ltr">/simulator/walks</a></p><details><summary>Mermaid</summary>'
        '<div class="scroll"><pre dir="ltr" id="walks-text">'
        f"{html.escape(mermaid(profile, language))}</pre></div></details></section>"
    )


async def walks_text(request: web.Request) -> web.Response:
    """The running profile's walk table as Mermaid text (`tasdeed.flows.diagram`)."""
    text = mermaid(request.app[SIMULATOR].profile, _language(request))
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


async def operator_page(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    language = _language(request)
    title = _t("sim.op.title", language)

    def heads(*keys: str) -> str:
        return "".join(f"<th>{_t(key, language)}</th>" for key in keys)

    body = f"""{_header(language, "/operator", title)}
<main class="layout operator">
  <section class="card" id="op-live">
    <h2>{_t("sim.op.live", language, min=LIVE_WINDOW_S // 60)}</h2>
    <table><tbody id="op-live-rows"></tbody></table>
  </section>
  <section class="card wide" id="op-payments-chart">
    <h2>{_t("sim.op.payments_chart", language, count=CHART_MINUTES)}</h2>
    <div class="chart" id="chart-payments"></div>
  </section>
  <section class="card wide" id="op-latency-chart">
    <h2>{_t("sim.op.latency_chart", language, count=CHART_MINUTES)}</h2>
    <div class="chart" id="chart-latency"></div>
  </section>
  <section class="card wide" id="op-payments">
    <h2>{_t("sim.op.payments", language)}</h2>
    <div class="scroll"><table><thead><tr>{
        heads("sim.op.receipt", "sim.demo.payee", "sim.op.amount", "sim.op.channel", "sim.op.time")
    }</tr></thead><tbody id="op-payment-rows"></tbody></table></div>
  </section>
  <section class="card wide" id="op-complaints">
    <h2>{_t("sim.op.complaints", language)}</h2>
    <div class="scroll"><table><thead><tr>{
        heads("sim.op.ticket", "sim.op.category", "sim.op.status", "sim.op.channel", "sim.op.sla")
    }</tr></thead><tbody id="op-complaint-rows"></tbody></table></div>
  </section>
  <p class="fine" id="op-updated"></p>
</main>"""
    page = _page(language, title, body, _page_config(sim, language), ["common.js", "operator.js"])
    return web.Response(text=page, content_type="text/html")


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


async def metrics_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIMULATOR].sampler.snapshot(), dumps=_dumps)


async def operator_json(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    language = _language(request)
    try:
        payments, complaints = await asyncio.gather(
            sim.billing.recent_payments(20), sim.billing.recent_complaints(20)
        )
    except BillingError as exc:
        log.warning("operator view without billing data", error=str(exc))
        return web.json_response(
            {"error": translate("sim.billing_unavailable", language)}, status=502, dumps=_dumps
        )
    catalogue_ = catalogue(language)

    def label(key: str, fallback: str) -> str:
        return catalogue_.get(key, fallback)

    return web.json_response(
        {
            "payments": [
                {
                    "receipt_number": str(p["receipt_number"]),
                    "payee_masked": str(p["payee_masked"]),
                    "amount": _money(
                        sim.profile, int(p["amount_minor"]), str(p["currency"]), language
                    ),
                    "channel": str(p["channel"]),
                    "channel_label": label(f"sim.channel.{p['channel']}", str(p["channel"])),
                    "time": _local_time(sim.profile, str(p["paid_at"]), language),
                }
                for p in payments
            ],
            "complaints": [
                {
                    "ticket_number": str(c["ticket_number"]),
                    "category": label(f"complaint.category.{c['category']}", str(c["category"])),
                    "status": label(f"complaint.state.{c['status']}", str(c["status"])),
                    "channel_label": label(f"sim.channel.{c['channel']}", str(c["channel"])),
                    "payee_masked": str(c["payee_masked"]),
                    "created": _local_time(sim.profile, str(c["created_at"]), language),
                    "sla_seconds_left": c["sla_seconds_left"],
                }
                for c in complaints
            ],
        },
        dumps=_dumps,
    )


async def demo_reset(request: web.Request) -> web.Response:
    """The "reset demo data" button: the backend puts the demo ledger back as the seed made
    it (billing/demo_routes.py), every demo code payable again. JSON only, so no other site's
    form can post it (a cross-site JSON POST needs a CORS preflight this gateway never
    answers)."""
    sim = request.app[SIMULATOR]
    language = _language(request)
    if request.content_type != "application/json":
        return _refuse("send application/json", 415)
    try:
        done = await sim.billing.demo_reset()
    except BillingError as exc:
        log.warning("demo reset failed", error=str(exc))
        return web.json_response(
            {"error": translate("sim.demo.reset_failed", language)}, status=502, dumps=_dumps
        )
    log.info("demo data reset from the simulator", accounts=done.get("accounts"))
    return web.json_response(
        {"reset": True, "message": translate("sim.demo.reset_done", language)}, dumps=_dumps
    )


# ---- the IVR relay ----------------------------------------------------------------------

RELAY_PATHS = frozenset({"/ivr/voice", "/ivr/gather", "/ivr/silence", "/ivr/status"})
RELAY_MAX_PARAMS = 32
RELAY_MAX_VALUE = 1024
RELAY_TIMEOUT_S = 15.0


def _refuse(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


def _own_address(request: web.Request) -> str | None:
    """The socket this request came in on: the relay posts back to it. Never the Host
    header, which the caller writes and could point anywhere."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return None
    host, port = str(sockname[0]), int(sockname[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def ivr_relay(request: web.Request) -> web.Response:
    """POST {url, params}: sign as Twilio would and forward to our own /ivr/* handler; the
    answer is the handler's TwiML (or its status, as Twilio would see it)."""
    sim = request.app[SIMULATOR]
    try:
        body = await request.json()
    except ValueError:
        return _refuse("body is not JSON")
    if not isinstance(body, dict):
        return _refuse("body is not an object")
    url, params = body.get("url"), body.get("params", {})
    if not isinstance(url, str):
        return _refuse("url is required")
    if (
        not isinstance(params, dict)
        or len(params) > RELAY_MAX_PARAMS
        or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= RELAY_MAX_VALUE
            for k, v in params.items()
        )
    ):
        return _refuse("params must be an object of strings")
    # Only action URLs this gateway itself issued (PUBLIC_BASE_URL + /ivr/...): the "/" after
    # the base stops "https://base.example.evil/…" from passing as the base.
    if not url.startswith(sim.public_base + "/"):
        return _refuse("url must start with PUBLIC_BASE_URL")
    rest = url[len(sim.public_base) :]
    if rest.split("?", 1)[0] not in RELAY_PATHS:
        return _refuse("url must be one of the /ivr/ webhooks")
    own = _own_address(request)
    if own is None or sim.http is None:
        return _refuse("relay not ready", 503)
    signature = RequestValidator(sim.settings.twilio_auth_token).compute_signature(url, params)
    try:
        async with sim.http.post(
            own + rest, data=params, headers={"X-Twilio-Signature": signature}
        ) as answer:
            text = await answer.text()
            status = answer.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("simulator relay failed", error=str(exc))
        return _refuse("the gateway did not answer", 502)
    if status == 204:
        return web.Response(status=204)
    return web.Response(status=status, text=text, content_type="text/xml")


# ---- mounting -----------------------------------------------------------------------------


def add_routes(
    app: web.Application, settings: Settings, profile: Profile, billing: BillingClient
) -> None:
    """Mount the simulator; nothing at all when SIMULATOR_ENABLED is false (the relay signs
    requests, and recent payments are nobody's business on a public gateway)."""
    if not settings.simulator_enabled:
        return
    sim = Simulator(settings, profile, billing)
    app[SIMULATOR] = sim

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        sim.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RELAY_TIMEOUT_S))
        sampler = asyncio.create_task(_sample_forever(sim.sampler))
        yield
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await sim.http.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/", simulator_page)
    app.router.add_get("/operator", operator_page)
    app.router.add_get("/simulator/metrics.json", metrics_json)
    app.router.add_get("/simulator/operator.json", operator_json)
    app.router.add_post("/simulator/ivr", ivr_relay)
    app.router.add_post("/simulator/demo-reset", demo_reset)
    app.router.add_get("/simulator/walks", walks_text)
    app.router.add_static("/static/", STATIC_DIR)


async def _sample_forever(sampler: MetricsSampler) -> None:
    while True:
        await asyncio.sleep(SAMPLE_EVERY_S)
        sampler.sample()
