// The simulator page: a feature phone on USSD, a messaging app on chat, a phone call on the
// IVR. Each talks to the gateway's real endpoints in the real wire formats; only the call
// goes through /simulator/ivr, because Twilio's signature needs the auth token.
"use strict";

const { config, t, el } = Sim;
const profile = config.profile;

// ---- USSD: Africa's Talking's callback, as the aggregator would POST it -------------------

const ussd = {
  sessionId: null,
  inputs: [],
  serviceCode: profile.ussd_service_code,
  phone: profile.phone_prefix + Sim.randomDigits(profile.phone_digits),
  busy: false,
};

function ussdShow(text, ended) {
  const screen = document.getElementById("ussd-screen");
  screen.textContent = text;
  screen.classList.toggle("ended", ended);
  const limit = Sim.ussdLimit(text);
  const counter = document.getElementById("ussd-counter");
  counter.textContent = t("ussd.counter", { count: limit.count, max: limit.max });
  counter.dataset.count = String(limit.count);
  counter.dataset.max = String(limit.max);
  counter.classList.toggle("over", limit.count > limit.max);
  document.getElementById("ussd-encoding").textContent =
    limit.encoding === "GSM" ? t("ussd.gsm") : t("ussd.ucs2");
  const open = !ended;
  document.getElementById("ussd-reply").disabled = !open;
  document.getElementById("ussd-send").disabled = !open;
  document.getElementById("ussd-cancel").disabled = !open;
  document.getElementById("ussd-dial").disabled = open;
  document.getElementById("ussd").dataset.state = ended ? "ended" : "open";
  if (ended) {
    document.getElementById("ussd-status-ended")?.remove();
    screen.after(el("p", { class: "ended-note", id: "ussd-status-ended", text: t("ussd.ended") }));
  } else {
    document.getElementById("ussd-status-ended")?.remove();
    document.getElementById("ussd-reply").focus();
  }
}

async function ussdSend() {
  if (ussd.busy) return;
  ussd.busy = true;
  // Every request carries every input so far joined by "*", as Africa's Talking sends it.
  const form = new URLSearchParams({
    sessionId: ussd.sessionId,
    serviceCode: ussd.serviceCode,
    phoneNumber: ussd.phone,
    networkCode: profile.network_code,
    text: ussd.inputs.join("*"),
  });
  try {
    const response = await fetch("/ussd/at", { method: "POST", body: form });
    const body = await response.text();
    if (body.startsWith("CON ")) ussdShow(body.slice(4), false);
    else if (body.startsWith("END ")) ussdShow(body.slice(4), true);
    else ussdShow(body, true);
  } catch (error) {
    ussdShow(t("gateway_error"), true);
  } finally {
    ussd.busy = false;
  }
}

function ussdDial() {
  ussd.serviceCode = document.getElementById("ussd-code").value.trim() || profile.ussd_service_code;
  ussd.sessionId = "ATUid_" + Sim.randomHex(16);
  ussd.inputs = [];
  ussdSend();
}

function ussdReply(event) {
  event.preventDefault();
  const box = document.getElementById("ussd-reply");
  if (box.disabled) return;
  ussd.inputs.push(box.value.trim());
  box.value = "";
  ussdSend();
}

async function ussdCancel() {
  // The person pressed "cancel": Africa's Talking tells the app with its session event.
  const form = new URLSearchParams({ sessionId: ussd.sessionId, status: "Failed" });
  try {
    await fetch("/ussd/at/events", { method: "POST", body: form });
  } finally {
    ussdShow("", true);
  }
}

// ---- chat: the web chat endpoint, looking like WhatsApp or like SMS -------------------------

const chat = {
  sender: "sim-" + Sim.randomHex(8),
  mode: "whatsapp",
  messages: [], // {from: "me" | "bot", text, image}
};

function chatRender() {
  const list = document.getElementById("chat-messages");
  list.replaceChildren();
  const sms = chat.mode === "sms";
  for (const message of chat.messages) {
    const bubble = el("div", { class: "bubble " + message.from, dir: "auto" });
    if (message.text) bubble.append(el("div", { class: "text", text: message.text }));
    if (message.image && !sms) {
      bubble.append(el("img", { class: "receipt", src: message.image, alt: t("chat.receipt_image") }));
    }
    if (message.image && sms) {
      bubble.append(el("div", { class: "meta", text: t("chat.no_image") }));
    }
    if (sms && message.from === "bot" && message.text) {
      const count = Sim.smsSegments(message.text);
      const meta = el("div", {
        class: "meta segments",
        text: t("chat.segments", { count: count.segments }) + " · " + count.encoding,
      });
      meta.dataset.segments = String(count.segments);
      bubble.append(meta);
    }
    list.append(bubble);
  }
  list.scrollTop = list.scrollHeight;
}

async function chatPost(body) {
  // One retry with the same message_id: the gateway answers a repeat from its store.
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch("/chat/web", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error("status " + response.status);
      return await response.json();
    } catch (error) {
      if (attempt >= 1) throw error;
    }
  }
}

async function chatSend(event) {
  event.preventDefault();
  const box = document.getElementById("chat-input");
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  chat.messages.push({ from: "me", text });
  chatRender();
  const app = document.getElementById("chat-app");
  app.dataset.pending = String(Number(app.dataset.pending || 0) + 1);
  try {
    const answer = await chatPost({
      sender: chat.sender,
      message: text,
      message_id: "web-" + Sim.randomHex(12),
    });
    for (const reply of answer.replies) {
      chat.messages.push({ from: "bot", text: reply.text, image: reply.image });
    }
  } catch (error) {
    chat.messages.push({ from: "bot", text: t("gateway_error"), error: true });
  } finally {
    app.dataset.pending = String(Number(app.dataset.pending) - 1);
    chatRender();
  }
}

function chatMode(event) {
  chat.mode = event.target.value;
  const app = document.getElementById("chat-app");
  app.classList.toggle("sms", chat.mode === "sms");
  app.classList.toggle("whatsapp", chat.mode === "whatsapp");
  chatRender();
}

// ---- the call: Twilio's part played in the page, TwiML parsed with DOMParser ----------------

const call = {
  sid: null,
  from: null,
  active: false,
  busy: false,
  gather: null, // {action, method, numDigits, finishOnKey}
  redirect: null, // {url, method}
  entered: "",
};

function callLine(who, text, extra) {
  const line = el("p", { class: "line " + who, dir: "auto" });
  line.append(el("span", { class: "who", text: (who === "system" ? t("call.system") : t("chat.you")) + ": " }));
  line.append(el("span", { class: "said", text }));
  if (extra) line.classList.add(extra);
  const transcript = document.getElementById("call-transcript");
  transcript.append(line);
  transcript.scrollTop = transcript.scrollHeight;
}

function callStatus(text) {
  document.getElementById("call-status").textContent = text;
}

function speak(texts) {
  if (!document.getElementById("call-speak").checked || !("speechSynthesis" in window)) return;
  try {
    window.speechSynthesis.cancel();
    for (const { text, language } of texts) {
      const utterance = new SpeechSynthesisUtterance(text);
      // Polly's "arb" is Modern Standard Arabic; the browser knows it as "ar".
      utterance.lang = language === "arb" ? "ar" : language || config.lang;
      window.speechSynthesis.speak(utterance);
    }
  } catch (error) {
    // Speech is a nicety; the prompts are on the screen either way.
  }
}

function callParams(extra) {
  return Object.assign(
    {
      CallSid: call.sid,
      AccountSid: "AC" + "0".repeat(32),
      From: call.from,
      To: profile.contact_line,
      CallStatus: "in-progress",
      Direction: "inbound",
      ApiVersion: "2010-04-01",
    },
    extra || {},
  );
}

async function relay(url, params) {
  const response = await fetch("/simulator/ivr", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ url, params }),
  });
  if (response.status === 204) return "";
  const text = await response.text();
  if (!response.ok) throw new Error("relay answered " + response.status + ": " + text);
  return text;
}

function callSetActive(active) {
  call.active = active;
  document.getElementById("call-start").disabled = active;
  document.getElementById("call-hangup").disabled = !active;
  document.getElementById("call").dataset.state = active ? "in-call" : "ended";
  for (const button of document.querySelectorAll("#call .key, #call-say, #call-silence")) {
    button.disabled = !active;
  }
  document.getElementById("call-speech").disabled = !active;
}

async function callEnd(note) {
  if (!call.active) return;
  callSetActive(false);
  call.gather = null;
  call.redirect = null;
  callStatus(note || t("call.ended"));
  // Twilio's status callback once the call is over (README: point it at /ivr/status).
  try {
    await relay(config.public_base_url + "/ivr/status", callParams({ CallStatus: "completed" }));
  } catch (error) {
    // The call is over for the person either way.
  }
}

// Twilio runs the verbs in order: Say speaks, Gather waits for input (its Says inside),
// Redirect fetches the next TwiML, Dial bridges to the agent, Hangup ends the call.
async function callPlay(twiml) {
  const doc = new DOMParser().parseFromString(twiml, "text/xml");
  const root = doc.documentElement;
  if (doc.getElementsByTagName("parsererror").length || root.nodeName !== "Response") {
    throw new Error("not TwiML: " + twiml.slice(0, 80));
  }
  call.gather = null;
  call.redirect = null;
  call.entered = "";
  document.getElementById("call-entered").textContent = "";
  const spoken = [];
  const say = (node) => {
    const text = node.textContent.trim();
    if (!text) return;
    callLine("system", text);
    spoken.push({ text, language: node.getAttribute("language") });
  };
  let ending = null;
  for (const verb of root.children) {
    if (verb.nodeName === "Say") say(verb);
    else if (verb.nodeName === "Gather") {
      for (const inner of verb.children) if (inner.nodeName === "Say") say(inner);
      call.gather = {
        action: verb.getAttribute("action"),
        method: verb.getAttribute("method") || "POST",
        numDigits: Number(verb.getAttribute("numDigits") || 0),
        finishOnKey: verb.getAttribute("finishOnKey") ?? "#",
      };
      break; // what follows runs only after a silence, as the Redirect below
    } else if (verb.nodeName === "Dial") {
      ending = t("call.transfer", { line: verb.textContent.trim() });
      break;
    } else if (verb.nodeName === "Hangup") {
      ending = t("call.ended");
      break;
    } else if (verb.nodeName === "Redirect") {
      call.redirect = { url: verb.textContent.trim(), method: verb.getAttribute("method") || "POST" };
    }
  }
  if (call.gather) {
    // The Redirect after the Gather is where Twilio goes when the caller stays silent.
    const after = Array.from(root.children).find((v) => v.nodeName === "Redirect");
    if (after) call.redirect = { url: after.textContent.trim(), method: after.getAttribute("method") || "POST" };
  }
  speak(spoken);
  if (ending) {
    callLine("system", ending, "ending");
    await callEnd(ending);
    return;
  }
  if (call.gather) {
    callStatus(call.gather.numDigits === 1 ? t("call.press_key") : t("call.enter_digits"));
    document.getElementById("call").dataset.waiting = call.gather.numDigits === 1 ? "key" : "digits";
  } else if (call.redirect) {
    await callFollow(call.redirect.url, callParams());
  }
}

async function callFollow(url, params) {
  call.busy = true;
  document.getElementById("call").dataset.busy = "true";
  try {
    await callPlay(await relay(url, params));
  } catch (error) {
    callLine("system", t("gateway_error"), "error");
    await callEnd(t("gateway_error"));
  } finally {
    call.busy = false;
    document.getElementById("call").dataset.busy = "false";
  }
}

async function callStart() {
  call.sid = "CA" + Sim.randomHex(16);
  call.from = profile.phone_prefix + Sim.randomDigits(profile.phone_digits);
  document.getElementById("call-transcript").replaceChildren();
  callSetActive(true);
  await callFollow(config.public_base_url + "/ivr/voice", callParams({ CallStatus: "ringing" }));
}

async function callKey(key) {
  if (!call.active || call.busy || !call.gather) return;
  const gather = call.gather;
  if (key === gather.finishOnKey) {
    const digits = call.entered;
    if (!digits) {
      // Twilio: nothing entered and no action on an empty result, so on to the Redirect.
      await callSilence();
      return;
    }
    callLine("caller", t("call.pressed", { value: digits + key }));
    await callFollow(gather.action, callParams({ Digits: digits }));
    return;
  }
  call.entered += key;
  document.getElementById("call-entered").textContent = call.entered;
  if (gather.numDigits && call.entered.length >= gather.numDigits) {
    const digits = call.entered;
    callLine("caller", t("call.pressed", { value: digits }));
    await callFollow(gather.action, callParams({ Digits: digits }));
  }
}

async function callSay(event) {
  event.preventDefault();
  const box = document.getElementById("call-speech");
  const speech = box.value.trim();
  if (!speech || !call.active || call.busy || !call.gather) return;
  box.value = "";
  callLine("caller", t("call.said", { value: speech }));
  await callFollow(call.gather.action, callParams({ SpeechResult: speech, Confidence: "0.90" }));
}

async function callSilence() {
  if (!call.active || call.busy || !call.redirect) return;
  callLine("caller", t("call.silent"));
  await callFollow(call.redirect.url, callParams());
}

async function callHangup() {
  callLine("caller", t("call.hangup"));
  await callEnd(t("call.ended"));
}

// ---- demo data: back to the seed, every demo code payable again ---------------------------

async function demoReset() {
  const button = document.getElementById("demo-reset");
  const status = document.getElementById("demo-reset-status");
  button.disabled = true;
  status.textContent = t("demo.resetting");
  try {
    const response = await fetch("/simulator/demo-reset?lang=" + encodeURIComponent(config.lang), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    const body = await response.json();
    status.textContent = response.ok ? body.message : body.error;
    if (response.ok) setTimeout(() => window.location.reload(), 800);  // the codes, owed again
  } catch (error) {
    status.textContent = t("gateway_error");
  } finally {
    button.disabled = false;
  }
}

// ---- wiring -------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("ussd-phone").textContent = ussd.phone;
  document.getElementById("ussd-dial").addEventListener("click", ussdDial);
  document.getElementById("ussd-form").addEventListener("submit", ussdReply);
  document.getElementById("ussd-cancel").addEventListener("click", ussdCancel);
  document.getElementById("chat-form").addEventListener("submit", chatSend);
  for (const radio of document.querySelectorAll('input[name="chat-mode"]')) {
    radio.addEventListener("change", chatMode);
  }
  document.getElementById("call-start").addEventListener("click", callStart);
  document.getElementById("call-hangup").addEventListener("click", callHangup);
  document.getElementById("call-speech-form").addEventListener("submit", callSay);
  document.getElementById("call-silence").addEventListener("click", callSilence);
  document.getElementById("demo-reset")?.addEventListener("click", demoReset);
  for (const button of document.querySelectorAll("#call .key")) {
    button.addEventListener("click", () => callKey(button.dataset.key));
  }
  callSetActive(false);
  document.getElementById("call").dataset.state = "idle";
  document.body.dataset.ready = "true";
});
