// Keeps a page region current without a reload: every 10 s (while the tab is visible)
// the page's own URL is fetched again and each element marked data-live is replaced by
// its new version; rows that were not there before are marked "fresh" for a moment.
// The refresh (X-Live) answers only those regions, tagged by an ETag the browser sends
// back: a list that did not change comes back as a 304, with nothing to download or parse.
(function () {
  "use strict";
  var regions = document.querySelectorAll("[data-live]");
  if (!regions.length) { return; }
  var every = window.gridbotLiveMs || 10000;
  var shown = null;  // the ETag of the regions on the page

  function seen(el) {
    var ids = {};
    el.querySelectorAll("[data-n]").forEach(function (row) { ids[row.dataset.n] = true; });
    return ids;
  }

  function refresh() {
    fetch(location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (r) {
        if (!r.ok || r.redirected) { return null; }
        var tag = r.headers.get("ETag");
        if (tag && tag === shown) { return null; }
        shown = tag;
        return r.text();
      })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (!next || next.innerHTML === old.innerHTML) { return; }
          var before = seen(old);
          next.querySelectorAll("[data-n]").forEach(function (row) {
            if (!before[row.dataset.n]) { row.classList.add("fresh"); }
          });
          old.replaceWith(next);
        });
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  setInterval(function () { if (!document.hidden) { refresh(); } }, every);
})();
