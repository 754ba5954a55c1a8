import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIG_VARS } from "../src/env";
// @ts-expect-error: plain ESM helpers shared with `npm start`
import { PASSED_VARS } from "../scripts/local.mjs";

// SPEC §6: every variable the README documents reaches the Worker under `npm start`, and every variable the
// Worker reads is documented. The README's Configuration section is the list.

/** The names in the first column of the README's Configuration tables (vars and secrets). */
function documentedVars(): string[] {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1));
  const names = section
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
  return [...new Set(names)];
}

/** Read by `npm start` itself, not passed to the Worker. */
const START_ONLY = ["PORT", "SIM_PORT"];

describe("configuration: README, npm start and the Worker agree", () => {
  it("npm start passes every variable the README documents to the Worker", () => {
    const documented = documentedVars();
    expect(documented).toContain("CHAT_TIMEOUT_MS");
    expect(documented.length).toBeGreaterThan(25);
    expect(documented.filter((name) => !START_ONLY.includes(name) && !PASSED_VARS.includes(name))).toEqual([]);
  });

  it("every variable the Worker's configuration reads is documented", () => {
    expect(CONFIG_VARS.filter((name) => !documentedVars().includes(name))).toEqual([]);
  });
});
