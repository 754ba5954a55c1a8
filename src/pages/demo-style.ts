/** The demo page's CSS: one column, phone first, light and dark. */
export const DEMO_STYLE = `
:root { --fg: #1b1d21; --muted: #5b616e; --bg: #f5f6f8; --card: #fff; --line: #d5d8de; --accent: #3b5bdb; --accent-fg: #fff; --warn-bg: #fff4e5; --warn-fg: #7a4100; --ok: #2b8a3e; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e9ecef; --muted: #adb5bd; --bg: #15171b; --card: #1f2228; --line: #3a3f47; --accent: #748ffc; --accent-fg: #0b0d12; --warn-bg: #3b2a12; --warn-fg: #ffd8a8; --ok: #8ce99a; }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 36rem; margin: 0 auto; padding: 1.25rem 1rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.2; margin: .5rem 0 .25rem; }
.lead { color: var(--muted); margin: 0 0 1.25rem; }
form { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 1rem; display: grid; gap: .35rem; }
label { font-weight: 600; margin-top: .6rem; display: block; }
textarea, select, input { width: 100%; font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .7rem; }
textarea { resize: vertical; min-height: 5.5rem; }
select:disabled { opacity: .75; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.choices { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 0 .75rem; align-items: end; }
.choices .wide { grid-column: 1 / -1; }
[hidden] { display: none !important; }
label.check { display: flex; gap: .5rem; align-items: center; font-weight: 600; min-height: 44px; }
label.check input { width: 1.25rem; height: 1.25rem; margin: 0; }
optgroup { font-weight: 700; }
.help { color: var(--muted); font-size: .875rem; margin: .25rem 0 0; }
.cf-turnstile { margin-top: .75rem; min-height: 65px; }
.price { margin: .9rem 0 .25rem; font-size: 1.05rem; }
.price strong { font-variant-numeric: tabular-nums; }
button { margin-top: .25rem; font: inherit; font-weight: 700; font-size: 1.1rem; padding: .8rem 1rem; border: 0; border-radius: 10px; background: var(--accent); color: var(--accent-fg); cursor: pointer; min-height: 48px; }
button:disabled { opacity: .55; cursor: not-allowed; }
.message { margin: 1rem 0 0; padding: .8rem 1rem; border-radius: 10px; background: var(--warn-bg); color: var(--warn-fg); }
.status { margin: 1rem 0 0; color: var(--muted); min-height: 1.5em; }
.status.done { color: var(--ok); font-weight: 600; }
figure { margin: 1rem 0 0; }
#outputs { display: grid; gap: .75rem; }
video { width: 100%; border-radius: 12px; background: #000; aspect-ratio: 16 / 9; }
#outputs img { width: 100%; height: auto; border-radius: 12px; background: var(--line); }
figcaption { margin-top: .4rem; font-size: .9rem; }
a { color: var(--accent); }
`;
