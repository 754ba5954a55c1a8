// The proxy half of `npm run chaos`: the proxy alone in local workerd, state persisted under a
// directory, pointed at the RunAPI simulator over HTTP. `scripts/chaos.mjs` starts it in its own
// process group and kills that group (this process and its workerd) with SIGKILL mid-burst.
//
// Input: one JSON argument {proxyScript, simScript, port, persistRoot, vars, wrangler} (`wrangler`:
// readWranglerConfig()'s answer, passed in because importing wrangler takes seconds). Prints "READY <url>"
// once the proxy answers, then runs until killed.

import { Miniflare } from "miniflare";
import { miniflareOptions, readWranglerConfig, waitHealthy } from "./local.mjs";

const HOST = "127.0.0.1";
const input = JSON.parse(process.argv[2] ?? "{}");
const wrangler = input.wrangler ?? (await readWranglerConfig());
const mf = new Miniflare(
  miniflareOptions({
    wrangler,
    scripts: { proxyScript: input.proxyScript, simScript: input.simScript },
    host: HOST,
    port: input.port,
    proxyVars: { ...wrangler.vars, ...input.vars },
    sim: undefined,
    persistRoot: input.persistRoot,
  }),
);

// A polite stop (the chaos run's cleanup): SIGTERM disposes workerd; SIGKILL is the point of the exercise.
process.prependListener("SIGTERM", () => {
  mf.dispose().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

try {
  await mf.ready;
  const base = `http://${HOST}:${input.port}`;
  await waitHealthy(base);
  console.log(`READY ${base}`);
} catch (err) {
  console.error(`chaos-proxy: could not start: ${err instanceof Error ? err.message : err}`);
  await mf.dispose().catch(() => {});
  process.exit(1);
}
