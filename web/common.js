// Shared helpers of the local pages (settings, calendar owner): configuration, calls to
// the backend stand-in with errors turned into words, and date helpers.
"use strict";

const Calsync = (() => {
  let config = null;
  let skew = 0; // server clock − browser clock, ms (the local stack may run a test clock)

  async function loadConfig() {
    if (config) return config;
    let resp;
    try {
      resp = await fetch("/config.json", { cache: "no-store" });
    } catch (e) {
      throw new Error("The local server is not reachable. Is `make run` still running?");
    }
    if (!resp.ok) throw new Error("The page configuration could not be loaded (HTTP " + resp.status + ").");
    config = await resp.json();
    if (config.now) skew = Date.parse(config.now) - Date.now();
    return config;
  }

  function now() { return new Date(Date.now() + skew); }

  const messages = {
    unauthenticated: "The backend was refused by the Manage function (wrong key).",
    connection_not_found: "This connection no longer exists. Reload the page.",
    connection_inactive: "Google access has to be renewed first: click Reconnect.",
    calendar_not_found: "This calendar is no longer in the Google account.",
    calendar_not_writable: "The account may not write to this calendar; choose another one.",
    return_url_not_allowed: "This page's address is not on the allowed return list (ALLOWED_RETURN_URLS).",
    invalid_range: "The chosen time range is not valid.",
    google_unavailable: "Google is not reachable right now. Please try again in a minute.",
    backend_unavailable: "The calsync functions did not answer. Is `make run` still running?",
    not_implemented: "This part of calsync is not finished yet.",
    internal: "Something went wrong on our side. Please try again.",
  };

  // request calls a same-origin JSON API and returns the parsed body (null for 204).
  // Failures become an Error whose message is a sentence for a person.
  async function request(method, url, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      throw new Error("The server could not be reached. Check your connection and that `make run` is still running.");
    }
    if (resp.status === 204) return null;
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    if (!resp.ok) {
      const err = new Error(explain(resp.status, data));
      err.status = resp.status;
      err.code = data && data.error && data.error.code;
      throw err;
    }
    return data;
  }

  function explain(status, data) {
    const e = data && data.error;
    const code = e && typeof e === "object" ? e.code : null;
    if (code && messages[code]) return messages[code];
    if (e && typeof e === "object" && e.message) return sentence(e.message);
    if (status === 404) return "Not found.";
    if (status >= 500) return "The server had a problem (HTTP " + status + "). Please try again.";
    return "The request was refused (HTTP " + status + ").";
  }

  function sentence(s) {
    s = String(s).trim();
    if (!s) return s;
    s = s[0].toUpperCase() + s.slice(1);
    return /[.!?]$/.test(s) ? s : s + ".";
  }

  function backend(method, path, body) { return request(method, config.backend + path, body); }
  function google(method, path, body) { return request(method, config.google + path, body); }

  // Dates (browser's time zone).
  function startOfWeek(d) { // Monday 00:00 local
    const x = new Date(d.getFullYear(), d.getMonth(), d.getDate());
    const dow = (x.getDay() + 6) % 7;
    x.setDate(x.getDate() - dow);
    return x;
  }
  function addDays(d, n) { const x = new Date(d); x.setDate(x.getDate() + n); return x; }
  function sameDay(a, b) { return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate(); }
  const fmtTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const fmtDay = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
  const fmtDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  function time(d) { return fmtTime.format(d); }
  function day(d) { return fmtDay.format(d); }
  function date(d) { return fmtDate.format(d); }
  function pad(n) { return String(n).padStart(2, "0"); }
  // localInput formats a Date for <input type="datetime-local">.
  function localInput(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else if (k === "style" && typeof v === "object") Object.assign(n.style, v);
      else n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) n.append(c);
    return n;
  }

  function title(s) { return s ? s[0].toUpperCase() + s.slice(1) : s; }

  return { loadConfig, now, backend, google, request, explain, startOfWeek, addDays, sameDay, time, day, date, localInput, el, title, get config() { return config; } };
})();
