// tocsin incidents page: live updates over the receiver's Server-Sent Events stream.
// Rows are rendered by the server (escaped there); this file only fetches and places
// them, so no alert text ever passes through script-built HTML.
"use strict";

(function () {
  const body = document.body;
  const live = body.dataset.live;
  if (!live || typeof EventSource === "undefined") return;
  const prefix = body.dataset.prefix || "";
  const status = document.getElementById("live-status");
  const pending = new Set();
  // One rows request at a time: changes arriving meanwhile wait for the next, so a burst
  // of events costs a few requests, and a lone change is fetched at once.
  let inFlight = false;

  function setStatus(text, state) {
    if (!status) return;
    status.textContent = text;
    status.dataset.state = state;
  }

  async function refreshCounts() {
    const r = await fetch(prefix + "/counts", { credentials: "same-origin" });
    if (!r.ok) return;
    const counts = await r.json();
    for (const [state, n] of Object.entries(counts)) {
      const el = document.querySelector('[data-count="' + state + '"]');
      if (el) el.textContent = String(n);
    }
  }

  async function refreshRows() {
    if (inFlight || !pending.size) return;
    inFlight = true;
    try {
      await fetchRows();
    } finally {
      inFlight = false;
    }
    refreshRows();
  }

  async function fetchRows() {
    const ids = Array.from(pending).slice(0, 200);
    ids.forEach((id) => pending.delete(id));
    const query = new URLSearchParams(body.dataset.view || "");
    ids.forEach((id) => query.append("id", String(id)));
    const r = await fetch(prefix + "/rows?" + query.toString(), { credentials: "same-origin" });
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), "text/html");
    const fresh = doc.getElementById("fresh-rows");
    const tbody = document.getElementById("rows");
    if (!fresh || !tbody) return;
    const rows = new Map();
    fresh.content.querySelectorAll("tr[data-id]").forEach((row) => rows.set(row.dataset.id, row));
    const added = [];
    ids.forEach((id) => {
      const old = document.getElementById("incident-" + id);
      const row = rows.get(String(id));
      if (row) row.classList.add("changed");
      if (old && row) old.replaceWith(document.importNode(row, true));
      else if (old) old.remove(); // it left this view (acked, resolved, filtered out)
      else if (row) added.push(row);
    });
    // Newcomers go on top only where the newest belong: the first page, newest first.
    if (added.length && body.dataset.insert) {
      added.sort((a, b) => Number(b.dataset.id) - Number(a.dataset.id));
      added.reverse().forEach((row) => {
        tbody.insertBefore(document.importNode(row, true), tbody.firstChild);
      });
    } else if (added.length) {
      document.getElementById("stale").hidden = false;
    }
    refreshCounts();
  }

  function onIncident(event) {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    const id = Number(data.id);
    if (!Number.isSafeInteger(id)) return;
    if (live === "list") {
      if (data.change === "created") {
        const unread = document.getElementById("unread");
        if (unread) unread.textContent = String(Number(unread.textContent || "0") + 1);
      }
      if (body.dataset.grouped) {
        document.getElementById("stale").hidden = false;
        refreshCounts();
        return;
      }
      pending.add(id);
      refreshRows();
    } else if (live === "detail" && String(id) === body.dataset.incident) {
      document.getElementById("stale").hidden = false;
    }
  }

  // Events may have been missed: the stream could not resume (a `reset`, e.g. after a
  // receiver restart) or a new stream had to be opened. Which incidents changed is then
  // unknown, so the page says it may be stale rather than look current.
  function missed() {
    const stale = document.getElementById("stale");
    if (stale) stale.hidden = false;
    if (live === "list") refreshCounts();
  }

  // EventSource reconnects by itself (sending Last-Event-ID when the stream gave ids), but
  // gives up for good on an answer that is not a stream (a 503 while the receiver stops):
  // then a new one is opened a little later, without the id to resume from.
  let opened = false;
  function connect() {
    const source = new EventSource(prefix + "/events", { withCredentials: true });
    const fresh = opened;
    source.addEventListener("open", () => {
      setStatus("live", "open");
      if (live === "list") refreshCounts();
      if (fresh) missed();
      opened = true;
    });
    source.addEventListener("reset", missed);
    source.addEventListener("error", () => {
      setStatus("reconnecting…", "error");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
    source.addEventListener("incident", onIncident);
    source.addEventListener("shutdown", () => setStatus("receiver restarting…", "error"));
  }
  connect();
})();
