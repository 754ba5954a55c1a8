/**
 * The demo page's script (plain ES2020, no build step): choices per model, the price before you click,
 * the create, live status over server-sent events, the video, and plain words for 402 and 429.
 * It only ever holds the publishable key from the page's config.
 */
export const DEMO_SCRIPT = String.raw`
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("demo-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var form = $("demo-form"), model = $("model"), duration = $("duration"), resolution = $("resolution");
  var frameRow = $("frame-row"), frame = $("frame"), prompt = $("prompt"), price = $("price"), button = $("generate");
  var statusEl = $("status"), message = $("message"), result = $("result"), video = $("video"), videoLink = $("video-link");
  var prices = {}, priceTimer = 0, waitTimer = 0, busy = false, waitUntil = 0, stream = null;
  var TERMINAL = { completed: 1, failed: 1, expired: 1 };

  function rules() { return cfg.models.filter(function (m) { return m.id === model.value; })[0]; }
  function offered(m, d, r) { return m.durations.indexOf(d) >= 0 && m.resolutions.indexOf(r) >= 0 && !(r === "1080p" && d !== 6); }
  function options(select, values, label, keep, fallback) {
    select.textContent = "";
    values.forEach(function (v) { var o = document.createElement("option"); o.value = String(v); o.textContent = label(v); select.appendChild(o); });
    select.value = String(values.indexOf(keep) >= 0 ? keep : values.indexOf(fallback) >= 0 ? fallback : values[0]);
    select.disabled = values.length < 2;
  }
  function usd(n) { return "$" + (Math.abs(n * 100 - Math.round(n * 100)) < 1e-6 ? n.toFixed(2) : String(n)); }

  /** A new model starts from its own defaults; a new length keeps the resolution while it is still offered. */
  function fillChoices(newModel) {
    var m = rules();
    options(duration, m.durations, function (d) { return d + " seconds"; }, newModel ? m.defaultDuration : Number(duration.value), m.defaultDuration);
    var d = Number(duration.value);
    var res = m.resolutions.filter(function (r) { return offered(m, d, r); });
    options(resolution, res, function (r) { return r; }, newModel ? m.defaultResolution : resolution.value, m.defaultResolution);
    var image = m.endpoint === "image_to_video";
    frameRow.hidden = !image;
    frame.required = image;
    prompt.maxLength = m.maxPromptChars;
    schedulePrice();
  }

  function requestBody(forPrice) {
    var m = rules();
    var b = { model: m.id, prompt: forPrice ? "price check" : prompt.value.trim(), duration_seconds: Number(duration.value) };
    if (m.acceptsResolution) b.output_resolution = resolution.value;
    // The price does not depend on the picture: estimate with a stand-in until one is given.
    if (m.endpoint === "image_to_video") b.first_frame_image_url = forPrice ? "https://example.com/frame.png" : frame.value.trim();
    return b;
  }

  function call(path, body, extra) {
    var headers = { "Authorization": "Bearer " + cfg.key, "Content-Type": "application/json" };
    Object.keys(extra || {}).forEach(function (k) { headers[k] = extra[k]; });
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) { return { res: res, data: data }; });
    });
  }

  function schedulePrice() { clearTimeout(priceTimer); priceTimer = setTimeout(showPrice, 150); }
  function showPrice() {
    var b = requestBody(true), id = b.model + "|" + b.duration_seconds + "|" + (b.output_resolution || "");
    if (prices[id] !== undefined) { price.textContent = prices[id]; return; }
    price.textContent = "…";
    call("/api/v1/estimate", b).then(function (r) {
      if (!r.res.ok) { price.textContent = "unavailable"; if (r.res.status !== 429) explain(r.res, r.data); return; }
      prices[id] = usd(r.data.estimated_cost_usd);
      var now = requestBody(true);
      if (now.model + "|" + now.duration_seconds + "|" + (now.output_resolution || "") === id) price.textContent = prices[id];
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

  function show(task) {
    if (task.status === "pending") say("Queued: waiting for the video service…");
    else if (task.status === "processing") say("Generating your video… this takes a little while.");
    else if (task.status === "completed") {
      var url = task.videos && task.videos[0] && task.videos[0].url;
      statusEl.className = "status done";
      statusEl.textContent = url ? "Done! Your video is ready." : "Done, but no video came back.";
      if (url) { video.src = url; videoLink.href = url; result.hidden = false; }
    } else {
      var why = task.error && (task.error.message || task.error);
      say("");
      warn("The video could not be made" + (typeof why === "string" && why ? ": " + why : "") + ". You were not charged for it.");
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
    if (!prompt.value.trim()) { warn("Please write a prompt first."); prompt.focus(); return; }
    if (rules().endpoint === "image_to_video" && !/^https?:\/\/\S+$/.test(frame.value.trim())) { warn("Please give the URL of a picture to start from."); frame.focus(); return; }
    var extra = { "Idempotency-Key": uuid() };
    if (cfg.turnstileSiteKey) {
      var token = window.turnstile && window.turnstile.getResponse();
      if (!token) { warn("Please complete the human check above first."); return; }
      extra["X-Turnstile-Token"] = token;
    }
    result.hidden = true;
    video.removeAttribute("src");
    setBusy(true);
    say("Sending your request…");
    call("/api/v1/hailuo/" + rules().endpoint, requestBody(false), extra).then(function (r) {
      if (cfg.turnstileSiteKey && window.turnstile) window.turnstile.reset();
      if (!r.res.ok) { say(""); explain(r.res, r.data); setBusy(false); return; }
      say("Queued: waiting for the video service…");
      follow(r.data.id);
    }, function () {
      say("");
      warn("Could not reach the server. Check your connection and try again.");
      setBusy(false);
    });
  });

  cfg.models.forEach(function (m) { var o = document.createElement("option"); o.value = m.id; o.textContent = m.label; model.appendChild(o); });
  model.addEventListener("change", function () { fillChoices(true); });
  duration.addEventListener("change", function () { fillChoices(false); });
  resolution.addEventListener("change", schedulePrice);
  fillChoices(true);
})();
`;
