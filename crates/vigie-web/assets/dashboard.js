// Dashboard: draws volume and sentiment with uPlot, marks level changes, and follows the
// live feed (Server-Sent Events), redrawing when new mentions or level changes arrive.
(function () {
  "use strict";
  var node = document.getElementById("dashboard-data");
  var chartEl = document.getElementById("chart");
  if (!node || !chartEl) { return; }
  var data = JSON.parse(node.textContent);
  var ws = data.workspace;
  var tz = document.body.dataset.tz || "UTC";
  var lang = document.body.dataset.lang || "en";
  var labels = lang === "fr"
    ? { total: "Mentions", neg: "Négatives", pos: "Positives", levels: ["Calme", "Vigilance", "Alerte", "Crise"] }
    : { total: "Mentions", neg: "Negative", pos: "Positive", levels: ["Calm", "Vigilance", "Alert", "Crisis"] };
  var plot = null;

  function markersPlugin() {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx;
          ctx.save();
          (data.level_changes || []).forEach(function (c) {
            var x = u.valToPos(Date.parse(c.at) / 1000, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) { return; }
            ctx.strokeStyle = ["#1e6b34", "#7a5a00", "#b34700", "#b00020"][c.to] || "#000";
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = 2;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.setLineDash([]);
            ctx.fillStyle = ctx.strokeStyle;
            ctx.font = (12 * devicePixelRatio) + "px system-ui";
            ctx.fillText(labels.levels[c.to] || "", x + 4, u.bbox.top + 14 * devicePixelRatio);
          });
          ctx.restore();
        }]
      }
    };
  }

  function draw() {
    if (typeof uPlot === "undefined" || !data.times || data.times.length === 0) { return; }
    var width = chartEl.clientWidth || 320;
    var opts = {
      width: width,
      height: width < 500 ? 220 : 300,
      tzDate: function (ts) { try { return uPlot.tzDate(new Date(ts * 1e3), tz); } catch (e) { return new Date(ts * 1e3); } },
      plugins: [markersPlugin()],
      scales: { x: { time: true } },
      axes: [{}, { label: labels.total }],
      series: [
        {},
        { label: labels.total, stroke: "#0b57d0", fill: "rgba(11,87,208,0.12)", width: 2 },
        { label: labels.neg, stroke: "#b00020", width: 2 },
        { label: labels.pos, stroke: "#1e6b34", width: 1 }
      ]
    };
    var series = [data.times, data.volume, data.negative, data.positive];
    if (plot) { plot.destroy(); }
    chartEl.textContent = "";
    plot = new uPlot(opts, series, chartEl);
  }

  function refresh() {
    fetch("/api/v1/workspaces/" + encodeURIComponent(ws) + "/dashboard", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) { return; }
        data = d;
        draw();
        updateLevels(d.levels.map(function (l) { return [l.watch, l.level_value]; }));
        fillList("terms", d.top_terms, function (t) { return t.key + " · " + t.count; });
        fillList("hashtags", d.top_hashtags, function (t) { return t.key + " · " + t.count; });
        fillList("authors", d.top_authors, function (a) { return "@" + a.key + " · " + (a.reach || 0); });
      }).catch(function () {});
  }

  function fillList(id, items, text) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.textContent = "";
    items.forEach(function (i) { var li = document.createElement("li"); li.textContent = text(i); el.append(li); });
  }

  function updateLevels(levels) {
    levels.forEach(function (l) {
      var li = document.querySelector('.level[data-watch="' + CSS.escape(l[0]) + '"]');
      if (!li) { return; }
      li.className = "level level-" + l[1];
      var badge = li.querySelector("[data-level-badge]");
      if (badge) { badge.textContent = labels.levels[l[1]] || ""; }
    });
  }

  window.addEventListener("load", draw);
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 200); });

  if (window.EventSource) {
    var last = null;
    var es = new EventSource("/api/v1/workspaces/" + encodeURIComponent(ws) + "/live");
    var live = document.getElementById("live");
    es.addEventListener("open", function () { if (live) { live.hidden = false; } });
    es.addEventListener("error", function () { if (live) { live.hidden = true; } });
    es.addEventListener("update", function (ev) {
      var u = JSON.parse(ev.data);
      if (last !== null && (u.total_mentions !== last.total_mentions || JSON.stringify(u.levels) !== JSON.stringify(last.levels))) {
        refresh();
      }
      last = u;
    });
  }
})();
