// Shared by the simulator page and the operator view: the page's config and words (rendered
// by gateway/page_shell.py into #sim-config), small DOM helpers, and the SMS segment counter.
// Plain browser JavaScript, no build step and no network beyond this gateway.
"use strict";

const Sim = (() => {
  const config = JSON.parse(document.getElementById("sim-config").textContent);

  // The catalogue's sim.* words; {name} placeholders filled as tasdeed.i18n.translate does.
  // A counted one takes the plural form for the number in its counting param (CLDR rules,
  // as babel's on the server).
  const pluralRules = new Intl.PluralRules(config.lang);
  function t(key, params) {
    let text = config.labels[key];
    if (text === undefined) throw new Error("missing label " + key);
    const plural = (config.plurals || {})[key];
    if (plural && params && plural.counts in params) {
      const form = plural.forms[pluralRules.select(Number(params[plural.counts]))];
      if (form !== undefined) text = form;
    }
    return text.replace(/\{([a-z_]+)\}/g, (whole, name) =>
      params && name in params ? String(params[name]) : whole);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  // crypto.getRandomValues works on plain http too (randomUUID needs a secure context).
  function randomHex(bytes) {
    const values = crypto.getRandomValues(new Uint8Array(bytes));
    return Array.from(values, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function randomDigits(count) {
    const values = crypto.getRandomValues(new Uint8Array(count));
    return Array.from(values, (b) => String(b % 10)).join("");
  }

  // GSM 03.38: the default alphabet (one septet each) and its extension table (escape +
  // character: two septets). Anything else, Arabic included, makes the whole SMS UCS-2.
  const GSM_BASIC = new Set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡" +
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà");
  const GSM_EXTENDED = new Set("\f^{}\\[~]|€");

  // Segments an SMS takes: GSM-7 160 septets alone or 153 per part when concatenated
  // (the rest of each part is the UDH); UCS-2 70 code units alone or 67 per part. An
  // escape pair or a surrogate pair is never split across parts, as handsets send them.
  function smsSegments(text) {
    const chars = Array.from(text);
    const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENDED.has(c));
    const sizes = gsm
      ? chars.map((c) => (GSM_EXTENDED.has(c) ? 2 : 1))
      : chars.map((c) => c.length);
    const total = sizes.reduce((a, b) => a + b, 0);
    const single = gsm ? 160 : 70;
    const part = gsm ? 153 : 67;
    if (total <= single) {
      return { encoding: gsm ? "GSM-7" : "UCS-2", units: total, segments: 1, perSegment: single };
    }
    let segments = 1;
    let used = 0;
    for (const size of sizes) {
      if (used + size > part) {
        segments += 1;
        used = 0;
      }
      used += size;
    }
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: total, segments, perSegment: part };
  }

  // USSD screens: 182 characters in the basic GSM alphabet, 80 once any other character is
  // on the page (UCS-2), exactly as the gateway pages them (ussd/pages.py, page_limit).
  function ussdLimit(text) {
    const gsm = Array.from(text).every((c) => GSM_BASIC.has(c));
    return { encoding: gsm ? "GSM" : "UCS-2", max: gsm ? 182 : 80, count: text.length };
  }

  return { config, t, el, randomHex, randomDigits, smsSegments, ussdLimit };
})();
