import { describe, expect, it } from "vitest";
import { handedUrlProblem } from "../src/domain/uploads";

// RunAPI's `upload_url` goes to the client as is (it PUTs its bytes there), but like every URL from upstream it is
// checked first: RunAPI's own origin is trusted, anything else must be https: and name no inward host.

const RUNAPI = "https://runapi.ai";
const strict = { allowHttp: false, allowPrivate: false };

describe("an upload_url from RunAPI", () => {
  it("may be on RunAPI's own origin or a public https: storage host", () => {
    expect(handedUrlProblem("https://runapi.ai/rails/active_storage/disk/abc", RUNAPI, strict)).toBeNull();
    expect(handedUrlProblem("https://bucket.s3.amazonaws.com/key?X-Amz-Signature=1", RUNAPI, strict)).toBeNull();
  });

  it("may not be anything else", () => {
    expect(handedUrlProblem("http://storage.example/put", RUNAPI, strict)).toMatch(/https/);
    expect(handedUrlProblem("https://169.254.169.254/latest", RUNAPI, strict)).toMatch(/private|link-local/);
    expect(handedUrlProblem("https://[::ffff:10.0.0.1]/x", RUNAPI, strict)).toMatch(/private/);
    expect(handedUrlProblem("https://user:pw@storage.example/x", RUNAPI, strict)).toMatch(/credentials/);
    expect(handedUrlProblem("https://user:pw@runapi.ai/x", RUNAPI, strict)).toMatch(/credentials/);
    expect(handedUrlProblem("javascript:alert(1)", RUNAPI, strict)).toMatch(/https/);
    expect(handedUrlProblem("not a url", RUNAPI, strict)).toBe("is not a URL");
    expect(handedUrlProblem(42, RUNAPI, strict)).toBe("is not a URL");
  });

  it("may name http: and private hosts where the deployment allows them (local runs)", () => {
    expect(handedUrlProblem("http://127.0.0.1:8788/storage/x", RUNAPI, { allowHttp: true, allowPrivate: true })).toBeNull();
    expect(handedUrlProblem("http://127.0.0.1:8788/storage/x", RUNAPI, { allowHttp: true, allowPrivate: false })).toMatch(/loopback/);
  });
});
