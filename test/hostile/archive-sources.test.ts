import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { refusedSource, type SourcePolicy } from "../../src/archive/source";
import type { MediaArchive } from "../../src/domain/media-archive";
import { signMediaUrl } from "../../src/domain/media-url";
import { advanceUpstream, api, deliverCallbacks, eventually, getTask, json, ledgerObject, me, nonce, t2v, tenantWithKey } from "../helpers";

// SPEC §13 "Fetching outputs": the archive downloads only what URL safety allows, checks every redirect hop,
// and caps a file at ARCHIVE_MAX_BYTES (1 MiB in this project). RunAPI here is sim/hostile: it makes the task
// in the simulator but reports whatever video URL the prompt names.

const SIGNING_SECRET = "signing-secret-for-tests-7c1d";
const SECRET = "INTERNAL-ONLY: the metadata service's credentials";

/** A stream of these chunks, made in JavaScript. */
function jsStream(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
}

/**
 * The network as the tenant's object sees it: an internal service on loopback that would hand out secrets, and a
 * public CDN whose links redirect inward. Redirects are followed unless the caller asks for them by hand, as fetch does.
 */
function network() {
  const hits: string[] = [];
  const answer = (url: URL): Response | null => {
    if (url.hostname === "127.0.0.1" || url.hostname === "169.254.169.254") {
      hits.push(url.host);
      return new Response(SECRET, { headers: { "Content-Type": "video/mp4", "Content-Length": String(SECRET.length) } });
    }
    if (url.hostname === "cdn.example") {
      const hops = Number(url.searchParams.get("hops") ?? 0);
      if (hops > 0) return new Response(null, { status: 302, headers: { Location: `https://cdn.example/v.mp4?hops=${hops - 1}` } });
      if (url.searchParams.has("inward")) return new Response(null, { status: 302, headers: { Location: "http://127.0.0.1:9/secret" } });
      // A body made in JavaScript, no length declared: not a byte stream, so it is read chunk by chunk.
      if (url.searchParams.has("js")) return new Response(jsStream(["public ", "image ", "bytes"]), { headers: { "Content-Type": "image/webp" } });
      return new Response("public video bytes", { headers: { "Content-Type": "video/mp4", "Content-Length": "18" } });
    }
    return null;
  };
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    for (let i = 0; i < 20; i++) {
      const res = answer(url);
      if (!res) return realFetch(input as RequestInfo, init);
      const location = res.headers.get("location");
      if (!location || init?.redirect === "manual") return res;
      url = new URL(location, url);
    }
    throw new TypeError("too many redirects");
  });
  return hits;
}

afterEach(() => vi.restoreAllMocks());

/** How a test task is made: a Hailuo video by default; an image (Seedream) or a song (Suno) to show every modality is held to the same rules. */
const CREATES = {
  video: (prompt: string) => ({ path: "/api/v1/hailuo/text_to_video", body: t2v(prompt) }),
  image: (prompt: string) => ({
    path: "/api/v1/seedream/edit_image",
    body: { model: "seedream-v4-edit", prompt, source_image_urls: ["https://img.test/a.png"] },
  }),
  audio: (prompt: string) => ({ path: "/api/v1/suno/text_to_music", body: { model: "suno-v5", vocal_mode: "auto_lyrics", prompt } }),
};

/** A task made with `prompt`, completed at RunAPI; once the archive has stored its first file or given up on it, that file's record. */
async function completedTask(prompt: string, kind: keyof typeof CREATES = "video") {
  const { key, tenantId } = await tenantWithKey();
  const create = CREATES[kind](`${nonce()} ${prompt}`);
  const res = await api(key, create.path, { body: create.body });
  expect(res.status).toBe(200);
  const id = (await json(res)).id as string;
  await deliverCallbacks(await advanceUpstream(id, { status: "completed" }));
  // The archive's record is private to the tenant's object; read from inside, as runInDurableObject allows.
  const archiveOf = (o: unknown) => (o as { tasks: { get(id: string): { archive?: MediaArchive } | undefined } }).tasks.get(id)?.archive;
  const video = await eventually(async () => {
    const v = (await runInDurableObject(ledgerObject(tenantId), archiveOf))?.files[0];
    expect(v?.state).toMatch(/stored|failed/);
    return v!;
  }, 10_000);
  return { key, id, video };
}

/** A completed task whose status reads show `videoUrl` as its video (as each of its files, for `kind`). */
const taskWithVideo = (videoUrl: string, kind: keyof typeof CREATES = "video") => completedTask(`[hostile:video-url=${videoUrl}]`, kind);

/** What the proxy's own signed link for the task's first file serves (a 404 when nothing was archived). */
async function signedLink(id: string, ext = "mp4"): Promise<{ status: number; body: string }> {
  const url = await signMediaUrl(SIGNING_SECRET, "https://proxy.test", { address: "media", taskId: id, index: 0, ext }, Math.floor(Date.now() / 1000) + 600);
  const res = await exports.default.fetch(new Request(url));
  return { status: res.status, body: new TextDecoder().decode(await res.arrayBuffer()) };
}

describe("the archive never fetches an inward URL", () => {
  it("a task whose video URL is http://127.0.0.1:…/secret is not copied, and its signed link never serves the internal bytes", async () => {
    const hits = network();
    const { key, id, video } = await taskWithVideo("http://127.0.0.1:9/secret");
    expect(video).toMatchObject({
      state: "failed",
      attempts: 1,
      error: expect.stringMatching(/^refused: http: URLs are not downloaded \(host 127\.0\.0\.1\)/),
    });
    expect(hits).toEqual([]);
    expect(await signedLink(id)).toMatchObject({ status: 404 });
    expect((await getTask(key, id)).videos).toEqual([{ url: "http://127.0.0.1:9/secret" }]); // RunAPI's own word, shown, never fetched
    expect((await me(key)).video_storage.videos).toBe(0);
  });

  it("a public link that redirects (302) to loopback is refused at that hop", async () => {
    const hits = network();
    const { id, video } = await taskWithVideo("https://cdn.example/v.mp4?inward=1");
    expect(video).toMatchObject({
      state: "failed",
      error: expect.stringMatching(/^refused after 1 redirect: http: URLs are not downloaded \(host 127\.0\.0\.1\)/),
    });
    expect(hits).toEqual([]);
    expect(await signedLink(id)).toMatchObject({ status: 404 });
  });

  it("a redirect on RunAPI's own origin is checked like any other hop", async () => {
    const hits = network();
    const { id, video } = await taskWithVideo(`https://runapi.test/__hostile/redirect?to=${encodeURIComponent("https://169.254.169.254/latest/meta-data")}`);
    expect(video).toMatchObject({ state: "failed", error: expect.stringContaining("host 169.254.169.254 must not name a loopback") });
    expect(hits).toEqual([]);
    expect((await signedLink(id)).body).not.toContain(SECRET);
  });

  it("follows at most 3 redirects: 3 are copied, 4 are refused", async () => {
    network();
    const three = await taskWithVideo("https://cdn.example/v.mp4?hops=3");
    expect(three.video).toMatchObject({ state: "stored", bytes: 18 });
    expect(await signedLink(three.id)).toEqual({ status: 200, body: "public video bytes" });
    const four = await taskWithVideo("https://cdn.example/v.mp4?hops=4");
    expect(four.video).toMatchObject({ state: "failed", attempts: 1, error: "refused: more than 3 redirects (host cdn.example)" });
  });
});

describe("every modality is fetched by the same rules", () => {
  it("an image's and a song's output URLs on loopback, or redirecting there, are refused like a video's; a public one is copied with its own type", async () => {
    const hits = network();
    for (const kind of ["image", "audio"] as const) {
      const inward = await taskWithVideo("http://127.0.0.1:9/secret", kind);
      expect(inward.video, kind).toMatchObject({ state: "failed", attempts: 1, error: expect.stringMatching(/^refused: http: URLs are not downloaded/) });
      const redirected = await taskWithVideo("https://cdn.example/v.png?inward=1", kind);
      expect(redirected.video, kind).toMatchObject({ state: "failed", error: expect.stringMatching(/^refused after 1 redirect: http: URLs/) });
      const metadata = await taskWithVideo("https://169.254.169.254/latest/meta-data", kind);
      expect(metadata.video, kind).toMatchObject({ state: "failed", error: expect.stringContaining("host 169.254.169.254") });
      for (const t of [inward, redirected, metadata]) expect((await signedLink(t.id, "bin")).body).not.toContain(SECRET);
    }
    expect(hits).toEqual([]);
    // The same CDN's public file is copied; it declared itself video/mp4, so that is what the proxy serves it as.
    const fine = await taskWithVideo("https://cdn.example/v.png", "image");
    expect(fine.video).toMatchObject({ state: "stored", ext: "mp4", content_type: "video/mp4" });
    expect(await signedLink(fine.id, "mp4")).toEqual({ status: 200, body: "public video bytes" });
    const streamed = await taskWithVideo("https://cdn.example/s?js=1", "audio");
    expect(streamed.video).toMatchObject({ state: "stored", ext: "webp", content_type: "image/webp", bytes: 18 });
    expect(await signedLink(streamed.id, "webp")).toEqual({ status: 200, body: "public image bytes" });
  });
});

describe("the archive caps a file at ARCHIVE_MAX_BYTES", () => {
  it("a declared length over the cap is refused before reading; an undeclared one is counted as it streams and refused", async () => {
    for (const marker of ["[sim:video-mb=2]", "[sim:video-mb=2] [sim:video-chunked]"]) {
      const { id, video } = await completedTask(marker);
      expect(video, marker).toMatchObject({ state: "failed", attempts: 1, error: "the source is larger than ARCHIVE_MAX_BYTES (1048576 bytes)" });
      expect(await env.VIDEOS!.head(`media/${id}/0.mp4`)).toBeNull();
    }
  });
});

describe("refusedSource", () => {
  const policy: SourcePolicy = { trustedOrigin: "https://runapi.test", allowHttp: false, allowPrivate: false, allowedHosts: null, maxBytes: 1 };
  const refused = (url: string, p: Partial<SourcePolicy> = {}) => refusedSource(new URL(url), { ...policy, ...p });

  it("trusts RunAPI's own origin as configured, and nothing else by name", () => {
    expect(refused("https://runapi.test/videos/a.mp4")).toBeNull();
    expect(refused("http://127.0.0.1:8788/videos/a.mp4", { trustedOrigin: "http://127.0.0.1:8788" })).toBeNull();
    expect(refused("http://127.0.0.1:8789/videos/a.mp4", { trustedOrigin: "http://127.0.0.1:8788", allowHttp: true })).toMatch(/loopback/);
  });

  it("takes https only, http with ALLOW_HTTP_URLS; never a private or IPv4-embedding host unless ALLOW_PRIVATE_URLS", () => {
    expect(refused("https://cdn.example/a.mp4")).toBeNull();
    expect(refused("http://cdn.example/a.mp4")).toMatch(/http: URLs/);
    expect(refused("http://cdn.example/a.mp4", { allowHttp: true })).toBeNull();
    expect(refused("ftp://cdn.example/a.mp4", { allowHttp: true })).toMatch(/ftp: URLs/);
    for (const inward of ["https://10.0.0.1/a", "https://[::7f00:1]/a", "https://[2002:7f00:1::]/a", "https://localhost/a", "https://u:p@cdn.example/a"]) {
      expect(refused(inward), inward).not.toBeNull();
    }
    expect(refused("https://10.0.0.1/a", { allowPrivate: true })).toBeNull();
  });

  it("with ARCHIVE_ALLOWED_HOSTS, takes only the hosts it names (exact or *.suffix), and never says a query", () => {
    const allowedHosts = ["cdn.example", "*.files.example"];
    expect(refused("https://cdn.example/a", { allowedHosts })).toBeNull();
    expect(refused("https://eu.files.example/a", { allowedHosts })).toBeNull();
    expect(refused("https://files.example/a", { allowedHosts })).toMatch(/not in ARCHIVE_ALLOWED_HOSTS/);
    expect(refused("https://cdn.example.evil/a?token=s3cr3t", { allowedHosts })).toBe("host cdn.example.evil is not in ARCHIVE_ALLOWED_HOSTS");
    expect(refused("https://runapi.test/a", { allowedHosts })).toBeNull();
  });
});
