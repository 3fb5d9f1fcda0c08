/*
 * calsync booking widget — embed it with one script tag and a div:
 *
 *   <div id="calsync-booking"></div>
 *   <script src="https://…/widget.js" defer></script>
 *
 * Optional attributes on the div: data-config (URL of the configuration, default
 * <script origin>/config.json: {"slotsUrl","bookUrl","tenant","staff":[…],"services":[…],"now"}),
 * data-tenant, data-staff ("anna,ben"), data-services (JSON [{"id","name","durationMin","staff"}]:
 * the tenant's service catalogue, as Manage's GET /v1/tenants/{t}/services lists it).
 * Slots and Book get the serviceId; the duration and title come from the catalogue.
 * It calls only the public Slots and Book functions. No dependencies, no build step.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;

  // Without a catalogue in the configuration the widget books free-form, which works only
  // where the tenant's freeFormBooking setting allows it.
  var DEFAULT_SERVICES = [
    { name: "Consultation", durationMin: 30 },
    { name: "Treatment", durationMin: 60 },
  ];
  var REFRESH_MS = 4000;

  var CSS = "" +
    ".csw{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1f2328;background:#fff;border:1px solid #dfe3e8;border-radius:12px;padding:18px;max-width:640px;box-shadow:0 1px 2px rgba(0,0,0,.06),0 4px 14px rgba(0,0,0,.05);font-size:15px;line-height:1.45}" +
    ".csw *{box-sizing:border-box}.csw h2{font-size:18px;margin:0 0 12px}.csw h3{font-size:14px;margin:14px 0 6px;color:#3c4043}" +
    ".csw .csw-row{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-end}.csw label{display:flex;flex-direction:column;gap:4px;font-size:13px;color:#5f6b7a}" +
    ".csw select,.csw input{font:inherit;padding:8px 10px;border:1px solid #dfe3e8;border-radius:8px;background:#fff;color:#1f2328;min-width:180px}" +
    ".csw input[aria-invalid=true]{border-color:#c5221f}" +
    ".csw button{font:inherit;border:1px solid #dfe3e8;background:#fff;color:#1f2328;padding:7px 13px;border-radius:8px;cursor:pointer}" +
    ".csw button:hover{background:#f1f3f4}.csw button:disabled{opacity:.55;cursor:default}" +
    ".csw button:focus-visible,.csw input:focus-visible,.csw select:focus-visible,.csw a:focus-visible{outline:3px solid #8ab4f8;outline-offset:1px}" +
    ".csw .csw-primary{background:#1a73e8;border-color:#1a73e8;color:#fff;font-weight:600}.csw .csw-primary:hover{background:#1765cc}" +
    ".csw .csw-nav{display:flex;align-items:center;gap:8px;margin:14px 0 4px}.csw .csw-nav .csw-range{font-weight:600;flex:1;text-align:center}" +
    ".csw .csw-slots{display:flex;flex-wrap:wrap;gap:6px}.csw .csw-slot{border-color:#c6dafc;color:#1a73e8;font-weight:600;min-width:74px}" +
    ".csw .csw-slot:hover{background:#e8f0fe}" +
    ".csw .csw-msg{padding:10px 12px;border-radius:8px;margin:10px 0;border:1px solid}.csw .csw-err{background:#fce8e6;border-color:#f3c3c1;color:#c5221f}" +
    ".csw .csw-ok{background:#e6f4ea;border-color:#b7dfc1;color:#137333}.csw .csw-empty{color:#5f6b7a;padding:18px;text-align:center;border:1px dashed #dfe3e8;border-radius:8px;margin-top:10px}" +
    ".csw .csw-loading{color:#5f6b7a;margin-top:10px}.csw .csw-loading:before{content:'';display:inline-block;width:12px;height:12px;margin-right:8px;border:2px solid #c6d2e0;border-top-color:#1a73e8;border-radius:50%;animation:csw-spin .8s linear infinite;vertical-align:-1px}" +
    "@keyframes csw-spin{to{transform:rotate(360deg)}}" +
    ".csw .csw-field-err{color:#c5221f;font-size:12px;min-height:16px}.csw .csw-summary{background:#f8f9fa;border-radius:8px;padding:10px 12px;margin-bottom:12px}" +
    ".csw .csw-tz{color:#5f6b7a;font-size:12px;margin-top:10px}.csw a{color:#1a73e8}" +
    ".csw .csw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)}";

  function el(tag, attrs) {
    var n = document.createElement(tag);
    attrs = attrs || {};
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") n.textContent = v;
      else if (k === "class") n.className = v;
      else if (k.slice(0, 2) === "on") n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) n.append(x); });
      else n.append(c);
    }
    return n;
  }
  function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }

  function Widget(root) {
    this.root = root;
    this.tz = (Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
    this.skew = 0;
    this.page = 0;       // weeks from today
    this.view = "slots"; // slots | form | done | cancelled
    this.slots = null;
    this.timer = null;
    this.seq = 0;
  }

  Widget.prototype.start = function () {
    var self = this, root = this.root;
    root.classList.add("csw");
    root.setAttribute("role", "region");
    root.setAttribute("aria-label", "Book an appointment");
    root.replaceChildren(el("p", { class: "csw-loading", text: "Loading the booking form…" }));
    var cfgURL = root.getAttribute("data-config") || scriptOrigin + "/config.json";
    fetch(cfgURL, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (cfg) {
      self.cfg = cfg;
      self.tenant = root.getAttribute("data-tenant") || cfg.tenant;
      var staff = root.getAttribute("data-staff");
      self.staffList = staff ? staff.split(",") : (cfg.staff || []);
      self.services = (cfg.services && cfg.services.length) ? cfg.services : DEFAULT_SERVICES;
      try { if (root.getAttribute("data-services")) self.services = JSON.parse(root.getAttribute("data-services")); } catch (e) { /* keep defaults */ }
      if (cfg.now) self.skew = Date.parse(cfg.now) - Date.now();
      self.fmt();
      self.build();
      self.offerStaff();
      self.loadSlots(true);
      self.timer = setInterval(function () { if (!document.hidden && self.view === "slots") self.loadSlots(false); }, REFRESH_MS);
    }).catch(function () {
      root.replaceChildren(el("p", { class: "csw-msg csw-err", role: "alert", text: "The booking form could not be loaded. Please reload the page or try again later." }));
    });
  };

  Widget.prototype.now = function () { return new Date(Date.now() + this.skew); };

  Widget.prototype.fmt = function () {
    var tz = this.tz;
    this.fDay = new Intl.DateTimeFormat(undefined, { timeZone: tz, weekday: "long", day: "numeric", month: "long" });
    this.fKey = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
    this.fTime = new Intl.DateTimeFormat(undefined, { timeZone: tz, hour: "2-digit", minute: "2-digit" });
    this.fShort = new Intl.DateTimeFormat(undefined, { timeZone: tz, day: "numeric", month: "short" });
  };

  Widget.prototype.build = function () {
    var self = this;
    this.service = el("select", { id: "csw-service", name: "service" },
      this.services.map(function (s, i) { return el("option", { value: String(i), text: s.name + " (" + s.durationMin + " min)" }); }));
    this.staff = el("select", { id: "csw-staff", name: "staff" },
      el("option", { value: "any", text: "Anyone available" }),
      this.staffList.map(function (s) { return el("option", { value: s, text: cap(s) }); }));
    var onChange = function () { self.page = 0; self.slots = null; self.offerStaff(); self.loadSlots(true); };
    this.service.addEventListener("change", onChange);
    this.staff.addEventListener("change", onChange);
    this.prev = el("button", { type: "button", id: "csw-prev", "aria-label": "Earlier week", text: "‹ Earlier", onclick: function () { self.page--; self.loadSlots(true); } });
    this.next = el("button", { type: "button", id: "csw-next", "aria-label": "Later week", text: "Later ›", onclick: function () { self.page++; self.loadSlots(true); } });
    this.range = el("span", { class: "csw-range", "aria-live": "polite" });
    this.body = el("div", { class: "csw-body", "aria-live": "polite" });
    this.controls = el("div", {},
      el("div", { class: "csw-row" },
        el("label", { for: "csw-service" }, "Service", this.service),
        el("label", { for: "csw-staff" }, "With", this.staff)),
      el("div", { class: "csw-nav" }, this.prev, this.range, this.next));
    this.root.replaceChildren(el("h2", { text: "Book an appointment" }), this.controls, this.body,
      el("p", { class: "csw-tz", text: "Times are shown in your time zone (" + this.tz.replace(/_/g, " ") + ")." }));
  };

  // offerStaff disables the people who do not offer the chosen service.
  Widget.prototype.offerStaff = function () {
    var svc = this.services[+this.service.value], sel = this.staff;
    Array.prototype.forEach.call(sel.options, function (o) {
      o.disabled = o.value !== "any" && !!(svc.staff && svc.staff.indexOf(o.value) < 0);
    });
    if (sel.options[sel.selectedIndex] && sel.options[sel.selectedIndex].disabled) sel.value = "any";
  };

  Widget.prototype.window = function () {
    var now = this.now();
    var from = new Date(now.getTime() + this.page * 7 * 86400000);
    if (this.page > 0) { from = new Date(from.getFullYear(), from.getMonth(), from.getDate()); }
    var to = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 7 * (this.page + 1));
    return { from: from, to: to };
  };

  Widget.prototype.loadSlots = function (showLoading) {
    var self = this, seq = ++this.seq;
    this.view = "slots";
    this.controls.hidden = false;
    var w = this.window();
    this.prev.disabled = this.page <= 0;
    this.range.textContent = this.fShort.format(w.from) + " – " + this.fShort.format(new Date(w.to.getTime() - 1));
    var svc = this.services[+this.service.value];
    var staff = this.staff.value === "any" ? "any" : this.staff.value;
    if (showLoading) this.body.replaceChildren(el("p", { class: "csw-loading", text: "Looking for free times…" }));
    var u = new URL(this.cfg.slotsUrl, scriptOrigin);
    u.searchParams.set("tenant", this.tenant);
    u.searchParams.set("staff", staff === "any" ? "any" : staff);
    if (svc.id) u.searchParams.set("serviceId", svc.id);
    else u.searchParams.set("durationMin", String(svc.durationMin));
    u.searchParams.set("from", w.from.toISOString());
    u.searchParams.set("to", w.to.toISOString());
    u.searchParams.set("tz", this.tz);
    call(u.toString(), { method: "GET", cache: "no-store" }).then(function (res) {
      if (seq !== self.seq || self.view !== "slots") return;
      if (!res.ok) throw new Error(explain(res, "load the free times"));
      self.slots = (res.data && res.data.slots) || [];
      self.renderSlots();
    }).catch(function (e) {
      if (seq !== self.seq || self.view !== "slots") return;
      if (!showLoading && self.slots) return; // keep the last good list on a background refresh
      self.body.replaceChildren(el("div", { class: "csw-msg csw-err", role: "alert" }, e.message + " ",
        el("button", { type: "button", text: "Try again", onclick: function () { self.loadSlots(true); } })));
    });
  };

  Widget.prototype.renderSlots = function () {
    var self = this;
    var notice = this.pendingNotice;
    this.pendingNotice = null;
    var nodes = [];
    if (notice) nodes.push(el("p", { class: "csw-msg csw-err", role: "alert", text: notice }));
    // group by day in the visitor's zone; with "anyone", one button per start time
    var byDay = {}, order = [], seen = {};
    this.slots.forEach(function (s) {
      var start = new Date(s.start);
      var key = self.fKey.format(start);
      var dedupe = key + "|" + start.getTime();
      if (seen[dedupe]) { seen[dedupe].alts.push(s.staff); return; }
      var item = { slot: s, start: start, end: new Date(s.end), alts: [] };
      seen[dedupe] = item;
      if (!byDay[key]) { byDay[key] = []; order.push(key); }
      byDay[key].push(item);
    });
    if (!order.length) {
      nodes.push(el("p", { class: "csw-empty", id: "csw-empty", text: this.page === 0 ? "No free times this week. Try “Later ›” or another service or person." : "No free times in these days. Try another week." }));
    }
    order.forEach(function (key) {
      var items = byDay[key];
      var heading = self.fDay.format(items[0].start);
      nodes.push(el("h3", { text: heading }));
      nodes.push(el("div", { class: "csw-slots", role: "group", "aria-label": heading },
        items.map(function (it) {
          var t = self.fTime.format(it.start);
          var who = self.staff.value === "any" ? "" : "";
          return el("button", {
            type: "button", class: "csw-slot", "data-start": it.slot.start, "data-staff": it.slot.staff,
            "aria-label": heading + " " + t + who, text: t,
            onclick: function () { self.showForm(it); },
          });
        })));
    });
    this.body.replaceChildren.apply(this.body, nodes);
  };

  Widget.prototype.showForm = function (it) {
    var self = this;
    this.view = "form";
    this.controls.hidden = true;
    var svc = this.services[+this.service.value];
    var name = el("input", { id: "csw-name", name: "name", autocomplete: "name", required: true, maxlength: "100" });
    var email = el("input", { id: "csw-email", name: "email", type: "email", autocomplete: "email", required: true, maxlength: "254" });
    var nameErr = el("div", { class: "csw-field-err", id: "csw-name-err", "aria-live": "polite" });
    var emailErr = el("div", { class: "csw-field-err", id: "csw-email-err", "aria-live": "polite" });
    name.setAttribute("aria-describedby", "csw-name-err");
    email.setAttribute("aria-describedby", "csw-email-err");
    var msg = el("div", { "aria-live": "assertive" });
    var submit = el("button", { type: "submit", class: "csw-primary", id: "csw-book", text: "Book " + this.fTime.format(it.start) });
    var form = el("form", { novalidate: true },
      el("div", { class: "csw-summary", id: "csw-summary" },
        el("strong", { text: svc.name }), " · " + svc.durationMin + " min", el("br"),
        this.fDay.format(it.start) + ", " + this.fTime.format(it.start) + "–" + this.fTime.format(it.end) + " with " + cap(it.slot.staff)),
      el("div", { class: "csw-row" },
        el("label", { for: "csw-name" }, "Your name", name, nameErr),
        el("label", { for: "csw-email" }, "E-mail", email, emailErr)),
      msg,
      el("div", { class: "csw-row" }, submit,
        el("button", { type: "button", text: "Back to times", onclick: function () { self.loadSlots(true); } })));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var ok = true;
      var n = name.value.trim(), m = email.value.trim();
      nameErr.textContent = ""; emailErr.textContent = ""; name.removeAttribute("aria-invalid"); email.removeAttribute("aria-invalid");
      if (!n) { nameErr.textContent = "Please enter your name."; name.setAttribute("aria-invalid", "true"); ok = false; }
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(m)) { emailErr.textContent = m ? "This does not look like an e-mail address." : "Please enter your e-mail address."; email.setAttribute("aria-invalid", "true"); ok = false; }
      if (!ok) { (name.getAttribute("aria-invalid") ? name : email).focus(); return; }
      submit.disabled = true; submit.textContent = "Booking…";
      msg.replaceChildren();
      var body = { tenant: self.tenant, staff: it.slot.staff, start: it.slot.start, customer: { name: n, email: m } };
      if (svc.id) body.serviceId = svc.id;
      else { body.durationMin = svc.durationMin; body.service = svc.name; }
      call(new URL(self.cfg.bookUrl, scriptOrigin).toString(), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(function (res) {
        if (res.status === 201 || res.ok) { self.showDone(res.data || {}, svc, it, n, m); return; }
        if (res.status === 409) {
          self.pendingNotice = "This time was just taken, please pick another.";
          self.loadSlots(true);
          return;
        }
        throw new Error(explain(res, "book"));
      }).catch(function (e) {
        submit.disabled = false; submit.textContent = "Book " + self.fTime.format(it.start);
        msg.replaceChildren(el("p", { class: "csw-msg csw-err", role: "alert", text: e.message }));
      });
    });
    this.body.replaceChildren(form);
    name.focus();
  };

  Widget.prototype.showDone = function (b, svc, it, name, email) {
    var self = this;
    this.view = "done";
    var start = new Date(b.start || it.slot.start), end = new Date(b.end || it.slot.end);
    var msg = el("div", { "aria-live": "assertive" });
    var cancel = el("a", { href: "#cancel", id: "csw-cancel", role: "button", text: "Cancel this booking" });
    cancel.addEventListener("click", function (ev) {
      ev.preventDefault();
      if (cancel.getAttribute("aria-disabled")) return;
      cancel.setAttribute("aria-disabled", "true"); cancel.textContent = "Cancelling…";
      var u = new URL(self.cfg.bookUrl, scriptOrigin);
      u.pathname = u.pathname.replace(/\/?$/, "/cancel");
      call(u.toString(), { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id: b.id, cancelToken: b.cancelToken }) }).then(function (res) {
        if (!res.ok) throw new Error(explain(res, "cancel"));
        self.view = "cancelled";
        self.body.replaceChildren(el("div", { class: "csw-msg csw-ok", role: "status", id: "csw-cancelled", text: "Your booking was cancelled. The time is free again." }),
          el("button", { type: "button", class: "csw-primary", text: "Book another time", onclick: function () { self.loadSlots(true); } }));
      }).catch(function (e) {
        cancel.removeAttribute("aria-disabled"); cancel.textContent = "Cancel this booking";
        msg.replaceChildren(el("p", { class: "csw-msg csw-err", role: "alert", text: e.message }));
      });
    });
    this.body.replaceChildren(
      el("div", { class: "csw-msg csw-ok", role: "status", id: "csw-confirmed" },
        el("strong", { text: "You're booked!" }), el("br"),
        svc.name + " with " + cap(b.staff || it.slot.staff) + " on " + this.fDay.format(start) + ", " + this.fTime.format(start) + "–" + this.fTime.format(end) + ".", el("br"),
        "We'll keep it for " + name + " (" + email + ")."),
      el("p", {}, "Can't make it? ", cancel),
      msg,
      el("button", { type: "button", text: "Book another time", onclick: function () { self.loadSlots(true); } }));
  };

  // call fetches and never rejects with a raw error: network failures become words.
  function call(url, init) {
    return fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { /* not JSON */ }
        return { ok: r.ok, status: r.status, data: data, retryAfter: +(r.headers.get("Retry-After") || 0) };
      });
    }, function () {
      throw new Error("We could not reach the booking service. Check your internet connection and try again.");
    });
  }

  var WORDS = {
    slot_taken: "This time was just taken, please pick another.",
    invalid_email: "Please check the e-mail address.",
    invalid_name: "Please check the name.",
    unknown_staff: "This person does not take bookings online.",
    staff_not_found: "This person does not take bookings online.",
    availability_not_set: "This person has not set working hours yet.",
    not_found: "This booking no longer exists.",
    booking_not_found: "This booking no longer exists.",
    invalid_cancel_token: "This cancel link is not valid.",
    already_cancelled: "This booking was already cancelled.",
    too_many_requests: "Too many attempts. Please wait a moment and try again.",
    rate_limited: "Too many bookings were made from here or with this e-mail address in a short time.",
    service_required: "Please choose a service.",
    service_not_found: "This service is no longer offered. Please reload the page.",
    service_not_offered: "This person does not offer this service. Please choose someone else or “Anyone available”.",
    not_implemented: "Online booking is not available yet.",
  };

  function explain(res, what) {
    var e = res.data && res.data.error;
    var code = e && e.code, text = e && e.message;
    if (res.status === 429) return WORDS.rate_limited + " " + later(res.retryAfter);
    if (code && WORDS[code]) return WORDS[code];
    if (res.status === 400 && text) return "Could not " + what + ": " + sentence(text);
    if (res.status === 429) return WORDS.too_many_requests;
    if (res.status >= 500) return "The booking service had a problem, so we could not " + what + ". Please try again in a moment.";
    if (text) return "Could not " + what + ": " + sentence(text);
    return "Could not " + what + " (error " + res.status + ").";
  }
  // later words a Retry-After (seconds) for people.
  function later(secs) {
    if (!(secs > 0)) return "Please try again later.";
    if (secs < 90) return "Please try again in a minute.";
    if (secs < 5400) return "Please try again in " + Math.ceil(secs / 60) + " minutes.";
    return "Please try again in about " + Math.round(secs / 3600) + " hours, or contact us directly.";
  }
  function sentence(s) { s = String(s).trim(); s = s.charAt(0).toUpperCase() + s.slice(1); return /[.!?]$/.test(s) ? s : s + "."; }

  function boot() {
    if (!document.getElementById("csw-style")) {
      var st = document.createElement("style");
      st.id = "csw-style";
      st.textContent = CSS;
      document.head.append(st);
    }
    var roots = document.querySelectorAll("#calsync-booking, [data-calsync-booking]");
    Array.prototype.forEach.call(roots, function (r) { if (!r.__csw) { r.__csw = new Widget(r); r.__csw.start(); } });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
