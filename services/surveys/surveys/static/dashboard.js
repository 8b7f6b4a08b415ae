// Beat dashboard: fetches the results JSON API and draws small SVG charts. No libraries.
(function () {
  "use strict";
  var CONSTRUCTS = ["safety", "trust", "respect", "voice", "disorder", "efficacy"];
  var SURVEY = "standard";
  var CONTACT_SURVEY = "post-contact";
  var CONTACT_CONSTRUCTS = [["satisfaction", "Satisfaction"], ["procedural_justice", "Fair treatment"]];
  var beat = document.body.getAttribute("data-beat") || "";
  var city = document.body.getAttribute("data-city") || "";
  var state = { cells: [], periods: [], current: "", minimum: 0 };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(url + " answered " + r.status);
      return r.json();
    });
  }
  function loadAllResults() {
    var base = "/results?survey=" + SURVEY + "&measure=construct&per_page=500" + (beat ? "&group=" + encodeURIComponent(beat) : "");
    function page(n, acc) {
      return getJSON(base + "&page=" + n).then(function (body) {
        acc = acc.concat(body.contents);
        state.periods = body.periods; state.current = body.current_period; state.minimum = body.minimum_cell;
        return body.last_page ? acc : page(n + 1, acc);
      });
    }
    return page(1, []);
  }
  function label(cell) { return (cell.label && cell.label.en) || cell.code; }
  function groupOf() { return beat || "all"; }

  function chart(code) {
    var series = state.cells.filter(function (c) { return c.group === groupOf() && c.code === code; });
    var card = el("div", { "class": "card chart", "data-construct": code });
    card.appendChild(el("h2", {}, series.length ? label(series[0]) : code));
    var periods = state.periods;
    var W = 320, H = 160, L = 30, R = 24, T = 10, B = 24;
    var x = function (i) { return periods.length < 2 ? L + (W - L - R) / 2 : L + i * (W - L - R) / (periods.length - 1); };
    var y = function (v) { return T + (100 - v) * (H - T - B) / 100; };
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": code + " trend" });
    [0, 50, 100].forEach(function (v) {
      root.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#d9dde5" }));
      var t = svg("text", { x: 2, y: y(v) + 4, "font-size": 10, fill: "#5b6475" }); t.textContent = v; root.appendChild(t);
    });
    var shown = [];
    periods.forEach(function (p, i) {
      var t = svg("text", { x: x(i), y: H - 6, "font-size": 10, "text-anchor": "middle", fill: "#5b6475" });
      t.textContent = p; root.appendChild(t);
      var cell = series.filter(function (c) { return c.period === p; })[0];
      if (cell && !cell.suppressed && cell.mean !== null) shown.push({ i: i, cell: cell });
      else if (cell && cell.suppressed) {
        var s = svg("text", { x: x(i), y: y(50), "font-size": 10, "text-anchor": "middle", fill: "#8a5a00", "class": "suppressed-mark" });
        s.textContent = "suppressed"; root.appendChild(s);
      }
    });
    if (shown.length) {
      var upper = shown.map(function (s) { return x(s.i) + "," + y(s.cell.mean_ci[1]); });
      var lower = shown.slice().reverse().map(function (s) { return x(s.i) + "," + y(s.cell.mean_ci[0]); });
      root.appendChild(svg("polygon", { points: upper.concat(lower).join(" "), fill: "rgba(31,95,168,.16)", "class": "interval" }));
      root.appendChild(svg("polyline", { points: shown.map(function (s) { return x(s.i) + "," + y(s.cell.mean); }).join(" "), fill: "none", stroke: "#1f5fa8", "stroke-width": 2 }));
      shown.forEach(function (s) {
        root.appendChild(svg("circle", { cx: x(s.i), cy: y(s.cell.mean), r: 3.5, fill: "#1f5fa8", "class": "point" }));
      });
    }
    card.appendChild(root);
    var current = series.filter(function (c) { return c.period === selectedPeriod(); })[0];
    card.appendChild(summary(current));
    return card;
  }
  function summary(cell) {
    var box = el("div", {});
    if (!cell) { box.appendChild(el("p", { "class": "muted" }, "No responses in this period.")); return box; }
    if (cell.suppressed) {
      box.appendChild(el("p", { "class": "suppressed" }, "Suppressed: fewer than " + state.minimum + " responses."));
      return box;
    }
    var line = el("p", {});
    line.appendChild(el("span", { "class": "figure" }, cell.mean.toFixed(0)));
    line.appendChild(document.createTextNode(" (95% CI " + cell.mean_ci[0].toFixed(0) + "–" + cell.mean_ci[1].toFixed(0) + ", n=" + cell.n + ")"));
    box.appendChild(line);
    if (cell.change) {
      var d = cell.change.difference;
      var cls = cell.change.significant ? (d > 0 ? "up" : "down") : "muted";
      box.appendChild(el("p", { "class": cls }, (d > 0 ? "+" : "") + d.toFixed(1) + " since " + cell.change.from_period +
        (cell.change.significant ? " (significant)" : " (not significant)")));
    }
    return box;
  }
  function selectedPeriod() { return document.getElementById("period").value; }

  function beatsTable() {
    var box = document.getElementById("beats");
    box.textContent = "";
    if (beat) { box.appendChild(el("p", {}, "")).appendChild(el("a", { href: "/dashboard" }, "← All of " + city)); return; }
    var beats = [];
    state.cells.forEach(function (c) { if (c.group !== "all" && beats.indexOf(c.group) < 0) beats.push(c.group); });
    beats.sort();
    var table = el("table", { id: "beat-table" });
    var head = el("tr", {});
    head.appendChild(el("th", {}, "Beat"));
    ["safety", "trust"].forEach(function (c) { head.appendChild(el("th", { "class": "num" }, c === "safety" ? "Safety" : "Trust")); });
    table.appendChild(head);
    beats.forEach(function (b) {
      var row = el("tr", { "data-beat": b });
      var link = el("td", {}); link.appendChild(el("a", { href: "/dashboard/beats/" + encodeURIComponent(b) }, b)); row.appendChild(link);
      ["safety", "trust"].forEach(function (code) {
        var cell = state.cells.filter(function (c) { return c.group === b && c.code === code && c.period === selectedPeriod(); })[0];
        if (!cell) row.appendChild(el("td", { "class": "muted" }, "no data"));
        else if (cell.suppressed) row.appendChild(el("td", { "class": "suppressed" }, "suppressed"));
        else row.appendChild(el("td", { "class": "num" }, cell.mean.toFixed(0) + " (" + cell.mean_ci[0].toFixed(0) + "–" + cell.mean_ci[1].toFixed(0) + ")"));
      });
      table.appendChild(row);
    });
    box.appendChild(table);
  }
  function reportCard() {
    var box = document.getElementById("report");
    if (!beat) { box.hidden = true; return Promise.resolve(); }
    return getJSON("/report-cards/" + encodeURIComponent(beat) + "?survey=" + SURVEY + "&period=" + selectedPeriod()).then(function (card) {
      box.hidden = false; box.textContent = "";
      box.appendChild(el("h2", {}, "Report card " + card.period));
      var table = el("table", { id: "report-card" });
      [["Safety score", card.scores.safety], ["Trust score", card.scores.trust]].forEach(function (pair) {
        var row = el("tr", {}); row.appendChild(el("th", {}, pair[0]));
        var s = pair[1];
        row.appendChild(s.suppressed ? el("td", { "class": "suppressed" }, "suppressed (fewer than " + card.minimum_cell + " responses)")
          : el("td", { "class": "num" }, s.mean.toFixed(0) + " (" + s.mean_ci[0].toFixed(0) + "–" + s.mean_ci[1].toFixed(0) + ")"));
        table.appendChild(row);
      });
      var a = card.actions;
      [["Concerns received", a.concerns_received], ["Concerns resolved", a.concerns_resolved],
       ["Median hours to acknowledge", a.median_hours_to_acknowledge === null ? "—" : a.median_hours_to_acknowledge],
       ["Meetings held", a.meetings_held], ["Referrals made", a.referrals_made],
       ["Problems worked", a.problems_worked], ["Problems solved (or reduced)", a.problems_solved]].forEach(function (pair) {
        var row = el("tr", {}); row.appendChild(el("th", {}, pair[0])); row.appendChild(el("td", { "class": "num" }, String(pair[1])));
        table.appendChild(row);
      });
      box.appendChild(table);
    });
  }
  // Residents asked after their concern was dealt with: by category city-wide, the beat's own on a beat page.
  function contactResults() {
    var box = document.getElementById("contact");
    var url = "/results?survey=" + CONTACT_SURVEY + "&measure=construct&per_page=500&period=" + encodeURIComponent(selectedPeriod()) +
      (beat ? "&group=" + encodeURIComponent(beat) : "&by=category");
    return getJSON(url).then(function (body) {
      box.textContent = "";
      var groups = [];
      body.contents.forEach(function (c) { if ((beat ? c.group === beat : c.group !== "all") && groups.indexOf(c.group) < 0) groups.push(c.group); });
      groups.sort();
      if (!groups.length) { box.appendChild(el("p", { "class": "muted" }, "No post-contact answers in this period.")); return; }
      var table = el("table", { id: "contact-table" });
      var head = el("tr", {});
      head.appendChild(el("th", {}, beat ? "Beat" : "Concern category"));
      CONTACT_CONSTRUCTS.forEach(function (pair) { head.appendChild(el("th", { "class": "num" }, pair[1])); });
      table.appendChild(head);
      groups.forEach(function (g) {
        var row = el("tr", { "data-group": g });
        row.appendChild(el("td", {}, g.replace(/_/g, " ")));
        CONTACT_CONSTRUCTS.forEach(function (pair) {
          var cell = body.contents.filter(function (c) { return c.group === g && c.code === pair[0]; })[0];
          if (!cell) row.appendChild(el("td", { "class": "muted" }, "no data"));
          else if (cell.suppressed) row.appendChild(el("td", { "class": "suppressed" }, "suppressed"));
          else row.appendChild(el("td", { "class": "num" }, cell.mean.toFixed(0) + " (" + cell.mean_ci[0].toFixed(0) + "–" + cell.mean_ci[1].toFixed(0) + ", n=" + cell.n + ")"));
        });
        table.appendChild(row);
      });
      box.appendChild(table);
    });
  }
  function render() {
    var charts = document.getElementById("charts");
    charts.textContent = "";
    CONSTRUCTS.forEach(function (code) { charts.appendChild(chart(code)); });
    beatsTable();
    return Promise.all([reportCard(), contactResults()]);
  }
  function start() {
    if (beat) {
      document.getElementById("title").textContent = "Beat " + beat + " — how safe and heard residents feel";
      document.getElementById("beats-title").textContent = "";
    }
    loadAllResults().then(function (cells) {
      state.cells = cells;
      var select = document.getElementById("period");
      state.periods.forEach(function (p) { select.appendChild(el("option", { value: p }, p)); });
      // Today's quarter when there is one (the results API always lists it), else the newest.
      select.value = state.current || state.periods[state.periods.length - 1] || "";
      select.addEventListener("change", render);
      document.getElementById("rule").textContent = "Cells with fewer than " + state.minimum + " responses are suppressed.";
      return render();
    }).then(function () {
      document.body.setAttribute("data-ready", "true");
    }).catch(function (error) {
      document.getElementById("charts").textContent = "Could not load results: " + error.message;
      document.body.setAttribute("data-ready", "error");
    });
  }
  start();
})();
