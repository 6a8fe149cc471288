// The public-alerts screen: an area drawn on the PPU map by clicking its corners, kept in the
// form's hidden `polygon` field as [[lat, lon], ...].
(function () {
  "use strict";
  const el = document.getElementById("alert-map");
  const field = document.getElementById("alert-polygon");
  if (!el || !field || !window.L) return;
  const map = L.map(el).setView([-1.1, 116.7], 9);
  if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  if (window.ResizeObserver) new ResizeObserver(() => map.invalidateSize()).observe(el);
  fetch("/peta/batas.geojson").then(r => r.json()).then(geo => {
    const layer = L.geoJSON({ type: "FeatureCollection", features: geo.features.filter(f => f.properties.level === "kecamatan") },
      { style: { color: "#1b2733", weight: 1.5, fill: false }, interactive: false }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [6, 6] });
    el.dataset.ready = "yes";
  });
  const points = [];
  const shape = L.polygon([], { color: "#c62828", weight: 2, fillOpacity: 0.2 }).addTo(map);
  const count = document.getElementById("alert-polygon-count");
  function redraw() {
    shape.setLatLngs(points);
    field.value = points.length >= 3 ? JSON.stringify(points.map(p => [+p[0].toFixed(5), +p[1].toFixed(5)])) : "null";
    count.textContent = String(points.length);
    count.dataset.points = String(points.length);
  }
  map.on("click", ev => { points.push([ev.latlng.lat, ev.latlng.lng]); redraw(); });
  document.getElementById("alert-polygon-clear").addEventListener("click", () => { points.length = 0; redraw(); });
})();
