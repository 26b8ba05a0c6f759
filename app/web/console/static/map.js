// The console's map: grid polygons shaded by open/overdue load, ticket pins by status.
// Shapes come from /console/grids.json, load and pins from /console/map.json with the
// page's filters (compact rows); refreshed every 10 s. Both are revalidated by ETag (the
// browser asks with If-None-Match): an answer that did not change is neither downloaded
// again nor drawn again.
// Everything is drawn on one canvas; grid names are placed only where they fit, and
// dense pins are clustered, so a district of 10,000 pins builds a few hundred objects.
(function () {
  "use strict";
  var el = document.getElementById("map");
  var LABELS = JSON.parse(el.dataset.labels || "{}");
  var map = L.map(el, { preferCanvas: true, zoomControl: true });
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 19, subdomains: "1234" }).addTo(map);
  }
  var COLORS = { assigned: "#d97706", reopened: "#d97706", claimed: "#2563eb",
                 resolved: "#16a34a", summoned: "#7c3aed", returned: "#6b7280" };
  var LATE = 1, SEVERE = 2;
  var DENSE = window.gridbotDensePins || 300, CELL = 48, CLEAR_ZOOM = 17;
  var LABEL_PX = 44, MAX_LABELS = 400;
  var load = {};  // grid code -> [open, overdue]
  var grids = [];  // {code, name, layer, bounds, center}
  var gridLayer = L.geoJSON(null, { style: shade }).addTo(map);
  var labelLayer = L.layerGroup().addTo(map);
  var pinLayer = L.layerGroup().addTo(map);
  var pins = [], markers = {}, details = {}, fitted = false;
  // For tests and the curious: the map and its pins by ticket number.
  window.gridbotMap = { map: map, markers: markers, clusters: [] };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function shade(feature) {
    var g = load[feature.id] || [0, 0];
    var a = Math.min(0.6, 0.08 + g[0] * 0.08);
    return { color: g[1] ? "#dc2626" : "#475569", weight: g[1] ? 3 : 1,
             fillColor: "#f59e0b", fillOpacity: g[0] ? a : 0.03 };
  }

  gridLayer.bindTooltip(function (layer) {
    var g = load[layer.feature.id] || [0, 0];
    return esc(layer.feature.properties.name) + "<br>未办结 " + g[0] + "，超时 " + g[1];
  }, { sticky: true });

  function drawShapes(data) {
    gridLayer.clearLayers();
    grids = [];
    data.grids.forEach(function (row) {
      gridLayer.addData({ type: "Feature", id: row[0], properties: { name: row[1] },
                          geometry: row[2] });
    });
    gridLayer.eachLayer(function (layer) {
      var b = layer.getBounds();
      grids.push({ name: layer.feature.properties.name, bounds: b, center: b.getCenter() });
    });
    if (!fitted && grids.length) {
      map.fitBounds(gridLayer.getBounds(), { padding: [10, 10] });
      fitted = true;
    }
  }

  // A grid's name where it fits: inside the view, and its polygon wide enough on screen.
  function drawLabels() {
    labelLayer.clearLayers();
    var view = map.getBounds(), shown = 0;
    for (var i = 0; i < grids.length && shown < MAX_LABELS; i++) {
      var g = grids[i];
      if (!view.intersects(g.bounds)) { continue; }
      var w = map.latLngToContainerPoint(g.bounds.getNorthEast()).x -
              map.latLngToContainerPoint(g.bounds.getSouthWest()).x;
      if (w < LABEL_PX) { continue; }
      L.marker(g.center, { interactive: false, icon: L.divIcon({
        className: "grid-label", html: "<span>" + esc(g.name) + "</span>", iconSize: null }) }).addTo(labelLayer);
      shown++;
    }
  }

  function popup(p) {
    var d = details[p[0]];
    return "<strong>#" + p[0] + " " + esc(LABELS.c[p[4]] || p[4]) + "</strong><br>" +
      esc(LABELS.s[p[3]] || p[3]) + (p[5] & LATE ? " · <span class='late'>超时</span>" : "") +
      (p[5] & SEVERE ? " · 严重" : "") +
      (d ? "<br>" + esc(d.place) + (d.words ? "<br><span class='muted'>" + esc(d.words) +
           "</span>" : "") : "<br><span class='muted'>…</span>") +
      "<br><a href='/console/tickets/" + p[0] + "'>查看工单</a>";
  }

  function pin(p) {
    var late = p[5] & LATE;
    var marker = L.circleMarker([p[1], p[2]], {
      radius: late ? 10 : 6, color: late ? "#dc2626" : "#fff", weight: late ? 3 : 1,
      fillColor: COLORS[p[3]] || "#6b7280", fillOpacity: 0.9 });
    marker.bindPopup(function () { return popup(p); });
    marker.on("popupopen", function () {
      if (details[p[0]]) { return; }
      fetch("/console/pins/" + p[0] + ".json", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d) { details[p[0]] = d; marker.setPopupContent(popup(p)); } })
        .catch(function () {});
    });
    marker.addTo(pinLayer);
    markers[p[0]] = marker;
  }

  // Dense pins are drawn as clusters: pins sharing a CELL-pixel square at this zoom
  // become one circle sized by their count (red ring if any is overdue); a click zooms in.
  function cluster(group) {
    var late = 0, box = L.latLngBounds([]);
    group.forEach(function (p) { late += p[5] & LATE; box.extend([p[1], p[2]]); });
    var c = L.circleMarker(box.getCenter(), {
      radius: Math.min(28, 9 + Math.sqrt(group.length) * 2), color: late ? "#dc2626" : "#fff",
      weight: late ? 3 : 2, fillColor: "#334155", fillOpacity: 0.75 });
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
      var at = map.project([p[1], p[2]]);
      var key = Math.floor(at.x / CELL) + ":" + Math.floor(at.y / CELL);
      (cells[key] = cells[key] || []).push(p);
    });
    Object.keys(cells).forEach(function (key) {
      var group = cells[key];
      if (group.length === 1) { pin(group[0]); } else { window.gridbotMap.clusters.push(cluster(group)); }
    });
  }

  function drawLoad(data) {
    load = data.load;
    gridLayer.resetStyle();
    pins = data.pins;
    document.getElementById("summary").textContent = "· 显示 " + pins.length + " 件工单" +
      (data.truncated ? "（仅最新部分，请缩小筛选范围）" : "");
    if (!fitted) {
      if (pins.length) {
        map.fitBounds(L.latLngBounds(pins.map(function (p) { return [p[1], p[2]]; })));
      } else {
        map.setView([31.2, 121.45], 12);
      }
      fitted = true;
    }
    drawPins();
    drawLabels();
  }

  function json(answer) {
    if (answer.status === 401) { location.href = "/console/signin"; }
    return answer.json();
  }

  // An answer's data, or null when its ETag is the one drawn last (the browser's cache
  // answered the revalidation: nothing new to draw).
  function ifChanged() {
    var drawn = null;
    return function (answer) {
      var tag = answer.headers.get("ETag");
      if (tag && tag === drawn) { return null; }
      drawn = tag;
      return json(answer);
    };
  }
  var shapes = ifChanged(), loads = ifChanged();

  function refresh(first) {
    var early = first && window.gridbotMapData;
    var shapesAnswer = early ? early.grids
      : fetch("/console/grids.json", { credentials: "same-origin" });
    var loadAnswer = early ? early.pins
      : fetch("/console/map.json?" + el.dataset.query, { credentials: "same-origin" });
    Promise.all([shapesAnswer.then(shapes), loadAnswer.then(loads)])
      .then(function (both) {
        if (both[0]) { drawShapes(both[0]); }
        if (both[1]) { drawLoad(both[1]); } else if (both[0]) { drawLabels(); }
        el.dataset.ready = "1";
      })
      .catch(function () {});
  }

  map.on("zoomend", function () { if (pins.length >= DENSE) { drawPins(); } });
  map.on("moveend", drawLabels);
  refresh(true);
  setInterval(function () { if (!document.hidden) { refresh(false); } },
              window.gridbotLiveMs || 10000);
})();
