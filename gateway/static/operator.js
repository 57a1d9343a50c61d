// The operator view: sessions started, payments per minute and hop latency from the gateway's
// Prometheus registry (/operator/metrics.json), the live sessions from the state store
// (/operator/sessions.json), recent payments and complaints from the billing backend
// (/operator/recent.json), and one complaint's history on demand
// (/operator/complaints/<ticket>.json). Polled; charts are plain SVG. The browser sends the
// operator token it was asked for (HTTP Basic) with each of these requests by itself.
"use strict";

const { config, t, el } = Sim;
const POLL_MS = 3000;
const SVG = "http://www.w3.org/2000/svg";
// One colour per channel, the same in both charts and the legend.
const COLOURS = {
  ussd: "#2f6f4f", ivr: "#9b4d1f", web: "#2b5c9e", whatsapp: "#1fa855", sms: "#8a3f9b",
};
const state = { complaints: [], fetchedAt: 0, ticket: null };

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function channelName(channel) {
  return config.labels["channel." + channel] || channel;
}

function colour(channel) {
  return COLOURS[channel] || "#666";
}

function emptyRow(tbody, columns) {
  tbody.append(el("tr", { class: "empty" }, el("td", { colspan: String(columns), text: t("op.none") })));
}

function renderLive(metrics) {
  const tbody = document.getElementById("op-live-rows");
  tbody.replaceChildren();
  for (const channel of metrics.channels) {
    const live = metrics.live[channel];
    const label = live.kind === "sessions" ? t("op.sessions") : t("op.messages");
    const row = el("tr", { "data-channel": channel },
      el("th", { text: channelName(channel) }),
      el("td", { class: "count", text: String(live.count) }),
      el("td", { class: "fine", text: label }));
    tbody.append(row);
  }
}

// Stacked bars, one per minute, oldest on the reading side's start.
function renderPayments(metrics) {
  const box = document.getElementById("chart-payments");
  const minutes = metrics.chart_minutes;
  const totals = Array.from({ length: minutes }, (_, i) =>
    metrics.channels.reduce((sum, c) => sum + metrics.payments_per_minute[c][i], 0));
  const top = Math.max(1, ...totals);
  // Drawn in the container's own pixels, so the labels stay at their font size.
  const width = Math.max(200, Math.round(box.clientWidth || 300));
  const height = 120;
  const bar = width / minutes;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height + 14}`, role: "img", class: "bars" });
  chart.append(svg("line", { x1: 0, y1: height, x2: width, y2: height, class: "axis" }));
  chart.append(svg("text", { x: 2, y: 10, class: "tick" }, String(top)));
  chart.append(svg("line", { x1: 0, y1: 14, x2: width, y2: 14, class: "grid" }));
  for (let i = 0; i < minutes; i += 1) {
    // Time runs left to right in both languages, like any chart's axis.
    let y = height;
    for (const channel of metrics.channels) {
      const count = metrics.payments_per_minute[channel][i];
      if (!count) continue;
      const h = (count / top) * (height - 14);
      y -= h;
      chart.append(svg("rect", {
        x: (i * bar + 1).toFixed(1), y: y.toFixed(1), width: (bar - 2).toFixed(1),
        height: h.toFixed(1), fill: colour(channel), "data-channel": channel,
        "data-minute": String(i), "data-count": String(count),
      }, svg("title", {}, `${channelName(channel)}: ${count}`)));
    }
  }
  chart.append(svg("text", { x: 0, y: height + 12, class: "tick" }, `-${minutes}m`));
  chart.append(svg("text", { x: width, y: height + 12, class: "tick end" }, "0"));
  const legend = el("ul", { class: "legend" });
  for (const channel of metrics.channels) {
    const sum = metrics.payments_per_minute[channel].reduce((a, b) => a + b, 0);
    const item = el("li", { "data-channel": channel, "data-total": String(sum) },
      el("span", { class: "swatch", style: `background:${colour(channel)}` }),
      `${channelName(channel)}: ${sum}`);
    legend.append(item);
  }
  box.replaceChildren(chart, legend);
}

// A figure with its unit, isolated left-to-right (LRI … PDI) so "5 ms" does not turn into
// "ms 5" inside Arabic text.
function ms(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const shown = seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(2)} s`;
  return "\u2066" + shown + "\u2069";
}

// Per channel: a line of figures (HTML, so Arabic and numbers read in the page's direction),
// then the p95 bar (pale) and the median bar, all channels on one scale.
function renderLatency(metrics) {
  const box = document.getElementById("chart-latency");
  const top = Math.max(0.001, ...metrics.channels.map((c) => metrics.latency[c].p95_s || 0));
  const rows = metrics.channels.map((channel) => {
    const latency = metrics.latency[channel];
    const bar = (seconds, y, opacity, label) => svg("rect", {
      x: 0, y, width: (((seconds || 0) / top) * 100).toFixed(2), height: 6,
      fill: colour(channel), opacity,
    }, svg("title", {}, `${label}: ${ms(seconds)}`));
    const bars = svg("svg", { viewBox: "0 0 100 14", preserveAspectRatio: "none", class: "latency-bars" },
      bar(latency.p95_s, 0, 0.45, t("op.p95")), bar(latency.p50_s, 8, 1, t("op.median")));
    return el("div", { class: "latency-row", "data-channel": channel, "data-hops": String(latency.count) },
      el("p", {
        text: `${channelName(channel)} · ${t("op.median")} ${ms(latency.p50_s)} · ` +
          `${t("op.p95")} ${ms(latency.p95_s)} · ${t("op.hops", { count: latency.count })}`,
      }),
      bars);
  });
  box.replaceChildren(...rows);
}

function renderPaymentRows(payments) {
  const tbody = document.getElementById("op-payment-rows");
  tbody.replaceChildren();
  if (!payments.length) emptyRow(tbody, 5);
  for (const p of payments) {
    tbody.append(el("tr", { "data-receipt": p.receipt_number, "data-channel": p.channel },
      el("td", {}, el("code", { dir: "ltr", text: p.receipt_number })),
      el("td", { text: p.payee_masked }),
      el("td", { class: "amount", text: p.amount }),
      el("td", { text: p.channel_label }),
      // Dates in Arabic-Indic digits would be reordered by the bidi algorithm: kept LTR.
      el("td", { class: "time" }, el("bdi", { dir: "ltr", text: p.time }))));
  }
}

function clock(seconds) {
  const s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  const m = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const sec = String(s % 60).padStart(2, "0");
  return `${h}:${m}:${sec}`;
}

// SLA clocks tick every second between polls, from the backend's seconds-left figure.
function renderSla() {
  const elapsed = (Date.now() - state.fetchedAt) / 1000;
  for (const cell of document.querySelectorAll("#op-complaint-rows td.sla")) {
    const left = cell.dataset.left;
    if (left === "") {
      cell.textContent = t("op.sla_closed");
      continue;
    }
    const now = Number(left) - elapsed;
    cell.classList.toggle("overdue", now < 0);
    cell.textContent = now < 0
      ? t("op.sla_overdue", { value: clock(now) })
      : t("op.sla_left", { value: clock(now) });
  }
}

function renderComplaintRows(complaints) {
  const tbody = document.getElementById("op-complaint-rows");
  tbody.replaceChildren();
  if (!complaints.length) emptyRow(tbody, 5);
  for (const c of complaints) {
    const left = c.sla_seconds_left === null ? "" : String(c.sla_seconds_left);
    const open = el("a", { href: "#op-complaint", class: "ticket" },
      el("code", { dir: "ltr", text: c.ticket_number }));
    open.addEventListener("click", () => {
      document.getElementById("op-ticket").value = c.ticket_number;
      follow(c.ticket_number);
    });
    tbody.append(el("tr", { "data-ticket": c.ticket_number },
      el("td", {}, open),
      el("td", { text: c.category }),
      el("td", { text: c.status }),
      el("td", { text: c.channel_label }),
      el("td", { class: "sla", "data-left": left })));
  }
  renderSla();
}

// Live sessions: age as m:ss, counted on from the poll; the code only ever masked.
function renderSessions(sessions) {
  const tbody = document.getElementById("op-session-rows");
  tbody.replaceChildren();
  if (!sessions.length) emptyRow(tbody, 6);
  for (const s of sessions) {
    const step = el("code", { dir: "ltr", text: s.step });
    tbody.append(el("tr", {
      "data-session": s.session, "data-channel": s.channel, "data-step": s.step,
      class: s.ended ? "ended" : "",
    },
      el("td", { text: s.channel_label }),
      el("td", {}, el("code", { dir: "ltr", text: s.session })),
      el("td", {}, step, s.ended ? el("span", { class: "fine", text: " · " + t("op.ended") }) : null),
      el("td", { class: "age" }, el("bdi", { dir: "ltr", text: clock(s.age_s) })),
      el("td", { class: "code" }, s.code ? el("code", { dir: "ltr", text: s.code }) : "–"),
      el("td", { class: "inputs", text: String(s.inputs) })));
  }
}

// One complaint, oldest event first: when, which status, from where, and whether the person
// was told (the notice's state).
function renderHistory(history) {
  const box = document.getElementById("op-history");
  const events = el("ol", { class: "history" });
  for (const e of history.events) {
    const notice = e.notice
      ? el("span", { class: "fine notice" }, ` · ${t("op.notice")}: `,
        el("code", { dir: "ltr", text: e.notice.state }), " ",
        el("bdi", { dir: "ltr", text: e.notice.time }))
      : null;
    events.append(el("li", { "data-status": e.status, "data-source": e.source },
      el("bdi", { class: "time", dir: "ltr", text: e.time }), " ",
      el("strong", { text: e.status_label }), ` · ${e.source_label}`, notice));
  }
  box.replaceChildren(
    el("p", { "data-ticket": history.ticket_number },
      el("code", { dir: "ltr", text: history.ticket_number }),
      ` · ${history.category} · ${history.status_label} · ${history.payee_masked}` +
        ` · ${history.channel_label}`),
    events);
}

// Ticket numbers typed in Arabic-Indic (or Persian) digits mean the same digits.
function asciiDigits(text) {
  return text.replace(/[\u0660-\u0669\u06f0-\u06f9]/g,
    (d) => String(d.charCodeAt(0) & 0xf));
}

async function follow(typed) {
  const box = document.getElementById("op-history");
  const ticket = asciiDigits(typed);
  state.ticket = ticket;
  if (!/^[0-9]{1,20}$/.test(ticket)) {
    box.replaceChildren(el("p", { class: "error", text: t("op.no_such_ticket") }));
    return;
  }
  const query = "?lang=" + encodeURIComponent(config.lang);
  try {
    const response = await fetch(`/operator/complaints/${ticket}.json${query}`);
    const body = await response.json();
    if (state.ticket !== ticket) return;  // another ticket was asked for meanwhile
    if (response.ok) renderHistory(body);
    else box.replaceChildren(el("p", { class: "error", text: body.error || t("gateway_error") }));
  } catch (error) {
    box.replaceChildren(el("p", { class: "error", text: t("gateway_error") }));
  }
}

function showError(section, message) {
  const card = document.getElementById(section);
  card.querySelector(".error")?.remove();
  if (message) card.append(el("p", { class: "error", text: message }));
}

async function poll() {
  const query = "?lang=" + encodeURIComponent(config.lang);
  const [metrics, operator, sessions] = await Promise.allSettled([
    fetch("/operator/metrics.json").then((r) => r.json()),
    fetch("/operator/recent.json" + query).then(async (r) => [r.ok, await r.json()]),
    fetch("/operator/sessions.json" + query).then((r) => r.json()),
  ]);
  if (sessions.status === "fulfilled" && sessions.value.sessions) {
    renderSessions(sessions.value.sessions);
    showError("op-sessions", null);
  } else {
    showError("op-sessions", t("gateway_error"));
  }
  if (metrics.status === "fulfilled") {
    renderLive(metrics.value);
    renderPayments(metrics.value);
    renderLatency(metrics.value);
    showError("op-live", null);
  } else {
    showError("op-live", t("gateway_error"));
  }
  if (operator.status === "fulfilled" && operator.value[0]) {
    state.fetchedAt = Date.now();
    renderPaymentRows(operator.value[1].payments);
    renderComplaintRows(operator.value[1].complaints);
    showError("op-payments", null);
  } else {
    const message = operator.status === "fulfilled" ? operator.value[1].error : t("gateway_error");
    showError("op-payments", message);
  }
  const stamp = new Date().toLocaleTimeString(config.lang === "ar" ? "ar-EG" : "en-GB");
  document.getElementById("op-updated").textContent = t("op.updated", { date: stamp });
  document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("op-follow-form").addEventListener("submit", (event) => {
    event.preventDefault();
    follow(document.getElementById("op-ticket").value.trim());
  });
  poll();
  setInterval(poll, POLL_MS);
  setInterval(renderSla, 1000);
});
