/**
 * Small real files the simulator serves as image and audio outputs (the video is in video-fixture.ts).
 * Both were checked with real decoders: `pngcheck -v` (8×8 RGB, no errors) and `mpg123 -t`
 * (MPEG 1.0 Layer III, 64 kb/s, 44.1 kHz mono, 40 frames, 1.04 s, no errors).
 */

/** An 8×8 RGB PNG (a colour gradient), 166 bytes. */
export const TINY_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAbUlEQVR42hXOUREAUQhCUaMYhShEMcqNQhSi7Fs/OQzjzLCDBg83MGToMLPsosXLLSxZug/ECgmLE4iI6oFZI2NzBhNTPzj20OHjDo4cvQf/7Bt41Rf+F+h7YsIGBYfLHyc0D8oWFZfrX05p+QDeqGABtJu0bQAAAABJRU5ErkJggg==";

/** The PNG's bytes. */
export function tinyPng(): Uint8Array {
  return Uint8Array.from(atob(TINY_PNG_BASE64), (ch) => ch.charCodeAt(0));
}

/** MPEG-1 Layer III frame header: sync, no CRC; 64 kb/s, 44.1 kHz, no padding; mono, original. */
export const MP3_FRAME_HEADER = [0xff, 0xfb, 0x50, 0xc4] as const;
/** Bytes per frame at 64 kb/s and 44.1 kHz: 144 × 64000 / 44100, rounded down. */
export const MP3_FRAME_BYTES = 208;
/** Frames in the fixture. */
export const MP3_FRAMES = 40;
/** The fixture's length in seconds (1152 samples a frame), as the audio outputs report it. */
export const TINY_MP3_SECONDS = Math.round(((MP3_FRAMES * 1152) / 44100) * 100) / 100;

/** 40 frames of silence (side info and main data all zero), 8320 bytes: a valid MP3 of about one second. */
export function tinyMp3(): Uint8Array {
  const bytes = new Uint8Array(MP3_FRAMES * MP3_FRAME_BYTES);
  for (let f = 0; f < MP3_FRAMES; f++) bytes.set(MP3_FRAME_HEADER, f * MP3_FRAME_BYTES);
  return bytes;
}
