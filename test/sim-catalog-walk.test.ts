import { beforeAll, describe, expect, it } from "vitest";
import { FILE_KINDS } from "../sim/outputs";
import { minimalRequest, sampleCases } from "../sim/samples";
import { advanceSimTask, sim, simApi } from "./helpers";

// Every catalog action × model, the smallest valid body built from the contract: the simulator accepts it,
// completes it, and its status carries its modality's outputs, whose files download as what they say they are.

type Json = Record<string, any>;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE_FIELDS = new Set(["id", "task_id", "status", "model", "cost_cents", "created_at", "updated_at"]);

/** Downloads a file and checks its Content-Type, Content-Length and first bytes. */
async function download(url: string, kind: keyof typeof FILE_KINDS): Promise<void> {
  const res = await sim(new URL(url).pathname);
  expect(res.status, url).toBe(200);
  expect(res.headers.get("content-type")).toBe(FILE_KINDS[kind].mime);
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(res.headers.get("content-length")).toBe(String(bytes.length));
  const head = [...bytes.subarray(0, 8)];
  if (kind === "video") expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe("ftyp");
  if (kind === "image") expect(head).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (kind === "audio") expect(head.slice(0, 2)).toEqual([0xff, 0xfb]);
}

let sourceTaskId = "";

beforeAll(async () => {
  // Actions that extend or read an earlier task name one the simulator made.
  const res = await simApi("/api/v1/hailuo/text_to_video", { body: { model: "hailuo-02-text-to-video-standard", prompt: "a source clip" } });
  sourceTaskId = ((await res.json()) as Json).id;
  await advanceSimTask(sourceTaskId, { status: "completed" });
});

describe("every catalog action × model", () => {
  const cases = sampleCases().map((c) => [`${c.action.service}/${c.action.action} ${c.model ?? "(no model)"}`, c] as const);

  it("covers the whole catalog", () => {
    expect(new Set(cases.map(([, c]) => c.action)).size).toBe(126);
    expect(cases.length).toBeGreaterThanOrEqual(234);
  });

  it.each(cases)("%s", async (_name, { action, model }) => {
    const body = minimalRequest(action, model, { taskId: sourceTaskId });
    const res = await simApi(action.path, { body });
    const text = await res.text();
    expect(res.status, `${JSON.stringify(body)} → ${text}`).toBe(200);
    const created = JSON.parse(text) as Json;
    expect(created.id).toMatch(UUID);
    // An action that takes no model field and has several (extend a video) renders with its source task's model.
    if (action.takesModel || action.models.length <= 1) expect(created.model).toBe(model);
    let status = created;
    if (action.sync) {
      expect(created.status).toBe("completed");
    } else {
      expect(created.status).toBe("pending");
      await advanceSimTask(created.id, { status: "completed" });
      status = (await (await simApi(`${action.path}/${created.id}`)).json()) as Json;
    }
    expect(status.status).toBe("completed");
    const outputs = Object.keys(status).filter((k) => !BASE_FIELDS.has(k));
    if (action.modality === "utility") {
      expect(outputs.length, JSON.stringify(status)).toBeGreaterThan(0);
      expect(status.videos ?? status.images ?? status.audios).toBeUndefined();
      return;
    }
    const files: string[] =
      action.modality === "video"
        ? status.videos.map((v: Json) => v.url)
        : action.modality === "image"
          ? status.images.map((i: Json) => i.url)
          : status.audios.map((a: Json) => {
              expect(a).toMatchObject({ id: expect.any(String), duration: expect.any(Number) });
              return a.audio_url;
            });
    expect(files.length).toBeGreaterThan(0);
    for (const url of files) await download(url, action.modality);
  });
});
