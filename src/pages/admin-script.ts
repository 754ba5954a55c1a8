/**
 * The console's core (plain ES2020, no build step): sign-in, the operator API client, roles, tabs, dialogs,
 * and the overview (totals, the spend chart, top spenders, the tenants table). The token lives in
 * sessionStorage (this tab only) and goes out as a bearer header, never in a URL. Every write goes through
 * the operator API, which checks the role again and records the write in the audit log.
 */
export const ADMIN_CORE_SCRIPT = `
  var KEY = "runapi-proxy-admin-token";
  var RANK = { viewer: 0, billing: 1, admin: 2 };
  var token = sessionStorage.getItem(KEY);
  var state = { me: null, tenants: [], usage: {}, spend: {}, selected: null };

  /** An operator API call: JSON in and out. A 401 signs out; any other error rejects with the API's message. */
  function api(path, opts) {
    opts = opts || {};
    var init = { method: opts.method || (opts.body === undefined ? "GET" : "POST"), headers: { Authorization: "Bearer " + token } };
    if (opts.body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(opts.body); }
    return fetch(path, init).then(function (res) {
      if (res.status === 401) { signOut("Your token was refused. Sign in again."); throw new Error("unauthorized"); }
      if (opts.raw && res.ok) return res;
      return res.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
        if (!res.ok) { var err = new Error(json && json.error ? json.error.message : path + " answered " + res.status); err.status = res.status; throw err; }
        return json;
      });
    });
  }
  var enc = encodeURIComponent;
  function can(role) { return !!state.me && RANK[state.me.role] >= RANK[role]; }
  /** Controls that need a role this token lacks stay visible but disabled, saying why (the API would answer 403). */
  function gate(root) {
    $$("[data-needs]", root).forEach(function (b) {
      var needs = b.getAttribute("data-needs");
      if (can(needs)) return;
      b.disabled = true;
      b.title = "Needs the " + needs + " role (this token is " + state.me.role + ")";
    });
  }
  function flash(message, isError) { var s = $("#status"); s.textContent = message; s.className = isError ? "error" : "muted"; }
  function table(head, rows, empty) {
    if (!rows.length) return el("p", { class: "muted", text: empty || "None yet." });
    return el("div", { class: "scroll" }, [el("table", { class: "grid-table" }, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", { text: h }); }))]),
      el("tbody", {}, rows.map(function (r) { return el("tr", r.attrs || {}, (r.cells || r).map(function (c) { return el("td", {}, [c]); })); })),
    ])]);
  }

  /** Shows a secret once (a new key, an operator token, a webhook secret) with a copy button. */
  function showSecret(title, note, secret) {
    var dialog = el("dialog", { class: "secret-dialog", "aria-label": title });
    dialog.appendChild(el("h3", { text: title }));
    dialog.appendChild(el("p", { class: "muted", text: note }));
    dialog.appendChild(el("code", { class: "secret", text: secret }));
    dialog.appendChild(el("div", { class: "actions" }, [copyButton(secret), el("button", { type: "button", text: "Done", onclick: function () { dialog.close(); dialog.remove(); } })]));
    document.body.appendChild(dialog);
    dialog.showModal();
  }

  /**
   * A form in a dialog. fields: {name, label, type (text, number, select, textarea), value, options [[value, label]], help, required}.
   * action(values) returns a promise; its rejection is shown in the form, which stays open.
   */
  function openForm(title, fields, submitLabel, action) {
    var dialog = el("dialog", { class: "form-dialog", "aria-label": title });
    var form = el("form", { method: "dialog" });
    fields.forEach(function (f) {
      var input = f.type === "select"
        ? el("select", { name: f.name }, f.options.map(function (o) { return el("option", { value: o[0], text: o[1], selected: String(o[0]) === String(f.value) }); }))
        : el(f.type === "textarea" ? "textarea" : "input", { name: f.name, type: f.type === "textarea" ? null : f.type || "text", value: f.type === "textarea" ? null : f.value === undefined || f.value === null ? "" : String(f.value), required: f.required, step: f.type === "number" ? "any" : null, rows: f.type === "textarea" ? "2" : null, autocomplete: "off" });
      if (f.type === "textarea") input.value = f.value || "";
      form.appendChild(el("label", {}, [f.label, input, f.help ? el("span", { class: "muted", text: f.help }) : null]));
    });
    var error = el("p", { class: "error", role: "alert" });
    var submit = el("button", { type: "submit", text: submitLabel });
    form.appendChild(error);
    form.appendChild(el("div", { class: "actions" }, [el("button", { type: "button", class: "secondary", text: "Cancel", onclick: function () { dialog.close(); dialog.remove(); } }), submit]));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var values = {};
      fields.forEach(function (f) { values[f.name] = form.elements[f.name].value.trim(); });
      submit.disabled = true;
      error.textContent = "";
      Promise.resolve().then(function () { return action(values); }).then(function () { dialog.close(); dialog.remove(); }, function (err) {
        submit.disabled = false;
        if (err && err.message !== "unauthorized" && err.message !== "cancelled") error.textContent = err.message || String(err);
      });
    });
    dialog.appendChild(el("h3", { text: title }));
    dialog.appendChild(form);
    document.body.appendChild(dialog);
    dialog.showModal();
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    token = null;
    state.me = null;
    $("#app").hidden = true;
    $("#signin").hidden = false;
    $("#who").textContent = "";
    $("#signin-error").textContent = message || "";
  }

  $("#signin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var candidate = $("#admin-token").value.trim();
    $("#signin-error").textContent = "";
    fetch("/admin/v1/me", { headers: { Authorization: "Bearer " + candidate } }).then(function (res) {
      if (res.status !== 200) { $("#signin-error").textContent = res.status === 401 ? "That admin token was refused." : "Sign-in failed (" + res.status + ")."; return; }
      token = candidate;
      sessionStorage.setItem(KEY, token);
      $("#admin-token").value = "";
      start();
    }, function () { $("#signin-error").textContent = "The proxy could not be reached."; });
  });
  $("#signout").addEventListener("click", function () { signOut(""); });
  $("#refresh").addEventListener("click", function () { load(); });
  $$("#tabs button").forEach(function (b) { b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); }); });

  function showTab(name) {
    $$("#tabs button").forEach(function (b) { b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === name)); });
    $$(".tab").forEach(function (t) { t.hidden = t.id !== "tab-" + name; });
    if (name === "audit") loadAudit();
    if (name === "prices") loadPrices();
    if (name === "operators") loadOperators();
  }

  function start() {
    api("/admin/v1/me").then(function (me) {
      state.me = me;
      $("#who").replaceChildren(el("span", { class: "pill " + me.role, text: me.role }), " " + me.name);
      $("#signin").hidden = true;
      $("#app").hidden = false;
      gate($("#app"));
      load();
    }).catch(function () { /* signed out */ });
  }

  /** Reloads every tenant's figures; done is the line the status shows afterwards (what was just done). */
  function load(done) {
    flash("Loading…");
    return api("/admin/v1/tenants?limit=200").then(function (page) {
      state.tenants = page.tenants;
      return Promise.all(page.tenants.map(function (t) {
        return Promise.all([api("/admin/v1/tenants/" + enc(t.id) + "/usage"), api("/admin/v1/tenants/" + enc(t.id) + "/spend?days=30")]).then(function (r) {
          state.usage[t.id] = r[0].budgets;
          state.spend[t.id] = r[1].days;
        });
      }));
    }).then(function () {
      flash(typeof done === "string" ? done : "Updated " + new Date().toLocaleTimeString());
      renderOverview();
      if (state.selected && state.tenants.some(function (t) { return t.id === state.selected; })) select(state.selected);
    }).catch(function (err) { if (err.message !== "unauthorized") flash(String(err.message || err), true); });
  }

  function spent30(id) { return (state.spend[id] || []).reduce(function (s, d) { return s + d.charged_usd + d.adjusted_usd; }, 0); }
  function stat(label, value) { return el("div", { class: "card stat" }, [el("div", { class: "muted", text: label }), el("div", { class: "value", text: value })]); }

  function renderOverview() {
    var all = state.tenants;
    var byDay = {};
    all.forEach(function (t) { (state.spend[t.id] || []).forEach(function (d) { byDay[d.date] = (byDay[d.date] || 0) + d.charged_usd + d.adjusted_usd; }); });
    var days = Object.keys(byDay).sort().map(function (date) { return { date: date, usd: byDay[date] }; });
    var total = days.reduce(function (s, d) { return s + d.usd; }, 0);
    var tasks = all.reduce(function (s, t) { return s + (state.spend[t.id] || []).reduce(function (n, d) { return n + d.tasks; }, 0); }, 0);
    $("#stats").replaceChildren(stat("Tenants", all.length), stat("Spend today", usd(days.length ? days[days.length - 1].usd : 0)), stat("Spend, 30 days", usd(total)), stat("Tasks, 30 days", tasks));
    chart($("#chart"), days, "All tenants: spend per day, last 30 days (UTC)");
    var top = all.slice().sort(function (a, b) { return spent30(b.id) - spent30(a.id); }).filter(function (t) { return spent30(t.id) > 0; }).slice(0, 5);
    $("#top").replaceChildren(el("h3", { text: "Top spenders, 30 days" }), top.length ? el("ol", {}, top.map(function (t) {
      return el("li", {}, [el("a", { href: "#", text: t.name, onclick: function (e) { e.preventDefault(); select(t.id); } }), " ", el("span", { class: "num", text: usd(spent30(t.id)) })]);
    })) : el("p", { class: "muted", text: "No spend yet." }));
    var rows = all.map(function (t) {
      var scope = (state.usage[t.id] || []).filter(function (s) { return s.scope === "tenant"; })[0];
      var used = scope ? scope.spent_usd + scope.reserved_usd : 0;
      var pct = scope && scope.limit_usd > 0 ? Math.min(100, (used / scope.limit_usd) * 100) : 0;
      var bar = el("div", { class: "bar", title: Math.round(pct) + "% used" }, [el("span", { style: "width:" + pct.toFixed(1) + "%", class: pct >= 100 ? "over" : pct >= 80 ? "warn" : "" })]);
      return { attrs: { "data-tenant": t.id, tabindex: "0", onclick: function (e) { if (e.target.tagName !== "A" && e.target.tagName !== "BUTTON") select(t.id); }, onkeydown: function (e) { if (e.key === "Enter") select(t.id); } }, cells: [
        el("span", {}, [el("strong", { text: t.name }), el("div", { class: "muted mono", text: t.id })]),
        el("span", { class: "pill " + t.status, text: t.status }),
        el("span", { class: "num" }, [scope ? usd(scope.spent_usd) : "–", scope && scope.reserved_usd ? el("div", { class: "muted", text: "+" + usd(scope.reserved_usd) + " reserved" }) : null]),
        el("span", {}, [el("div", { class: "budget-text", text: scope ? usd(used) + " of " + usd(scope.limit_usd) + " / " + scope.period : "–" }), bar]),
        el("span", { class: "num", text: usd(spent30(t.id)) }),
        el("span", {}, [exportLink(t.id, "csv", "CSV"), " ", exportLink(t.id, "json", "JSON")]),
      ] };
    });
    $("#tenants").replaceChildren(table(["Tenant", "Status", "Spent", "Budget", "30 days", "Ledger export"], rows, "No tenants yet: New tenant makes one."));
    var t = $("#tenants table");
    if (t) t.id = "tenants-table";
  }

  function exportLink(id, format, label) {
    var a = el("a", { href: "#", class: "export", text: label, "aria-label": "Ledger " + label + " for " + id, "data-needs": "billing" });
    a.addEventListener("click", function (e) {
      e.preventDefault();
      if (!can("billing")) { flash("Ledger exports need the billing role (this token is " + state.me.role + ").", true); return; }
      api("/admin/v1/tenants/" + enc(id) + "/ledger?format=" + format, { raw: true }).then(function (res) { return res.blob(); }).then(function (blob) {
        var url = URL.createObjectURL(blob);
        var link = el("a", { href: url, download: "ledger-" + id + "." + format });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      }).catch(function (err) { flash(err.message, true); });
    });
    return a;
  }

  /** A bar chart drawn at the container's own width, so its labels stay readable on a phone. */
  function chart(host, days, title) {
    host.setAttribute("data-title", title);
    host._days = days;
    var W = Math.max(260, Math.floor(host.clientWidth - 40) || 760), H = W < 500 ? 180 : 220, L = 52, R = 20, B = 26, T = 10;
    var max = Math.max.apply(null, days.map(function (d) { return d.usd; }).concat([0.01]));
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var top = Math.ceil(max / step) * step;
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("width", String(W));
    svg.setAttribute("height", String(H));
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", title);
    var add = function (tag, attrs, text) { var n = document.createElementNS(ns, tag); Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); }); if (text !== undefined) n.textContent = text; svg.appendChild(n); return n; };
    for (var g = 0; g <= 4; g++) {
      var y = T + (H - B - T) * (1 - g / 4);
      add("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" });
      add("text", { x: L - 6, y: y + 4, class: "axis", "text-anchor": "end" }, usd((top * g) / 4));
    }
    var bw = (W - L - R) / Math.max(days.length, 1); // R keeps the last date label inside the picture
    var every = Math.max(1, Math.ceil(44 / bw)); // a date label needs about 44 px
    days.forEach(function (d, i) {
      var h = ((H - B - T) * Math.max(d.usd, 0)) / top;
      var rect = add("rect", { x: L + i * bw + bw * 0.15, y: H - B - h, width: Math.max(bw * 0.7, 1), height: Math.max(h, d.usd > 0 ? 1 : 0), rx: 2, class: "col" });
      var tip = document.createElementNS(ns, "title");
      tip.textContent = d.date + ": " + usd(d.usd);
      rect.appendChild(tip);
      if ((days.length - 1 - i) % every === 0) add("text", { x: L + i * bw + bw / 2, y: H - 8, class: "axis", "text-anchor": "middle" }, d.date.slice(5));
    });
    host.replaceChildren(el("h3", { text: title }), svg);
  }
  var resizeTimer = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { $$("[data-title]").forEach(function (h) { if (h._days) chart(h, h._days, h.getAttribute("data-title")); }); }, 150);
  });
`;

/** Runs last: signs in from the tab's stored token, if any. */
export const ADMIN_START_SCRIPT = `
  if (token) start(); else signOut("");
`;
