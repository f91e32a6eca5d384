// Renders the dashboard from the JSON data block: bar charts, tables, the live-flights map and the runs trend.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var status = window.__dashboardStatus;

  function el(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined) return "-";
    return Number(v).toLocaleString("en-US", { maximumFractionDigits: digits || 0 });
  }
  function clip(text, n) { text = String(text); return text.length > n ? text.slice(0, n - 1) + "\u2026" : text; }

  function barChart(host, panel) {
    var rows = panel.rows, labelW = 200, w = 640, rowH = 20, valueW = 70;
    var svg = el("svg", { viewBox: "0 0 " + w + " " + (rows.length * rowH + 4), width: "100%", role: "img" });
    var max = Math.max.apply(null, rows.map(function (r) { return Math.abs(r.value); }).concat([1]));
    var signed = rows.some(function (r) { return r.value < 0; });
    var span = w - labelW - valueW, zero = signed ? labelW + span / 2 : labelW;
    var scale = (signed ? span / 2 : span) / max;
    rows.forEach(function (r, i) {
      var y = i * rowH + 2, len = Math.abs(r.value) * scale, x = r.value < 0 ? zero - len : zero;
      svg.appendChild(el("text", { x: 0, y: y + 14 }, clip(r.label, 32)));
      svg.appendChild(el("rect", { x: x, y: y + 3, width: Math.max(len, 1), height: rowH - 8,
                                   fill: r.value < 0 ? "var(--neg)" : "var(--bar)", "class": "bar" }));
      svg.appendChild(el("text", { x: w - valueW + 6, y: y + 14, "class": "value" },
                         (r.value > 0 && signed ? "+" : "") + fmt(r.value, panel.digits) + (panel.unit || "")));
    });
    if (signed) svg.appendChild(el("line", { x1: zero, x2: zero, y1: 0, y2: rows.length * rowH + 4, stroke: "#888" }));
    host.appendChild(svg);
    return rows.length;
  }

  function table(host, panel) {
    var t = document.createElement("table"), head = document.createElement("tr");
    panel.columns.forEach(function (c) { var th = document.createElement("th"); th.textContent = c; head.appendChild(th); });
    t.appendChild(head);
    panel.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      r.forEach(function (v) {
        var td = document.createElement("td");
        if (typeof v === "number") { td.className = "num"; td.textContent = fmt(v, 1); } else { td.textContent = v === null ? "-" : v; }
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    host.appendChild(t);
    return panel.rows.length;
  }

  function map(host, panel) {
    var canvas = document.createElement("canvas"), W = 1320, top = 80, bottom = -50;
    var H = Math.round(W * (top - bottom) / 360);
    canvas.width = W; canvas.height = H;
    host.appendChild(canvas);
    var ctx = canvas.getContext("2d");
    function px(lon) { return (lon + 180) / 360 * W; }
    function py(lat) { return (top - lat) / (top - bottom) * H; }
    function ring(points) {
      ctx.beginPath();
      points.forEach(function (p, i) { if (i) ctx.lineTo(px(p[0]), py(p[1])); else ctx.moveTo(px(p[0]), py(p[1])); });
      ctx.closePath();
    }
    ctx.fillStyle = "#dce8f3"; ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = "rgba(80,100,120,0.15)"; ctx.lineWidth = 1;
    for (var lon = -150; lon < 180; lon += 30) { ctx.beginPath(); ctx.moveTo(px(lon), 0); ctx.lineTo(px(lon), H); ctx.stroke(); }
    for (var lat = -30; lat <= 60; lat += 30) { ctx.beginPath(); ctx.moveTo(0, py(lat)); ctx.lineTo(W, py(lat)); ctx.stroke(); }
    ctx.fillStyle = "#f4f1ea"; ctx.strokeStyle = "#9aa5b1";
    data.world.land.forEach(function (r) { ring(r); ctx.fill(); ctx.stroke(); });
    ctx.fillStyle = "#dce8f3";
    data.world.lakes.forEach(function (r) { ring(r); ctx.fill(); ctx.stroke(); });
    var drawn = 0;
    data.flights.forEach(function (f) {
      if (f[1] > top || f[1] < bottom) return;
      var alt = f[2] === null ? 0 : f[2];
      ctx.fillStyle = alt >= 25000 ? "rgba(31,84,160,0.75)" : alt >= 10000 ? "rgba(46,140,120,0.8)" : "rgba(214,110,40,0.85)";
      ctx.fillRect(px(f[0]) - 1.2, py(f[1]) - 1.2, 2.4, 2.4);
      drawn += 1;
    });
    var legend = document.createElement("div");
    legend.className = "legend";
    legend.textContent = fmt(drawn) + " live flights drawn (blue: FL250 and above, green: 10,000-25,000 ft, orange: below 10,000 ft)";
    host.appendChild(legend);
    return drawn;
  }

  function trend(host, panel) {
    var rows = panel.rows, w = 1280, h = 180, left = 60, right = 20, topPad = 24, bottomPad = 40;
    var svg = el("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", role: "img" });
    var max = Math.max.apply(null, rows.map(function (r) { return r.live_flights || 0; }).concat([1]));
    var n = rows.length, step = n > 1 ? (w - left - right) / (n - 1) : 0;
    function x(i) { return n > 1 ? left + i * step : (left + w - right) / 2; }
    function y(v) { return topPad + (1 - v / max) * (h - topPad - bottomPad); }
    [0, 0.5, 1].forEach(function (f) {
      svg.appendChild(el("line", { x1: left, x2: w - right, y1: y(max * f), y2: y(max * f), stroke: "#d9e0e7" }));
      svg.appendChild(el("text", { x: 4, y: y(max * f) + 4, "class": "value" }, fmt(max * f)));
    });
    var path = rows.map(function (r, i) { return (i ? "L" : "M") + x(i) + " " + y(r.live_flights || 0); }).join(" ");
    svg.appendChild(el("path", { d: path, fill: "none", stroke: "var(--bar)", "stroke-width": 2 }));
    var every = Math.max(1, Math.ceil(n / 12));
    rows.forEach(function (r, i) {
      svg.appendChild(el("circle", { cx: x(i), cy: y(r.live_flights || 0), r: 3.5, fill: "var(--bar)", "class": "point" }));
      if (i % every === 0 || i === n - 1) {
        var anchor = n > 1 && i === 0 ? "start" : n > 1 && i === n - 1 ? "end" : "middle";
        svg.appendChild(el("text", { x: x(i), y: h - 22, "text-anchor": anchor }, r.run_slot));
        svg.appendChild(el("text", { x: x(i), y: y(r.live_flights || 0) - 8, "text-anchor": "middle", "class": "value" },
                           fmt(r.live_flights)));
      }
    });
    host.appendChild(svg);
    return n;
  }

  var renderers = { bar: barChart, table: table, map: map, trend: trend };
  data.panels.forEach(function (panel) {
    var host = document.getElementById("chart-" + panel.id);
    try {
      var count = panel.kind === "map" ? data.flights.length : (panel.rows || []).length;
      if (!count) {
        var p = document.createElement("p"); p.className = "empty"; p.textContent = "nothing to show for this slot";
        host.appendChild(p);
        status.rendered.push({ id: panel.id, items: 0 });
        return;
      }
      status.rendered.push({ id: panel.id, items: renderers[panel.kind](host, panel) });
    } catch (e) {
      status.errors.push(panel.id + ": " + e.message);
    }
  });
  window.__dashboardFinish();
})();
