// The ticket page's small map: the ticket's grid and its pin.
(function () {
  "use strict";
  var el = document.getElementById("minimap");
  if (!el || !window.L) { return; }
  var at = [parseFloat(el.dataset.lat), parseFloat(el.dataset.lng)];
  var map = L.map(el, { preferCanvas: true, attributionControl: false }).setView(at, 16);
  if (el.dataset.tiles) { L.tileLayer(el.dataset.tiles, { maxZoom: 19, subdomains: "1234" }).addTo(map); }
  var grid = null;
  if (el.dataset.grid) {
    grid = L.geoJSON(JSON.parse(el.dataset.grid), { style: { color: "#475569", weight: 1, fillOpacity: 0.08 } }).addTo(map);
  }
  L.circleMarker(at, { radius: 8, color: "#fff", weight: 2, fillColor: "#dc2626", fillOpacity: 1 }).addTo(map);
  // Fitted again once the page is laid out (a phone's narrow column settles after the
  // script ran; Leaflet would keep the first size and cut the grid at the edge).
  function fit() {
    map.invalidateSize();
    if (grid) { map.fitBounds(grid.getBounds().extend(at), { padding: [8, 8] }); }
  }
  fit();
  window.addEventListener("load", fit);
  window.addEventListener("resize", fit);
})();
