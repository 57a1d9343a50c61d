"""The operator view's page (`/operator`): the figures, live sessions, recent payments and
complaints, and one complaint's history on demand. The page is a frame; operator.js fills it
from the JSON in gateway/operator/data.py, polling."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.metrics_sampling import CHART_MINUTES, LIVE_WINDOW_S
from gateway.page_shell import header, labels, page, page_language, plurals, t

SCRIPTS = ("common.js", "operator.js")


def _config(language: str) -> dict[str, Any]:
    return {"lang": language, "labels": labels(language), "plurals": plurals(language)}


async def operator_page(request: web.Request) -> web.Response:
    language = page_language(request)
    title = t("sim.op.title", language)

    def heads(*keys: str) -> str:
        return "".join(f"<th>{t(key, language)}</th>" for key in keys)

    body = f"""{header(request, language, "/operator", title)}
<main class="layout operator">
  <section class="card" id="op-live">
    <h2>{t("sim.op.live", language, min=LIVE_WINDOW_S // 60)}</h2>
    <table><tbody id="op-live-rows"></tbody></table>
  </section>
  <section class="card wide" id="op-sessions">
    <h2>{t("sim.op.sessions_live", language)}</h2>
    <div class="scroll"><table><thead><tr>{
        heads(
            "sim.op.channel",
            "sim.op.session",
            "sim.op.step",
            "sim.op.age",
            "sim.op.code",
            "sim.op.inputs",
        )
    }</tr></thead><tbody id="op-session-rows"></tbody></table></div>
  </section>
  <section class="card wide" id="op-payments-chart">
    <h2>{t("sim.op.payments_chart", language, count=CHART_MINUTES)}</h2>
    <div class="chart" id="chart-payments"></div>
  </section>
  <section class="card wide" id="op-latency-chart">
    <h2>{t("sim.op.latency_chart", language, count=CHART_MINUTES)}</h2>
    <div class="chart" id="chart-latency"></div>
  </section>
  <section class="card wide" id="op-payments">
    <h2>{t("sim.op.payments", language)}</h2>
    <div class="scroll"><table><thead><tr>{
        heads("sim.op.receipt", "sim.demo.payee", "sim.op.amount", "sim.op.channel", "sim.op.time")
    }</tr></thead><tbody id="op-payment-rows"></tbody></table></div>
  </section>
  <section class="card wide" id="op-complaints">
    <h2>{t("sim.op.complaints", language)}</h2>
    <div class="scroll"><table><thead><tr>{
        heads("sim.op.ticket", "sim.op.category", "sim.op.status", "sim.op.channel", "sim.op.sla")
    }</tr></thead><tbody id="op-complaint-rows"></tbody></table></div>
  </section>
  <section class="card wide" id="op-complaint">
    <h2>{t("sim.op.follow", language)}</h2>
    <form class="row" id="op-follow-form" autocomplete="off">
      <label>{t("sim.op.ticket", language)}
        <input id="op-ticket" inputmode="numeric" dir="ltr" size="12" maxlength="20"></label>
      <button id="op-follow" type="submit">{t("sim.op.follow_show", language)}</button>
    </form>
    <div id="op-history" aria-live="polite"></div>
  </section>
  <p class="fine" id="op-updated"></p>
</main>"""
    text = page(language, title, body, _config(language), SCRIPTS)
    return web.Response(text=text, content_type="text/html")
