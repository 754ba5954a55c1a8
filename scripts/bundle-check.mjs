// `npm run bundle-check` (and .ci/run): builds the Worker exactly as `wrangler deploy` would, minified, without
// uploading (`--dry-run --outdir`), and fails when it outgrows its size budget. Cloudflare's limit is 3 MiB
// gzipped on the free plan (10 MiB paid); the budget here is far tighter so growth is a decision, not a drift.
// Also prints what the bundle is made of (minified-source share per package, from the source map).

import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ROOT } from "./local.mjs";

/** Budgets in KiB; override with BUNDLE_BUDGET_GZIP_KIB / BUNDLE_BUDGET_RAW_KIB. */
const BUDGET_GZIP_KIB = Number(process.env.BUNDLE_BUDGET_GZIP_KIB ?? 384);
const BUDGET_RAW_KIB = Number(process.env.BUNDLE_BUDGET_RAW_KIB ?? 1536);

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** Bytes of original source per package (or "src", "sim"…) from a source map's sourcesContent. */
function composition(map) {
  const totals = new Map();
  map.sources.forEach((source, i) => {
    const pkg = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1] ?? (/(^|\/)src\//.test(source) ? "src (the proxy)" : "other");
    totals.set(pkg, (totals.get(pkg) ?? 0) + (map.sourcesContent?.[i]?.length ?? 0));
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}

const outdir = await mkdtemp(join(tmpdir(), "bundle-check-"));
try {
  const wrangler = join(ROOT, "node_modules", ".bin", "wrangler");
  const run = spawnSync(wrangler, ["deploy", "--dry-run", "--minify", "--outdir", outdir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" },
  });
  if (run.status !== 0) {
    console.error(run.stdout, run.stderr);
    console.error("bundle-check: wrangler deploy --dry-run failed");
    process.exit(1);
  }
  const code = await readFile(join(outdir, "index.js"));
  const raw = code.length;
  const gzip = gzipSync(code).length;
  const map = JSON.parse(await readFile(join(outdir, "index.js.map"), "utf8"));
  const parts = composition(map);
  const total = parts.reduce((s, [, n]) => s + n, 0);
  console.log(`bundle: ${kib(raw)} minified, ${kib(gzip)} gzipped (budget ${BUDGET_RAW_KIB} KiB / ${BUDGET_GZIP_KIB} KiB gzipped)`);
  console.log(
    `  source share: ${parts
      .slice(0, 6)
      .map(([name, n]) => `${name} ${Math.round((n / total) * 100)}%`)
      .join(", ")}`,
  );
  const over = [];
  if (gzip > BUDGET_GZIP_KIB * 1024) over.push(`gzipped ${kib(gzip)} > ${BUDGET_GZIP_KIB} KiB`);
  if (raw > BUDGET_RAW_KIB * 1024) over.push(`minified ${kib(raw)} > ${BUDGET_RAW_KIB} KiB`);
  if (over.length) {
    console.error(`bundle-check: over budget: ${over.join("; ")}. Trim a dependency or raise the budget in scripts/bundle-check.mjs on purpose.`);
    process.exit(1);
  }
} finally {
  await rm(outdir, { recursive: true, force: true });
}
