/* Siaga 112 consoles: shortcuts, live updates, countdowns, maps. Written for this project. */
(function () {
  "use strict";
  const body = document.body;
  const TZ = "Asia/Makassar";

  // ---- clock (WITA) ---------------------------------------------------------------------
  const clockFmt = new Intl.DateTimeFormat("id-ID", { timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  function tickClock() {
    document.querySelectorAll("[data-clock]").forEach(el => { el.textContent = clockFmt.format(new Date()) + " WITA"; });
  }

  // ---- toasts ---------------------------------------------------------------------------
  let toastTimer = null;
  function toast(message, isError) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.classList.toggle("error", !!isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 4000);
  }
  window.siagaToast = toast;
  document.addEventListener("htmx:responseError", ev => {
    const xhr = ev.detail.xhr;
    let text = xhr.responseText || xhr.statusText || "Error";
    try { const j = JSON.parse(text); text = typeof j.detail === "string" ? j.detail : (j.detail || []).map(d => d.msg).join("; "); } catch (e) { /* plain text */ }
    if (xhr.status === 401) { window.location = "/login?next=" + encodeURIComponent(location.pathname); return; }
    toast(text, true);
  });
  document.addEventListener("htmx:sendError", () => {
    checkConnection();
    // Offline, the banner already says so; a toast per failed lookup would only bury it.
    if (!body.dataset.offline) toast("Server tidak menjawab / server not reachable", true);
  });
  document.body.addEventListener("siaga-toast", ev => toast(ev.detail.value || ev.detail.message || "", false));

  // ---- keyboard shortcuts: <button data-key="Alt+KeyP"> --------------------------------
  function comboOf(ev) {
    const parts = [];
    if (ev.ctrlKey) parts.push("Ctrl");
    if (ev.altKey) parts.push("Alt");
    if (ev.shiftKey) parts.push("Shift");
    parts.push(ev.code);
    return parts.join("+");
  }
  document.addEventListener("keydown", ev => {
    const combo = comboOf(ev);
    const matching = Array.from(document.querySelectorAll("[data-key]")).filter(el =>
      el.dataset.key.split(" ").includes(combo) && el.offsetParent !== null);
    const target = matching.find(el => !el.disabled);
    if (!target) {
      // A key is never swallowed without a word: say why nothing happened.
      const busy = matching.find(el => el.dataset.busy);
      if (busy) { ev.preventDefault(); toast(busy.dataset.busy, false); }
      return;
    }
    ev.preventDefault();
    if (target.matches("input, select, textarea")) { target.focus(); if (target.select) target.select(); }
    else target.click();
  });

  // ---- irreversible steps: no stray click, always a question -----------------------------------
  // Buttons marked data-irreversible (complete, decline, out of service, incident status) sit
  // apart, ignore a pointer click within half a second of their region being redrawn (a click
  // meant for the button that was there), and ask first (htmx:confirm below).
  const GUARD_MS = 500;
  // When each region last changed: the pane a swap landed in (a refreshed queue shifts the unit
  // board below it; a refreshed panel moves its own buttons), or the confirmation dialog.
  const changedAt = new WeakMap();
  function regionOf(el) { return el.closest("#confirm-dialog") || el.closest(".pane") || body; }
  function layoutChanged(el) {
    const region = regionOf(el);
    changedAt.set(region, performance.now());
    region.dataset.guarded = "1";
    clearTimeout(region._guardTimer);
    region._guardTimer = setTimeout(() => { delete region.dataset.guarded; }, GUARD_MS);
  }
  function tooSoon(el) { return performance.now() - (changedAt.get(regionOf(el)) || -1e9) < GUARD_MS; }
  document.addEventListener("htmx:afterSwap", ev => { if (ev.target && ev.target.closest) layoutChanged(ev.target); });
  document.addEventListener("click", ev => {
    const btn = ev.target.closest && ev.target.closest("button");
    // detail 0: a click made by a shortcut key, not a pointer landing on a moved layout.
    if (!btn || ev.detail === 0 || !tooSoon(btn)) return;
    if (!btn.hasAttribute("data-irreversible") && !btn.closest("#confirm-dialog")) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    const dialog = document.getElementById("confirm-dialog");
    if (dialog) toast(dialog.dataset.tooFast, true);
  }, true);

  function askConfirm(form) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || !dialog.showModal) return Promise.resolve(window.confirm(form.dataset.confirm));
    const reasonName = form.dataset.confirmReason;
    const reasonBox = document.getElementById("confirm-reason-box"), reason = document.getElementById("confirm-reason");
    document.getElementById("confirm-question").textContent = form.dataset.confirm;
    document.getElementById("confirm-reason-label").textContent = form.dataset.confirmReasonLabel || "";
    reasonBox.hidden = !reasonName;
    reason.value = "";
    reason.classList.remove("invalid");
    dialog.returnValue = "";
    dialog.showModal();
    layoutChanged(dialog);
    (reasonName ? reason : document.getElementById("confirm-cancel")).focus();
    return new Promise(resolve => {
      dialog.addEventListener("close", () => {
        if (dialog.returnValue !== "ok") return resolve(false);
        if (reasonName) {
          const input = form.querySelector(`[name="${reasonName}"]`);
          if (input) input.value = reason.value.trim();
        }
        resolve(true);
      }, { once: true });
    });
  }
  document.addEventListener("click", ev => {
    // A required reason: the dialog stays open until one is written.
    if (!ev.target.closest || !ev.target.closest("#confirm-ok")) return;
    const box = document.getElementById("confirm-reason-box"), reason = document.getElementById("confirm-reason");
    if (!box.hidden && reason.value.trim().length < 3) {
      ev.preventDefault();
      reason.classList.add("invalid");
      reason.focus();
      toast(document.getElementById("confirm-dialog").dataset.reasonMissing, true);
    }
  });
  document.addEventListener("htmx:confirm", ev => {
    const form = ev.detail.elt && ev.detail.elt.closest ? ev.detail.elt.closest("[data-confirm]") : null;
    if (!form) return;
    ev.preventDefault();
    askConfirm(form).then(ok => { if (ok) ev.detail.issueRequest(true); });
  });

  // ---- countdowns to deadlines: <span data-due="ISO"> ------------------------------------
  function tickCountdowns() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach(el => {
      const due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      let s = Math.round((due - now) / 1000);
      const overdue = s < 0;
      s = Math.abs(s);
      const text = (overdue ? "−" : "") + (s >= 3600 ? Math.floor(s / 3600) + ":" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") : Math.floor(s / 60)) + ":" + String(s % 60).padStart(2, "0");
      el.textContent = text;
      el.classList.toggle("overdue", overdue);
      el.classList.toggle("soon", !overdue && s <= 30);
    });
  }
  setInterval(() => { tickClock(); tickCountdowns(); }, 1000);
  tickClock(); tickCountdowns();
  document.addEventListener("htmx:afterSettle", tickCountdowns);

  // ---- sound for priority 1 (WebAudio; browsers allow it after the first key or click) ----
  let audio = null;
  function soundBlocked() { return !audio || audio.state !== "running"; }
  function showSoundState() {
    const note = document.getElementById("sound-blocked");
    if (note) note.hidden = !soundBlocked();
  }
  function unlockAudio() {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume().then(showSoundState, showSoundState);
    showSoundState();
  }
  document.addEventListener("keydown", unlockAudio);
  document.addEventListener("click", unlockAudio);
  function alarm() {
    body.dataset.alarms = String(Number(body.dataset.alarms || 0) + 1);
    showSoundState();
    if (!audio || audio.state !== "running") return;
    [0, 0.35, 0.7].forEach(offset => {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.25;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + offset); osc.stop(audio.currentTime + offset + 0.22);
    });
  }

  // ---- the alarm repeats while a P1 waits or a deadline has passed; the tab title flashes ----
  const baseTitle = document.title;
  let titleOn = false;
  function urgentRows() {
    return Array.from(document.querySelectorAll("#queue tr[data-queue-incident]")).filter(row =>
      (row.dataset.priority === "1" && row.dataset.assignmentStatus === "pending") ||
      !!row.querySelector(".countdown.overdue"));
  }
  // Checked four times a second, sounded once per repeat period: a change of the period (or of
  // the queue) takes effect at once rather than after the period already running.
  let lastAlarmAt = -Infinity;
  function alarmLoop() {
    if (!body.dataset.beepAgency) return;
    const urgent = urgentRows();
    body.dataset.urgent = String(urgent.length);
    const now = performance.now();
    if (urgent.length && now - lastAlarmAt >= Number(body.dataset.alarmRepeatMs || 10000)) {
      lastAlarmAt = now;
      alarm();
    }
  }
  setInterval(() => {
    if (!body.dataset.beepAgency) return;
    const urgent = Number(body.dataset.urgent || 0) > 0;
    titleOn = urgent && !titleOn;
    document.title = titleOn ? "⚠ " + (body.dataset.alarmTitle || "P1") + " · " + baseTitle : baseTitle;
  }, 1000);

  // ---- live updates over Server-Sent Events ----------------------------------------------
  // A live refresh must not wipe what a dispatcher is typing into an incident panel.
  window.siagaIdle = function () {
    const el = document.activeElement;
    if (el && el.matches("input, textarea, select") && el.closest("[data-incident]")) return false;
    return !Array.from(document.querySelectorAll("[data-incident] input[type=text], [data-incident] input:not([type]), [data-incident] textarea"))
      .some(i => i.value.trim() !== "");
  };
  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      if (!window.htmx) return;
      htmx.trigger(body, "siaga-refresh");
      // Incident panels refresh too, unless someone is typing into one (htmx's own trigger
      // filters would need eval, which the Content-Security-Policy forbids).
      if (window.siagaIdle()) document.querySelectorAll("[data-incident]").forEach(el => htmx.trigger(el, "siaga-refresh-detail"));
    }, 120);
  }
  function startLive() {
    if (!body.hasAttribute("data-live") || !window.EventSource) return;
    const dot = document.querySelector(".live-dot");
    const source = new EventSource("/api/v1/events");
    source.onopen = () => { if (dot) dot.classList.add("on"); body.dataset.liveState = "open"; };
    source.onerror = () => { if (dot) dot.classList.remove("on"); body.dataset.liveState = "retrying"; checkConnection(); };
    (body.dataset.liveEvents || "").split(" ").filter(Boolean).forEach(name => source.addEventListener(name, ev => {
      let data = {};
      try { data = JSON.parse(ev.data); } catch (e) { /* keep going */ }
      if (name === "call.answered" && data.answered_by && data.answered_by === body.dataset.username) takeSession(data.session_id, true);
      if (name === "call.location") offerPhoneLocation(data);
      const agency = body.dataset.beepAgency;
      if (name === "assignment.created" && agency && data.agency_code === agency && Number(data.priority) === 1) alarm();
      body.dispatchEvent(new CustomEvent("siaga-event", { detail: { name, data } }));
      refreshSoon();
    }));
  }

  // ---- maps -------------------------------------------------------------------------------
  const PRIO_COLOURS = { 1: "#c4141f", 2: "#d86400", 3: "#a18500", 4: "#4a6a8a" };
  let boundaryData = null;
  function loadBoundaries() {
    if (!boundaryData) boundaryData = fetch("/peta/batas.geojson").then(r => r.json());
    return boundaryData;
  }
  function popupFor(props) {
    const box = document.createElement("div");
    (props.lines || []).forEach((line, i) => {
      const p = document.createElement(i === 0 ? "strong" : "div");
      p.textContent = line; box.appendChild(p);
    });
    if (props.href) { const a = document.createElement("a"); a.href = props.href; a.textContent = props.link || "›"; box.appendChild(a); }
    return box;
  }
  function setupMap(el) {
    if (!window.L || el._siagaMap) return;
    const map = L.map(el, { zoomControl: true, attributionControl: true }).setView([-1.1, 116.7], 9);
    el._siagaMap = map;
    window.siagaMaps = window.siagaMaps || [];
    window.siagaMaps.push(map);
    if (el.dataset.tileUrl) {
      // Without a reachable tile server the map keeps its plain background; boundaries and markers still draw.
      L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.tileAttribution || "" }).addTo(map);
    }
    // The panes settle their size after the map is made; keep Leaflet's idea of it current.
    if (window.ResizeObserver) new ResizeObserver(() => map.invalidateSize()).observe(el);
    loadBoundaries().then(geo => {
      map.invalidateSize();
      const layer = L.geoJSON(geo, {
        style: f => f.properties.level === "kecamatan"
          ? { color: "#1b2733", weight: 2.2, fill: false }
          : { color: "#5b6775", weight: 0.8, fillColor: "#ffffff", fillOpacity: 0.25 },
        onEachFeature: (f, l) => { if (f.properties.level === "desa") l.bindTooltip(f.properties.name, { sticky: true }); },
      }).addTo(map);
      layer.bringToBack();
      el.dataset.boundaries = String(geo.features.length);
      if (!el.dataset.keepView) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    });
    let markers = null;
    function loadMarkers() {
      if (!el.dataset.markers) return;
      fetch(el.dataset.markers, { credentials: "same-origin" }).then(r => r.ok ? r.json() : null).then(geo => {
        if (!geo) return;
        if (markers) markers.remove();
        markers = L.geoJSON(geo, {
          // A warning received from BMKG: its area, dashed, under the incidents.
          style: f => f.properties.kind === "warning" ? { color: "#7b1fa2", weight: 2, dashArray: "6 4", fillOpacity: 0.08 } : {},
          pointToLayer: (f, latlng) => L.circleMarker(latlng, {
            radius: f.properties.kind === "unit" ? 6 : 9, weight: 2, color: f.properties.kind === "unit" ? "#0b5cad" : "#fff",
            fillColor: f.properties.kind === "unit" ? "#7fb2e5" : (PRIO_COLOURS[f.properties.priority] || "#555"), fillOpacity: 0.95,
          }),
          onEachFeature: (f, l) => l.bindPopup(() => popupFor(f.properties)),
        }).addTo(map);
        el.dataset.markerCount = String(geo.features.length);
        el.dataset.warningCount = String(geo.features.filter(f => f.properties.kind === "warning").length);
        // Tests and screen readers read what the map shows from these attributes.
        el.dataset.markerTickets = geo.features.map(f => f.properties.ticket || "").join(" ");
        el.dataset.markerStates = geo.features.filter(f => f.properties.ticket).map(f => f.properties.ticket + ":" + f.properties.status).join(" ");
      });
    }
    loadMarkers();
    if (el.dataset.markers) body.addEventListener("siaga-refresh", loadMarkers);
    if (el.dataset.pick) {
      const [latId, lonId] = el.dataset.pick.split(",");
      let pin = null;
      body.addEventListener("siaga-place", ev => {
        const d = ev.detail, at = L.latLng(d.lat, d.lon);
        if (pin) pin.setLatLng(at); else pin = L.marker(at).addTo(map);
        pin.bindTooltip(d.label || "").openTooltip();
        el.dataset.keepView = "1";  // the boundaries arriving later must not zoom back out
        map.setView(at, d.zoom);
        el.dataset.pinned = d.lat.toFixed(5) + "," + d.lon.toFixed(5);
        el.dataset.zoom = String(map.getZoom());
      });
      map.on("click", ev => {
        const lat = document.getElementById(latId), lon = document.getElementById(lonId);
        lat.value = ev.latlng.lat.toFixed(6); lon.value = ev.latlng.lng.toFixed(6);
        if (pin) pin.setLatLng(ev.latlng); else pin = L.marker(ev.latlng).addTo(map);
        lat.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }
  function setupMaps(root) { (root || document).querySelectorAll("[data-map]").forEach(setupMap); }

  // ---- call-taker helpers ------------------------------------------------------------------
  document.addEventListener("click", ev => {
    const pick = ev.target.closest("[data-pick-desa]");
    if (!pick) return;
    ev.preventDefault();
    const code = document.getElementById("desa_code"), q = document.getElementById("desa_q");
    code.value = pick.dataset.pickDesa; q.value = pick.dataset.label;
    if (pick.dataset.lat) {
      // A landmark: its point is the location, its name starts the address.
      document.getElementById("lat").value = pick.dataset.lat;
      document.getElementById("lon").value = pick.dataset.lon;
      const address = document.getElementById("address");
      if (!address.value) address.value = pick.dataset.address;
    }
    if (pick.dataset.showLat) {
      // Pinned and zoomed on the call-taker's map, so the caller can be asked "near what?".
      body.dispatchEvent(new CustomEvent("siaga-place", { detail: {
        lat: Number(pick.dataset.showLat), lon: Number(pick.dataset.showLon),
        zoom: Number(pick.dataset.showZoom || 15), label: pick.dataset.label } }));
    }
    const list = pick.closest("[data-desa-results]"); if (list) list.innerHTML = "";
    code.dispatchEvent(new Event("change", { bubbles: true }));
    const next = document.getElementById(pick.dataset.nextFocus || "address");
    if (next) next.focus();
  });
  // Rows that open something: Enter does what a click does.
  document.addEventListener("keydown", ev => {
    if (ev.key === "Enter" && ev.target.matches && ev.target.matches("tr.clickable, tr[tabindex]")) { ev.preventDefault(); ev.target.click(); }
  });
  document.addEventListener("keydown", ev => {
    if (ev.key === "ArrowDown" && ev.target.id === "desa_q") {
      const first = document.querySelector("[data-desa-results] [data-pick-desa]");
      if (first) { ev.preventDefault(); first.focus(); }
    }
  });
  document.addEventListener("change", ev => { if (ev.target.matches("[data-touch]")) ev.target.dataset.touched = "1"; });
  document.addEventListener("htmx:afterSwap", ev => {
    const sug = ev.target.querySelector ? ev.target.querySelector("[data-suggest-type]") : null;
    if (sug) {
      const type = document.getElementById("type_code"), prio = document.getElementById("priority");
      if (type && !type.dataset.touched) type.value = sug.dataset.suggestType;
      if (prio && !prio.dataset.touched && sug.dataset.suggestPriority) prio.value = sug.dataset.suggestPriority;
    }
    setupMaps(ev.target);
    // An incident opened from a long list (the command centre's escalations and open incidents)
    // is drawn below them: bring it into view, or the click seems to do nothing.
    if (ev.target.id === "detail" && ev.target.scrollIntoView) ev.target.scrollIntoView({ block: "start" });
    // Focus moves here, in the swap itself: htmx's own `autofocus` handling runs ~20 ms later
    // at settle time and could pull the cursor away from a field the user already typed into.
    const focus = ev.target.querySelector ? ev.target.querySelector("[data-autofocus]") : null;
    if (focus) focus.focus();
  });

  function clearCall(keepResult, newKey) {
    const form = document.getElementById("call-form");
    if (!form) return;
    form.reset();
    // A hidden input's value is its default, so reset() would keep the picked desa.
    form.querySelectorAll("input[type=hidden]:not(#form_key)").forEach(el => { el.value = ""; });
    form.querySelectorAll("[data-touched]").forEach(el => { delete el.dataset.touched; });
    note("");
    ["history", "duplicates", "suggestion", "desa-results"].concat(keepResult ? [] : ["result"]).forEach(id => {
      const el = document.getElementById(id); if (el) el.innerHTML = "";
    });
    if (newKey) document.getElementById("form_key").value = newKey;
    document.getElementById("phone").focus();
  }
  body.addEventListener("call-saved", ev => {
    const d = ev.detail || {};
    clearCall(true, d.form_key);
  });
  document.addEventListener("click", ev => {
    if (ev.target.closest("[data-new-call]")) {
      const key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      clearCall(false, key);
    }
  });

  // ---- screen pop: a call answered at the PBX, or a citizen report, fills the new-call form ----
  function setValue(id, value, eventName) {
    const el = document.getElementById(id);
    if (!el || value === null || value === undefined) return;
    el.value = value;
    if (eventName) el.dispatchEvent(new Event(eventName, { bubbles: true }));
  }
  function note(text, warn) {
    const el = document.getElementById("source-note");
    if (!el) return;
    el.textContent = text; el.hidden = !text; el.classList.toggle("error", !!warn);
  }
  function takeSession(id, onlyIfIdle) {
    const form = document.getElementById("call-form");
    if (!form) return;
    if (onlyIfIdle && (document.getElementById("phone").value || document.getElementById("description").value)) return;
    fetch("/konsol/panggilan/sesi/" + encodeURIComponent(id), { credentials: "same-origin" }).then(r => r.ok ? r.json() : null).then(s => {
      if (!s) return;
      clearCall(true);
      setValue("call_session_id", s.session_id);
      setValue("phone", s.phone, "change");
      let text = "☎ " + (s.phone || "—");
      if (s.location) { offerPhoneLocation({ session_id: s.session_id, lat: s.location.lat, lon: s.location.lon, radius_m: s.location.radius_m }); }
      if (s.blocked) text += " · ⛔ nomor diblokir (tetap layani jika darurat)";
      note(text, s.blocked);
      document.getElementById("description").focus();
    });
  }
  function offerPhoneLocation(data) {
    const sid = document.getElementById("call_session_id");
    if (!sid || sid.value !== data.session_id || data.lat === null || data.lat === undefined) return;
    if (!document.getElementById("lat").value) {
      setValue("lon", Number(data.lon).toFixed(6));
      setValue("lat", Number(data.lat).toFixed(6), "change");
    }
    const el = document.getElementById("source-note");
    if (el) { el.hidden = false; el.textContent += " · 📍 AML ±" + Math.round(data.radius_m || 0) + " m"; }
  }
  function takeReport(id) {
    fetch("/konsol/panggilan/laporan/" + encodeURIComponent(id), { credentials: "same-origin" }).then(r => r.ok ? r.json() : null).then(r => {
      if (!r) return;
      clearCall(true);
      setValue("report_id", r.report_id);
      const channel = document.getElementById("channel");
      if (channel && Array.from(channel.options).some(o => o.value === r.channel)) channel.value = r.channel;
      setValue("phone", r.phone, "change");
      setValue("caller_name", r.name);
      setValue("address", r.address);
      if (r.lat !== null) { setValue("lon", r.lon); setValue("lat", r.lat, "change"); }
      setValue("description", r.description, "input");
      note("✉ " + r.ticket + " · " + r.channel + (r.blocked ? " · ⛔ nomor diblokir" : ""), r.blocked);
      document.getElementById("description").focus();
    });
  }
  document.addEventListener("click", ev => {
    const s = ev.target.closest("[data-take-session]");
    if (s) takeSession(s.dataset.takeSession, false);
    const r = ev.target.closest("[data-take-report]");
    if (r) takeReport(r.dataset.takeReport);
  });

  // ---- a save is never dropped: queued while the form's lookups run, and said so -------------
  // History, type suggestion, place search and duplicates run as the call-taker types; a
  // Ctrl+Enter in the middle waits for them (at most LOOKUP_WAIT_MS) and then saves what is typed.
  const LOOKUP_WAIT_MS = 1500;
  const lookups = new Set();
  function lookupsRunning() {
    lookups.forEach(x => { if (x.readyState === 0 || x.readyState === 4) lookups.delete(x); });
    return lookups.size > 0;
  }
  document.addEventListener("htmx:beforeRequest", ev => {
    const elt = ev.detail.elt;
    if (elt && elt.id !== "call-form" && elt.closest && elt.closest("#call-form")) lookups.add(ev.detail.xhr);
  });
  document.addEventListener("htmx:afterRequest", ev => lookups.delete(ev.detail.xhr));

  // ---- connection: a banner within seconds, stale data marked, actions visibly pending -------
  const PROBE_OFFLINE_MS = 1000, PROBE_ONLINE_MS = 15000, PROBE_TIMEOUT_MS = 1500;
  let probeTimer = null, probing = false;
  function setOffline(offline) {
    const banner = document.getElementById("offline-banner");
    const was = !!body.dataset.offline;
    if (offline && !was) {
      body.dataset.offline = "1";
      if (banner) {
        const since = banner.querySelector("[data-offline-since]");
        if (since) since.textContent = "(" + banner.dataset.sinceLabel + " " + clockFmt.format(new Date()) + " WITA)";
        banner.hidden = false;
      }
    } else if (!offline && was) {
      delete body.dataset.offline;
      if (banner) banner.hidden = true;
      flushOutbox();
      refreshSoon();
    }
    clearTimeout(probeTimer);
    probeTimer = setTimeout(checkConnection, offline ? PROBE_OFFLINE_MS : PROBE_ONLINE_MS);
  }
  function checkConnection() {
    if (probing || !document.getElementById("offline-banner")) return;
    probing = true;
    const ctl = window.AbortController ? new AbortController() : null;
    const timer = setTimeout(() => ctl && ctl.abort(), PROBE_TIMEOUT_MS);
    fetch("/healthz", { cache: "no-store", credentials: "same-origin", signal: ctl ? ctl.signal : undefined })
      .then(r => setOffline(!r.ok), () => setOffline(true))
      .finally(() => { clearTimeout(timer); probing = false; });
  }
  window.addEventListener("offline", () => setOffline(true));
  window.addEventListener("online", checkConnection);
  // Offline, an action cannot reach the server: it is refused on the spot rather than left to
  // look sent. New incidents are the exception: they wait in the outbox below.
  document.addEventListener("htmx:beforeRequest", ev => {
    if (!body.dataset.offline || ev.detail.elt.id === "call-form") return;
    const verb = (ev.detail.requestConfig && ev.detail.requestConfig.verb) || "get";
    if (verb !== "get") {
      ev.preventDefault();
      const banner = document.getElementById("offline-banner");
      toast(banner ? banner.textContent.trim().replace(/\s+/g, " ") : "offline", true);
    }
  });

  // ---- the outbox: incidents saved while offline wait in IndexedDB with their form key ---------
  // The key is the form's idempotency key, so a save whose answer was lost and is sent again,
  // or sent from two tabs, is still one incident.
  const OUTBOX_DB = "siaga112", OUTBOX = "outbox";
  let outboxDb = null;
  function openOutbox() {
    if (!outboxDb) outboxDb = new Promise((resolve, reject) => {
      if (!window.indexedDB) return reject(new Error("no IndexedDB"));
      const req = indexedDB.open(OUTBOX_DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(OUTBOX, { keyPath: "form_key" });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    return outboxDb;
  }
  function outboxDo(mode, fn) {
    return openOutbox().then(db => new Promise((resolve, reject) => {
      const tx = db.transaction(OUTBOX, mode);
      const result = fn(tx.objectStore(OUTBOX));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    }));
  }
  function showOutbox() {
    const box = document.getElementById("outbox");
    if (!box) return Promise.resolve();
    return outboxDo("readonly", store => store.count()).then(n => {
      document.getElementById("outbox-count").textContent = String(n);
      box.hidden = n === 0;
      body.dataset.outbox = String(n);
    });
  }
  function formFields(form) {
    const fields = {};
    new FormData(form).forEach((value, name) => { fields[name] = String(value); });
    return fields;
  }
  function keepInOutbox(fields) {
    const box = document.getElementById("outbox");
    return outboxDo("readwrite", store => store.put({ form_key: fields.form_key, fields: fields, saved_at: Date.now() }))
      .then(() => {
        const key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
        clearCall(false, key);
        if (box) toast(box.dataset.stored, false);
        return showOutbox();
      });
  }
  let flushing = false;
  function flushOutbox() {
    const box = document.getElementById("outbox");
    if (!box || flushing || body.dataset.offline) return;
    flushing = true;
    outboxDo("readonly", store => store.getAll()).then(items => items.reduce((chain, item) => chain.then(() =>
      fetch("/konsol/panggilan/insiden", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": body.dataset.csrf || "", "HX-Request": "true" },
        body: new URLSearchParams(item.fields).toString(),
      }).then(r => {
        if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 408 && r.status !== 429)) {
          // Sent (201, or 200 for a key already used) or refused for good: out of the outbox.
          let ticket = "";
          try { ticket = JSON.parse(r.headers.get("HX-Trigger") || "{}")["call-saved"].ticket || ""; } catch (e) { /* none */ }
          toast(r.ok ? box.dataset.sent + (ticket ? ": " + ticket : "") : box.dataset.refused + ": " + (item.fields.description || "").slice(0, 60), !r.ok);
          return outboxDo("readwrite", store => store.delete(item.form_key));
        }
        throw new Error("retry later");
      })
    ), Promise.resolve()))
      .catch(() => { /* still offline or the server is failing: kept, tried at the next reconnect */ })
      .finally(() => { flushing = false; showOutbox(); });
  }

  // One gate before the new-call form is sent: wait for lookups, keep it when offline.
  document.addEventListener("htmx:confirm", ev => {
    const form = ev.detail.elt;
    if (!form || form.id !== "call-form") return;
    ev.preventDefault();
    const queued = document.getElementById("save-queued");
    const started = performance.now();
    function go() {
      if (lookupsRunning() && performance.now() - started < LOOKUP_WAIT_MS) { setTimeout(go, 40); return; }
      if (queued) queued.hidden = true;
      if (body.dataset.offline) { keepInOutbox(formFields(form)); return; }
      pendingSave = formFields(form);
      ev.detail.issueRequest(true);
    }
    if (lookupsRunning() && queued) queued.hidden = false;
    go();
  });
  // A save that left but got no answer (the network went mid-request) waits in the outbox too.
  let pendingSave = null;
  document.addEventListener("htmx:sendError", ev => {
    if (ev.detail.elt && ev.detail.elt.id === "call-form" && pendingSave) {
      setOffline(true);
      keepInOutbox(pendingSave);
      pendingSave = null;
    }
  });
  document.addEventListener("htmx:afterRequest", ev => {
    if (ev.detail.elt && ev.detail.elt.id === "call-form" && ev.detail.successful !== undefined && !ev.detail.failed) pendingSave = null;
  });

  // ---- the dispatcher's queue: a row stays marked new until it has been opened --------------
  const OPENED_KEY = "siaga112-opened:" + (body.dataset.username || "");
  function openedSet() {
    try { return new Set(JSON.parse(localStorage.getItem(OPENED_KEY) || "[]")); } catch (e) { return new Set(); }
  }
  function markNewRows() {
    const queue = document.getElementById("queue");
    if (!queue) return;
    const opened = openedSet();
    queue.querySelectorAll("tr[data-queue-incident]").forEach(row => {
      const fresh = !opened.has(row.dataset.queueIncident);
      row.classList.toggle("unopened", fresh);
      if (fresh && !row.querySelector(".new-badge")) {
        const badge = document.createElement("span");
        badge.className = "new-badge"; badge.textContent = queue.dataset.newLabel || "NEW";
        row.querySelector(".ticket").appendChild(badge);
      }
    });
  }
  document.addEventListener("htmx:afterSwap", ev => { if (ev.target && ev.target.id === "queue") markNewRows(); });
  document.addEventListener("click", ev => {
    const row = ev.target.closest && ev.target.closest("tr[data-queue-incident]");
    if (!row) return;
    const opened = openedSet();
    opened.add(row.dataset.queueIncident);
    // Only the open incidents' ids matter; keep the list from growing without end.
    localStorage.setItem(OPENED_KEY, JSON.stringify(Array.from(opened).slice(-500)));
    row.classList.remove("unopened");
    const badge = row.querySelector(".new-badge"); if (badge) badge.remove();
  });

  let started = false;
  function init() {
    if (started) return;
    started = true;
    setupMaps(); startLive();
    if (body.dataset.beepAgency) { showSoundState(); setInterval(alarmLoop, 250); }
    if (document.getElementById("offline-banner")) {
      if (navigator.onLine === false) setOffline(true); else checkConnection();
    }
    if (document.getElementById("outbox")) showOutbox().then(flushOutbox, () => {});
    const focus = document.querySelector("[data-autofocus]");
    if (focus && document.activeElement === body) focus.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
