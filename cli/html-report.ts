/**
 * The expiry digest as one self-contained HTML page (`facility-pipeline report --out FILE.html`):
 * it must open from an email attachment, so everything is inline (style, script, data) and the
 * Content-Security-Policy forbids every fetch. The data sits in a `<script type="application/json">`
 * block and the page's script renders it with textContent only, so no name in the registry can
 * become markup. What the page shows:
 * - the accreditations per horizon;
 * - the digest table, sortable by any column (days left first) and filterable by state and body;
 * - a bar chart of the accreditations per state (of the rows the filters show);
 * - a timeline of expiries per month for the 12 months from the as-of date;
 * - the provenance: as-of date, window, look-back, the uploads the current state comes from, and
 *   when the page was generated.
 */
import type { Horizon } from "../core/horizons";
import { HORIZONS, horizonLabel } from "../core/horizons";
import type { DigestRow } from "../core/target";

export type { Horizon };
export type DigestAccreditation = DigestRow;

/** One upload that the current state's rows come from (sql/current_state_uploads.sql). */
export interface ReportUpload {
  readonly source_key: string;
  readonly event_time: string;
  readonly facilities: number;
}

export interface DigestReport {
  readonly asOf: string;
  readonly windowMonths: number;
  readonly lookbackDays: number;
  readonly horizons: Readonly<Record<Horizon, number>>;
  readonly expiringAccreditations: readonly DigestAccreditation[];
  readonly provenance: {
    /** ISO date-time. */
    readonly generatedAt: string;
    readonly uploads: readonly ReportUpload[];
  };
}

/** The page's data block id: the browser test and the script read it. */
export const REPORT_DATA_ID = "digest-data";

/** JSON that can sit inside a <script> element: nothing in it can close the element. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The only text interpolated into the markup itself; the rest is rendered by the script. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderDigestHtml(report: DigestReport): string {
  const data = {
    ...report,
    horizonOrder: HORIZONS,
    horizonLabels: Object.fromEntries(HORIZONS.map((h) => [h, horizonLabel(h)])),
  };
  const title = `Accreditation expiry digest as of ${report.asOf}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p id="summary"></p>
</header>
<noscript><p>This report needs JavaScript to show its tables; the same list is in the digest's CSV.</p></noscript>
<section aria-labelledby="horizons-title"><h2 id="horizons-title">Per horizon</h2><div id="horizons" class="cards"></div></section>
<section aria-labelledby="list-title">
<h2 id="list-title">Accreditations</h2>
<div class="filters">
<label>State <select id="filter-state"><option value="">All</option></select></label>
<label>Accreditation body <select id="filter-body"><option value="">All</option></select></label>
<span id="shown" aria-live="polite"></span>
</div>
<p id="empty" hidden></p>
<table id="digest"><thead><tr></tr></thead><tbody></tbody></table>
</section>
<section aria-labelledby="states-title"><h2 id="states-title">Per state</h2><svg id="state-chart" role="img" aria-label="Accreditations per state"></svg></section>
<section aria-labelledby="timeline-title"><h2 id="timeline-title">Expiries per month, next 12 months</h2><svg id="timeline" role="img" aria-label="Expiries per month"></svg></section>
<section aria-labelledby="provenance-title"><h2 id="provenance-title">Provenance</h2><dl id="provenance"></dl>
<table id="uploads"><thead><tr><th>Upload</th><th>Event time</th><th class="num">Facilities in the current state</th></tr></thead><tbody></tbody></table></section>
<script type="application/json" id="${REPORT_DATA_ID}">${scriptSafeJson(data)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1f24;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:90px}
.card b{display:block;font-size:20px}.card.expired b,.card.h0-30 b{color:#b42318}
.filters{display:flex;gap:16px;align-items:center;margin-bottom:8px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:left}
th{background:#f6f8fa;position:sticky;top:0}th button{all:unset;cursor:pointer;font-weight:600}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
.num{text-align:right;font-variant-numeric:tabular-nums}tr.expired td{color:#b42318}
svg text{font-size:11px;fill:#1b1f24}svg rect{fill:#3b6fd4}
#digest td:nth-child(-n+5){white-space:nowrap}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}dd{margin:0}
`;

/** Plain JavaScript (ES2017) run by the page; it reads only the data block. */
const SCRIPT = `
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("${REPORT_DATA_ID}").textContent);
  var rows = data.expiringAccreditations;
  var NS = "http://www.w3.org/2000/svg";
  function el(name, text, attrs) {
    var node = document.createElement(name);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    return node;
  }
  function svgEl(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  document.getElementById("summary").textContent =
    rows.length + " accreditation(s) of the current state (each facility's latest record) that expired in the last " +
    data.lookbackDays + " days or expire within " + data.windowMonths + " months of " + data.asOf + ".";

  var cards = document.getElementById("horizons");
  data.horizonOrder.forEach(function (horizon) {
    var card = el("div", null, { class: "card h" + horizon + (horizon === "expired" ? " expired" : ""), "data-horizon": horizon });
    card.appendChild(el("b", data.horizons[horizon] || 0));
    card.appendChild(document.createTextNode(data.horizonLabels[horizon]));
    cards.appendChild(card);
  });

  var columns = [
    ["days_until_expiry", "Days left", true], ["valid_until", "Valid until"], ["horizon", "Horizon"],
    ["state", "State"], ["facility_id", "Facility"], ["facility_name", "Name"],
    ["accreditation_body", "Body"], ["accreditation_id", "Accreditation"]
  ];
  var sort = { key: "days_until_expiry", direction: 1 };
  var filters = { state: "", body: "" };
  var headRow = document.querySelector("#digest thead tr");
  columns.forEach(function (column) {
    var th = el("th", null, { "data-key": column[0], class: column[2] ? "num" : "" });
    var button = el("button", column[1], { type: "button" });
    button.addEventListener("click", function () {
      sort = { key: column[0], direction: sort.key === column[0] ? -sort.direction : 1 };
      render();
    });
    th.appendChild(button);
    headRow.appendChild(th);
  });

  function distinct(key) {
    return rows.map(function (row) { return row[key]; })
      .filter(function (value, i, all) { return all.indexOf(value) === i; }).sort();
  }
  [["filter-state", "state"], ["filter-body", "accreditation_body"]].forEach(function (pair) {
    var select = document.getElementById(pair[0]);
    distinct(pair[1]).forEach(function (value) { select.appendChild(el("option", value, { value: value })); });
    select.addEventListener("change", function () {
      filters[pair[1] === "state" ? "state" : "body"] = select.value;
      render();
    });
  });

  function compare(a, b) {
    var x = a[sort.key], y = b[sort.key];
    var order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return order * sort.direction || a.days_until_expiry - b.days_until_expiry || a.facility_id.localeCompare(b.facility_id);
  }

  function renderTable(shown) {
    var body = document.querySelector("#digest tbody");
    body.textContent = "";
    shown.forEach(function (row) {
      var tr = el("tr", null, { class: row.days_until_expiry < 0 ? "expired" : "" });
      columns.forEach(function (column) { tr.appendChild(el("td", row[column[0]], { class: column[2] ? "num" : "" })); });
      body.appendChild(tr);
    });
    headRow.querySelectorAll("th").forEach(function (th) {
      if (th.getAttribute("data-key") === sort.key) th.setAttribute("aria-sort", sort.direction > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    document.getElementById("shown").textContent = "Showing " + shown.length + " of " + rows.length;
    var empty = document.getElementById("empty");
    empty.hidden = shown.length > 0;
    empty.textContent = rows.length === 0
      ? "Nothing to report: no accreditation expired in the last " + data.lookbackDays + " days and none expires within " + data.windowMonths + " months."
      : "No accreditation matches the filters.";
  }

  function barChart(svg, bars, labelWidth) {
    svg.textContent = "";
    var barHeight = 18, gap = 4, width = 640, max = Math.max.apply(null, [1].concat(bars.map(function (b) { return b[1]; })));
    svg.setAttribute("width", width);
    svg.setAttribute("height", Math.max(1, bars.length) * (barHeight + gap));
    svg.setAttribute("viewBox", "0 0 " + width + " " + Math.max(1, bars.length) * (barHeight + gap));
    bars.forEach(function (bar, i) {
      var y = i * (barHeight + gap), length = (width - labelWidth - 40) * bar[1] / max;
      svg.appendChild(svgEl("text", { x: 0, y: y + 13 }, bar[0]));
      var rect = svgEl("rect", { x: labelWidth, y: y, width: Math.max(bar[1] > 0 ? 1 : 0, length), height: barHeight, "data-label": bar[0], "data-count": bar[1] });
      rect.appendChild(svgEl("title", {}, bar[0] + ": " + bar[1]));
      svg.appendChild(rect);
      svg.appendChild(svgEl("text", { x: labelWidth + length + 4, y: y + 13 }, bar[1]));
    });
  }

  function months() {
    var start = new Date(data.asOf + "T00:00:00Z"), list = [];
    for (var i = 0; i < 12; i++) {
      var month = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1));
      list.push(month.toISOString().slice(0, 7));
    }
    return list;
  }

  function render() {
    var shown = rows.filter(function (row) {
      return (!filters.state || row.state === filters.state) && (!filters.body || row.accreditation_body === filters.body);
    }).sort(compare);
    renderTable(shown);
    var perState = {};
    shown.forEach(function (row) { perState[row.state] = (perState[row.state] || 0) + 1; });
    barChart(document.getElementById("state-chart"), Object.keys(perState).sort().map(function (s) { return [s, perState[s]]; }), 60);
    var perMonth = {};
    shown.forEach(function (row) {
      if (row.days_until_expiry >= 0) perMonth[row.valid_until.slice(0, 7)] = (perMonth[row.valid_until.slice(0, 7)] || 0) + 1;
    });
    barChart(document.getElementById("timeline"), months().map(function (m) { return [m, perMonth[m] || 0]; }), 70);
  }

  var provenance = document.getElementById("provenance");
  [["As of", data.asOf], ["Window", data.windowMonths + " months"], ["Look-back", data.lookbackDays + " days"],
   ["Generated at", data.provenance.generatedAt], ["Uploads in the current state", data.provenance.uploads.length]]
    .forEach(function (pair) { provenance.appendChild(el("dt", pair[0])); provenance.appendChild(el("dd", pair[1])); });
  var uploads = document.querySelector("#uploads tbody");
  data.provenance.uploads.forEach(function (upload) {
    var tr = el("tr");
    tr.appendChild(el("td", upload.source_key));
    tr.appendChild(el("td", upload.event_time));
    tr.appendChild(el("td", upload.facilities, { class: "num" }));
    uploads.appendChild(tr);
  });

  render();
  document.body.setAttribute("data-rendered", "true");
})();
`;
