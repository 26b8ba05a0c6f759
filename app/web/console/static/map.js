// The console's map: grid polygons shaded by open/overdue load, ticket pins by status.
// Data comes from /console/map.json with the page's filters; refreshed every 10 s.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var map = L.map(el, { preferCanvas: true, zoomControl: true });
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, subdomains: "1234" }).addTo(map);
  }
  var gridLayer = L.layerGroup().addTo(map);
  var pinLayer = L.layerGroup().addTo(map);
  var COLORS = { assigned: "#d97706", reopened: "#d97706", claimed: "#2563eb",
                 resolved: "#16a34a", summoned: "#7c3aed", returned: "#6b7280" };
  var fitted = false;
  var markers = {};
  // For tests and the curious: the map and its pins by ticket number.
  window.gridbotMap = { map: map, markers: markers };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function shade(g) {
    var a = Math.min(0.6, 0.08 + g.open * 0.08);
    return { color: g.overdue ? "#dc2626" : "#475569", weight: g.overdue ? 3 : 1,
             fillColor: "#f59e0b", fillOpacity: g.open ? a : 0.03 };
  }

  function draw(data) {
    gridLayer.clearLayers();
    pinLayer.clearLayers();
    Object.keys(markers).forEach(function (k) { delete markers[k]; });
    var bounds = [];
    data.grids.forEach(function (g) {
      var layer = L.geoJSON(g.geometry, { style: shade(g) });
      layer.bindTooltip(esc(g.name) + "<br>未办结 " + g.open + "，超时 " + g.overdue,
                        { sticky: true });
      layer.addTo(gridLayer);
      var center = layer.getBounds().getCenter();
      L.marker(center, { interactive: false, icon: L.divIcon({
        className: "grid-label", html: esc(g.name), iconSize: null }) }).addTo(gridLayer);
      bounds.push(layer.getBounds());
    });
    data.pins.forEach(function (p) {
      var color = COLORS[p.s] || "#6b7280";
      var marker = L.circleMarker([p.lat, p.lng], {
        radius: p.late ? 10 : 6, color: p.late ? "#dc2626" : "#fff", weight: p.late ? 3 : 1,
        fillColor: color, fillOpacity: 0.9, className: "pin pin-" + p.n });
      marker.bindPopup("<strong>#" + p.n + " " + esc(p.c) + "</strong><br>" + esc(p.sl) +
        (p.late ? " · <span class='late'>超时</span>" : "") + (p.sev ? " · 严重" : "") +
        "<br>" + esc(p.p) + "<br><a href='/console/tickets/" + p.n + "'>查看工单</a>");
      marker.addTo(pinLayer);
      markers[p.n] = marker;
    });
    var summary = document.getElementById("summary");
    summary.textContent = "· 显示 " + data.pins.length + " 件工单" +
      (data.truncated ? "（仅最新部分，请缩小筛选范围）" : "");
    if (!fitted && bounds.length) {
      var all = bounds[0];
      bounds.forEach(function (b) { all.extend(b); });
      map.fitBounds(all, { padding: [10, 10] });
      fitted = true;
    } else if (!fitted) {
      map.setView([31.2, 121.45], 12);
    }
    el.dataset.ready = "1";
  }

  function load() {
    fetch("/console/map.json?" + el.dataset.query, { credentials: "same-origin" })
      .then(function (r) { if (r.status === 401) { location.href = "/console/signin"; } return r.json(); })
      .then(draw)
      .catch(function () {});
  }
  load();
  setInterval(function () { if (!document.hidden) { load(); } }, 10000);
})();
