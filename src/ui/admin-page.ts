import { PAGE_CSS } from "./page-style";

// The operator dashboard at /admin: one self-contained page over the operator API. The admin token is
// kept in sessionStorage (this tab only) and sent as a bearer header; it never goes into a URL.

const SCRIPT = `
(function () {
  var KEY = "runapi-proxy-admin-token";
  var $ = function (sel) { return document.querySelector(sel); };
  var el = function (tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "text") n.textContent = attrs[k]; else n.setAttribute(k, attrs[k]); });
    (kids || []).forEach(function (k) { if (k !== null && k !== undefined) n.appendChild(typeof k === "string" || typeof k === "number" ? document.createTextNode(String(k)) : k); });
    return n;
  };
  var usd = function (v) { return "$" + (Math.round(v * 100) / 100).toFixed(2); };
  var token = sessionStorage.getItem(KEY);
  var state = { tenants: [], usage: {}, spend: {}, selected: null };

  function api(path, opts) {
    opts = opts || {};
    return fetch(path, { headers: { Authorization: "Bearer " + token } }).then(function (res) {
      if (res.status === 401) { signOut("Your admin token was refused. Sign in again."); throw new Error("unauthorized"); }
      if (!res.ok) throw new Error(path + " answered " + res.status);
      return opts.raw ? res : res.json();
    });
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    token = null;
    $("#app").hidden = true;
    $("#signin").hidden = false;
    $("#signin-error").textContent = message || "";
  }

  $("#signin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var candidate = $("#admin-token").value.trim();
    $("#signin-error").textContent = "";
    fetch("/admin/v1/tenants?limit=1", { headers: { Authorization: "Bearer " + candidate } }).then(function (res) {
      if (res.status !== 200) { $("#signin-error").textContent = res.status === 401 ? "That admin token was refused." : "Sign-in failed (" + res.status + ")."; return; }
      token = candidate;
      sessionStorage.setItem(KEY, token);
      $("#admin-token").value = "";
      load();
    }, function () { $("#signin-error").textContent = "The proxy could not be reached."; });
  });
  $("#signout").addEventListener("click", function () { signOut(""); });
  $("#refresh").addEventListener("click", function () { load(); });

  function load() {
    $("#signin").hidden = true;
    $("#app").hidden = false;
    $("#status").textContent = "Loading…";
    api("/admin/v1/tenants?limit=200").then(function (page) {
      state.tenants = page.tenants;
      return Promise.all(page.tenants.map(function (t) {
        return Promise.all([api("/admin/v1/tenants/" + encodeURIComponent(t.id) + "/usage"), api("/admin/v1/tenants/" + encodeURIComponent(t.id) + "/spend?days=30")]).then(function (r) {
          state.usage[t.id] = r[0].budgets;
          state.spend[t.id] = r[1].days;
        });
      }));
    }).then(function () {
      $("#status").textContent = "Updated " + new Date().toLocaleTimeString();
      renderOverview();
      if (state.selected && state.tenants.some(function (t) { return t.id === state.selected; })) select(state.selected);
    }).catch(function (err) { if (err.message !== "unauthorized") $("#status").textContent = String(err.message || err); });
  }

  function totals(days) {
    return days.reduce(function (sum, d) { return sum + d.charged_usd + d.adjusted_usd; }, 0);
  }

  function renderOverview() {
    var all = state.tenants;
    var byDay = {};
    all.forEach(function (t) { (state.spend[t.id] || []).forEach(function (d) { byDay[d.date] = (byDay[d.date] || 0) + d.charged_usd + d.adjusted_usd; }); });
    var days = Object.keys(byDay).sort().map(function (date) { return { date: date, usd: byDay[date] }; });
    var spent30 = days.reduce(function (s, d) { return s + d.usd; }, 0);
    var today = days.length ? days[days.length - 1].usd : 0;
    var tasks30 = all.reduce(function (s, t) { return s + (state.spend[t.id] || []).reduce(function (n, d) { return n + d.tasks; }, 0); }, 0);
    $("#stats").replaceChildren(stat("Tenants", all.length), stat("Spend today", usd(today)), stat("Spend, 30 days", usd(spent30)), stat("Tasks, 30 days", tasks30));
    chart($("#chart"), days, "All tenants: spend per day, last 30 days (UTC)");
    var rows = all.map(function (t) {
      var scope = (state.usage[t.id] || []).filter(function (s) { return s.scope === "tenant"; })[0];
      var used = scope ? scope.spent_usd + scope.reserved_usd : 0;
      var pct = scope && scope.limit_usd > 0 ? Math.min(100, (used / scope.limit_usd) * 100) : 0;
      var bar = el("div", { class: "bar", title: Math.round(pct) + "% used" }, [el("span", { style: "width:" + pct.toFixed(1) + "%", class: pct >= 100 ? "over" : pct >= 80 ? "warn" : "" })]);
      var row = el("tr", { "data-tenant": t.id, tabindex: "0" }, [
        el("td", {}, [el("strong", { text: t.name }), el("div", { class: "muted mono", text: t.id })]),
        el("td", {}, [el("span", { class: "pill " + t.status, text: t.status })]),
        el("td", { class: "num" }, [scope ? usd(scope.spent_usd) : "–", scope && scope.reserved_usd ? el("div", { class: "muted", text: "+" + usd(scope.reserved_usd) + " reserved" }) : null]),
        el("td", {}, [el("div", { class: "budget-text", text: scope ? usd(used) + " of " + usd(scope.limit_usd) + " / " + scope.period : "–" }), bar]),
        el("td", { class: "num", text: usd(totals(state.spend[t.id] || [])) }),
        el("td", {}, [exportLink(t.id, "csv", "CSV"), " ", exportLink(t.id, "json", "JSON")]),
      ]);
      row.addEventListener("click", function (e) { if (e.target.tagName !== "A") select(t.id); });
      row.addEventListener("keydown", function (e) { if (e.key === "Enter") select(t.id); });
      return row;
    });
    $("#tenants tbody").replaceChildren.apply($("#tenants tbody"), rows.length ? rows : [el("tr", {}, [el("td", { colspan: "6", class: "muted", text: "No tenants yet: POST /admin/v1/tenants." })])]);
  }

  function stat(label, value) { return el("div", { class: "card stat" }, [el("div", { class: "muted", text: label }), el("div", { class: "value", text: value })]); }

  function exportLink(id, format, label) {
    var a = el("a", { href: "#", class: "export", text: label, "aria-label": "Ledger " + label + " for " + id });
    a.addEventListener("click", function (e) {
      e.preventDefault();
      api("/admin/v1/tenants/" + encodeURIComponent(id) + "/ledger?format=" + format, { raw: true }).then(function (res) { return res.blob(); }).then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = el("a", { href: url, download: "ledger-" + id + "." + format });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      });
    });
    return a;
  }

  function chart(host, days, title) {
    var W = 760, H = 220, L = 56, B = 28, T = 12;
    var max = Math.max.apply(null, days.map(function (d) { return d.usd; }).concat([0.01]));
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var top = Math.ceil(max / step) * step;
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    var add = function (tag, attrs, text) { var n = document.createElementNS(ns, tag); Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); }); if (text !== undefined) n.textContent = text; svg.appendChild(n); return n; };
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - B - T) * (1 - g / 4);
      add("line", { x1: L, x2: W - 8, y1: y, y2: y, class: "grid" });
      add("text", { x: L - 8, y: y + 4, class: "axis", "text-anchor": "end" }, usd((top * g) / 4));
    }
    var bw = (W - L - 8) / Math.max(days.length, 1);
    days.forEach(function (d, i) {
      var h = ((H - B - T) * Math.max(d.usd, 0)) / top;
      var rect = add("rect", { x: L + i * bw + bw * 0.15, y: H - B - h, width: bw * 0.7, height: Math.max(h, d.usd > 0 ? 1 : 0), rx: 2, class: "col" });
      var tip = document.createElementNS(ns, "title");
      tip.textContent = d.date + ": " + usd(d.usd);
      rect.appendChild(tip);
      if (i % 5 === days.length % 5 || i === days.length - 1) add("text", { x: L + i * bw + bw / 2, y: H - 8, class: "axis", "text-anchor": "middle" }, d.date.slice(5));
    });
    host.replaceChildren(el("h3", { text: title }), svg);
  }

  function select(id) {
    state.selected = id;
    var t = state.tenants.filter(function (x) { return x.id === id; })[0];
    document.querySelectorAll("#tenants tr").forEach(function (r) { r.classList.toggle("selected", r.getAttribute("data-tenant") === id); });
    var panel = $("#detail");
    panel.hidden = false;
    panel.replaceChildren(el("h2", { text: t.name + " (" + t.id + ")" }), el("div", { id: "tenant-chart", class: "card" }), el("div", { class: "two" }, [el("div", { class: "card", id: "keys" }, [el("h3", { text: "Keys" }), el("p", { class: "muted", text: "Loading…" })]), el("div", { class: "card", id: "tasks" }, [el("h3", { text: "Recent tasks" }), el("p", { class: "muted", text: "Loading…" })])]));
    chart($("#tenant-chart"), (state.spend[id] || []).map(function (d) { return { date: d.date, usd: d.charged_usd + d.adjusted_usd }; }), t.name + ": spend per day");
    var enc = encodeURIComponent(id);
    api("/admin/v1/tenants/" + enc + "/keys").then(function (r) {
      $("#keys").replaceChildren(el("h3", { text: "Keys (" + r.keys.length + ")" }), table(["Key", "Kind", "Budget", "Created", "State"], r.keys.map(function (k) {
        return [el("span", {}, [el("code", { text: k.prefix + "…" }), " ", k.name || ""]), k.kind, k.budget ? usd(k.budget.limit_usd) + " / " + k.budget.period : "–", k.created_at.slice(0, 10), k.revoked_at ? el("span", { class: "pill disabled", text: "revoked" }) : el("span", { class: "pill active", text: "live" })];
      })));
    });
    api("/admin/v1/tenants/" + enc + "/tasks?limit=10").then(function (r) {
      $("#tasks").replaceChildren(el("h3", { text: "Recent tasks" }), table(["Task", "Model", "Status", "Created"], r.tasks.map(function (x) {
        return [el("code", { text: x.id.slice(0, 8) + "…", title: x.id }), x.model.replace("hailuo-", ""), el("span", { class: "pill s-" + x.status, text: x.status }), x.created_at.replace("T", " ").slice(0, 19)];
      })));
    });
  }

  function table(head, rows) {
    if (!rows.length) return el("p", { class: "muted", text: "None yet." });
    return el("table", { class: "grid-table" }, [el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]), el("tbody", {}, rows.map(function (r) { return el("tr", {}, r.map(function (c) { return el("td", {}, [c]); })); }))]);
  }

  if (token) load(); else signOut("");
})();
`;

const STYLE = `
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
#signin { max-width: 420px; margin: 12vh auto; }
#signin form { display: flex; flex-direction: column; gap: 12px; }
#signin label { display: flex; flex-direction: column; gap: 6px; font-weight: 600; }
.error { color: #dc2626; min-height: 1.5em; margin: 0; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 16px; margin-bottom: 16px; }
.stat .value { font-size: 26px; font-weight: 700; }
#chart, #tenant-chart { margin-bottom: 16px; } h3 { margin: 0 0 8px; font-size: 15px; }
svg { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); } svg .axis { fill: var(--muted); font-size: 11px; } svg .col { fill: var(--accent); }
table.grid-table, #tenants { width: 100%; border-collapse: collapse; }
#tenants th, #tenants td, .grid-table th, .grid-table td { text-align: left; padding: 10px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
#tenants tbody tr { cursor: pointer; } #tenants tbody tr:hover, #tenants tr.selected { background: var(--soft); }
.num { font-variant-numeric: tabular-nums; } .mono { font-family: ui-monospace, monospace; font-size: 12px; }
.bar { height: 8px; border-radius: 4px; background: var(--soft); overflow: hidden; margin-top: 6px; min-width: 160px; }
.bar span { display: block; height: 100%; background: #10b981; } .bar span.warn { background: #f59e0b; } .bar span.over { background: #ef4444; }
.pill { font-size: 12px; padding: 2px 8px; border-radius: 999px; background: var(--soft); }
.pill.active, .s-completed { background: #d1fae5; color: #065f46; } .pill.disabled, .s-failed, .s-expired { background: #fee2e2; color: #991b1b; }
.s-pending, .s-processing { background: #dbeafe; color: #1e40af; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.export { margin-right: 6px; }
#detail { margin-top: 24px; }
@media (max-width: 800px) { .two { grid-template-columns: 1fr; } #tenants td:nth-child(5), #tenants th:nth-child(5) { display: none; } }
`;

/** The /admin page. */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Dashboard · runapi-edge-proxy</title>
<style>${PAGE_CSS}${STYLE}</style>
</head>
<body>
<header class="top"><strong>runapi-edge-proxy · operator</strong><span class="muted" id="status"></span></header>
<main>
<section id="signin" class="card" hidden>
  <h2>Sign in</h2>
  <form id="signin-form">
    <label for="admin-token">Admin token <input id="admin-token" name="admin-token" type="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
    <p id="signin-error" class="error" role="alert"></p>
  </form>
  <p class="muted">The token is kept for this tab only (sessionStorage) and sent as a bearer header.</p>
</section>
<section id="app" hidden>
  <div style="display:flex;justify-content:space-between;align-items:center"><h2>Overview</h2><span><button id="refresh" type="button">Refresh</button> <button id="signout" type="button">Sign out</button></span></div>
  <div class="stats" id="stats"></div>
  <div class="card" id="chart"></div>
  <div class="card"><h3>Tenants</h3>
  <table id="tenants"><thead><tr><th>Tenant</th><th>Status</th><th>Spent</th><th>Budget</th><th>30 days</th><th>Ledger export</th></tr></thead><tbody></tbody></table></div>
  <section id="detail" hidden></section>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>`;
