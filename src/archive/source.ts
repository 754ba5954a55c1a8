import type { Config } from "../env";
import { hostAllowed, unsafeTargetReason } from "../domain/url-safety";

/** Something that fetches: the global fetch, or the simulator's service binding. */
export type Fetcher = { fetch: typeof fetch };

/** Where the archive may download from, and how much (SPEC §13 "Fetching outputs"). */
export interface SourcePolicy {
  /** RunAPI's own origin (RUNAPI_BASE_URL): trusted as configured, like every other call to RunAPI. */
  trustedOrigin: string;
  /** `http:` is allowed besides `https:` (ALLOW_HTTP_URLS, local testing). */
  allowHttp: boolean;
  /** Loopback and private hosts are allowed (ALLOW_PRIVATE_URLS, local testing). */
  allowPrivate: boolean;
  /** ARCHIVE_ALLOWED_HOSTS: when set, the only other hosts downloaded from. */
  allowedHosts: readonly string[] | null;
  /** ARCHIVE_MAX_BYTES: the largest file copied, counted as it streams. */
  maxBytes: number;
}

/** Redirects followed from a source URL, each hop checked like the first. */
export const MAX_REDIRECTS = 3;

/** The archive's download policy from the deployment's config. */
export function sourcePolicy(config: Config): SourcePolicy {
  return {
    trustedOrigin: new URL(config.runapiBaseUrl).origin,
    allowHttp: config.allowHttpUrls,
    allowPrivate: config.allowPrivateUrls,
    allowedHosts: config.archiveAllowedHosts,
    maxBytes: config.archiveMaxBytes,
  };
}

/** Why the archive will not download `url`, in words naming its host only (a query may be signed), or null. */
export function refusedSource(url: URL, policy: SourcePolicy): string | null {
  if (url.origin === policy.trustedOrigin) return null;
  const host = url.hostname || "(none)";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) return `${url.protocol} URLs are not downloaded (host ${host})`;
  const unsafe = policy.allowPrivate ? null : unsafeTargetReason(url);
  if (unsafe) return `host ${host} ${unsafe}`;
  if (policy.allowedHosts && !hostAllowed(url.hostname, policy.allowedHosts)) return `host ${host} is not in ARCHIVE_ALLOWED_HOSTS`;
  return null;
}

/** A source's answer to download, or why not (a refused URL or hop is never retried). */
export type SourceAnswer = { ok: true; res: Response } | { ok: false; retryable: boolean; reason: string };

/**
 * Fetches a source URL, following at most `MAX_REDIRECTS` redirects by hand so that every hop is checked
 * before it is fetched. Throws what the fetch throws (a network failure, the timeout).
 */
export async function fetchSource(fetcher: Fetcher, sourceUrl: string, policy: SourcePolicy, signal: AbortSignal): Promise<SourceAnswer> {
  let url: URL;
  try {
    url = new URL(sourceUrl);
  } catch {
    return { ok: false, retryable: false, reason: "refused: the source is not a URL" };
  }
  for (let hop = 0; ; hop++) {
    const refused = refusedSource(url, policy);
    if (refused) return { ok: false, retryable: false, reason: `refused${hop ? ` after ${hop} redirect${hop > 1 ? "s" : ""}` : ""}: ${refused}` };
    const res = await fetcher.fetch(url.toString(), { redirect: "manual", signal });
    if (res.status < 300 || res.status > 399 || res.status === 304) return { ok: true, res };
    await res.body?.cancel().catch(() => undefined);
    const location = res.headers.get("location");
    if (!location) return { ok: false, retryable: false, reason: `the source answered ${res.status} without a Location` };
    if (hop >= MAX_REDIRECTS) return { ok: false, retryable: false, reason: `refused: more than ${MAX_REDIRECTS} redirects (host ${url.hostname})` };
    try {
      url = new URL(location, url);
    } catch {
      return { ok: false, retryable: false, reason: `refused: a redirect from host ${url.hostname} to something that is not a URL` };
    }
  }
}
