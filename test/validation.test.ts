import { describe, expect, it } from "vitest";
import { findAction } from "../src/catalog/catalog";
import { HAILUO_MODELS } from "../src/catalog/hailuo";
import { upstreamBody as bodyOf } from "../src/catalog/request";
import { validateRequest } from "../src/catalog/validate";

// Hailuo through the one catalog validator with its overlay (SPEC §2): the rules, the messages and the body
// RunAPI receives are the same as when Hailuo had a validator of its own.

type Endpoint = "text_to_video" | "image_to_video";
type ModelId = string;
const ENDPOINTS: Endpoint[] = ["text_to_video", "image_to_video"];
const MODEL_IDS: ModelId[] = Object.keys(HAILUO_MODELS);
const endpointOf = (m: ModelId): Endpoint => (HAILUO_MODELS[m]!.textToVideo ? "text_to_video" : "image_to_video");

/** A Hailuo request as the validator leaves it: model, the effective (priced) fields, the tenant's webhook. */
interface HailuoRequest {
  endpoint: Endpoint;
  model: string;
  duration_seconds: number;
  output_resolution: string;
  callback_url?: string;
  body: Record<string, unknown>;
  [field: string]: unknown;
}

/** The body RunAPI receives for an accepted request. */
const upstreamBody = (req: HailuoRequest) => req.body;

/** Every (model, duration, resolution) the overlay's table offers, in its order. */
function validCombinations() {
  const out: { model: string; duration_seconds: number; output_resolution: string }[] = [];
  for (const [model, r] of Object.entries(HAILUO_MODELS)) {
    for (const output_resolution of r.resolutions) {
      for (const duration_seconds of r.durations) {
        if (!(output_resolution === "1080p" && duration_seconds !== 6)) out.push({ model, duration_seconds, output_resolution });
      }
    }
  }
  return out;
}

function parseHailuoRequest(endpoint: Endpoint, body: unknown, opts: { allowHttp: boolean }) {
  const result = validateRequest(findAction("hailuo", endpoint)!, body, opts);
  if (!result.ok) return result;
  const { request, effective, callbackUrl } = result.value;
  const flat: HailuoRequest = {
    ...effective,
    endpoint,
    model: request.model!,
    duration_seconds: effective.duration_seconds as number,
    output_resolution: effective.output_resolution as string,
    body: bodyOf(request, true),
    ...(callbackUrl ? { callback_url: callbackUrl } : {}),
  };
  return { ok: true as const, request: flat };
}

const IMG = "https://img.example/first.png";
const END = "https://img.example/last.png";
const HOOK = "https://tenant.example/hooks/video";

const T2V_STD = "hailuo-02-text-to-video-standard";
const T2V_PRO = "hailuo-02-text-to-video-pro";
const I2V_STD = "hailuo-02-image-to-video-standard";
const I2V_PRO = "hailuo-02-image-to-video-pro";
const V23_STD = "hailuo-2.3-image-to-video-standard";
const V23_PRO = "hailuo-2.3-image-to-video-pro";
const T2V_MODELS: ModelId[] = [T2V_STD, T2V_PRO];
const I2V_MODELS: ModelId[] = [I2V_STD, I2V_PRO, V23_STD, V23_PRO];

/** The smallest valid body for a model. */
function base(model: ModelId): Record<string, unknown> {
  return endpointOf(model) === "text_to_video" ? { model, prompt: "a red fox in snow" } : { model, prompt: "a red fox in snow", first_frame_image_url: IMG };
}

function parse(body: unknown, endpoint?: Endpoint, allowHttp = false) {
  const ep =
    endpoint ??
    (typeof body === "object" && body && typeof (body as { model?: unknown }).model === "string"
      ? endpointOf(String((body as { model: string }).model).replace("hailuo-2-3-", "hailuo-2.3-") as ModelId)
      : "image_to_video");
  return parseHailuoRequest(ep, body, { allowHttp });
}

function accepted(body: unknown, endpoint?: Endpoint, allowHttp = false): HailuoRequest {
  const result = parse(body, endpoint, allowHttp);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.issues)}`);
  return result.request;
}

function issues(body: unknown, endpoint?: Endpoint, allowHttp = false) {
  const result = parse(body, endpoint, allowHttp);
  if (result.ok) throw new Error(`expected rejection, got ${JSON.stringify(result.request)}`);
  return result.issues;
}

describe("body shape", () => {
  it.each([
    ["null", null],
    ["an array", [base(T2V_STD)]],
    ["a string", "prompt"],
    ["a number", 42],
    ["a boolean", true],
    ["undefined", undefined],
  ])('rejects %s as the body with an issue on field ""', (_name, body) => {
    expect(issues(body, "text_to_video")).toEqual([{ field: "", message: "request body must be a JSON object" }]);
  });

  it("reports every problem at once, each under the field the client sent", () => {
    const found = issues({ model: T2V_PRO, prompt: "", duration: 10, resolution: "768P", image_url: IMG, colour: "red" });
    expect(found.map((i) => i.field).sort()).toEqual(["colour", "duration", "image_url", "prompt", "resolution"]);
  });

  it("reports an empty object as missing model and prompt", () => {
    expect(issues({}, "text_to_video")).toEqual([
      { field: "model", message: "is required" },
      { field: "prompt", message: "is required" },
    ]);
  });
});

describe("unknown fields", () => {
  it.each(["seed", "aspect_ratio", "resolution_p", "Model", "__proto__x"])("names unknown field %s", (field) => {
    expect(issues({ ...base(I2V_STD), [field]: 1 })).toEqual([{ field, message: "unknown field" }]);
  });

  it("lists one issue per unknown field", () => {
    const found = issues({ ...base(T2V_STD), fps: 30, loop: true, style: "anime" });
    expect(found).toEqual([
      { field: "fps", message: "unknown field" },
      { field: "loop", message: "unknown field" },
      { field: "style", message: "unknown field" },
    ]);
  });
});

describe("model", () => {
  it.each(MODEL_IDS.map((m) => [m]))("accepts %s on its own endpoint", (model) => {
    expect(accepted(base(model), endpointOf(model)).model).toBe(model);
  });

  it.each([
    ["hailuo-2-3-image-to-video-standard", V23_STD],
    ["hailuo-2-3-image-to-video-pro", V23_PRO],
  ])("normalises the legacy id %s to %s", (legacy, model) => {
    expect(accepted({ ...base(model as ModelId), model: legacy }, "image_to_video").model).toBe(model);
  });

  it.each(MODEL_IDS.map((m) => [m, endpointOf(m) === "text_to_video" ? "image_to_video" : "text_to_video", endpointOf(m)]))(
    "rejects %s sent to %s, naming %s",
    (model, wrong, right) => {
      const found = issues(base(model as ModelId), wrong as Endpoint).filter((i) => i.field === "model");
      expect(found).toEqual([{ field: "model", message: `${model} is served by ${right}: send it to POST /api/v1/hailuo/${right}` }]);
    },
  );

  it.each([
    ["missing", undefined, "is required"],
    ["null", null, "is required"],
    ["a number", 2, "must be a string"],
    ["unknown", "hailuo-03-text-to-video-ultra", "unknown model; text_to_video models are hailuo-02-text-to-video-pro, hailuo-02-text-to-video-standard"],
    ["wrongly cased", "Hailuo-02-Text-To-Video-Pro", "unknown model; text_to_video models are hailuo-02-text-to-video-pro, hailuo-02-text-to-video-standard"],
  ])("rejects a model that is %s", (_name, model, message) => {
    expect(issues({ model, prompt: "x" }, "text_to_video")).toEqual([{ field: "model", message }]);
  });

  it("names the image_to_video models when the model is unknown there", () => {
    expect(issues({ model: "kling-1", prompt: "x" }, "image_to_video")[0]?.message).toBe(
      "unknown model; image_to_video models are hailuo-02-image-to-video-pro, hailuo-02-image-to-video-standard, hailuo-2.3-image-to-video-pro, hailuo-2.3-image-to-video-standard",
    );
  });
});

describe("prompt", () => {
  it.each([
    ["missing", undefined, "is required"],
    ["null", null, "is required"],
    ["empty", "", "must not be empty"],
    ["only whitespace", "  \n\t ", "must not be empty"],
    ["a number", 5, "must be a string"],
    ["an array", ["a"], "must be a string"],
  ])("rejects a prompt that is %s", (_name, prompt, message) => {
    expect(issues({ ...base(T2V_STD), prompt })).toEqual([{ field: "prompt", message }]);
  });

  it.each(MODEL_IDS.map((m) => [m, m.startsWith("hailuo-2.3") ? 5000 : 1500]))("accepts a %s prompt of exactly %i characters", (model, max) => {
    expect(accepted({ ...base(model as ModelId), prompt: "a".repeat(max as number) }).prompt).toHaveLength(max as number);
  });

  it.each(MODEL_IDS.map((m) => [m, m.startsWith("hailuo-2.3") ? 5000 : 1500]))("rejects a %s prompt of %i + 1 characters", (model, max) => {
    expect(issues({ ...base(model as ModelId), prompt: "a".repeat((max as number) + 1) })).toEqual([
      { field: "prompt", message: `must be at most ${max} characters on ${model} (got ${(max as number) + 1})` },
    ]);
  });

  it("counts an emoji as one character", () => {
    expect(accepted({ ...base(T2V_STD), prompt: "🦊".repeat(1500) }).prompt).toBe("🦊".repeat(1500));
  });

  it.each(["[sim:fail] a fox", "[sim:cost=55]", "  leading and trailing spaces  ", "<script>alert(1)</script>", "多语言提示"])(
    "keeps the prompt %j exactly as sent",
    (prompt) => {
      expect(accepted({ ...base(I2V_STD), prompt }).prompt).toBe(prompt);
    },
  );
});

describe("duration_seconds", () => {
  it.each([
    [T2V_STD, 10],
    [T2V_PRO, 6],
    [I2V_STD, 10],
    [I2V_PRO, 6],
    [V23_STD, 10],
    [V23_PRO, 6],
  ])("defaults %s to %i s", (model, duration) => {
    expect(accepted(base(model as ModelId)).duration_seconds).toBe(duration);
  });

  it.each([
    [T2V_STD, 6],
    [T2V_STD, 10],
    [T2V_PRO, 6],
    [I2V_STD, 6],
    [I2V_STD, 10],
    [I2V_PRO, 6],
    [V23_STD, 6],
    [V23_STD, 10],
    [V23_PRO, 6],
    [V23_PRO, 10],
  ])("accepts %s with duration_seconds %i", (model, duration) => {
    expect(accepted({ ...base(model as ModelId), duration_seconds: duration }).duration_seconds).toBe(duration);
  });

  it.each([
    [T2V_PRO, 10, "must be 6 for hailuo-02-text-to-video-pro"],
    [I2V_PRO, 10, "must be 6 for hailuo-02-image-to-video-pro"],
    ...MODEL_IDS.flatMap((m) => {
      const allowed = m === T2V_PRO || m === I2V_PRO ? "6" : "6 or 10";
      return [
        [m, 5, `must be ${allowed} for ${m}`],
        [m, 6.5, `must be ${allowed} for ${m}`],
        [m, 0, `must be ${allowed} for ${m}`],
        [m, "6", `must be ${allowed} for ${m}`],
        [m, true, `must be ${allowed} for ${m}`],
      ];
    }),
  ] as Array<[ModelId, unknown, string]>)("rejects %s with duration_seconds %j", (model, duration, message) => {
    expect(issues({ ...base(model as ModelId), duration_seconds: duration })).toEqual([{ field: "duration_seconds", message }]);
  });
});

describe("output_resolution", () => {
  it.each([
    [T2V_STD, "768p"],
    [T2V_PRO, "1080p"],
    [I2V_STD, "768p"],
    [I2V_PRO, "1080p"],
    [V23_STD, "768p"],
    [V23_PRO, "1080p"],
  ])("gives %s the effective resolution %s by default", (model, resolution) => {
    expect(accepted(base(model as ModelId)).output_resolution).toBe(resolution);
  });

  it.each(
    T2V_MODELS.flatMap((m) =>
      ["512p", "768p", "1080p"].flatMap((r) => [
        [m, "output_resolution", r],
        [m, "resolution", r.toUpperCase()],
      ]),
    ),
  )("rejects %s with any %s (%s)", (model, field, value) => {
    const effective = model === T2V_PRO ? "1080p" : "768p";
    expect(issues({ ...base(model as ModelId), [field]: value })).toEqual([
      { field, message: `not accepted for ${model}: text-to-video output is ${effective}` },
    ]);
  });

  it.each([
    [I2V_STD, "512p"],
    [I2V_STD, "768p"],
    [I2V_PRO, "1080p"],
    [V23_STD, "768p"],
    [V23_STD, "1080p"],
    [V23_PRO, "768p"],
    [V23_PRO, "1080p"],
  ])("accepts %s with output_resolution %s", (model, resolution) => {
    expect(accepted({ ...base(model as ModelId), output_resolution: resolution }).output_resolution).toBe(resolution);
  });

  it.each([
    [I2V_STD, "1080p", "must be 512p or 768p for hailuo-02-image-to-video-standard"],
    [I2V_STD, "720p", "must be 512p or 768p for hailuo-02-image-to-video-standard"],
    [I2V_STD, "768P", "must be 512p or 768p for hailuo-02-image-to-video-standard"],
    [I2V_PRO, "768p", "must be 1080p for hailuo-02-image-to-video-pro"],
    [I2V_PRO, "512p", "must be 1080p for hailuo-02-image-to-video-pro"],
    [V23_STD, "512p", "must be 768p or 1080p for hailuo-2.3-image-to-video-standard"],
    [V23_PRO, "512p", "must be 768p or 1080p for hailuo-2.3-image-to-video-pro"],
    [V23_PRO, 1080, "must be 768p or 1080p for hailuo-2.3-image-to-video-pro"],
  ])("rejects %s with output_resolution %j", (model, resolution, message) => {
    expect(issues({ ...base(model as ModelId), output_resolution: resolution })).toEqual([{ field: "output_resolution", message }]);
  });

  it.each([
    [V23_STD, "output_resolution", "1080p", "duration_seconds"],
    [V23_PRO, "output_resolution", "1080p", "duration_seconds"],
    [V23_STD, "resolution", "1080P", "duration"],
    [V23_PRO, "resolution", "1080p", "duration"],
  ])("rejects %s with an explicit %s %s and 10 s", (model, field, value, durationField) => {
    expect(issues({ ...base(model as ModelId), [field]: value, [durationField]: 10 })).toEqual([
      { field, message: `1080p is only available with 6-second clips on ${model}` },
    ]);
  });

  it.each([
    ["2.3 pro, 10 s and no resolution → 768p (1080p exists only at 6 s)", V23_PRO, { duration_seconds: 10 }, 10, "768p"],
    ["2.3 pro, 6 s and no resolution → its 1080p default", V23_PRO, { duration_seconds: 6 }, 6, "1080p"],
    ["2.3 pro, 768p and no duration → its 6 s default", V23_PRO, { output_resolution: "768p" }, 6, "768p"],
    ["2.3 standard, 1080p and no duration → 6 s (10 s does not exist at 1080p)", V23_STD, { output_resolution: "1080p" }, 6, "1080p"],
    ["2.3 standard, 768p and no duration → its 10 s default", V23_STD, { output_resolution: "768p" }, 10, "768p"],
    ["2.3 standard, 6 s and no resolution → its 768p default", V23_STD, { duration_seconds: 6 }, 6, "768p"],
    ["02 standard, 512p and no duration → its 10 s default", I2V_STD, { output_resolution: "512p" }, 10, "512p"],
  ])("fills in %s", (_name, model, extra, duration, resolution) => {
    const req = accepted({ ...base(model as ModelId), ...extra });
    expect([req.duration_seconds, req.output_resolution]).toEqual([duration, resolution]);
  });
});

describe("frames", () => {
  it.each(I2V_MODELS.map((m) => [m]))("requires first_frame_image_url on %s", (model) => {
    expect(issues({ model, prompt: "x" })).toEqual([{ field: "first_frame_image_url", message: "is required" }]);
  });

  it.each(T2V_MODELS.flatMap((m) => ["first_frame_image_url", "image_url", "last_frame_image_url", "end_image_url"].map((f) => [m, f])))(
    "rejects %s with %s",
    (model, field) => {
      expect(issues({ ...base(model as ModelId), [field]: IMG })).toEqual([
        { field, message: `not accepted for ${model}: text-to-video models take no frames` },
      ]);
    },
  );

  it.each([[I2V_STD], [I2V_PRO]])("accepts a last frame on %s", (model) => {
    expect(accepted({ ...base(model as ModelId), last_frame_image_url: END }).last_frame_image_url).toBe(END);
  });

  it.each(
    [V23_STD, V23_PRO].flatMap((m) => [
      [m, "last_frame_image_url"],
      [m, "end_image_url"],
    ]),
  )("rejects %s with %s", (model, field) => {
    expect(issues({ ...base(model as ModelId), [field]: END })).toEqual([{ field, message: `not accepted for ${model}: only a first frame is supported` }]);
  });
});

describe("URLs", () => {
  const fields = [
    ["first_frame_image_url", I2V_STD],
    ["image_url", I2V_STD],
    ["last_frame_image_url", I2V_STD],
    ["end_image_url", I2V_STD],
    ["callback_url", I2V_STD],
    ["callback_url", T2V_STD],
  ] as const;

  function bodyWith(field: string, model: ModelId, url: unknown) {
    const body = base(model);
    if (field === "image_url") delete body.first_frame_image_url;
    return { ...body, [field]: url };
  }

  it.each(
    fields.flatMap(([f, m]) => [
      [f, m, false],
      [f, m, true],
    ]),
  )("accepts an https: %s on %s (allowHttp %s)", (field, model, allowHttp) => {
    expect(() => accepted(bodyWith(field, model, "https://cdn.example/a.png?sig=1"), undefined, allowHttp)).not.toThrow();
  });

  it.each(fields.map(([f, m]) => [f, m]))("rejects an http: %s on %s without allowHttp", (field, model) => {
    expect(issues(bodyWith(field, model, "http://cdn.example/a.png"))).toEqual([{ field, message: "must be an https: URL" }]);
  });

  it.each(fields.map(([f, m]) => [f, m]))("accepts an http: %s on %s with allowHttp", (field, model) => {
    expect(() => accepted(bodyWith(field, model, "http://cdn.example:8788/a.png"), undefined, true)).not.toThrow();
  });

  it.each([
    ["ftp://cdn.example/a.png", false, "must be an https: URL"],
    ["ftp://cdn.example/a.png", true, "must be an http: or https: URL"],
    ["data:image/png;base64,AAAA", false, "must be an https: URL"],
    ["javascript:alert(1)", true, "must be an http: or https: URL"],
    ["file:///etc/passwd", true, "must be an http: or https: URL"],
    ["/relative/a.png", false, "must be an absolute URL"],
    ["cdn.example/a.png", false, "must be an absolute URL"],
    ["https://", false, "must be an absolute URL"],
    ["", false, "must be an absolute URL"],
    [42, false, "must be a string"],
    [{ url: IMG }, false, "must be a string"],
  ])("rejects %j (allowHttp %s)", (url, allowHttp, message) => {
    for (const [field, model] of fields) {
      expect(issues(bodyWith(field, model, url), undefined, allowHttp as boolean)).toEqual([{ field, message }]);
    }
  });

  it("accepts a URL of exactly 2048 characters and rejects 2049", () => {
    const prefix = "https://cdn.example/";
    const url = prefix + "a".repeat(2048 - prefix.length);
    expect(accepted(bodyWith("first_frame_image_url", I2V_STD, url)).first_frame_image_url).toBe(url);
    expect(issues(bodyWith("first_frame_image_url", I2V_STD, `${url}a`))).toEqual([
      { field: "first_frame_image_url", message: "must be at most 2048 characters" },
    ]);
  });

  it("keeps callback_url on the request, as sent", () => {
    expect(accepted({ ...base(T2V_STD), callback_url: HOOK }).callback_url).toBe(HOOK);
  });
});

describe("flags", () => {
  it.each(
    ["prompt_optimizer", "enable_safety_checker"].flatMap((f) => [
      [f, true],
      [f, false],
    ]),
  )("accepts %s = %s", (field, value) => {
    expect(accepted({ ...base(I2V_STD), [field]: value })[field as "prompt_optimizer"]).toBe(value);
  });

  it.each(
    ["prompt_optimizer", "enable_safety_checker", "nsfw_checker"].flatMap((f) => [
      [f, "true"],
      [f, 1],
      [f, 0],
      [f, {}],
    ]),
  )("rejects %s = %j", (field, value) => {
    expect(issues({ ...base(T2V_STD), [field]: value })).toEqual([{ field, message: "must be true or false" }]);
  });

  it("leaves flags the client did not send unset", () => {
    const req = accepted(base(I2V_STD));
    expect("prompt_optimizer" in req || "enable_safety_checker" in req || "callback_url" in req).toBe(false);
  });
});

describe("legacy aliases", () => {
  it.each([
    ["image_url → first_frame_image_url", I2V_STD, { image_url: IMG, first_frame_image_url: undefined }, "first_frame_image_url", IMG],
    ["end_image_url → last_frame_image_url", I2V_STD, { end_image_url: END }, "last_frame_image_url", END],
    ["duration 6 → duration_seconds", I2V_STD, { duration: 6 }, "duration_seconds", 6],
    ['duration "6" → duration_seconds', I2V_STD, { duration: "6" }, "duration_seconds", 6],
    ['duration "10" → duration_seconds', V23_PRO, { duration: "10" }, "duration_seconds", 10],
    ['duration "6" on the fixed-6 text pro model', T2V_PRO, { duration: "6" }, "duration_seconds", 6],
    ['resolution "768P" → output_resolution', I2V_STD, { resolution: "768P" }, "output_resolution", "768p"],
    ['resolution "512P" → output_resolution', I2V_STD, { resolution: "512P" }, "output_resolution", "512p"],
    ['resolution "1080P" → output_resolution', V23_STD, { resolution: "1080P" }, "output_resolution", "1080p"],
    ['resolution "1080p" → output_resolution', I2V_PRO, { resolution: "1080p" }, "output_resolution", "1080p"],
    ['resolution "768p" (lower case) → output_resolution', V23_PRO, { resolution: "768p" }, "output_resolution", "768p"],
    ["nsfw_checker → enable_safety_checker", T2V_STD, { nsfw_checker: false }, "enable_safety_checker", false],
  ])("normalises %s", (_name, model, extra, field, value) => {
    const req = accepted({ ...base(model as ModelId), ...extra }) as unknown as Record<string, unknown>;
    expect(req[field]).toEqual(value);
  });

  it.each([
    ["duration", 7, "must be 6 or 10 for hailuo-02-image-to-video-standard"],
    ["duration", "six", "must be 6 or 10 for hailuo-02-image-to-video-standard"],
    ["duration", "6s", "must be 6 or 10 for hailuo-02-image-to-video-standard"],
    ["resolution", "1080P", "must be 512p or 768p for hailuo-02-image-to-video-standard"],
    ["resolution", 768, "must be 512p or 768p for hailuo-02-image-to-video-standard"],
    ["image_url", "http://x.example/a.png", "must be an https: URL"],
  ])("reports a bad legacy %s = %j under its legacy name", (field, value, message) => {
    const body = { ...base(I2V_STD), [field]: value };
    if (field === "image_url") delete body.first_frame_image_url;
    expect(issues(body)).toEqual([{ field, message }]);
  });

  it.each([
    ["duration", "duration_seconds", 6, 10],
    ["duration", "duration_seconds", "6", 10],
    ["resolution", "output_resolution", "512P", "768p"],
    ["image_url", "first_frame_image_url", END, IMG],
    ["end_image_url", "last_frame_image_url", IMG, END],
    ["nsfw_checker", "enable_safety_checker", true, false],
  ])("rejects %s and %s with different values", (alias, canonical, aliasValue, canonicalValue) => {
    expect(issues({ ...base(I2V_STD), [alias]: aliasValue, [canonical]: canonicalValue })).toEqual([
      { field: alias, message: `conflicts with ${canonical}: send only one of them` },
    ]);
  });

  it.each([
    ["duration", "duration_seconds", 6, 6],
    ["duration", "duration_seconds", "10", 10],
    ["resolution", "output_resolution", "512P", "512p"],
    ["image_url", "first_frame_image_url", IMG, IMG],
    ["end_image_url", "last_frame_image_url", END, END],
    ["nsfw_checker", "enable_safety_checker", true, true],
  ])("accepts %s and %s with the same value", (alias, canonical, aliasValue, canonicalValue) => {
    const req = accepted({ ...base(I2V_STD), [alias]: aliasValue, [canonical]: canonicalValue }) as unknown as Record<string, unknown>;
    expect(req[canonical]).toEqual(canonicalValue);
  });
});

describe("null optional fields", () => {
  it.each([
    "duration_seconds",
    "duration",
    "output_resolution",
    "resolution",
    "last_frame_image_url",
    "end_image_url",
    "prompt_optimizer",
    "enable_safety_checker",
    "nsfw_checker",
    "callback_url",
  ])("treats %s: null as not sent", (field) => {
    const req = accepted({ ...base(I2V_STD), [field]: null });
    expect([req.duration_seconds, req.output_resolution]).toEqual([10, "768p"]);
  });

  it("treats output_resolution: null on a text-to-video model as not sent", () => {
    expect(accepted({ ...base(T2V_STD), output_resolution: null }).output_resolution).toBe("768p");
  });
});

describe("validCombinations", () => {
  it("lists the 14 clip shapes of SPEC §2", () => {
    expect(validCombinations().map((c) => `${c.model} ${c.duration_seconds} ${c.output_resolution}`)).toEqual([
      `${T2V_STD} 6 768p`,
      `${T2V_STD} 10 768p`,
      `${T2V_PRO} 6 1080p`,
      `${I2V_STD} 6 512p`,
      `${I2V_STD} 10 512p`,
      `${I2V_STD} 6 768p`,
      `${I2V_STD} 10 768p`,
      `${I2V_PRO} 6 1080p`,
      `${V23_STD} 6 768p`,
      `${V23_STD} 10 768p`,
      `${V23_STD} 6 1080p`,
      `${V23_PRO} 6 768p`,
      `${V23_PRO} 10 768p`,
      `${V23_PRO} 6 1080p`,
    ]);
  });

  it.each(validCombinations().map((c) => [c.model, c.duration_seconds, c.output_resolution]))("can be requested: %s %i s %s", (model, duration, resolution) => {
    const body: Record<string, unknown> = { ...base(model as ModelId), duration_seconds: duration };
    if (endpointOf(model as ModelId) === "image_to_video") body.output_resolution = resolution;
    const req = accepted(body);
    expect([req.model, req.duration_seconds, req.output_resolution]).toEqual([model, duration, resolution]);
  });

  it("covers every shape parsing can produce (defaults included)", () => {
    const shapes = new Set(validCombinations().map((c) => `${c.model} ${c.duration_seconds} ${c.output_resolution}`));
    for (const model of MODEL_IDS) {
      for (const duration of [undefined, 6, 10]) {
        for (const resolution of [undefined, "512p", "768p", "1080p"]) {
          const body: Record<string, unknown> = { ...base(model), duration_seconds: duration, output_resolution: resolution };
          const result = parse(body);
          if (result.ok) expect(shapes).toContain(`${model} ${result.request.duration_seconds} ${result.request.output_resolution}`);
        }
      }
    }
  });

  it("maps every model to one of the two endpoints", () => {
    expect(MODEL_IDS.map((m) => endpointOf(m))).toEqual([
      "text_to_video",
      "text_to_video",
      "image_to_video",
      "image_to_video",
      "image_to_video",
      "image_to_video",
    ]);
    expect(ENDPOINTS).toEqual(["text_to_video", "image_to_video"]);
  });
});

describe("upstreamBody", () => {
  it.each([
    ["02 text standard: effective duration, no resolution", { model: T2V_STD, prompt: "p" }, { model: T2V_STD, prompt: "p", duration_seconds: 10 }],
    ["02 text pro: fixed shape implied by the model", { model: T2V_PRO, prompt: "p", duration_seconds: 6 }, { model: T2V_PRO, prompt: "p" }],
    [
      "02 image standard: effective duration and resolution, both frames",
      { model: I2V_STD, prompt: "p", image_url: IMG, end_image_url: END, resolution: "512P" },
      { model: I2V_STD, prompt: "p", duration_seconds: 10, output_resolution: "512p", first_frame_image_url: IMG, last_frame_image_url: END },
    ],
    [
      "02 image pro: fixed shape implied by the model",
      { model: I2V_PRO, prompt: "p", first_frame_image_url: IMG, duration: "6", output_resolution: "1080p" },
      { model: I2V_PRO, prompt: "p", first_frame_image_url: IMG },
    ],
    [
      "2.3 standard: defaults sent explicitly",
      { model: "hailuo-2-3-image-to-video-standard", prompt: "p", first_frame_image_url: IMG },
      { model: V23_STD, prompt: "p", duration_seconds: 10, output_resolution: "768p", first_frame_image_url: IMG },
    ],
    [
      "2.3 pro: 10 s falls back to 768p",
      { model: V23_PRO, prompt: "p", first_frame_image_url: IMG, duration_seconds: 10 },
      { model: V23_PRO, prompt: "p", duration_seconds: 10, output_resolution: "768p", first_frame_image_url: IMG },
    ],
    [
      "flags under canonical names, never callback_url",
      { model: V23_PRO, prompt: "p", image_url: IMG, prompt_optimizer: false, nsfw_checker: true, callback_url: HOOK },
      {
        model: V23_PRO,
        prompt: "p",
        duration_seconds: 6,
        output_resolution: "1080p",
        first_frame_image_url: IMG,
        prompt_optimizer: false,
        enable_safety_checker: true,
      },
    ],
  ])("%s", (_name, body, expected) => {
    expect(upstreamBody(accepted(body))).toStrictEqual(expected);
  });

  it.each(MODEL_IDS.map((m) => [m]))("sends only canonical RunAPI fields for %s", (model) => {
    const allowed = [
      "model",
      "prompt",
      "duration_seconds",
      "output_resolution",
      "first_frame_image_url",
      "last_frame_image_url",
      "prompt_optimizer",
      "enable_safety_checker",
    ];
    const body = upstreamBody(accepted({ ...base(model), prompt_optimizer: true, nsfw_checker: false, callback_url: HOOK }));
    for (const key of Object.keys(body)) expect(allowed).toContain(key);
    expect(body).not.toHaveProperty("callback_url");
  });

  it.each(T2V_MODELS.map((m) => [m]))("never sends output_resolution for %s", (model) => {
    expect(upstreamBody(accepted(base(model)))).not.toHaveProperty("output_resolution");
  });
});
