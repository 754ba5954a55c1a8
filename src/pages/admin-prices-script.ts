/**
 * The console's prices (SPEC §12, §15): RunAPI's schedule as synced (sync now), the markup tenants pay on it
 * (a default and overrides per service/action/model), and the margin per tenant and model over 30 days.
 * Every write goes through the operator API (billing or admin).
 */
export const ADMIN_PRICES_SCRIPT = `
  /** "kling 35" / "kling/text_to_video 40" / "kling/text_to_video/kling-3.0 50" per line ⇄ overrides. */
  function overridesText(list) {
    return (list || []).map(function (o) { return [o.service, o.action, o.model].filter(Boolean).join("/") + " " + o.markup_percent; }).join("\\n");
  }
  function parseOverrides(text) {
    return text.split("\\n").map(function (l) { return l.trim(); }).filter(Boolean).map(function (line) {
      var m = /^(\\S+)\\s+(-?[0-9.]+)\\s*%?$/.exec(line);
      if (!m) throw new Error("Override lines are “service[/action[/model]] percent”: " + line);
      var parts = m[1].split("/"), o = { service: parts[0], markup_percent: Number(m[2]) };
      if (parts[1]) o.action = parts[1];
      if (parts[2]) o.model = parts.slice(2).join("/");
      return o;
    });
  }

  function loadPrices() {
    api("/admin/v1/prices").then(function (p) {
      var s = p.schedule, mk = p.markup;
      $("#price-summary").replaceChildren(
        el("p", {}, [
          el("strong", { text: s.prices + " prices" }),
          " from " + (s.origin === "runapi" ? "RunAPI's live schedule" : "the bundled snapshot") + ", as of " + s.as_of +
            (s.synced_at ? "; last synced " + when(s.synced_at) : "; never synced (the cron trigger syncs every 30 minutes)") + ". Pricing mode: " + p.pricing_mode + ".",
        ]),
        el("p", {}, [
          "Markup on RunAPI's prices: ", el("strong", { text: mk.markup_percent + " %" }),
          mk.overrides.length ? " (overrides: " + overridesText(mk.overrides).split("\\n").join(", ") + ")" : " (no overrides)",
          ". A tenant's own markup replaces it.",
        ]),
      );
      state.markup = mk;
    }).catch(function (err) { flash(err.message, true); });
    var from = new Date(Date.now() - 30 * 86400000).toISOString();
    api("/admin/v1/margins?from=" + enc(from)).then(function (m) {
      var rows = m.margins.map(function (r) {
        return { attrs: { "data-margin": r.tenant_id + "/" + r.model }, cells: [r.tenant_id, el("code", { text: r.model }), String(r.requests), usd(r.charged_usd), usd(r.cost_usd), usd(r.margin_usd)] };
      });
      $("#margin-rows").replaceChildren(
        table(["Tenant", "Model", "Settled", "Charged", "RunAPI's cost", "Margin"], rows, "Nothing settled in the last 30 days."),
        el("p", { class: "muted", text: "Totals: charged " + usd(m.totals.charged_usd) + ", RunAPI's cost " + usd(m.totals.cost_usd) + ", margin " + usd(m.totals.margin_usd) + "." }),
      );
    }).catch(function (err) { flash(err.message, true); });
  }
  function usd(v) { return "$" + Number(v).toFixed(v < 1 ? 4 : 2); }

  $("#price-sync").addEventListener("click", function () {
    var b = $("#price-sync");
    b.disabled = true;
    api("/admin/v1/prices/sync", { method: "POST", body: {} }).then(function (r) {
      flash(r.changed ? "Synced: " + r.added.length + " added, " + r.removed.length + " removed, " + r.updated.length + " changed" : "RunAPI's schedule has not changed");
      loadPrices();
    }, function (err) { flash(err.message, true); }).then(function () { b.disabled = false; });
  });

  $("#price-markup").addEventListener("click", function () {
    var mk = state.markup || { markup_percent: 0, overrides: [] };
    openForm("Markup on RunAPI's prices", [
      { name: "percent", label: "Default markup (%)", type: "number", value: mk.markup_percent, required: true, help: "What tenants pay above RunAPI's price; 0 sells at cost" },
      { name: "overrides", label: "Overrides", type: "textarea", value: overridesText(mk.overrides), help: "One per line: service[/action[/model]] percent, e.g. kling 35; the most specific wins" },
    ], "Save markup", function (v) {
      return api("/admin/v1/prices", { method: "PUT", body: { markup_percent: Number(v.percent), overrides: parseOverrides(v.overrides) } }).then(function () {
        flash("Markup saved");
        loadPrices();
      });
    });
  });
`;
