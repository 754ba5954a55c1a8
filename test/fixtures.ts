import type { TaskInit } from "../src/domain/task-record";

/** A Hailuo text-to-video task's create (02 standard, 6 s, $0.30), in the one request shape; override any field. */
export function hailuoTaskInit(over: Partial<TaskInit> & { prompt?: string; model?: string } = {}): TaskInit {
  const { prompt = "p", model = "hailuo-02-text-to-video-standard", ...rest } = over;
  return {
    id: "7d3c0f0e-1111-4222-8333-944445555666",
    tenantId: "t1",
    keyId: "k1",
    endUser: null,
    request: { service: "hailuo", action: "text_to_video", model, params: { prompt, duration_seconds: 6 } },
    route: { path: "/api/v1/hailuo/text_to_video", sendsModel: true },
    references: {},
    estimateMicros: 300_000,
    costMicros: 300_000,
    markupPercent: 0,
    priceSource: "published",
    callbackUrl: "https://proxy.test/webhooks/runapi/x/y",
    notifyUrl: null,
    now: 1_000,
    ...rest,
  };
}
