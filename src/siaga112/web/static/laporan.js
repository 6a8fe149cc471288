// The reports dashboard: KPI tiles, Chart.js charts and the desa map, drawn from
// /konsol/laporan/data.json; on a period that includes now, redrawn as events arrive.
(function () {
  "use strict";
  const root = document.getElementById("report");
  if (!root) return;
  const labels = document.getElementById("report-labels").dataset;
  const lang = document.documentElement.lang === "en" ? "en-GB" : "id-ID";
  const pct = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  const num = new Intl.NumberFormat(lang);
  const RED = "#c62828", SLATE = "#607d8b";
  const charts = {};
  let version = 0;

  function share(value) { return value === null || value === undefined ? "—" : pct.format(value); }
  function tile(name, text) { const el = root.querySelector(`[data-tile="${name}"]`); if (el) el.textContent = text; }

  function chart(id, config) {
    // Updated in place, so a live refresh does not rebuild the canvas.
    if (charts[id]) {
      charts[id].data = config.data;
      charts[id].update("none");
      return;
    }
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false,
                                     plugins: { legend: { position: "bottom" } } }, config.options || {});
    charts[id] = new Chart(document.getElementById(id), config);
  }

  function draw(data) {
    const t = data.totals;
    tile("calls", t.calls ? num.format(t.calls.total) : "—");
    tile("answered10", t.calls ? share(t.calls.answered_within_10s) : "—");
    tile("incidents", num.format(t.incidents.total));
    tile("dispatch60", share(t.incidents.dispatched_within_60s));
    tile("sla", share(t.response.sla_compliance));
    tile("false", t.calls ? share(t.calls.false_call_share) : "—");
    const daily = { labels: data.daily.map(d => d.day.slice(5)), datasets: [
      { label: labels.incidents, data: data.daily.map(d => d.incidents), backgroundColor: RED }] };
    if (t.calls) daily.datasets.unshift({ label: labels.calls, data: data.daily.map(d => d.calls), backgroundColor: SLATE });
    chart("chart-trend", { type: "bar", data: daily, options: { scales: { y: { ticks: { precision: 0 } } } } });
    chart("chart-sla", { type: "bar", data: {
      // Codes on the axis (the names are too long for it); the full name in the tooltip.
      labels: data.by_agency.map(a => a.key),
      datasets: [{ label: labels.compliance, data: data.by_agency.map(a => a.sla_compliance === null ? null : a.sla_compliance * 100),
                   backgroundColor: RED }] },
      options: { indexAxis: "y", scales: { x: { min: 0, max: 100, ticks: { callback: v => v + " %" } } },
                 plugins: { legend: { display: false }, tooltip: { callbacks: {
                   title: items => data.by_agency[items[0].dataIndex].label } } } } });
    chart("chart-types", { type: "bar", data: {
      labels: data.by_type.map(g => g.label),
      datasets: [{ label: labels.incidents, data: data.by_type.map(g => g.incidents), backgroundColor: SLATE }] },
      options: { indexAxis: "y", scales: { x: { ticks: { precision: 0 } } } } });
    const hours = { labels: data.by_hour.map(h => h.hour), datasets: [
      { label: labels.incidents, data: data.by_hour.map(h => h.incidents), backgroundColor: RED }] };
    if (t.calls) hours.datasets.unshift({ label: labels.calls, data: data.by_hour.map(h => h.calls), backgroundColor: SLATE });
    chart("chart-hours", { type: "bar", data: hours, options: { scales: { y: { ticks: { precision: 0 } } } } });
    shadeMap(data.by_desa);
    version += 1;
    root.dataset.version = String(version);
    root.dataset.state = "ready";
  }

  // ---- incidents by desa -------------------------------------------------------------------
  let map = null, desaLayer = null, counts = {};
  function colour(n, top) {
    if (!n) return "#ffffff";
    const shade = 0.25 + 0.75 * n / top;
    return `rgba(198, 40, 40, ${shade.toFixed(2)})`;
  }
  function restyle() {
    if (!desaLayer) return;
    const top = Math.max(1, ...Object.values(counts));
    desaLayer.setStyle(f => ({ color: "#5b6775", weight: 0.7, fillOpacity: 0.8, fillColor: colour(counts[f.properties.code], top) }));
    const el = document.getElementById("report-map");
    el.dataset.shaded = Object.keys(counts).filter(c => counts[c] > 0).sort().join(" ");
  }
  function shadeMap(byDesa) {
    counts = byDesa || {};
    if (!window.L) return;
    if (!map) {
      const el = document.getElementById("report-map");
      map = L.map(el, { attributionControl: false }).setView([-1.1, 116.7], 9);
      if (window.ResizeObserver) new ResizeObserver(() => map.invalidateSize()).observe(el);
      fetch("/peta/batas.geojson").then(r => r.json()).then(geo => {
        desaLayer = L.geoJSON({ type: "FeatureCollection", features: geo.features.filter(f => f.properties.level === "desa") }, {
          onEachFeature: (f, l) => l.bindTooltip(() => `${f.properties.name}: ${num.format(counts[f.properties.code] || 0)}`, { sticky: true }),
        }).addTo(map);
        map.fitBounds(desaLayer.getBounds(), { padding: [6, 6] });
        restyle();
      });
      return;
    }
    restyle();
  }

  function load() {
    fetch(root.dataset.reportUrl, { credentials: "same-origin" })
      .then(r => r.ok ? r.json() : Promise.reject(r.status))
      .then(draw)
      .catch(() => { root.dataset.state = "error"; });
  }
  let pending = null;
  document.body.addEventListener("siaga-event", ev => {
    // Live for today: a burst of events makes one reload, a second later.
    if (!/^(incident|assignment|call)\./.test(ev.detail.name)) return;
    clearTimeout(pending);
    pending = setTimeout(load, 1000);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load); else load();
})();
