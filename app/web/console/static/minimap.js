// The ticket page's small map: the ticket's grid and its pin.
(function () {
  "use strict";
  var el = document.getElementById("minimap");
  if (!el || !window.L) { return; }
  var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)];
  var map = L.map(el, { preferCanvas: true, attributionControl: false }).setView(at, 16);
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19, subdomains: "1234" }).addTo(map); }
  if (el.dataset.grid) {
    var grid = L.geoJSON(JSON.parse(el.dataset.grid), { style: { color: "#475569", weight: 1, fillOpacity: 0.08 } }).addTo(map);
    map.fitBounds(grid.getBounds().extend(at), { padding: [8, 8] });
  }
  L.circleMarker(at, { radius: 8, color: "#fff", weight: 2, fillColor: "#dc2626", fillOpacity: 1 }).addTo(map);
})();
