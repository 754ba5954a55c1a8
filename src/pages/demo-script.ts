import { KIT_SCRIPT } from "./kit";
import { DEMO_PICKER_SCRIPT } from "./demo-picker-script";

/**
 * The demo page's flow (plain ES2020, no build step), after the kit's helpers and the model picker: the price
 * before you click (`POST /api/v1/estimate?service=&action=`, debounced, cached per shape), the create
 * (`POST {action's path}`), live status over server-sent events, the output in a `<video>` or an `<img>`, and
 * plain words for 402 and 429. It only ever holds the publishable key from the page's config.
 */
const DEMO_FLOW_SCRIPT = `
  var form = $("#demo-form"), price = $("#price"), button = $("#generate");
  var statusEl = $("#status"), message = $("#message"), result = $("#result"), outputs = $("#outputs"), outputLink = $("#output-link");
  var prices = {}, priceTimer = 0, waitTimer = 0, busy = false, waitUntil = 0, stream = null, making = null;
  var TERMINAL = { completed: 1, failed: 1, expired: 1 };

  function money(n) { return "$" + (Math.abs(n * 100 - Math.round(n * 100)) < 1e-6 ? n.toFixed(2) : String(n)); }

  function call(path, body, extra) {
    var headers = { "Authorization": "Bearer " + cfg.key, "Content-Type": "application/json" };
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) { return { res: res, data: data }; });
    });
  }

  function schedulePrice() { clearTimeout(priceTimer); priceTimer = setTimeout(showPrice, 150); }
  function showPrice() {
    var m = picked(), shape = priceShape();
    if (prices[shape] !== undefined) { price.textContent = prices[shape]; return; }
    price.textContent = "…";
    call("/api/v1/estimate?service=" + encodeURIComponent(m.service) + "&action=" + encodeURIComponent(m.action), requestBody(true)).then(function (r) {
      if (!r.res.ok) {
        if (priceShape() === shape) price.textContent = "unavailable";
        if (r.res.status !== 429 && r.res.status !== 503) explain(r.res, r.data);
        return;
      }
      prices[shape] = money(r.data.estimated_cost_usd);
      if (priceShape() === shape) price.textContent = prices[shape];
    }, function () { price.textContent = "unavailable"; });
  }

  function say(text) { statusEl.className = "status"; statusEl.textContent = text; }
  function warn(text) { message.textContent = text; message.hidden = false; }
  function unwarn() { message.hidden = true; message.textContent = ""; }
  function setBusy(on) { busy = on; refreshButton(); }
  function refreshButton() {
    var wait = Math.ceil((waitUntil - Date.now()) / 1000);
    button.disabled = busy || wait > 0;
    button.textContent = wait > 0 ? "Generate (wait " + wait + " s)" : busy ? "Generating…" : "Generate";
    if (wait <= 0) clearInterval(waitTimer);
  }

  function whenResets(iso) {
    if (!iso) return "It does not reset.";
    var at = new Date(iso), mins = Math.max(1, Math.round((at.getTime() - Date.now()) / 60000));
    var span = mins < 90 ? mins + " minute" + (mins === 1 ? "" : "s") : Math.round(mins / 60) + " hours";
    return "It resets in about " + span + " (" + at.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" }) + ").";
  }

  /** Plain words for a refused request. */
  function explain(res, data) {
    var e = (data && data.error) || {}, d = e.details || {};
    if (res.status === 402) {
      if (d.scope === "end_user" || d.scope === "key") {
        warn("You have used up your budget for this demo" + (d.period === "day" ? " for today" : d.period ? " for this " + d.period : "") + ". " + whenResets(d.resets_at));
      } else {
        warn("This demo has used up its budget for now. Please come back later.");
      }
    } else if (res.status === 429) {
      var secs = Number(res.headers.get("Retry-After")) || Number(d.retry_after_seconds) || 60;
      warn("Too many requests: please wait " + secs + " seconds, then try again.");
      waitUntil = Date.now() + secs * 1000;
      clearInterval(waitTimer);
      waitTimer = setInterval(refreshButton, 1000);
      refreshButton();
    } else if (res.status === 401) {
      warn("This demo's key does not work any more (revoked or expired). Please tell the site's owner.");
    } else if (res.status === 403) {
      warn("Not allowed: " + (e.message || "this request was refused") + ".");
    } else if (res.status === 400) {
      warn("Please check your input: " + (e.message || "the request was not valid") + ".");
    } else {
      warn("Something went wrong (" + res.status + "). " + (e.message ? e.message + ". " : "") + "Please try again.");
    }
  }

  /** The finished outputs: each video in a <video>, each image in an <img>. */
  function showOutputs(task, m, what) {
    var list = (m.kind === "image" ? task.images : task.videos) || [];
    var urls = list.map(function (o) { return o && o.url; }).filter(function (u) { return typeof u === "string"; });
    outputs.textContent = "";
    urls.forEach(function (url, i) {
      if (m.kind === "image") {
        outputs.appendChild(el("img", { src: url, alt: "Generated image" + (urls.length > 1 ? " " + (i + 1) : "") + (what ? ": " + what : "") }));
      } else {
        var v = el("video", { src: url, controls: true, playsinline: true, muted: true, autoplay: true, loop: true, preload: "metadata" });
        v.muted = true;
        outputs.appendChild(v);
      }
    });
    if (urls.length) { outputLink.href = urls[0]; outputLink.textContent = m.kind === "image" ? "Open the image" : "Open the video"; result.hidden = false; }
    return urls.length;
  }

  function show(task) {
    var noun = making.m.kind === "image" ? "image" : "video";
    if (task.status === "pending" || task.status === "queued") say("Queued: waiting for the " + noun + " service…");
    else if (task.status === "processing") say("Generating your " + noun + "… this takes a little while.");
    else if (task.status === "completed") {
      var n = showOutputs(task, making.m, making.what);
      statusEl.className = "status done";
      statusEl.textContent = n ? "Done! Your " + noun + (n > 1 ? "s are" : " is") + " ready." : "Done, but no " + noun + " came back.";
    } else {
      var why = task.error && (task.error.message || task.error);
      say("");
      warn("The " + noun + " could not be made" + (typeof why === "string" && why ? ": " + why : "") + ". You were not charged for it.");
    }
  }

  function follow(id) {
    if (stream) stream.close();
    stream = new EventSource("/api/v1/tasks/" + encodeURIComponent(id) + "/events?access_token=" + encodeURIComponent(cfg.key));
    var done = false;
    stream.addEventListener("status", function (ev) {
      var task = JSON.parse(ev.data);
      show(task);
      if (TERMINAL[task.status]) { done = true; stream.close(); setBusy(false); }
    });
    stream.onerror = function () { if (!done) say("Connection lost; reconnecting…"); };
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = "";
    for (var i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1);
    return h;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (busy) return;
    unwarn();
    var gap = missingInput();
    if (gap) { warn(gap.say); gap.input.focus(); return; }
    var extra = { "Idempotency-Key": uuid() };
    if (cfg.turnstileSiteKey) {
      var token = window.turnstile && window.turnstile.getResponse();
      if (!token) { warn("Please complete the human check above first."); return; }
      extra["X-Turnstile-Token"] = token;
    }
    var m = picked(), body = requestBody(false);
    making = { m: m, what: body.prompt || "" };
    result.hidden = true;
    outputs.textContent = "";
    setBusy(true);
    say("Sending your request…");
    call(m.path, body, extra).then(function (r) {
      if (cfg.turnstileSiteKey && window.turnstile) window.turnstile.reset();
      if (!r.res.ok) { say(""); explain(r.res, r.data); setBusy(false); return; }
      say("Queued: waiting for the " + (m.kind === "image" ? "image" : "video") + " service…");
      follow(r.data.id);
    }, function () {
      say("");
      warn("Could not reach the server. Check your connection and try again.");
      setBusy(false);
    });
  });

  onChoice(schedulePrice);
  startPicker();
`;

/** The whole script of the demo page: the kit's helpers, the model picker, then the flow, in one function scope. */
export const DEMO_SCRIPT = `
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("demo-config").textContent);
${KIT_SCRIPT}${DEMO_PICKER_SCRIPT}${DEMO_FLOW_SCRIPT}})();
`;
