import { Hono } from "hono";

// A RunAPI that misbehaves on request (SPEC §13). It stands in front of the simulator and passes every
// request through, except those whose body carries a `[hostile:…]` marker (a prompt, a chat message):
//
//   chat   [hostile:sse-flood=MB]     a streamed answer of MB megabytes of data with no blank line (one endless event)
//          [hostile:chat-flood=MB]    a plain answer of MB megabytes
//          [hostile:hang]             answers nothing for 30 s (longer than the proxy waits for headers)
//          [hostile:reset]            answers 200, then the connection breaks mid-body
//          [hostile:truncated]        answers 200 with half a JSON body, ended as if complete
//          [hostile:500-empty]        answers 500 with no body
//   create [hostile:create-flood=MB]  a 200 answer of MB megabytes of JSON
//          [hostile:video-url=URL]    the task is made by the simulator, but every status read shows URL as each of its
//                                     files (`videos[].url`, `images[].url`, `audios[].audio_url`)
//   files  GET /__hostile/redirect?to=URL&hops=N   N redirects (302) through this origin, the last to URL
//          GET /__hostile/stats                    what it was asked to do, for reports
//
// Answers are generated as they are read (a reader that stops reading stops the generation), so the
// memory a report measures is the proxy's, not this worker's.

/** The hostile worker's bindings: the well-behaved RunAPI it stands in front of. */
export interface HostileEnv {
  UPSTREAM: Fetcher;
}

const BLOCK = 64 * 1024;
const MAX_MB = 1024;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Tasks whose status reads show another video URL (upstream id → URL); the newest 10 000. */
const videoUrls = new Map<string, string>();
/** How often each misbehaviour was asked for. */
const stats: Record<string, number> = {};

const count = (what: string) => {
  stats[what] = (stats[what] ?? 0) + 1;
};
const megabytes = (text: string, name: string): number | null => {
  const m = new RegExp(`\\[hostile:${name}=(\\d{1,4})\\]`).exec(text);
  return m ? Math.min(Number(m[1]), MAX_MB) : null;
};

/** `head`, then `bytes` of `fill`, then `tail`, produced one 64 KiB block at a time as the reader pulls. */
function flood(head: string, bytes: number, fill: string, tail = ""): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const block = encoder.encode(fill.repeat(BLOCK / fill.length));
  let sent = -1;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent < 0) {
          sent = 0;
          return controller.enqueue(encoder.encode(head));
        }
        const n = Math.min(BLOCK, bytes - sent);
        if (n <= 0) {
          if (tail) controller.enqueue(encoder.encode(tail));
          return controller.close();
        }
        sent += n;
        controller.enqueue(n === BLOCK ? block : block.subarray(0, n));
      },
    },
    { highWaterMark: 0 },
  );
}

/** The misbehaving answer a chat request asks for, or null to pass it through. */
async function hostileChat(body: string): Promise<Response | null> {
  const sse = megabytes(body, "sse-flood");
  if (sse !== null) {
    count("sse-flood");
    return new Response(flood("data: ", sse * 1024 * 1024, "x"), { headers: { "Content-Type": "text/event-stream" } });
  }
  const plain = megabytes(body, "chat-flood");
  if (plain !== null) {
    count("chat-flood");
    const head = '{"id":"chatcmpl-hostile","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"';
    return new Response(flood(head, plain * 1024 * 1024, "x", '"},"finish_reason":"stop"}]}'), { headers: { "Content-Type": "application/json" } });
  }
  if (body.includes("[hostile:hang]")) {
    count("hang");
    await scheduler.wait(30_000);
    return new Response("{}", { headers: { "Content-Type": "application/json" } });
  }
  if (body.includes("[hostile:reset]")) {
    count("reset");
    let sent = false;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error("simulated connection cut"));
        sent = true;
        controller.enqueue(new TextEncoder().encode('{"id":"chatcmpl-hostile","choices":[{"message":{"content":"half an'));
      },
    });
    return new Response(broken, { headers: { "Content-Type": "application/json" } });
  }
  if (body.includes("[hostile:truncated]")) {
    count("truncated");
    return new Response('{"id":"chatcmpl-hostile","choices":[{"message":{"content":"half an', { headers: { "Content-Type": "application/json" } });
  }
  if (body.includes("[hostile:500-empty]")) {
    count("500-empty");
    return new Response(null, { status: 500 });
  }
  return null;
}

/** The misbehaving RunAPI. */
export const app = new Hono<{ Bindings: HostileEnv }>()
  .get("/__hostile/stats", (c) => c.json(stats))
  .get("/__hostile/redirect", (c) => {
    const to = c.req.query("to") ?? "";
    const hops = Number(c.req.query("hops") ?? 1);
    count("redirect");
    if (!(hops > 1)) return c.redirect(to, 302);
    const next = new URL(c.req.url);
    next.searchParams.set("hops", String(hops - 1));
    return c.redirect(next.toString(), 302);
  })
  .post("/v1/chat/completions", async (c) => {
    const body = await c.req.text();
    return (await hostileChat(body)) ?? c.env.UPSTREAM.fetch(new Request(c.req.raw, { body }));
  })
  .post("/api/v1/*", async (c) => {
    const body = await c.req.text();
    const mb = megabytes(body, "create-flood");
    if (mb !== null) {
      count("create-flood");
      const head = `{"id":"${crypto.randomUUID()}","status":"pending","padding":"`;
      return new Response(flood(head, mb * 1024 * 1024, "x", '"}'), { headers: { "Content-Type": "application/json" } });
    }
    const res = await c.env.UPSTREAM.fetch(new Request(c.req.raw, { body }));
    const url = /\[hostile:video-url=([^\]\s]+)\]/.exec(body)?.[1];
    if (!url || !res.ok) return res;
    count("video-url");
    const task = (await res.json()) as { id?: string };
    if (task.id) {
      videoUrls.set(task.id, url);
      if (videoUrls.size > 10_000) videoUrls.delete(videoUrls.keys().next().value!);
    }
    return Response.json(task, { status: res.status });
  })
  .get("/api/v1/*", async (c) => {
    const res = await c.env.UPSTREAM.fetch(c.req.raw);
    const id = UUID.exec(new URL(c.req.url).pathname)?.[0];
    const url = id ? videoUrls.get(id) : undefined;
    if (!url || !res.ok) return res;
    const task = (await res.json()) as { videos?: { url: string }[]; images?: { url: string }[]; audios?: { audio_url: string }[] };
    if (task.videos) task.videos = task.videos.map(() => ({ url }));
    if (task.images) task.images = task.images.map(() => ({ url }));
    if (task.audios) task.audios = task.audios.map((a) => ({ ...a, audio_url: url }));
    return Response.json(task, { headers: { "Content-Type": "application/json" } });
  })
  .all("*", (c) => c.env.UPSTREAM.fetch(c.req.raw));

export default app satisfies ExportedHandler<HostileEnv>;
