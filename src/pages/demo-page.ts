import { DEMO_SCRIPT } from "./demo-script";
import { DEMO_STYLE } from "./demo-style";

/** One model as the page offers it. */
export interface DemoModel {
  id: string;
  label: string;
  endpoint: "text_to_video" | "image_to_video";
  durations: number[];
  defaultDuration: number;
  resolutions: string[];
  defaultResolution: string;
  acceptsResolution: boolean;
  maxPromptChars: number;
}

/** What the page's script is given: the publishable key (public by design) and the choices. Never a secret. */
export interface DemoConfig {
  key: string;
  models: DemoModel[];
  turnstileSiteKey: string | null;
}

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

/** The demo page's HTML: a form, a status line, a message area and a video, styled for phones first. */
export function demoPage(o: DemoPageOptions): string {
  const nonce = escapeHtml(o.nonce);
  const c = o.config;
  const body = c
    ? `
    <form id="demo-form" novalidate>
      <label for="prompt">Prompt</label>
      <textarea id="prompt" name="prompt" rows="3" required maxlength="1500" placeholder="A red fox running through fresh snow at sunrise, cinematic">A red fox running through fresh snow at sunrise, cinematic</textarea>

      <label for="model">Model</label>
      <select id="model" name="model"></select>

      <div class="row">
        <div>
          <label for="duration">Length</label>
          <select id="duration" name="duration"></select>
        </div>
        <div>
          <label for="resolution">Resolution</label>
          <select id="resolution" name="resolution"></select>
        </div>
      </div>

      <div id="frame-row" hidden>
        <label for="frame">First frame image URL</label>
        <input id="frame" name="frame" type="url" inputmode="url" placeholder="https://…/picture.png" aria-describedby="frame-help">
        <p id="frame-help" class="help">The picture the video starts from (https).</p>
      </div>
${c.turnstileSiteKey ? `      <div class="cf-turnstile" data-sitekey="${escapeHtml(c.turnstileSiteKey)}" data-theme="auto"></div>\n` : ""}
      <p class="price">Price: <strong id="price" aria-live="polite">…</strong></p>
      <button id="generate" type="submit">Generate</button>
    </form>

    <div id="message" class="message" role="alert" hidden></div>
    <p id="status" class="status" role="status" aria-live="polite"></p>

    <figure id="result" hidden>
      <video id="video" controls playsinline muted autoplay loop preload="metadata"></video>
      <figcaption><a id="video-link" href="#" target="_blank" rel="noopener">Open the video</a></figcaption>
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
  <title>Hailuo video demo</title>
  <style nonce="${nonce}">${DEMO_STYLE}</style>
</head>
<body>
  <main>
    <h1>Make a short video</h1>
    <p class="lead">Describe a scene, pick a model, and see the price before you generate. Each visitor gets a small budget and a few tries a minute.</p>${body}
  </main>
</body>
</html>
`;
}
