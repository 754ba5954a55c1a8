/**
 * The console's tenant views and actions: create and edit a tenant, disable or enable it, credit or debit it,
 * issue, rotate and revoke keys (a new key is shown once), use per key and per end user, webhook and archive
 * failures, recent tasks. Destructive actions (revoke, disable, debit) ask first.
 */
export const ADMIN_TENANT_SCRIPT = String.raw`
  var PERIODS = [["day", "per day"], ["week", "per week"], ["month", "per month"], ["total", "in total"]];
  var numOrNull = function (v) { return v === "" ? null : Number(v); };
  var list = function (v) { return v.split(/[\s,]+/).filter(Boolean); };
  // A task id's last 8 characters: its first ones are the time it was made (UUID v7), alike for a minute's tasks.
  var shortId = function (id) { return "…" + id.slice(-8); };

  $("#new-tenant").addEventListener("click", function () { tenantForm(null); });

  /** Create (t null) or edit a tenant: budget, limits, allowed models, webhook, end-user budget. */
  function tenantForm(t) {
    var fields = [
      { name: "name", label: "Name", value: t ? t.name : "", required: true },
      { name: "limit", label: "Budget (USD)", type: "number", value: t ? t.budget.limit_usd : "", required: true },
      { name: "period", label: "Budget period", type: "select", options: PERIODS, value: t ? t.budget.period : "month" },
      { name: "concurrent", label: "Max concurrent tasks", type: "number", value: t ? t.limits.max_concurrent_tasks : "", help: "Empty: no limit" },
      { name: "rpm", label: "Requests per minute (per key)", type: "number", value: t ? t.limits.requests_per_minute : "", help: "Empty: no limit" },
      { name: "models", label: "Allowed models", type: "textarea", value: t && t.allowed_models ? t.allowed_models.join(", ") : "", help: "Comma-separated; empty: every model" },
      { name: "webhook", label: "Webhook URL", type: "url", value: t ? t.webhook_url : "", help: "Finished tasks and budget alerts, signed" },
      { name: "markup", label: "Markup on RunAPI's prices (%)", type: "number", value: t && t.markup_percent != null ? t.markup_percent : "", help: "Empty: the default (Prices tab)" },
      { name: "eu_limit", label: "Budget per end user (USD)", type: "number", value: t && t.end_user_budget ? t.end_user_budget.limit_usd : "", help: "Empty: none" },
      { name: "eu_period", label: "End-user budget period", type: "select", options: PERIODS, value: t && t.end_user_budget ? t.end_user_budget.period : "day" },
    ];
    if (!t) fields.unshift({ name: "id", label: "Id", value: "", help: "Lowercase letters, digits, _ and -; empty: generated" });
    openForm(t ? "Edit " + t.name : "New tenant", fields, t ? "Save" : "Create tenant", function (v) {
      var body = {
        name: v.name,
        budget: { limit_usd: Number(v.limit), period: v.period },
        limits: { max_concurrent_tasks: numOrNull(v.concurrent), requests_per_minute: numOrNull(v.rpm) },
        allowed_models: v.models ? list(v.models) : null,
        webhook_url: v.webhook || null,
        markup_percent: v.markup === "" ? null : Number(v.markup),
        end_user_budget: v.eu_limit === "" ? null : { limit_usd: Number(v.eu_limit), period: v.eu_period },
      };
      if (!t && v.id) body.id = v.id;
      var path = t ? "/admin/v1/tenants/" + enc(t.id) : "/admin/v1/tenants";
      return api(path, { method: t ? "PATCH" : "POST", body: body }).then(function (r) {
        state.selected = r.tenant.id;
        if (r.tenant.webhook_secret) showSecret("Webhook signing secret", "The tenant's webhook verifies signatures with this secret. It is shown once.", r.tenant.webhook_secret);
        return load((t ? "Saved " : "Created ") + r.tenant.name);
      });
    });
  }

  function select(id) {
    state.selected = id;
    var t = state.tenants.filter(function (x) { return x.id === id; })[0];
    if (!t) return;
    $$("#tenants tr").forEach(function (r) { r.classList.toggle("selected", r.getAttribute("data-tenant") === id); });
    var panel = $("#detail");
    panel.hidden = false;
    var usage = (state.usage[id] || []).map(function (s) { return s.scope + " " + usd(s.spent_usd) + " spent + " + usd(s.reserved_usd) + " reserved of " + usd(s.limit_usd) + " / " + s.period; });
    panel.replaceChildren(
      el("div", { class: "detail-head" }, [
        el("h2", { text: t.name + " (" + t.id + ")" }), el("span", { class: "pill " + t.status, text: t.status }),
        el("span", { class: "actions" }, [
          el("button", { type: "button", class: "secondary", text: "Edit", "data-needs": "admin", onclick: function () { tenantForm(t); } }),
          el("button", { type: "button", class: "secondary", text: "Credit or debit", "data-needs": "billing", onclick: function () { adjust(t); } }),
          t.status === "active"
            ? el("button", { type: "button", class: "danger", text: "Disable", "data-needs": "admin", onclick: function () { setStatus(t, "disabled"); } })
            : el("button", { type: "button", text: "Enable", "data-needs": "admin", onclick: function () { setStatus(t, "active"); } }),
        ]),
      ]),
      el("p", { class: "muted", text: usage.join(" · ") + (t.webhook_url ? " · webhook " + t.webhook_url : "") }),
      el("div", { id: "tenant-chart", class: "card" }),
      el("div", { class: "two" }, [
        el("div", { class: "card", id: "keys" }, [el("h3", { text: "Keys" }), el("p", { class: "muted", text: "Loading…" })]),
        el("div", { class: "card", id: "end-users" }, [el("h3", { text: "Top end users, 30 days" }), el("p", { class: "muted", text: "Loading…" })]),
      ]),
      el("div", { class: "two" }, [
        el("div", { class: "card", id: "failures" }, [el("h3", { text: "Webhook and archive failures" }), el("p", { class: "muted", text: "Loading…" })]),
        el("div", { class: "card", id: "tasks" }, [el("h3", { text: "Recent tasks" }), el("p", { class: "muted", text: "Loading…" })]),
      ]),
    );
    gate(panel);
    chart($("#tenant-chart"), (state.spend[id] || []).map(function (d) { return { date: d.date, usd: d.charged_usd + d.adjusted_usd }; }), t.name + ": spend per day");
    var base = "/admin/v1/tenants/" + enc(id);
    Promise.all([api(base + "/keys"), api(base + "/breakdown?by=key")]).then(function (r) { renderKeys(t, r[0].keys, r[1].rows); });
    api(base + "/breakdown?by=end_user&limit=10").then(function (r) {
      $("#end-users").replaceChildren(el("h3", { text: "Top end users, 30 days" }), table(["End user", "Requests", "Charged", "Reserved"], r.rows.map(function (u) {
        return [el("span", { class: "mono", text: u.subject }), String(u.requests), usd(u.charged_usd), usd(u.reserved_usd)];
      }), "No end users yet (publishable keys, end-user tokens, X-End-User-Id)."));
    });
    api(base + "/failures?limit=20").then(function (r) {
      var rows = r.tasks.map(function (f) {
        var w = f.webhook ? "webhook " + f.webhook.state + ", " + f.webhook.attempts + " tries, last " + (f.webhook.last_status || f.webhook.last_error || "–") + (f.webhook.host ? " (" + f.webhook.host + ")" : "") : "";
        var a = f.archive ? "archive: " + f.archive.failed + " failed, " + f.archive.retrying + " retrying" + (f.archive.last_error ? " (" + f.archive.last_error + ")" : "") : "";
        return [el("code", { text: shortId(f.task_id), title: f.task_id }), [w, a].filter(Boolean).join("; "), when(f.updated_at)];
      }).concat(r.alerts.map(function (a) { return ["budget alert " + a.threshold_percent + "%", a.state + ", " + a.attempts + " tries, last " + (a.last_status || "no answer"), when(a.created_at)]; }));
      $("#failures").replaceChildren(el("h3", { text: "Webhook and archive failures" }), table(["Task", "What failed", "When"], rows, "None: every webhook was delivered and every video archived."));
    });
    api(base + "/tasks?limit=10").then(function (r) {
      $("#tasks").replaceChildren(el("h3", { text: "Recent tasks" }), table(["Task", "Model", "Status", "Created"], r.tasks.map(function (x) {
        return [el("code", { text: shortId(x.id), title: x.id }), x.model.replace("hailuo-", ""), el("span", { class: "pill s-" + x.status, text: x.error_code ? x.status + ": " + x.error_code : x.status }), when(x.created_at)];
      })));
    });
  }

  function keyState(k) {
    if (k.revoked_at) return el("span", { class: "pill revoked", text: "revoked" });
    if (k.expires_at && Date.parse(k.expires_at) <= Date.now()) return el("span", { class: "pill expired", text: "expired" });
    if (k.expires_at) return el("span", { class: "pill expiring", text: (k.replaced_by ? "rotated, works until " : "expires ") + when(k.expires_at) });
    return el("span", { class: "pill live", text: "live" });
  }

  function renderKeys(t, keys, usage) {
    var use = {};
    usage.forEach(function (u) { use[u.subject] = u; });
    var rows = keys.map(function (k) {
      var u = use[k.id];
      var usable = !k.revoked_at && !(k.expires_at && Date.parse(k.expires_at) <= Date.now());
      return { attrs: { "data-key": k.id }, cells: [
        el("span", {}, [el("code", { text: k.prefix + "…" }), " ", k.name || ""]),
        k.kind,
        k.budget ? usd(k.budget.limit_usd) + " / " + k.budget.period : "–",
        u ? usd(u.charged_usd) + " · " + u.requests + " req" : "–",
        keyState(k),
        usable ? el("span", { class: "row-actions" }, [
          el("button", { type: "button", class: "secondary small", text: "Rotate", "data-needs": "admin", onclick: function () { rotateKey(t, k); } }),
          el("button", { type: "button", class: "danger small", text: "Revoke", "data-needs": "admin", onclick: function () { revokeKey(t, k); } }),
        ]) : "",
      ] };
    });
    $("#keys").replaceChildren(
      el("div", { class: "card-head" }, [el("h3", { text: "Keys (" + keys.length + ")" }), el("button", { type: "button", class: "small", text: "New key", "data-needs": "admin", onclick: function () { keyForm(t); } })]),
      table(["Key", "Kind", "Budget", "30 days", "State", ""], rows, "No keys yet."),
    );
    gate($("#keys"));
  }

  function keyForm(t) {
    openForm("New key for " + t.name, [
      { name: "kind", label: "Kind", type: "select", options: [["secret", "Secret (sk_, for servers)"], ["publishable", "Publishable (pk_, for web pages)"]], value: "secret" },
      { name: "name", label: "Name", value: "" },
      { name: "origins", label: "Allowed origins", type: "textarea", help: "Publishable keys only: e.g. https://app.example" },
      { name: "models", label: "Allowed models", type: "textarea", help: "Comma-separated models, services or service/action, within the tenant's; empty: the tenant's (/demo then offers the Hailuo models)" },
      { name: "limit", label: "Key budget (USD)", type: "number", help: "Empty: only the tenant's budget applies" },
      { name: "period", label: "Key budget period", type: "select", options: PERIODS, value: "day" },
    ], "Create key", function (v) {
      var body = { kind: v.kind };
      if (v.name) body.name = v.name;
      if (v.origins) body.allowed_origins = list(v.origins);
      if (v.models) body.allowed_models = list(v.models);
      if (v.limit !== "") body.budget = { limit_usd: Number(v.limit), period: v.period };
      return api("/admin/v1/tenants/" + enc(t.id) + "/keys", { body: body }).then(function (k) {
        showSecret("New key " + (k.name || k.id), "Copy it now: it is shown once. The proxy keeps only its SHA-256.", k.key);
        select(t.id);
      });
    });
  }

  function rotateKey(t, k) {
    openForm("Rotate " + k.prefix + "…", [
      { name: "overlap", label: "The old key keeps working for", type: "number", value: "24", required: true },
      { name: "unit", label: "Unit", type: "select", options: [["3600", "hours"], ["60", "minutes"], ["1", "seconds"]], value: "3600" },
    ], "Rotate", function (v) {
      var seconds = Math.round(Number(v.overlap) * Number(v.unit));
      return api("/admin/v1/tenants/" + enc(t.id) + "/keys/" + enc(k.id) + "/rotate", { body: { overlap_seconds: seconds } }).then(function (n) {
        showSecret("New key for " + (n.name || t.name), "It works now; the old key works until " + when(n.rotated_from.expires_at) + ". Copy it now: it is shown once.", n.key);
        select(t.id);
      });
    });
  }

  function revokeKey(t, k) {
    confirmAction("Revoke " + k.prefix + "…?", "Requests with this key are refused from now on; this cannot be undone.", "Revoke key").then(function (ok) {
      if (!ok) return;
      api("/admin/v1/tenants/" + enc(t.id) + "/keys/" + enc(k.id), { method: "DELETE" }).then(function () { flash("Revoked " + k.prefix + "…"); select(t.id); }, function (err) { flash(err.message, true); });
    });
  }

  function adjust(t) {
    openForm("Credit or debit " + t.name, [
      { name: "kind", label: "Kind", type: "select", options: [["credit", "Credit (lowers spend)"], ["debit", "Debit (adds to spend)"]], value: "credit" },
      { name: "amount", label: "Amount (USD)", type: "number", required: true },
      { name: "reason", label: "Reason", required: true, help: "Kept in the ledger and the audit log" },
    ], "Apply", function (v) {
      var amount = Math.abs(Number(v.amount));
      var go = v.kind === "debit"
        ? confirmAction("Debit " + usd(amount) + "?", t.name + " is charged " + usd(amount) + " (" + v.reason + "): it counts against its budget.", "Debit")
        : Promise.resolve(true);
      return go.then(function (ok) {
        if (!ok) throw new Error("cancelled");
        return api("/admin/v1/tenants/" + enc(t.id) + "/adjustments", { body: { amount_usd: v.kind === "debit" ? -amount : amount, reason: v.reason } });
      }).then(function () { return load((v.kind === "debit" ? "Debited " : "Credited ") + usd(amount)); });
    });
  }

  function setStatus(t, status) {
    var go = status === "disabled"
      ? confirmAction("Disable " + t.name + "?", "Every key of this tenant is refused at once until it is enabled again. Tasks under way finish.", "Disable tenant")
      : Promise.resolve(true);
    go.then(function (ok) {
      if (!ok) return;
      api("/admin/v1/tenants/" + enc(t.id), { method: "PATCH", body: { status: status } }).then(function () { load((status === "disabled" ? "Disabled " : "Enabled ") + t.name); }, function (err) { flash(err.message, true); });
    });
  }
`;
