/** The look the proxy's own pages share (/docs, /admin): system fonts, light cards, a top bar. */
export const PAGE_CSS = `
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --soft: #f1f5f9; --card: #fff; --bg: #f8fafc; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
h1, h2, h3, h4 { line-height: 1.25; } h2 { font-size: 20px; margin: 24px 0 8px; } h4 { margin: 14px 0 6px; font-size: 14px; }
.muted { color: var(--muted); }
.top { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 12px 24px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.top strong { font-size: 17px; }
.field { display: inline-flex; gap: 8px; align-items: center; font-size: 14px; color: var(--muted); }
input, textarea, select { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
input:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
button { font: inherit; padding: 6px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button:hover { filter: brightness(1.1); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
`;
