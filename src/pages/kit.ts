/**
 * What the proxy's own pages share (/docs and the /admin console): one look (system fonts, light cards, a
 * top bar, tables, pills, dialogs) and one script prelude (DOM helpers, money and time formats, a confirm
 * dialog, a copy button). Pages put `KIT_SCRIPT` first inside their own function scope.
 */
export const PAGE_CSS = `
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --soft: #f1f5f9; --card: #fff; --bg: #f8fafc; --accent: #2563eb; --danger: #dc2626; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
h1, h2, h3, h4 { line-height: 1.25; } h2 { font-size: 20px; margin: 24px 0 8px; } h3 { margin: 0 0 8px; font-size: 15px; } h4 { margin: 14px 0 6px; font-size: 14px; }
.muted { color: var(--muted); }
.top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.top strong { font-size: 17px; }
.field { display: inline-flex; gap: 8px; align-items: center; font-size: 14px; color: var(--muted); }
input, textarea, select { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); max-width: 100%; }
input:focus, textarea:focus, select:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
button { font: inherit; padding: 6px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.1); } button:disabled { opacity: .45; cursor: not-allowed; filter: none; }
button.secondary { background: var(--soft); color: var(--ink); border: 1px solid var(--line); } button.danger { background: var(--danger); }
button.small { padding: 3px 10px; font-size: 13px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table.grid-table { width: 100%; border-collapse: collapse; }
.grid-table th, .grid-table td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
.num { font-variant-numeric: tabular-nums; } .mono { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.pill { font-size: 12px; padding: 2px 8px; border-radius: 999px; background: var(--soft); white-space: nowrap; }
.pill.active, .pill.live, .s-completed { background: #d1fae5; color: #065f46; }
.pill.disabled, .pill.revoked, .pill.expired, .s-failed, .s-expired { background: #fee2e2; color: #991b1b; }
.pill.expiring, .pill.billing { background: #fef3c7; color: #92400e; } .s-pending, .s-processing, .pill.viewer { background: #dbeafe; color: #1e40af; }
.pill.admin { background: #ede9fe; color: #5b21b6; }
dialog { border: 1px solid var(--line); border-radius: 12px; padding: 20px; max-width: min(520px, calc(100vw - 24px)); width: 100%; }
dialog::backdrop { background: rgb(15 23 42 / .45); }
dialog h3 { font-size: 17px; } dialog .actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 16px; flex-wrap: wrap; }
dialog form { display: grid; gap: 10px; } dialog label { display: grid; gap: 4px; font-size: 14px; font-weight: 600; } dialog label .muted { font-weight: 400; font-size: 13px; }
.secret { display: block; padding: 10px; background: var(--soft); border-radius: 6px; word-break: break-all; user-select: all; }
.error { color: var(--danger); min-height: 1.5em; margin: 0; }
`;

/** Plain ES2020 helpers, no build step; put first inside the page's own `(function () { … })()`. */
export const KIT_SCRIPT = `
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  /** An element with attributes ("text" sets textContent, "on" + event name adds a listener) and children. */
  var el = function (tag, attrs, kids) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === undefined || v === null || v === false) return;
      if (k === "text") n.textContent = v;
      else if (k.slice(0, 2) === "on" && typeof v === "function") n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : v);
    });
    (kids || []).forEach(function (k) { if (k !== null && k !== undefined && k !== false) n.appendChild(typeof k === "string" || typeof k === "number" ? document.createTextNode(String(k)) : k); });
    return n;
  };
  var usd = function (v) { return (v < 0 ? "-$" : "$") + (Math.round(Math.abs(v) * 100) / 100).toFixed(2); };
  var when = function (iso) { return iso ? iso.replace("T", " ").slice(0, 16) + " UTC" : "–"; };

  /** Asks before a destructive or billable action; resolves true when confirmed. */
  function confirmAction(title, message, confirmLabel, danger) {
    return new Promise(function (resolve) {
      var dialog = el("dialog", { class: "confirm", "aria-label": title });
      var done = function (ok) { dialog.close(); dialog.remove(); resolve(ok); };
      dialog.appendChild(el("h3", { text: title }));
      dialog.appendChild(el("p", { text: message }));
      dialog.appendChild(el("div", { class: "actions" }, [
        el("button", { type: "button", class: "secondary", text: "Cancel", onclick: function () { done(false); } }),
        el("button", { type: "button", class: danger === false ? "" : "danger", text: confirmLabel, onclick: function () { done(true); } }),
      ]));
      dialog.addEventListener("cancel", function (e) { e.preventDefault(); done(false); });
      document.body.appendChild(dialog);
      dialog.showModal();
    });
  }

  /** A button that copies text to the clipboard and says so. */
  function copyButton(text, label) {
    var b = el("button", { type: "button", class: "secondary small", text: label || "Copy" });
    b.addEventListener("click", function () {
      var ok = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = label || "Copy"; }, 2000); };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(ok, function () { b.textContent = "Select and copy"; });
      else b.textContent = "Select and copy";
    });
    return b;
  }
`;
