/** The console's audit log (every operator write, newest first) and operator tokens (admins make and revoke them). */
export const ADMIN_ACCESS_SCRIPT = `
  var auditCursor = null;

  /** The fields a write changed, "name: before → after" (or "name = value" when new), short scalars first; the full JSON is one click away. */
  function changes(e) {
    if (e.before === null || e.before === undefined) return e.action.indexOf("create") >= 0 ? "created" : summary(e.after);
    var simple = [], long = [];
    Object.keys(Object.assign({}, e.before, e.after || {})).forEach(function (k) {
      if (k === "updated_at") return;
      var b = JSON.stringify(e.before[k]), a = JSON.stringify((e.after || {})[k]);
      if (a === undefined || b === a) return;
      var line = b === undefined ? k + " = " + short(a) : k + ": " + short(b) + " → " + short(a);
      ((a.length > 60 || (b || "").length > 60) ? long : simple).push(line);
    });
    return (simple.length ? simple : long).join("; ") || summary(e.after);
  }
  function short(s) { return s === undefined ? "–" : s.length > 60 ? s.slice(0, 57) + "…" : s; }
  function summary(v) { return v === null || v === undefined ? "" : short(JSON.stringify(v)); }

  function loadAudit(more) {
    if (!more) auditCursor = null;
    var path = "/admin/v1/audit?limit=50" + (auditCursor ? "&cursor=" + enc(auditCursor) : "");
    api(path).then(function (page) {
      auditCursor = page.next_cursor;
      var rows = page.entries.map(function (e) {
        return { attrs: { "data-action": e.action }, cells: [
          when(e.at),
          el("span", {}, [e.actor_name + " ", el("span", { class: "pill " + e.role, text: e.role })]),
          el("code", { text: e.action }),
          el("span", { class: "mono", text: e.target }),
          el("details", {}, [el("summary", { text: changes(e) || "–" }), el("pre", { class: "json", text: JSON.stringify({ before: e.before, after: e.after }, null, 2) })]),
          el("span", { class: "mono", text: e.request_id }),
        ] };
      });
      var body = $("#audit-rows");
      if (!more) body.replaceChildren(table(["When", "Who", "Action", "Target", "Change (before → after)", "Request id"], rows, "No operator writes yet."));
      else { var tbody = $("#audit-rows tbody"); rows.forEach(function (r) { tbody.appendChild(el("tr", r.attrs, r.cells.map(function (c) { return el("td", {}, [c]); }))); }); }
      $("#audit-more").hidden = !auditCursor;
    }).catch(function (err) { flash(err.message, true); });
  }
  $("#audit-more").addEventListener("click", function () { loadAudit(true); });

  function loadOperators() {
    api("/admin/v1/operators").then(function (r) {
      var rows = r.operators.map(function (o) {
        return { attrs: { "data-operator": o.id }, cells: [
          el("span", {}, [el("strong", { text: o.name }), el("div", { class: "muted mono", text: o.prefix + "…" })]),
          el("span", { class: "pill " + o.role, text: o.role }),
          when(o.created_at) + " by " + o.created_by,
          o.last_used_at ? when(o.last_used_at) : "never",
          o.revoked_at ? el("span", { class: "pill revoked", text: "revoked" }) : el("button", { type: "button", class: "danger small", text: "Revoke", "data-needs": "admin", onclick: function () { revokeOperator(o); } }),
        ] };
      });
      $("#operator-rows").replaceChildren(table(["Token", "Role", "Created", "Last used", ""], rows, "No operator tokens yet: ADMIN_TOKEN is the only way in."));
      gate($("#operator-rows"));
    }).catch(function (err) { flash(err.message, true); });
  }

  $("#new-operator").addEventListener("click", function () {
    openForm("New operator token", [
      { name: "name", label: "Who it is for", required: true },
      { name: "role", label: "Role", type: "select", value: "viewer", options: [["viewer", "viewer: reads everything"], ["billing", "billing: also credits, prices, exports"], ["admin", "admin: everything"]] },
    ], "Create token", function (v) {
      return api("/admin/v1/operators", { body: { name: v.name, role: v.role } }).then(function (o) {
        showSecret("Operator token for " + o.name, "Sign in to /admin with it (role " + o.role + "). Copy it now: it is shown once.", o.token);
        loadOperators();
      });
    });
  });

  function revokeOperator(o) {
    confirmAction("Revoke " + o.name + "'s token?", "It is refused from its next request on; this cannot be undone.", "Revoke token").then(function (ok) {
      if (!ok) return;
      api("/admin/v1/operators/" + enc(o.id), { method: "DELETE" }).then(function () { flash("Revoked " + o.name); loadOperators(); }, function (err) { flash(err.message, true); });
    });
  }
`;
