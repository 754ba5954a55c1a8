import { KIT_SCRIPT, PAGE_CSS } from "./kit";

// The interactive reference at /docs: a self-contained page (no CDN) that reads /openapi.json and renders it:
// operations grouped by tag, a search box, expandable operations with parameters, schemas and responses,
// and "Try it" (the token stays in this tab's memory; a billable call shows its price and asks first).

const SCRIPT = String.raw`
(function () {
${KIT_SCRIPT}
  var doc, components = {};
  /**
   * What a billable call will cost, in words: a create's estimate (POST /api/v1/estimate with the same body and
   * token, nothing reserved), or how chat is priced. Never throws.
   */
  function priceWords(path, headers, body) {
    if (path.indexOf("/api/v1/") === 0 && body) {
      var endpoint = path.split("/").pop();
      return fetch("/api/v1/estimate?endpoint=" + encodeURIComponent(endpoint), { method: "POST", headers: headers, body: body }).then(function (res) {
        return res.json().then(function (j) {
          if (res.ok) return "It reserves " + usd(j.estimated_cost_usd) + " (" + j.model + ") against the budget of the key you entered" + (j.budget && j.budget.would_exceed ? ", which does not have that much left." : ", and is charged when the task completes.");
          return "Its price could not be read (" + res.status + (j.error ? ": " + j.error.message : "") + "); it may still cost money.";
        });
      }).catch(function () { return "Its price could not be read; it may still cost money."; });
    }
    if (path === "/v1/chat/completions") return Promise.resolve("Chat is priced per token: the proxy reserves the most this request can cost (input plus max_tokens of output) and charges what was used.");
    return Promise.resolve("It may start paid work (an MCP tool that creates a task).");
  }
  function deref(s) {
    var seen = 0;
    while (s && s.$ref && seen++ < 10) s = components[s.$ref.split("/").pop()] || {};
    return s || {};
  }
  function typeOf(s) {
    s = deref(s);
    if (s.anyOf) return s.anyOf.map(typeOf).join(" | ");
    if (s.oneOf) return s.oneOf.map(typeOf).join(" | ");
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.type === "array") return typeOf(s.items || {}) + "[]";
    return (s.type || "any") + (s.format ? " (" + s.format + ")" : "");
  }
  function objectOf(s) {
    s = deref(s);
    if (s.properties) return s;
    var alts = s.anyOf || s.oneOf || [];
    for (var i = 0; i < alts.length; i++) { var a = deref(alts[i]); if (a.properties) return a; }
    if (s.type === "array" && s.items) return objectOf(s.items);
    return null;
  }
  function schemaTable(s, depth) {
    var obj = objectOf(s);
    if (!obj) return el("p", { class: "muted", text: typeOf(s) });
    var rows = Object.keys(obj.properties).map(function (name) {
      var p = deref(obj.properties[name]);
      var req = (obj.required || []).indexOf(name) >= 0;
      var note = [p.description, p.default !== undefined ? "default " + JSON.stringify(p.default) : "", p.deprecated ? "deprecated" : ""].filter(Boolean).join(" · ");
      var nested = depth < 3 && objectOf(p) ? schemaTable(p, depth + 1) : null;
      return el("tr", {}, [el("td", {}, [el("code", { text: name }), req ? el("span", { class: "req", text: " required" }) : null]), el("td", {}, [el("code", { class: "type", text: typeOf(p) }), note ? el("div", { class: "muted", text: note }) : null, nested])]);
    });
    return el("table", { class: "schema" }, [el("tbody", {}, rows)]);
  }
  function example(s, depth) {
    s = deref(s);
    if (depth > 4) return null;
    if (s.default !== undefined) return s.default;
    if (s.enum) return s.enum[0];
    if (s.const !== undefined) return s.const;
    if (s.anyOf) return example(s.anyOf[0], depth + 1);
    if (s.type === "object" || s.properties) {
      var o = {};
      (s.required || []).forEach(function (k) { o[k] = example(s.properties[k], depth + 1); });
      return o;
    }
    if (s.type === "array") return [];
    if (s.type === "integer" || s.type === "number") return s.minimum !== undefined ? s.minimum : 1;
    if (s.type === "boolean") return false;
    if (s.format === "uri") return "https://example.com/image.png";
    return "string";
  }
  function operation(path, method, op, webhook) {
    var params = op.parameters || [];
    var body = op.requestBody && op.requestBody.content["application/json"];
    var inputs = {};
    var kids = [el("p", { class: "op-summary", text: op.summary })];
    if (op.description) kids.push(el("p", { class: "muted", text: op.description }));
    var auth = (op.security || []).map(function (s) { return Object.keys(s)[0]; });
    if (!webhook) kids.push(el("p", { class: "auth" }, [el("strong", { text: "Auth: " }), auth.length ? auth.join(" or ") : "none"]));
    if (params.length) {
      kids.push(el("h4", { text: "Parameters" }));
      kids.push(el("table", { class: "schema" }, [el("tbody", {}, params.map(function (p) {
        var input = el("input", { "aria-label": p.name, placeholder: p.in + (p.required ? ", required" : "") });
        inputs[p.in + ":" + p.name] = input;
        return el("tr", {}, [el("td", {}, [el("code", { text: p.name }), el("span", { class: "muted", text: " " + p.in })]), el("td", {}, [el("code", { class: "type", text: typeOf(p.schema) }), p.description ? el("div", { class: "muted", text: p.description }) : null]), el("td", {}, [input])]);
      }))]));
    }
    var bodyInput = null;
    if (body) {
      kids.push(el("h4", { text: "Request body" }));
      kids.push(schemaTable(body.schema, 0));
      bodyInput = el("textarea", { "aria-label": "Request body", rows: "6" });
      bodyInput.value = JSON.stringify(example(body.schema, 0), null, 2);
    }
    kids.push(el("h4", { text: "Responses" }));
    Object.keys(op.responses).forEach(function (status) {
      var r = op.responses[status];
      var content = r.content ? Object.keys(r.content)[0] : null;
      var s = content && r.content[content].schema;
      var det = el("details", { class: "resp" }, [el("summary", {}, [el("span", { class: "status s" + status[0], text: status }), " " + r.description + (content && content !== "application/json" ? " (" + content + ")" : "")])]);
      if (s && (s.$ref || s.type || s.anyOf)) det.appendChild(schemaTable(s, 0));
      kids.push(det);
    });
    var out = el("pre", { class: "out", hidden: "" });
    var send = el("button", { type: "button", text: "Send" });
    var billable = !webhook && op["x-billable"] === true;
    send.addEventListener("click", function () {
      var url = path.replace(/\{(\w+)\}/g, function (_, n) { return encodeURIComponent((inputs["path:" + n] || {}).value || ""); });
      var qs = params.filter(function (p) { return p.in === "query" && inputs["query:" + p.name].value; }).map(function (p) { return encodeURIComponent(p.name) + "=" + encodeURIComponent(inputs["query:" + p.name].value); });
      if (qs.length) url += "?" + qs.join("&");
      var headers = {};
      var token = $("#token").value.trim();
      if (token) headers.Authorization = "Bearer " + token;
      params.filter(function (p) { return p.in === "header" && inputs["header:" + p.name].value; }).forEach(function (p) { headers[p.name] = inputs["header:" + p.name].value; });
      if (bodyInput) headers["Content-Type"] = "application/json";
      var body = bodyInput ? bodyInput.value : undefined;
      // A billable call (an MCP tool call may be one) shows its price and is sent only when confirmed.
      var paid = billable || (path === "/mcp" && method === "post" && /tools\/call/.test(body || ""));
      var asked = paid
        ? priceWords(path, headers, body).then(function (words) { return confirmAction("This call costs money", words + " Send it?", "Send and pay", false); })
        : Promise.resolve(true);
      out.hidden = false;
      out.textContent = "…";
      asked.then(function (ok) {
        if (!ok) { out.textContent = "Not sent."; return; }
        return fetch(url, { method: method.toUpperCase(), headers: headers, body: body }).then(function (res) {
          return res.text().then(function (text) {
            try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
            out.textContent = res.status + " " + res.statusText + "\n\n" + text.slice(0, 20000);
          });
        }, function (err) { out.textContent = String(err); });
      });
    });
    var note = billable ? el("p", { class: "billable", text: "Billable: Send shows the price and asks before anything is charged." }) : null;
    if (!webhook) kids.push(el("div", { class: "try" }, [el("h4", { text: "Try it" }), note, bodyInput, send, out]));
    var item = el("details", { class: "op", id: op.operationId, "data-search": (method + " " + path + " " + op.summary + " " + (op.tags || []).join(" ")).toLowerCase() }, [
      el("summary", {}, [el("span", { class: "method m-" + method, text: method.toUpperCase() }), el("code", { class: "path", text: path }), el("span", { class: "sum", text: op.summary })]),
      el("div", { class: "body" }, kids),
    ]);
    return item;
  }
  function render() {
    components = (doc.components && doc.components.schemas) || {};
    $("#title").textContent = doc.info.title + " " + doc.info.version;
    $("#intro").textContent = doc.info.description || "";
    var main = $("#ops"), nav = $("#nav");
    var groups = {};
    (doc.tags || []).forEach(function (t) { groups[t.name] = []; });
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags || ["Other"])[0];
        (groups[tag] = groups[tag] || []).push(operation(path, method, op));
      });
    });
    var hooks = doc.webhooks || {};
    Object.keys(hooks).forEach(function (name) {
      var tag = "Webhooks (sent to you)";
      (groups[tag] = groups[tag] || []).push(operation(name, "post", hooks[name].post, true));
    });
    var count = 0;
    Object.keys(groups).forEach(function (tag, i) {
      if (!groups[tag].length) return;
      var info = (doc.tags || []).filter(function (t) { return t.name === tag; })[0];
      var id = "tag-" + i;
      nav.appendChild(el("a", { href: "#" + id, text: tag + " (" + groups[tag].length + ")" }));
      main.appendChild(el("section", { class: "tag", id: id }, [el("h2", { text: tag }), info && info.description ? el("p", { class: "muted", text: info.description }) : null].concat(groups[tag])));
      count += groups[tag].length;
    });
    $("#count").textContent = count + " operations";
  }
  $("#search").addEventListener("input", function (e) {
    var q = e.target.value.trim().toLowerCase();
    var shown = 0;
    document.querySelectorAll(".op").forEach(function (op) {
      var hit = !q || op.getAttribute("data-search").indexOf(q) >= 0;
      op.hidden = !hit;
      if (hit) shown++;
    });
    document.querySelectorAll("section.tag").forEach(function (s) { s.hidden = !s.querySelector(".op:not([hidden])"); });
    $("#count").textContent = shown + " operations";
  });
  fetch("/openapi.json").then(function (r) { return r.json(); }).then(function (d) { doc = d; render(); }, function (err) { $("#ops").textContent = "Could not load /openapi.json: " + err; });
})();
`;

const STYLE = `
.layout { display: grid; grid-template-columns: 250px 1fr; gap: 24px; max-width: 1200px; margin: 0 auto; padding: 24px; }
nav { position: sticky; top: 16px; align-self: start; display: flex; flex-direction: column; gap: 6px; }
nav a { color: var(--ink); text-decoration: none; padding: 4px 8px; border-radius: 6px; }
nav a:hover { background: var(--soft); }
.op { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; background: var(--card); }
.op > summary { display: flex; gap: 12px; align-items: center; padding: 10px 12px; cursor: pointer; list-style: none; }
.op > summary::-webkit-details-marker { display: none; }
.op[open] > summary { border-bottom: 1px solid var(--line); }
.op .body { padding: 4px 16px 16px; }
.method { font: 600 12px/1 ui-monospace, monospace; padding: 5px 8px; border-radius: 4px; min-width: 56px; text-align: center; color: #fff; }
.m-get { background: #2563eb; } .m-post { background: #059669; } .m-put { background: #d97706; } .m-patch { background: #7c3aed; } .m-delete { background: #dc2626; }
.path { font-weight: 600; } .sum { color: var(--muted); }
table.schema { width: 100%; border-collapse: collapse; font-size: 14px; }
table.schema td { border-top: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
table.schema table.schema { margin-top: 6px; }
.type { color: #7c3aed; } .req { color: #dc2626; font-size: 12px; }
.resp { margin: 6px 0; } .resp summary { cursor: pointer; }
.status { font: 600 12px ui-monospace, monospace; padding: 2px 6px; border-radius: 4px; background: var(--soft); }
.s2 { color: #059669; } .s4 { color: #d97706; } .s5 { color: #dc2626; }
.try textarea { width: 100%; font: 13px ui-monospace, monospace; box-sizing: border-box; }
.billable { margin: 0 0 6px; color: #92400e; font-size: 14px; }
.out { background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 6px; overflow: auto; max-height: 360px; }
@media (max-width: 800px) { .layout { grid-template-columns: 1fr; } nav { position: static; } }
`;

/** The /docs page. */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · runapi-edge-proxy</title>
<style>${PAGE_CSS}${STYLE}</style>
</head>
<body>
<header class="top"><strong id="title">API reference</strong><span class="muted" id="count"></span>
<label class="field">Search <input id="search" type="search" placeholder="path, method or words"></label>
<label class="field">Bearer token <input id="token" type="password" autocomplete="off" placeholder="sk_… or admin token (for Try it)"></label></header>
<div class="layout"><nav id="nav" aria-label="Sections"></nav><main><p id="intro" class="muted"></p><div id="ops"></div></main></div>
<script>${SCRIPT}</script>
</body>
</html>`;
