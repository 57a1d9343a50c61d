"""The simulator page (`/`): Tasdeed without a phone, in simulator mode only.

Everything the page does goes through the gateway's real endpoints: USSD to `/ussd/at` in
Africa's Talking's form fields, chat to `/chat/web`, calls to `/ivr/*` through the signing
relay (gateway/simulator/relay.py). It also lists the demo codes with the button that resets
them (gateway/simulator/demo_reset.py), the profiles, and the walk table as a diagram.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from gateway.page_shell import (
    header,
    labels,
    ltr,
    money,
    page,
    page_language,
    plurals,
    t,
)
from gateway.simulator.state import SIMULATOR, Simulator
from gateway.simulator.walks import walks_section
from tasdeed.billing_client import BillingError
from tasdeed.logs import get_logger
from tasdeed.profile import Profile, available_profiles, load_profile

log = get_logger("gateway.simulator.page")
SCRIPTS = ("common.js", "simulator.js")

# Simulated subscriber lines per country: dialling prefix, random digits after it, and an
# Africa's Talking networkCode (MCC+MNC) of a real operator there.
SIM_LINES = {"EG": ("+2010", 8, "60202"), "KW": ("+9656", 7, "41902"), "SA": ("+9665", 8, "42001")}


def _profiles_section(profile: Profile, language: str) -> str:
    items = []
    for profile_id in available_profiles():
        other = load_profile(profile_id)
        name = other.utility_name_ar if language == "ar" else other.utility_name_en
        active = profile_id == profile.id
        marker = f' <strong class="badge">{t("sim.profile.active", language)}</strong>'
        items.append(
            f'<li data-profile="{profile_id}"{" class=active" if active else ""}>'
            f"<code>{profile_id}</code> {html.escape(name)}{marker if active else ''}</li>"
        )
    return (
        '<section class="card" id="profiles">'
        f"<h2>{t('sim.profile.title', language)}</h2><ul class=profiles>{''.join(items)}</ul>"
        f"<p class=note>{t('sim.profile.note', language)} "
        '<code dir="ltr">TASDEED_PROFILE=kw make run</code></p></section>'
    )


def _demo_section(profile: Profile, demos: list[dict[str, Any]] | None, language: str) -> str:
    if demos is None:
        rows = f"<p class=error>{t('sim.billing_unavailable', language)}</p>"
    else:
        cells = ""
        for demo in demos:
            due = money(profile, int(demo["amount_due_minor"]), str(demo["currency"]), language)
            cells += (
                f'<tr><td><code class="demo-code" dir="ltr">{html.escape(str(demo["code"]))}'
                f"</code></td><td>{html.escape(str(demo['payee_masked']))}</td>"
                f"<td>{html.escape(due)}</td></tr>"
            )
        rows = (
            '<table class="demo"><thead><tr>'
            f"<th>{t('sim.demo.code', language)}</th><th>{t('sim.demo.payee', language)}</th>"
            f"<th>{t('sim.demo.due', language)}</th></tr></thead><tbody>{cells}</tbody></table>"
        )
    # Only on this page, which exists only in simulator mode (SIMULATOR_ENABLED).
    reset = (
        f'<div class="row"><button id="demo-reset" type="button">'
        f"{t('sim.demo.reset', language)}</button></div>"
        '<p class="fine" id="demo-reset-status" aria-live="polite"></p>'
    )
    return (
        f'<section class="card" id="demo-codes"><h2>{t("sim.demo.title", language)}</h2>'
        f"{rows}{reset}</section>"
    )


def _ussd_section(profile: Profile, language: str) -> str:
    code = html.escape(profile.ussd_service_code)
    return f"""
<section class="card sim" id="ussd">
  <h2>{t("sim.ussd.title", language)}</h2>
  <div class="handset">
    <div class="screen" id="ussd-screen" dir="auto" aria-live="polite">{
        t("sim.ussd.idle", language, code=ltr(profile.ussd_service_code))
    }</div>
    <div class="screen-meta"><span id="ussd-counter"></span> <span id="ussd-encoding"></span></div>
    <div class="row">
      <label>{t("sim.ussd.short_code", language)}
        <input id="ussd-code" value="{code}" dir="ltr" size="8" autocomplete="off"></label>
      <button id="ussd-dial" type="button" class="go">{t("sim.ussd.dial", language)}</button>
      <button id="ussd-cancel" type="button" disabled>{t("sim.ussd.cancel", language)}</button>
    </div>
    <form class="row" id="ussd-form" autocomplete="off">
      <label>{t("sim.ussd.reply", language)}
        <input id="ussd-reply" inputmode="numeric" dir="ltr" size="14" disabled></label>
      <button id="ussd-send" type="submit" disabled>{t("sim.send", language)}</button>
    </form>
    <p class="fine">{t("sim.ussd.phone", language)}: <span id="ussd-phone" dir="ltr"></span></p>
  </div>
</section>"""


def _chat_section(language: str) -> str:
    return f"""
<section class="card sim" id="chat">
  <h2>{t("sim.chat.title", language)}</h2>
  <div class="messenger whatsapp" id="chat-app">
    <div class="switch" role="radiogroup">
      <label><input type="radio" name="chat-mode" value="whatsapp" id="chat-mode-whatsapp"
        checked> {t("sim.chat.whatsapp", language)}</label>
      <label><input type="radio" name="chat-mode" value="sms" id="chat-mode-sms">
        {t("sim.chat.sms", language)}</label>
    </div>
    <div class="messages" id="chat-messages" aria-live="polite"></div>
    <form class="composer" id="chat-form" autocomplete="off">
      <input id="chat-input" dir="auto" placeholder="{t("sim.chat.placeholder", language)}">
      <button id="chat-send" type="submit">{t("sim.send", language)}</button>
    </form>
  </div>
</section>"""


def _call_section(profile: Profile, language: str) -> str:
    keys = "".join(
        f'<button type="button" class="key" data-key="{k}">{k}</button>' for k in "123456789*0#"
    )
    return f"""
<section class="card sim" id="call">
  <h2>{t("sim.call.title", language)}</h2>
  <div class="phone-call">
    <div class="row">
      <button id="call-start" type="button" class="go">{
        t("sim.call.start", language, line=profile.contact_line)
    }</button>
      <button id="call-hangup" type="button" class="stop" disabled>{
        t("sim.call.hangup", language)
    }</button>
    </div>
    <label class="fine"><input type="checkbox" id="call-speak" checked> {
        t("sim.call.speak", language)
    }</label>
    <div class="transcript" id="call-transcript" aria-live="polite"></div>
    <p class="status" id="call-status"></p>
    <div class="entered" id="call-entered" dir="ltr"></div>
    <div class="keypad" dir="ltr" aria-label="{t("sim.call.keypad", language)}">{keys}</div>
    <form class="row" id="call-speech-form" autocomplete="off">
      <input id="call-speech" dir="auto" placeholder="{t("sim.call.speech", language)}">
      <button id="call-say" type="submit">{t("sim.call.say", language)}</button>
    </form>
    <button id="call-silence" type="button">{t("sim.call.silence", language)}</button>
  </div>
</section>"""


def page_config(sim: Simulator, language: str) -> dict[str, Any]:
    prefix, digits, network = SIM_LINES.get(sim.profile.country, ("+1555", 7, "00101"))
    return {
        "lang": language,
        "labels": labels(language),
        "plurals": plurals(language),
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
    language = page_language(request)
    demos: list[dict[str, Any]] | None
    try:
        demos = await sim.billing.demo_codes()
    except BillingError as exc:
        log.warning("simulator page without demo codes", error=str(exc))
        demos = None
    name = sim.profile.utility_name_ar if language == "ar" else sim.profile.utility_name_en
    title = t("sim.title", language)
    body = (
        header(request, language, "/", title)
        + '<main class="layout">'
        + f'<section class="card intro"><p><strong>{html.escape(name)}</strong> '
        + f'(<code id="active-profile">{sim.profile.id}</code>)</p>'
        + f"<p>{t('sim.intro', language)}</p>"
        + f"<p class=fine>{t('sim.offline_note', language)}</p></section>"
        + _ussd_section(sim.profile, language)
        + _chat_section(language)
        + _call_section(sim.profile, language)
        + _demo_section(sim.profile, demos, language)
        + _profiles_section(sim.profile, language)
        + walks_section(sim.profile, language)
        + "</main>"
    )
    text = page(language, title, body, page_config(sim, language), SCRIPTS)
    return web.Response(text=text, content_type="text/html")
