/**
 * The demo page's model picker (plain ES2020, inside the page's function scope, after the kit): builds each
 * model's inputs from its choices in the page's config, applies its rules as values change (a new model starts
 * from its own defaults; a new length keeps the resolution while it is still offered), and makes the request body.
 * Defines `picked()`, `requestBody(forPrice)`, `priceShape()`, `missingInput()`, `onChoice(fn)` and `startPicker()` for the flow.
 */
export const DEMO_PICKER_SCRIPT = String.raw`
  var modelSelect = $("#model"), promptRow = $("#prompt-row"), prompt = $("#prompt"), choices = $("#choices");
  var byId = {}, listeners = [];
  cfg.models.forEach(function (m) { byId[m.id] = m; });
  // Stand-ins for the price: it does not depend on the prompt or the pictures.
  var STAND_IN = { prompt: "price check", url: "https://example.com/input.png" };

  function picked() { return byId[modelSelect.value]; }
  function control(f) { return document.getElementById("f-" + f.name); }
  function shown(f) { var c = control(f); return !!c && !c.closest(".field").hidden; }
  function onChoice(fn) { listeners.push(fn); }
  function changed() { listeners.forEach(function (fn) { fn(); }); }

  function optionLabel(f, v) {
    if (/duration/.test(f.name) && typeof v === "number") return v < 0 ? "Auto" : v + (v === 1 ? " second" : " seconds");
    return String(v);
  }
  function inputHelp(f) {
    var what = /video/.test(f.name) ? "a video" : /audio/.test(f.name) ? "a sound file" : "a picture";
    return "A public https link to " + what + (f.name === "first_frame_image_url" ? " the video starts from." : ".");
  }

  /** A field's value as the request sends it; undefined when hidden or left to its default. */
  function read(f) {
    var c = control(f);
    if (!shown(f)) return undefined;
    if (f.kind === "check") return c.checked;
    if (f.kind === "select") return c.value === "" ? undefined : f.options.filter(function (o) { return String(o) === c.value; })[0];
    var v = c.value.trim();
    if (!v) return undefined;
    if (f.kind === "number") return Number(v);
    return f.kind === "url" && f.list ? [v] : v;
  }
  function values(m) { var v = {}; m.fields.forEach(function (f) { var x = read(f); if (x !== undefined) v[f.name] = x; }); return v; }
  function holds(cond, v) { return cond !== null && typeof cond === "object" ? (v !== undefined) === cond.present : v === cond; }

  /** Builds a model's inputs: selects for its choices, URL and text inputs for what it needs, checkboxes for priced switches. */
  function build(m) {
    choices.textContent = "";
    m.fields.forEach(function (f) {
      var id = "f-" + f.name, input, kids;
      if (f.kind === "select") input = el("select", { id: id, name: f.name });
      else if (f.kind === "check") input = el("input", { id: id, name: f.name, type: "checkbox", checked: f.default === true });
      else if (f.kind === "url") input = el("input", { id: id, name: f.name, type: "url", inputmode: "url", autocomplete: "off", required: true, placeholder: "https://…", "aria-describedby": id + "-help" });
      else if (f.kind === "number") input = el("input", { id: id, name: f.name, type: "number", inputmode: "numeric", required: true, min: f.min, max: f.max });
      else input = el("input", { id: id, name: f.name, type: "text", required: true, maxlength: f.max });
      if (f.kind === "check") kids = [el("label", { for: id, class: "check" }, [input, " " + f.label])];
      else kids = [el("label", { for: id, text: f.label }), input];
      if (f.kind === "url") kids.push(el("p", { id: id + "-help", class: "help", text: inputHelp(f) }));
      choices.appendChild(el("div", { class: "field " + (f.kind === "url" || f.kind === "text" ? "wide" : ""), "data-field": f.name }, kids));
      input.addEventListener("change", function () { refresh(false); });
    });
    var p = m.prompt;
    promptRow.hidden = !p;
    prompt.required = !!(p && p.required);
    if (p && p.max) prompt.maxLength = p.max; else prompt.removeAttribute("maxlength");
  }

  /** A select's options: the current value kept while offered (unless the model is new), else the default, else the first. */
  function fill(f, opts, fresh) {
    var s = control(f), keep = fresh ? null : s.value, want = null;
    s.textContent = "";
    if (!f.required) s.appendChild(el("option", { value: "", text: "Default" }));
    opts.forEach(function (v) { s.appendChild(el("option", { value: String(v), text: optionLabel(f, v) })); });
    [keep, f.default === undefined ? null : String(f.default)].forEach(function (v) {
      if (want === null && v !== null && (v === "" ? !f.required : opts.some(function (o) { return String(o) === v; }))) want = v;
    });
    s.value = want !== null ? want : f.required ? String(opts[0]) : "";
    // A fixed value is shown, not chosen.
    s.disabled = f.required && opts.length < 2;
  }

  /** Applies the model's rules to what is picked now: options limited or ruled out, fields hidden. */
  function refresh(fresh) {
    var m = picked();
    for (var pass = 0; pass < 2; pass++) {
      m.fields.forEach(function (f) {
        var now = values(m), opts = f.options, hidden = false;
        m.rules.forEach(function (r) {
          if (!Object.keys(r.when).every(function (k) { return holds(r.when[k], now[k]); })) return;
          if (r.hide && r.hide.indexOf(f.name) >= 0) hidden = true;
          if (opts && r.only && r.only[f.name]) opts = opts.filter(function (o) { return r.only[f.name].indexOf(o) >= 0; });
          if (opts && r.not && r.not[f.name]) opts = opts.filter(function (o) { return r.not[f.name].indexOf(o) < 0; });
        });
        $('[data-field="' + f.name + '"]', choices).hidden = hidden;
        if (f.kind === "select") fill(f, opts && opts.length ? opts : f.options, fresh && pass === 0);
      });
    }
    changed();
  }

  /** The create body (or, for the price, the same with stand-ins for the prompt and links). */
  function requestBody(forPrice) {
    var m = picked(), b = {};
    if (m.model) b.model = m.model;
    if (m.prompt) {
      var text = prompt.value.trim();
      if (forPrice) { if (m.prompt.required) b.prompt = STAND_IN.prompt; }
      else if (text) b.prompt = text;
    }
    m.fields.forEach(function (f) {
      var v = read(f);
      if (forPrice && shown(f) && (f.kind === "url" || f.kind === "text")) v = f.kind === "text" ? STAND_IN.prompt : f.list ? [STAND_IN.url] : STAND_IN.url;
      if (v !== undefined) b[f.name] = v;
    });
    return b;
  }

  /** What the price depends on: the model and every choice but the prompt and the links. */
  function priceShape() {
    var m = picked(), v = values(m);
    m.fields.forEach(function (f) { if (f.kind === "url" || f.kind === "text") delete v[f.name]; });
    return m.id + " " + JSON.stringify(v);
  }

  /** The first input the visitor still has to fill, with what to say; null when none. */
  function missingInput() {
    var m = picked();
    if (m.prompt && m.prompt.required && !prompt.value.trim()) return { input: prompt, say: "Please write a prompt first." };
    if (m.prompt && m.prompt.min && prompt.value.trim().length < m.prompt.min) return { input: prompt, say: "Please write a longer prompt (at least " + m.prompt.min + " characters)." };
    var gap = null;
    m.fields.forEach(function (f) {
      if (gap || !shown(f) || f.kind === "select" || f.kind === "check") return;
      var v = control(f).value.trim();
      if (f.kind === "url" && !/^https?:\/\/\S+$/.test(v)) gap = { input: control(f), say: "Please give the link (" + f.label + "): " + inputHelp(f).toLowerCase() };
      else if (!v) gap = { input: control(f), say: "Please fill in " + f.label + "." };
    });
    return gap;
  }

  /** Shows the first model's choices and follows the picker from then on. */
  function startPicker() {
    modelSelect.addEventListener("change", function () { build(picked()); refresh(true); });
    build(picked());
    refresh(true);
  }
`;
