import { ADMIN_ACCESS_SCRIPT } from "./admin-access-script";
import { ADMIN_PRICES_SCRIPT } from "./admin-prices-script";
import { ADMIN_CORE_SCRIPT, ADMIN_START_SCRIPT } from "./admin-script";
import { ADMIN_TENANT_SCRIPT } from "./admin-tenant-script";
import { KIT_SCRIPT, PAGE_CSS } from "./kit";

// The operator console at /admin: one self-contained page over the operator API (SPEC §10, §15). It holds no
// data; the token is kept in sessionStorage (this tab only) and sent as a bearer header, never in a URL.

const STYLE = `
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px 48px; }
#signin { max-width: 420px; margin: 12vh auto; }
#signin form { display: flex; flex-direction: column; gap: 12px; }
#signin label { display: flex; flex-direction: column; gap: 6px; font-weight: 600; }
.bar-row { display: flex; justify-content: space-between; align-items: center; gap: 8px; flex-wrap: wrap; margin-bottom: 12px; }
#tabs { display: flex; gap: 4px; flex-wrap: wrap; } #tabs button { background: transparent; color: var(--ink); border: 1px solid transparent; }
#tabs button[aria-selected=true] { background: var(--card); border-color: var(--line); font-weight: 600; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin-bottom: 12px; }
.stat .value { font-size: 24px; font-weight: 700; }
.overview { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 1fr); gap: 12px; margin-bottom: 12px; }
#chart, #tenant-chart { margin-bottom: 12px; min-width: 0; }
svg { display: block; max-width: 100%; height: auto; }
svg .grid { stroke: var(--line); } svg .axis { fill: var(--muted); font-size: 11px; } svg .col { fill: var(--accent); }
#top ol { margin: 0; padding-left: 20px; } #top li { margin: 4px 0; } #top .num { color: var(--muted); }
.card-head { display: flex; justify-content: space-between; align-items: center; gap: 8px; margin-bottom: 8px; } .card-head h3 { margin: 0; }
#tenants tbody tr { cursor: pointer; } #tenants tbody tr:hover, #tenants tr.selected { background: var(--soft); }
.bar { height: 8px; border-radius: 4px; background: var(--soft); overflow: hidden; margin-top: 6px; min-width: 90px; }
.bar span { display: block; height: 100%; background: #10b981; } .bar span.warn { background: #f59e0b; } .bar span.over { background: #ef4444; }
.two { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; margin-bottom: 12px; }
.detail-head { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; } .detail-head h2 { margin: 0; } .detail-head .actions { display: flex; gap: 6px; flex-wrap: wrap; margin-left: auto; }
.row-actions { display: inline-flex; gap: 6px; flex-wrap: wrap; }
.export { margin-right: 6px; }
#detail { margin-top: 24px; }
pre.json { max-height: 260px; overflow: auto; background: var(--soft); padding: 8px; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
details summary { cursor: pointer; }
@media (max-width: 800px) {
  main { padding: 12px; } .top { padding: 10px 12px; }
  .two, .overview { grid-template-columns: minmax(0, 1fr); }
  #tenants td:nth-child(5), #tenants th:nth-child(5) { display: none; }
  .stat .value { font-size: 20px; } .card { padding: 12px; }
}
`;

/** The /admin page. */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Console · runapi-edge-proxy</title>
<style>${PAGE_CSS}${STYLE}</style>
</head>
<body>
<header class="top"><strong>runapi-edge-proxy · operator</strong><span id="who"></span><span class="muted" id="status" role="status"></span></header>
<main>
<section id="signin" class="card" hidden>
  <h2>Sign in</h2>
  <form id="signin-form">
    <label for="admin-token">Admin token <input id="admin-token" name="admin-token" type="password" autocomplete="current-password" required></label>
    <button type="submit">Sign in</button>
    <p id="signin-error" class="error" role="alert"></p>
  </form>
  <p class="muted">ADMIN_TOKEN, or an operator token (opt_…) with its role. It is kept for this tab only (sessionStorage) and sent as a bearer header.</p>
</section>
<section id="app" hidden>
  <div class="bar-row">
    <nav id="tabs" role="tablist" aria-label="Console">
      <button type="button" role="tab" data-tab="tenants" aria-selected="true">Tenants</button>
      <button type="button" role="tab" data-tab="prices" aria-selected="false">Prices</button>
      <button type="button" role="tab" data-tab="audit" aria-selected="false">Audit log</button>
      <button type="button" role="tab" data-tab="operators" aria-selected="false">Operators</button>
    </nav>
    <span><button id="refresh" type="button" class="secondary">Refresh</button> <button id="signout" type="button" class="secondary">Sign out</button></span>
  </div>
  <div id="tab-tenants" class="tab">
    <div class="stats" id="stats"></div>
    <div class="overview"><div class="card" id="chart"></div><div class="card" id="top"></div></div>
    <div class="card">
      <div class="card-head"><h3>Tenants</h3><button id="new-tenant" type="button" class="small" data-needs="admin">New tenant</button></div>
      <div id="tenants"></div>
    </div>
    <section id="detail" hidden></section>
  </div>
  <div id="tab-prices" class="tab" hidden>
    <div class="card">
      <div class="card-head"><h3>Prices: RunAPI's schedule and your markup</h3>
        <span><button id="price-sync" type="button" class="small secondary" data-needs="billing">Sync now</button> <button id="price-markup" type="button" class="small" data-needs="billing">Edit markup</button></span></div>
      <div id="price-summary"></div>
    </div>
    <div class="card"><div class="card-head"><h3>Margins, last 30 days</h3></div><div id="margin-rows"></div></div>
  </div>
  <div id="tab-audit" class="tab" hidden>
    <div class="card"><div class="card-head"><h3>Audit log: every operator write</h3></div><div id="audit-rows"></div>
    <p><button id="audit-more" type="button" class="secondary" hidden>Older entries</button></p></div>
  </div>
  <div id="tab-operators" class="tab" hidden>
    <div class="card">
      <div class="card-head"><h3>Operator tokens</h3><button id="new-operator" type="button" class="small" data-needs="admin">New operator token</button></div>
      <p class="muted">viewer reads everything; billing also credits and debits, sets prices and exports ledgers; admin does everything. ADMIN_TOKEN is the bootstrap admin.</p>
      <div id="operator-rows"></div>
    </div>
  </div>
</section>
</main>
<script>(function () {
"use strict";
${KIT_SCRIPT}${ADMIN_CORE_SCRIPT}${ADMIN_TENANT_SCRIPT}${ADMIN_ACCESS_SCRIPT}${ADMIN_PRICES_SCRIPT}${ADMIN_START_SCRIPT}
})();</script>
</body>
</html>`;
