import type { ModelChoices } from "../catalog/choices";
import { DEMO_SCRIPT } from "./demo-script";
import { DEMO_STYLE } from "./demo-style";

/** One model as the page offers it: where to send it, and the choices a form can make for it (compact JSON). */
export interface DemoModel extends ModelChoices {
  /** `service/action/model`, unique on the page. */
  id: string;
  label: string;
  /** The model line ("Flux 2"), the picker's group. */
  line: string;
  kind: "video" | "image";
  service: string;
  action: string;
  /** Where the create is POSTed (`/api/v1/flux_2/text_to_image`). */
  path: string;
  /** Sent as `model`; null for an action that names none in its body. */
  model: string | null;
}

/** What the page's script is given: the publishable key (public by design) and the choices. Never a secret. */
export interface DemoConfig {
  key: string;
  models: DemoModel[];
  turnstileSiteKey: string | null;
}

/** What `demoPage` renders: the page with its config, or only a notice. */
export interface DemoPageOptions {
  nonce: string;
  /** Absent: the page only shows `notice`. */
  config?: DemoConfig;
  notice?: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

/** The picker's options, grouped by model line. */
function modelOptions(models: readonly DemoModel[]): string {
  const lines = new Map<string, DemoModel[]>();
  for (const m of models) lines.set(m.line, [...(lines.get(m.line) ?? []), m]);
  return [...lines]
    .map(
      ([line, ms]) =>
        `<optgroup label="${escapeHtml(line)}">${ms.map((m) => `<option value="${escapeHtml(m.id)}">${escapeHtml(m.label)}</option>`).join("")}</optgroup>`,
    )
    .join("");
}

/** What the page makes, in words: "a short video", "an image", or "a video or an image" (the notice page: a video). */
function whatItMakes(models: readonly DemoModel[] | undefined): string {
  const kinds = new Set((models ?? []).map((m) => m.kind));
  if (kinds.size === 2) return "a video or an image";
  return kinds.has("image") ? "an image" : "a short video";
}

/** The demo page's HTML: the model picker and its choices, a status line, a message area and the outputs, styled for phones first. */
export function demoPage(o: DemoPageOptions): string {
  const nonce = escapeHtml(o.nonce);
  const c = o.config;
  const thing = whatItMakes(c?.models);
  const body = c
    ? `
    <form id="demo-form" novalidate>
      <label for="model">Model</label>
      <select id="model" name="model">${modelOptions(c.models)}</select>

      <div id="prompt-row">
        <label for="prompt">Prompt</label>
        <textarea id="prompt" name="prompt" rows="3" placeholder="A red fox running through fresh snow at sunrise, cinematic">A red fox running through fresh snow at sunrise, cinematic</textarea>
      </div>

      <div id="choices" class="choices"></div>
${c.turnstileSiteKey ? `      <div class="cf-turnstile" data-sitekey="${escapeHtml(c.turnstileSiteKey)}" data-theme="auto"></div>\n` : ""}
      <p class="price">Price: <strong id="price" aria-live="polite">…</strong></p>
      <button id="generate" type="submit">Generate</button>
    </form>

    <div id="message" class="message" role="alert" hidden></div>
    <p id="status" class="status" role="status" aria-live="polite"></p>

    <figure id="result" hidden>
      <div id="outputs"></div>
      <figcaption><a id="output-link" href="#" target="_blank" rel="noopener">Open it</a></figcaption>
    </figure>
    <script type="application/json" id="demo-config">${scriptJson(c)}</script>
    <script nonce="${nonce}">${DEMO_SCRIPT}</script>
${c.turnstileSiteKey ? `    <script nonce="${nonce}" src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>\n` : ""}`
    : `\n    <p class="message" role="alert">${escapeHtml(o.notice ?? "This demo is not available.")}</p>\n`;

  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <meta name="color-scheme" content="light dark">
  <title>Demo: make ${thing}</title>
  <style nonce="${nonce}">${DEMO_STYLE}</style>
</head>
<body>
  <main>
    <h1>Make ${thing}</h1>
    <p class="lead">Pick a model, describe what you want, and see the price before you generate. Each visitor gets a small budget and a few tries a minute.</p>${body}
  </main>
</body>
</html>
`;
}
