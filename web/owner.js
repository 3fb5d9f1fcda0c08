// Calendar-owner page: the fake Google's control API (same-origin under /google/), used
// to add, move and delete events as the owner of the Google calendar would.
"use strict";
(() => {
  const C = Calsync, el = C.el;
  const $ = (id) => document.getElementById(id);
  let calendars = [], current = null, editing = null, lastKey = "";

  function notice(kind, text) {
    const n = $("notice");
    n.className = "notice " + kind;
    n.setAttribute("role", kind === "error" ? "alert" : "status");
    n.textContent = text;
  }

  async function init() {
    try {
      await C.loadConfig();
    } catch (e) {
      notice("error", e.message);
      $("events").replaceChildren();
      return;
    }
    $("clock").textContent = "Google's clock: " + C.date(C.now()) + " " + C.time(C.now()) + ".";
    const start = new Date(C.now());
    start.setMinutes(0, 0, 0);
    start.setHours(start.getHours() + 2);
    $("add-start").value = C.localInput(start);
    $("add-end").value = C.localInput(new Date(start.getTime() + 3600000));
    $("add-start").addEventListener("change", () => {
      const s = new Date($("add-start").value);
      if (!isNaN(s)) $("add-end").value = C.localInput(new Date(s.getTime() + 3600000));
    });
    $("add").addEventListener("submit", add);
    $("calendar").addEventListener("change", () => { current = $("calendar").value; localStorage.setItem("calsync.ownerCal", current); lastKey = ""; loadEvents(true); });
    await loadCalendars();
    setInterval(() => { if (!document.hidden && !editing) loadEvents(false); }, 4000);
  }

  async function loadCalendars() {
    try {
      const data = await C.google("GET", "/calendars");
      calendars = ((data && data.calendars) || []).filter((c) => !c.deleted);
    } catch (e) {
      notice("error", "Could not load Google's calendars: " + e.message);
      $("events").replaceChildren();
      return;
    }
    const sel = $("calendar");
    if (!calendars.length) {
      sel.replaceChildren(el("option", { value: "", text: "(no calendars)" }));
      $("events").replaceChildren(el("p", { class: "empty", text: "The fake Google has no calendars. `make run` seeds demo@example.com; restart it to seed again." }));
      return;
    }
    sel.replaceChildren(...calendars.map((c) => el("option", { value: c.id, text: c.summary + " — " + c.email + (c.primary ? " (primary)" : "") })));
    const saved = localStorage.getItem("calsync.ownerCal");
    current = calendars.some((c) => c.id === saved) ? saved : calendars[0].id;
    sel.value = current;
    await loadEvents(true);
  }

  function path(cal, rest) { return "/calendars/" + encodeURIComponent(cal) + rest; }

  async function loadEvents(showLoading) {
    if (!current) return;
    const cal = current;
    const from = new Date(C.now()); from.setHours(0, 0, 0, 0);
    const to = C.addDays(from, 14);
    if (showLoading) $("events").replaceChildren(el("p", { class: "loading", text: "Loading events…" }));
    try {
      const data = await C.google("GET", path(cal, "/events?singleEvents=true&timeMin=" + encodeURIComponent(from.toISOString()) + "&timeMax=" + encodeURIComponent(to.toISOString())));
      if (cal !== current || editing) return;
      const items = ((data && data.items) || []).filter((e) => e.status !== "cancelled");
      items.sort((a, b) => startOf(a) - startOf(b));
      const key = JSON.stringify(items.map((e) => [e.id, e.etag, e.summary]));
      if (showLoading || key !== lastKey) render(items);
      lastKey = key;
      $("updated").textContent = "Updated " + C.time(new Date());
    } catch (e) {
      if (showLoading) $("events").replaceChildren(el("p", { class: "notice error", role: "alert", text: "Could not load the events: " + e.message }));
      else $("updated").textContent = "Not updated: " + e.message;
    }
  }

  function startOf(e) { return e.start && e.start.dateTime ? new Date(e.start.dateTime) : new Date((e.start && e.start.date || "") + "T00:00:00"); }
  function endOf(e) { return e.end && e.end.dateTime ? new Date(e.end.dateTime) : new Date((e.end && e.end.date || "") + "T00:00:00"); }

  function when(e) {
    if (e.start && e.start.date) {
      const last = C.addDays(endOf(e), -1);
      return C.day(startOf(e)) + (C.sameDay(startOf(e), last) ? "" : " – " + C.day(last)) + ", all day";
    }
    return C.day(startOf(e)) + ", " + C.time(startOf(e)) + "–" + C.time(endOf(e));
  }

  function render(items) {
    const box = $("events");
    if (!items.length) {
      box.replaceChildren(el("p", { class: "empty", text: "No events in the next 14 days. Add one above." }));
      return;
    }
    const tbody = el("tbody");
    for (const e of items) {
      const tags = [];
      if (e.recurringEventId) tags.push("repeats");
      if (e.transparency === "transparent") tags.push("shown as free");
      if (e.extendedProperties && e.extendedProperties.private && Object.keys(e.extendedProperties.private).some((k) => /booking/i.test(k))) tags.push("calsync booking");
      const row = el("tr", { "data-event-id": e.id },
        el("td", {}, el("strong", { text: e.summary || "(no title)" }), tags.length ? el("span", { class: "muted small", text: " · " + tags.join(", ") }) : null),
        el("td", { text: when(e) }),
        el("td", { style: { textAlign: "right", whiteSpace: "nowrap" } },
          e.start && e.start.dateTime ? el("button", { type: "button", "aria-label": "Move " + (e.summary || "event"), text: "Move", onclick: () => edit(row, e) }) : null, " ",
          el("button", { type: "button", class: "danger", "aria-label": "Delete " + (e.summary || "event"), text: "Delete", onclick: (ev) => del(e, ev.currentTarget) })));
      tbody.append(row);
    }
    box.replaceChildren(el("table", { class: "events" },
      el("thead", {}, el("tr", {}, el("th", { text: "Event" }), el("th", { text: "When" }), el("th", {}, el("span", { class: "sr-only", text: "Actions" })))), tbody));
  }

  async function add(ev) {
    ev.preventDefault();
    const title = $("add-title").value.trim();
    const s = new Date($("add-start").value), en = new Date($("add-end").value);
    if (!title) { notice("error", "Please give the event a title."); $("add-title").focus(); return; }
    if (isNaN(s) || isNaN(en)) { notice("error", "Please enter when the event starts and ends."); return; }
    if (en <= s) { notice("error", "The event must end after it starts."); $("add-end").focus(); return; }
    const btn = $("add-submit");
    btn.disabled = true; btn.textContent = "Adding…";
    try {
      await C.google("POST", path(current, "/events"), { summary: title, start: { dateTime: s.toISOString() }, end: { dateTime: en.toISOString() } });
      notice("ok", "Added “" + title + "” (" + C.day(s) + ", " + C.time(s) + "–" + C.time(en) + "). Google notifies calsync; watch the week view and the widget.");
      $("add-title").value = "";
      lastKey = "";
      await loadEvents(false);
    } catch (e) {
      notice("error", "Google did not add the event: " + e.message);
    } finally {
      btn.disabled = false; btn.textContent = "Add event";
    }
  }

  function edit(row, e) {
    editing = e.id;
    const s = el("input", { type: "datetime-local", value: C.localInput(startOf(e)), "aria-label": "New start" });
    const en = el("input", { type: "datetime-local", value: C.localInput(endOf(e)), "aria-label": "New end" });
    const dur = endOf(e) - startOf(e);
    s.addEventListener("change", () => { const x = new Date(s.value); if (!isNaN(x)) en.value = C.localInput(new Date(x.getTime() + dur)); });
    const save = el("button", { type: "button", class: "primary", text: "Save" });
    const cancel = el("button", { type: "button", text: "Cancel", onclick: () => { editing = null; lastKey = ""; loadEvents(false); } });
    save.addEventListener("click", async () => {
      const ns = new Date(s.value), ne = new Date(en.value);
      if (isNaN(ns) || isNaN(ne) || ne <= ns) { notice("error", "The event must end after it starts."); return; }
      save.disabled = true; save.textContent = "Saving…";
      const body = { start: { dateTime: ns.toISOString() }, end: { dateTime: ne.toISOString() } };
      if (e.start.timeZone) { body.start.timeZone = e.start.timeZone; body.end.timeZone = e.end.timeZone || e.start.timeZone; }
      try {
        await C.google("PATCH", path(current, "/events/" + encodeURIComponent(e.id)), body);
        notice("ok", "Moved “" + (e.summary || "event") + "” to " + C.day(ns) + ", " + C.time(ns) + "–" + C.time(ne) + ".");
      } catch (err) {
        notice("error", "Google did not move the event: " + err.message);
      }
      editing = null; lastKey = "";
      loadEvents(false);
    });
    const cell = row.children[1];
    cell.replaceChildren(el("div", { class: "row", style: { gap: "6px" } }, s, "–", en, save, cancel));
    s.focus();
  }

  async function del(e, btn) {
    btn.disabled = true; btn.textContent = "Deleting…";
    try {
      await C.google("DELETE", path(current, "/events/" + encodeURIComponent(e.id)));
      notice("ok", "Deleted “" + (e.summary || "event") + "”" + (e.recurringEventId ? " (this occurrence only)." : "."));
    } catch (err) {
      notice("error", "Google did not delete the event: " + err.message);
    }
    lastKey = "";
    loadEvents(false);
  }

  init();
})();
