// Settings page: connect Google Calendar, choose calendars, see the synced week.
"use strict";
(() => {
  const C = Calsync, el = C.el;
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 3000;
  const HOUR_PX = 40;

  const connectErrors = {
    access_denied: "You chose “Deny” on Google's screen, so nothing was connected. Click “Connect Google Calendar” to try again.",
    missing_scopes: "Google did not grant access to the calendars. Please leave every permission ticked on Google's screen and try again.",
    no_refresh_token: "Google did not grant lasting access (no refresh token). Remove calsync under “Third-party access” in your Google account, then connect again.",
    exchange_failed: "Google did not accept the sign-in (the code exchange failed or took too long). Please try again.",
    google_unavailable: "Google could not be reached while connecting. Please try again in a few minutes.",
    internal_error: "Something went wrong on our side while connecting. Please try again.",
    invalid_request: "The sign-in link was invalid or expired. Please start again with “Connect Google Calendar”.",
  };

  const state = {
    staff: null,
    conn: null,          // the connection shown
    calendars: [],
    weekStart: null,
    timer: null,
    loadingWeek: false,
    confirming: false,
  };

  function notice(kind, text) {
    const n = $("notice");
    n.className = "notice " + kind;
    n.setAttribute("role", kind === "error" ? "alert" : "status");
    n.textContent = text;
  }
  function clearNotice() { $("notice").textContent = ""; }

  function staffURL(path) { return "/v1/tenants/" + encodeURIComponent(C.config.tenant) + "/staff/" + encodeURIComponent(state.staff) + path; }

  async function init() {
    try {
      await C.loadConfig();
    } catch (e) {
      $("connection").innerHTML = "";
      notice("error", e.message);
      return;
    }
    const params = new URLSearchParams(location.search);
    const staffList = C.config.staff && C.config.staff.length ? C.config.staff : ["anna", "ben"];
    state.staff = params.get("staff") || localStorage.getItem("calsync.staff") || staffList[0];
    if (!staffList.includes(state.staff)) state.staff = staffList[0];
    const sel = $("staff");
    for (const s of staffList) sel.append(el("option", { value: s, text: C.title(s) }));
    sel.value = state.staff;
    sel.addEventListener("change", () => {
      state.staff = sel.value;
      localStorage.setItem("calsync.staff", state.staff);
      history.replaceState(null, "", "settings.html?staff=" + encodeURIComponent(state.staff));
      clearNotice();
      state.weekStart = C.startOfWeek(C.now());
      refreshAll(true);
    });

    // Back from Google?
    const status = params.get("status");
    const started = sessionStorage.getItem("calsync.connectId");
    sessionStorage.removeItem("calsync.connectId");
    if (status === "connected" && (!started || started !== params.get("connectId"))) {
      // Completed in another browser session (an authorization link passed on): refuse it.
      const conn = params.get("connection");
      if (conn) { try { await C.backend("DELETE", staffURL("/connections/" + encodeURIComponent(conn))); } catch (e) { /* shown below */ } }
      notice("error", "This Google connection was completed in a different browser session, so it was not accepted. Please connect again from this page.");
    } else if (status === "connected") {
      notice("ok", "Google Calendar connected. Tick the calendars that should block booking times.");
    } else if (status === "error") {
      const reason = params.get("reason") || "";
      notice("error", connectErrors[reason] || "Connecting Google Calendar failed (" + reason + "). Please try again.");
    }
    if (status) history.replaceState(null, "", "settings.html?staff=" + encodeURIComponent(state.staff));

    state.weekStart = C.startOfWeek(C.now());
    $("prev").addEventListener("click", () => { state.weekStart = C.addDays(state.weekStart, -7); loadWeek(true); });
    $("next").addEventListener("click", () => { state.weekStart = C.addDays(state.weekStart, 7); loadWeek(true); });
    $("today").addEventListener("click", () => { state.weekStart = C.startOfWeek(C.now()); loadWeek(true); });
    await refreshAll(true);
    state.timer = setInterval(() => { if (!document.hidden) refreshAll(false); }, REFRESH_MS);
  }

  document.title = "Calendar settings · calsync";

  async function refreshAll(showLoading) {
    const staff = state.staff;
    try {
      if (showLoading) $("connection").replaceChildren(el("p", { class: "loading", text: "Loading the connection…" }));
      const data = await C.backend("GET", staffURL("/connections"));
      if (staff !== state.staff) return;
      const conns = (data && data.connections) || [];
      state.conn = conns[0] || null;
      const connKey = state.staff + JSON.stringify(conns.map((c) => [c.id, c.email, c.status, c.writeCalendarId, !!c.pictureUrl, (c.health || {}).slots]));
      if (!state.confirming && (showLoading || connKey !== state.connKey)) renderConnection(conns);
      state.connKey = connKey;
      if (state.conn) {
        await loadCalendars(showLoading);
      } else {
        // nothing connected: nothing synced is kept on the page either
        $("calendars-card").hidden = true;
        $("calendars").replaceChildren();
        $("week").replaceChildren();
        $("week-msg").replaceChildren();
        $("legend").replaceChildren();
        state.calendars = [];
        state.calKey = "";
      }
      $("week-card").hidden = !state.conn;
      if (state.conn) await loadWeek(showLoading);
    } catch (e) {
      if (showLoading) $("connection").replaceChildren(el("p", { class: "notice error", role: "alert", text: "Could not load the connection: " + e.message }),
        el("button", { type: "button", onclick: () => refreshAll(true), text: "Try again" }));
      else $("updated").textContent = "Not updated: " + e.message;
    }
  }

  function avatar(conn) {
    const initials = (conn.email || "?").slice(0, 1).toUpperCase();
    const fallback = () => el("span", { class: "avatar initials", role: "img", "aria-label": "Profile picture of " + conn.email, text: initials, "data-testid": "avatar-fallback" });
    if (!conn.pictureUrl) return fallback();
    const img = el("img", { class: "avatar", src: conn.pictureUrl, alt: "Profile picture of " + conn.email, referrerpolicy: "no-referrer", "data-testid": "avatar" });
    img.addEventListener("error", () => img.replaceWith(fallback()), { once: true });
    return img;
  }

  function renderConnection(conns) {
    const box = $("connection");
    const who = C.title(state.staff);
    if (!conns.length) {
      box.replaceChildren(
        el("p", { class: "muted", id: "not-connected", text: who + " has no Google Calendar connected. Connect it so booked appointments appear in Google and Google events block booking times." }),
        el("button", { type: "button", class: "primary", id: "connect", onclick: connect, text: "Connect Google Calendar" }));
      return;
    }
    const c = conns[0];
    const statusText = c.status === "active" ? "Active — syncing" : c.status === "reauth_required" ? "Google access expired — reconnect needed" : c.status;
    const actions = el("div", { class: "row" });
    if (c.status !== "active") actions.append(el("button", { type: "button", class: "primary", id: "reconnect", onclick: connect, text: "Reconnect" }));
    actions.append(el("button", { type: "button", class: "danger", id: "disconnect", onclick: askDisconnect, text: "Disconnect" }));
    box.replaceChildren(
      el("div", { class: "row", id: "connected" },
        avatar(c),
        el("div", { class: "grow" },
          el("div", { style: { fontWeight: 600 }, id: "conn-email", text: c.email }),
          el("span", { class: "badge " + (c.status === "active" || c.status === "reauth_required" ? c.status : "other"), id: "conn-status", text: statusText })),
        actions),
      slotsNote(c),
      el("div", { id: "confirm-slot" }));
  }

  // Why the booking widget offers no times (or offers them unchecked) while the
  // connection needs reauthorisation: health.slots from GET /connections.
  function slotsNote(c) {
    const h = c.health || {};
    if (h.slots === "withheld") {
      return el("p", { class: "notice error", role: "alert", id: "slots-note", "data-slots": h.slots,
        text: "No booking times are offered for " + C.title(state.staff) + " until Google Calendar is reconnected: calsync cannot see this calendar, so any time it offered could clash with an appointment. Bookings are refused meanwhile." });
    }
    if (h.slots === "offered_unchecked") {
      return el("p", { class: "notice error", role: "alert", id: "slots-note", "data-slots": h.slots,
        text: "Booking times are still offered for " + C.title(state.staff) + " (your business's setting), but calsync cannot see this Google Calendar until it is reconnected: bookings may clash with appointments in it." });
    }
    return el("span", { id: "slots-note", hidden: true });
  }

  async function connect() {
    const btn = $("connect") || $("reconnect");
    if (btn) { btn.disabled = true; btn.textContent = "Opening Google…"; }
    try {
      const returnUrl = location.origin + "/settings.html?staff=" + encodeURIComponent(state.staff);
      const data = await C.backend("POST", staffURL("/connections"), { returnUrl });
      if (!data || !data.authUrl) throw new Error("The backend did not return Google's address.");
      // Remember which flow this tab started: the return redirect must carry the same id.
      sessionStorage.setItem("calsync.connectId", data.connectId || "");
      location.assign(data.authUrl);
    } catch (e) {
      notice("error", "Could not start connecting: " + e.message);
      if (btn) { btn.disabled = false; btn.textContent = "Connect Google Calendar"; }
    }
  }

  function askDisconnect() {
    const slot = $("confirm-slot");
    state.confirming = true;
    const cancel = () => { state.confirming = false; slot.replaceChildren(); };
    slot.replaceChildren(el("div", { class: "confirm", role: "alertdialog", "aria-labelledby": "confirm-text" },
      el("p", { id: "confirm-text", style: { margin: "0 0 8px" }, text: "Disconnect " + state.conn.email + "? calsync stops syncing, Google access is revoked and every synced event is deleted here. Bookings already in Google stay there." }),
      el("div", { class: "row" },
        el("button", { type: "button", class: "danger solid", id: "confirm-disconnect", onclick: disconnect, text: "Yes, disconnect" }),
        el("button", { type: "button", onclick: cancel, text: "Cancel" }))));
    $("confirm-disconnect").focus();
  }

  async function disconnect() {
    const btn = $("confirm-disconnect");
    btn.disabled = true; btn.textContent = "Disconnecting…";
    try {
      await C.backend("DELETE", staffURL("/connections/" + encodeURIComponent(state.conn.id)));
      state.confirming = false;
      notice("ok", "Disconnected. Google access was revoked and the synced events were deleted.");
      await refreshAll(true);
    } catch (e) {
      state.confirming = false;
      notice("error", "Could not disconnect: " + e.message);
      refreshAll(false);
    }
  }

  async function loadCalendars(showLoading) {
    const card = $("calendars-card"), box = $("calendars");
    card.hidden = false;
    if (showLoading) box.replaceChildren(el("p", { class: "loading", text: "Loading calendars from Google…" }));
    try {
      const data = await C.backend("GET", staffURL("/connections/" + encodeURIComponent(state.conn.id) + "/calendars"));
      state.calendars = ((data && data.calendars) || []).slice().sort((a, b) =>
        (b.id === state.conn.writeCalendarId) - (a.id === state.conn.writeCalendarId) || String(a.name).localeCompare(String(b.name)));
      const calKey = state.conn.id + state.conn.writeCalendarId + JSON.stringify(state.calendars);
      if (showLoading || calKey !== state.calKey) renderCalendars();
      state.calKey = calKey;
    } catch (e) {
      if (showLoading || !state.calendars.length) box.replaceChildren(el("p", { class: "notice error", role: "alert", text: "Could not load the calendars: " + e.message }));
    }
  }

  function renderCalendars() {
    const box = $("calendars");
    if (box.contains(document.activeElement) && document.activeElement !== document.body) {
      // keep focus stable: only sync checkbox states
      for (const c of state.calendars) {
        const cb = box.querySelector('input[data-cal="' + CSS.escape(c.id) + '"]');
        if (cb && !cb.disabled) cb.checked = !!c.selected;
      }
      return;
    }
    if (!state.calendars.length) {
      box.replaceChildren(el("p", { class: "empty", text: "This Google account has no calendars." }));
      return;
    }
    const ul = el("ul", { class: "calendars" });
    for (const c of state.calendars) {
      const id = "cal-" + btoa(unescape(encodeURIComponent(c.id))).replace(/[^a-zA-Z0-9]/g, "");
      const cb = el("input", { type: "checkbox", id, "data-cal": c.id, checked: !!c.selected });
      cb.addEventListener("change", () => select(c, cb));
      const radio = el("input", { type: "radio", name: "write", value: c.id, "data-write": c.id, checked: state.conn.writeCalendarId === c.id, "aria-label": "Write bookings into " + c.name });
      radio.addEventListener("change", () => chooseWrite(c));
      ul.append(el("li", {},
        el("label", { class: "pick", for: id }, cb, el("span", { class: "swatch", style: { background: c.color || "#999" }, "aria-hidden": "true" }), el("span", { text: c.name })),
        el("label", { class: "write" }, radio, "write bookings here")));
    }
    box.replaceChildren(ul);
  }

  async function select(cal, cb) {
    cb.disabled = true;
    try {
      const out = await C.backend("PUT", staffURL("/connections/" + encodeURIComponent(state.conn.id) + "/calendars/" + encodeURIComponent(cal.id)), { selected: cb.checked });
      cal.selected = out ? !!out.selected : cb.checked;
      cb.checked = cal.selected;
      notice("ok", cal.selected ? "“" + cal.name + "” is now synced; its events appear in the week below within seconds." : "“" + cal.name + "” is no longer synced.");
      loadWeek(false);
      // the first sync runs in the background: look again soon rather than at the next tick
      [500, 1000, 1500, 2500].forEach((ms) => setTimeout(() => loadWeek(false), ms));
    } catch (e) {
      cb.checked = !cb.checked;
      notice("error", "Could not change “" + cal.name + "”: " + e.message);
    } finally {
      cb.disabled = false;
    }
  }

  async function chooseWrite(cal) {
    try {
      const out = await C.backend("PATCH", staffURL("/connections/" + encodeURIComponent(state.conn.id)), { writeCalendarId: cal.id });
      state.conn.writeCalendarId = (out && out.writeCalendarId) || cal.id;
      notice("ok", "New bookings will be written into “" + cal.name + "”.");
    } catch (e) {
      notice("error", "Could not choose “" + cal.name + "” for bookings: " + e.message);
      renderCalendars();
    }
  }

  // ---- week view ----

  async function loadWeek(showLoading) {
    if (!state.conn) return;
    const start = state.weekStart, end = C.addDays(start, 7);
    $("week-label").textContent = C.date(start) + " – " + C.date(C.addDays(end, -1));
    if (showLoading) $("week-msg").replaceChildren(el("p", { class: "loading", text: "Loading events…" }));
    const key = start.getTime() + state.staff;
    try {
      let events = [], token = "";
      do {
        const q = "?from=" + encodeURIComponent(start.toISOString()) + "&to=" + encodeURIComponent(end.toISOString()) + (token ? "&pageToken=" + encodeURIComponent(token) : "");
        const data = await C.backend("GET", staffURL("/events" + q));
        events = events.concat((data && data.events) || []);
        token = data && data.nextPageToken;
      } while (token);
      if (key !== state.weekStart.getTime() + state.staff) return; // navigated meanwhile
      renderWeek(events);
      $("updated").textContent = "Updated " + C.time(new Date());
    } catch (e) {
      if (key !== state.weekStart.getTime() + state.staff) return;
      $("week-msg").replaceChildren(el("p", { class: "notice error", role: "alert", text: "Could not load the events: " + e.message }));
      $("updated").textContent = "";
    }
  }

  function renderWeek(events) {
    const start = state.weekStart;
    const days = [...Array(7)].map((_, i) => C.addDays(start, i));
    const selected = state.calendars.filter((c) => c.selected);
    const msg = $("week-msg");
    if (!selected.length) msg.replaceChildren(el("p", { class: "empty", id: "week-empty", text: "No calendar is selected yet. Tick a calendar above to see its events here." }));
    else if (!events.length) msg.replaceChildren(el("p", { class: "empty", id: "week-empty", text: "No events this week in the selected calendars." }));
    else msg.replaceChildren();

    const timed = [], allDay = [];
    for (const e of events) (e.allDay ? allDay : timed).push(e);
    // hour range: 07–20 at least, widened to fit events
    let minH = 7, maxH = 20;
    for (const e of timed) {
      const s = new Date(e.start), en = new Date(e.end);
      for (const d of days) {
        if (C.sameDay(s, d)) minH = Math.min(minH, s.getHours());
        if (C.sameDay(en, d)) maxH = Math.max(maxH, en.getHours() + (en.getMinutes() ? 1 : 0));
      }
    }
    maxH = Math.min(24, Math.max(maxH, minH + 1));

    const grid = $("week");
    grid.style.setProperty("--hour", HOUR_PX + "px");
    const nodes = [el("div", { class: "corner" })];
    const today = C.now();
    for (const d of days) nodes.push(el("div", { class: "dayhead" + (C.sameDay(d, today) ? " today" : ""), role: "columnheader", text: C.day(d) }));
    nodes.push(el("div", { class: "alldaylabel", text: "all day" }));
    for (const d of days) {
      const cell = el("div", { class: "allday" });
      for (const e of allDay) {
        if (coversDay(e, d)) cell.append(eventNode(e, true));
      }
      nodes.push(cell);
    }
    const hours = el("div", { class: "hours" });
    for (let h = minH; h < maxH; h++) hours.append(el("div", { class: "hourlabel", text: (h ? String(h).padStart(2, "0") + ":00" : "") }));
    nodes.push(hours);
    for (const d of days) {
      const col = el("div", { class: "col", style: { height: (maxH - minH) * HOUR_PX + "px" }, "data-day": d.toDateString() });
      const dayStart = new Date(d.getFullYear(), d.getMonth(), d.getDate(), minH);
      const dayEnd = new Date(d.getFullYear(), d.getMonth(), d.getDate(), maxH);
      const inDay = timed.filter((e) => new Date(e.start) < dayEnd && new Date(e.end) > dayStart)
        .sort((a, b) => new Date(a.start) - new Date(b.start));
      layout(inDay).forEach(({ e, lane, lanes }) => {
        const s = Math.max(new Date(e.start), dayStart), en = Math.min(new Date(e.end), dayEnd);
        const top = (s - dayStart) / 3600000 * HOUR_PX;
        const height = Math.max(16, (en - s) / 3600000 * HOUR_PX - 2);
        const n = eventNode(e, false);
        n.style.top = top + "px";
        n.style.height = height + "px";
        n.style.left = "calc(" + (lane * 100 / lanes) + "% + 2px)";
        n.style.width = "calc(" + (100 / lanes) + "% - 4px)";
        n.style.right = "auto";
        col.append(n);
      });
      if (C.sameDay(d, today) && today >= dayStart && today < dayEnd) {
        col.append(el("div", { class: "nowline", style: { top: (today - dayStart) / 3600000 * HOUR_PX + "px" }, "aria-hidden": "true" }));
      }
      nodes.push(col);
    }
    grid.replaceChildren(...nodes);

    const legend = $("legend");
    legend.replaceChildren(...selected.map((c) => el("span", {}, el("span", { class: "swatch", style: { background: c.color } }), c.name)),
      el("span", {}, el("span", { class: "tag", style: { background: "#202124", color: "#fff", fontSize: "10px", padding: "0 4px", borderRadius: "3px" }, text: "BOOKED" }), "booked through calsync"),
      el("span", {}, el("span", { class: "swatch", style: { background: "#9aa0a6", opacity: ".55" } }), "free (does not block bookings)"));
  }

  function coversDay(e, d) {
    if (e.startDate && e.endDate) {
      const ds = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
      return e.startDate <= ds && ds < e.endDate;
    }
    const dayStart = new Date(d.getFullYear(), d.getMonth(), d.getDate()), dayEnd = C.addDays(dayStart, 1);
    return new Date(e.start) < dayEnd && new Date(e.end) > dayStart;
  }

  // layout puts overlapping events side by side.
  function layout(evs) {
    const out = [];
    let cluster = [], clusterEnd = 0;
    const flush = () => {
      const lanesEnd = [];
      const placed = cluster.map((e) => {
        const s = new Date(e.start).getTime();
        let lane = lanesEnd.findIndex((end) => end <= s);
        if (lane < 0) { lane = lanesEnd.length; lanesEnd.push(0); }
        lanesEnd[lane] = new Date(e.end).getTime();
        return { e, lane };
      });
      placed.forEach((p) => out.push({ ...p, lanes: lanesEnd.length }));
      cluster = [];
    };
    for (const e of evs) {
      const s = new Date(e.start).getTime();
      if (cluster.length && s >= clusterEnd) flush();
      cluster.push(e);
      clusterEnd = Math.max(clusterEnd, new Date(e.end).getTime());
    }
    if (cluster.length) flush();
    return out;
  }

  function eventNode(e, allDay) {
    const s = new Date(e.start), en = new Date(e.end);
    const when = allDay ? "all day" : C.time(s) + "–" + C.time(en);
    const title = e.title || (e.bookingId ? "Booking" : "(busy)");
    const label = (e.bookingId ? "Booking: " : "") + title + ", " + when + (e.busy === false ? ", shown as free" : "");
    const n = el(allDay ? "div" : "div", {
      class: (allDay ? "alldayev" : "ev") + (e.busy === false ? " free" : "") + (e.bookingId ? " booking" : ""),
      style: { background: e.color || "#7986cb" },
      title: label + (e.details ? "\n" + e.details : ""),
      role: "gridcell",
      "aria-label": label,
      "data-event-id": e.id,
      "data-booking-id": e.bookingId || null,
    });
    if (allDay) {
      n.textContent = title;
    } else {
      n.append(el("div", { class: "t" }, e.bookingId ? el("span", { class: "tag", text: "BOOKED" }) : null, title),
        el("div", { class: "small", text: when }));
    }
    return n;
  }

  init();
})();
