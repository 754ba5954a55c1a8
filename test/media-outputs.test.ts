import { describe, expect, it } from "vitest";
import { findOutputs, MAX_ARCHIVED_OUTPUTS, placeLinks } from "../src/domain/media-outputs";
import { mediaTypeOf } from "../src/domain/media-types";

// SPEC §12: a finished task's output files are found wherever RunAPI's result names them, and a view shows the
// proxy's link in each place with RunAPI's original beside it.

const cdn = (name: string) => `https://cdn.runapi.test/${name}`;

/** A finished Suno-like task with every shape RunAPI's results use. */
const result = () => ({
  audios: [{ id: "a1", audio_url: cdn("a1.mp3"), stream_audio_url: cdn("a1.stream"), image_url: cdn("a1.jpg"), duration: 120 }],
  video_url: cdn("clip.mp4"),
  wav_url: cdn("song.wav"),
  covers: [{ url: cdn("c0.png") }, { url: cdn("c1.png") }],
  track: { audio_url: cdn("track.mp3"), title: "Sea" },
  separated_audios: { vocal_url: cdn("vocal.mp3"), instrumental_url: cdn("inst.mp3") },
  image_urls: [cdn("i0.webp"), "not a url", cdn("i1.webp")],
  lyrics: "la la",
});

describe("findOutputs", () => {
  it("finds URLs at url, *_url and in *_urls lists, anywhere in the result, in order; never stream_* URLs", () => {
    const found = findOutputs(result());
    expect(found.map((o) => [o.url.replace("https://cdn.runapi.test/", ""), o.paths])).toEqual([
      ["a1.mp3", [["audios", 0, "audio_url"]]],
      ["a1.jpg", [["audios", 0, "image_url"]]],
      ["clip.mp4", [["video_url"]]],
      ["song.wav", [["wav_url"]]],
      ["c0.png", [["covers", 0, "url"]]],
      ["c1.png", [["covers", 1, "url"]]],
      ["track.mp3", [["track", "audio_url"]]],
      ["vocal.mp3", [["separated_audios", "vocal_url"]]],
      ["inst.mp3", [["separated_audios", "instrumental_url"]]],
      ["i0.webp", [["image_urls", 0]]],
      ["i1.webp", [["image_urls", 2]]],
    ]);
  });

  it("numbers a videos-only result as the archive always did, and counts a repeated URL once (every place kept)", () => {
    const videos = [{ url: cdn("v0.mp4") }, { url: cdn("v1.mp4") }];
    expect(findOutputs({ videos }).map((o) => o.url)).toEqual([cdn("v0.mp4"), cdn("v1.mp4")]);
    expect(findOutputs({ videos: [{ url: cdn("v.mp4") }], video_url: cdn("v.mp4") })).toEqual([
      { url: cdn("v.mp4"), paths: [["videos", 0, "url"], ["video_url"]] },
    ]);
  });

  it("takes http(s) URLs only, the proxy's own source_* never, at most MAX_ARCHIVED_OUTPUTS, and nothing too deep", () => {
    expect(findOutputs({ url: "data:image/png;base64,AAAA", file_url: "ftp://x.test/a", source_url: cdn("s"), image_url: "" })).toEqual([]);
    const many = { images: Array.from({ length: 50 }, (_, i) => ({ url: cdn(`${i}.png`) })) };
    expect(findOutputs(many)).toHaveLength(MAX_ARCHIVED_OUTPUTS);
    let deep: Record<string, unknown> = { url: cdn("deep.png") };
    for (let i = 0; i < 10; i++) deep = { next: deep };
    expect(findOutputs(deep)).toEqual([]);
    expect(findOutputs(null)).toEqual([]);
  });
});

describe("placeLinks", () => {
  it("puts each link in place with RunAPI's original beside it, and leaves the source untouched", () => {
    const source = result();
    const before = JSON.stringify(source);
    const view: Record<string, unknown> = { ...source, id: "t1" };
    const link = (n: number) => `https://proxy.test/media/t1/${n}.x`;
    const found = findOutputs(source);
    placeLinks(
      view,
      source,
      found.map((o, i) => ({ paths: o.paths, source_url: o.url, link: link(i) })),
    );
    expect(JSON.stringify(source)).toBe(before);
    expect(view).toMatchObject({
      audios: [
        {
          id: "a1",
          audio_url: link(0),
          source_audio_url: cdn("a1.mp3"),
          image_url: link(1),
          source_image_url: cdn("a1.jpg"),
          stream_audio_url: cdn("a1.stream"),
        },
      ],
      video_url: link(2),
      source_video_url: cdn("clip.mp4"),
      wav_url: link(3),
      source_wav_url: cdn("song.wav"),
      covers: [
        { url: link(4), source_url: cdn("c0.png") },
        { url: link(5), source_url: cdn("c1.png") },
      ],
      track: { audio_url: link(6), source_audio_url: cdn("track.mp3"), title: "Sea" },
      separated_audios: { vocal_url: link(7), source_vocal_url: cdn("vocal.mp3"), instrumental_url: link(8), source_instrumental_url: cdn("inst.mp3") },
      image_urls: [link(9), "not a url", link(10)],
      source_image_urls: [cdn("i0.webp"), "not a url", cdn("i1.webp")],
      lyrics: "la la",
    });
  });

  it("leaves a place alone that no longer holds RunAPI's URL", () => {
    const source = { images: [{ url: cdn("other.png") }] };
    const view: Record<string, unknown> = { ...source };
    placeLinks(view, source, [{ paths: [["images", 0, "url"]], source_url: cdn("0.png"), link: "https://proxy.test/x" }]);
    expect(view).toEqual({ images: [{ url: cdn("other.png") }] });
  });
});

describe("mediaTypeOf", () => {
  it("takes a known media Content-Type, else the URL's extension, else opaque bytes; never HTML or SVG", () => {
    expect(mediaTypeOf("image/png", cdn("x"))).toEqual({ ext: "png", contentType: "image/png" });
    expect(mediaTypeOf("audio/mpeg; charset=binary", cdn("x.wav"))).toEqual({ ext: "mp3", contentType: "audio/mpeg" });
    expect(mediaTypeOf("audio/x-wav", cdn("x"))).toEqual({ ext: "wav", contentType: "audio/wav" });
    expect(mediaTypeOf("application/octet-stream", cdn("a/b.JPEG?sig=1"))).toEqual({ ext: "jpg", contentType: "image/jpeg" });
    expect(mediaTypeOf(null, cdn("clip.webm"))).toEqual({ ext: "webm", contentType: "video/webm" });
    expect(mediaTypeOf("text/html", cdn("page.html"))).toEqual({ ext: "bin", contentType: "application/octet-stream" });
    expect(mediaTypeOf("image/svg+xml", cdn("logo.svg"))).toEqual({ ext: "bin", contentType: "application/octet-stream" });
    expect(mediaTypeOf("text/html", cdn("still.png"))).toEqual({ ext: "png", contentType: "image/png" });
  });
});
