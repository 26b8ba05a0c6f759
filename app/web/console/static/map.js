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
  var pins = [];
  var DENSE = window.gridbotDensePins || 300, CELL = 48, CLEAR_ZOOM = 17;
  map.on("zoomend", function () { if (pins.length >= DENSE) { drawPins(); } });
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
    pins = data.pins;
    drawPins();
    el.dataset.ready = "1";
  }

  function pin(p) {
    var marker = L.circleMarker([p.lat, p.lng], {
      radius: p.late ? 10 : 6, color: p.late ? "#dc2626" : "#fff", weight: p.late ? 3 : 1,
      fillColor: COLORS[p.s] || "#6b7280", fillOpacity: 0.9, className: "pin pin-" + p.n });
    marker.bindPopup("<strong>#" + p.n + " " + esc(p.c) + "</strong><br>" + esc(p.sl) +
      (p.late ? " · <span class='late'>超时</span>" : "") + (p.sev ? " · 严重" : "") +
      "<br>" + esc(p.p) + "<br><a href='/console/tickets/" + p.n + "'>查看工单</a>");
    marker.addTo(pinLayer);
    markers[p.n] = marker;
  }

  // Dense pins are drawn as clusters: pins sharing a CELL-pixel square at this zoom
  // become one circle sized by their count (red ring if any is overdue); a click zooms in.
  function cluster(group) {
    var late = group.filter(function (p) { return p.late; }).length;
    var box = L.latLngBounds(group.map(function (p) { return [p.lat, p.lng]; }));
    var c = L.circleMarker(box.getCenter(), {
      radius: Math.min(28, 9 + Math.sqrt(group.length) * 2), color: late ? "#dc2626" : "#fff",
      weight: late ? 3 : 2, fillColor: "#334155", fillOpacity: 0.75, className: "cluster" });
    c.bindTooltip(group.length + " 件工单" + (late ? "，超时 " + late : "") + "（点击放大）");
    c.on("click", function () { map.fitBounds(box.pad(0.2), { maxZoom: CLEAR_ZOOM }); });
    return c.addTo(pinLayer);
  }

  function drawPins() {
    pinLayer.clearLayers();
    Object.keys(markers).forEach(function (k) { delete markers[k]; });
    window.gridbotMap.clusters = [];
    if (pins.length < DENSE || map.getZoom() >= CLEAR_ZOOM) { pins.forEach(pin); return; }
    var cells = {};
    pins.forEach(function (p) {
      var at = map.project([p.lat, p.lng]);
      var key = Math.floor(at.x / CELL) + ":" + Math.floor(at.y / CELL);
      (cells[key] = cells[key] || []).push(p);
    });
    Object.keys(cells).forEach(function (key) {
      var group = cells[key];
      if (group.length === 1) { pin(group[0]); } else { window.gridbotMap.clusters.push(cluster(group)); }
    });
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
