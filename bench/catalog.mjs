// The catalog's part of `npm run bench`: a create for a matrix-priced non-Hailuo model (Kling 3.0, priced by
// enable_sound × output_resolution), and the CPU that validating and pricing any catalog request costs.

import { build } from "esbuild";
import { ROOT } from "../scripts/local.mjs";

/** Kling 3.0 text-to-video at 1080p with sound: the schedule's matrix prices it (27¢). */
export const KLING = {
  path: "/api/v1/kling/text_to_video",
  body: JSON.stringify({ model: "kling-3.0", prompt: "bench: a lighthouse in a storm [sim:no-callback]", output_resolution: "1080p", enable_sound: true }),
  micros: 270_000,
};

/**
 * Validates and prices every catalog sample (all 259 model × action pairs, built from the contract) `rounds`
 * times in this Node process (V8, as workerd): the mean and the slowest pair, in microseconds per request.
 */
export async function validationCpu(rounds = 200) {
  const out = await build({
    absWorkingDir: ROOT,
    stdin: {
      contents: `
        export { sampleCases, minimalRequest } from "./sim/samples.ts";
        export { validateRequest } from "./src/catalog/validate.ts";
        export { evaluate, indexSchedule } from "./src/domain/price-schedule.ts";
        export { BUNDLED_SCHEDULE } from "./src/catalog/schedule.gen.ts";`,
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "neutral",
    write: false,
    logLevel: "silent",
  });
  const mod = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
  const index = mod.indexSchedule(mod.BUNDLED_SCHEDULE.price_schedules);
  const cases = mod.sampleCases().map((c) => ({ c, body: mod.minimalRequest(c.action, c.model, { text: "bench prompt" }) }));
  const one = ({ c, body }) => {
    const v = mod.validateRequest(c.action, body, { allowHttp: false });
    if (!v.ok) throw new Error(`${c.action.path} ${c.model}: ${JSON.stringify(v.issues)}`);
    return mod.evaluate(index.entry(v.value.request.service, v.value.request.action, v.value.request.model ?? c.action.models[0] ?? null), v.value.effective);
  };
  for (let i = 0; i < 20; i++) for (const x of cases) one(x); // warm-up: the JIT, the lookups' caches
  let slowest = { us: 0, label: "" };
  let total = 0;
  // Each pair's cost is its fastest of 5 batches: a shared machine's preemptions and GC pauses are not the pair's.
  const batch = Math.max(1, Math.round(rounds / 5));
  for (const x of cases) {
    let us = Number.POSITIVE_INFINITY;
    for (let b = 0; b < 5; b++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) one(x);
      us = Math.min(us, Number(process.hrtime.bigint() - t0) / 1000 / batch);
    }
    total += us;
    if (us > slowest.us) slowest = { us, label: `${x.c.action.path} ${x.c.model ?? ""}`.trim() };
  }
  return {
    pairs: cases.length,
    mean_us: Math.round((total / cases.length) * 100) / 100,
    slowest_us: Math.round(slowest.us * 100) / 100,
    slowest: slowest.label,
  };
}
