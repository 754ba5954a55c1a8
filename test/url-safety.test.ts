import { describe, expect, it } from "vitest";
import { findAction } from "../src/catalog/catalog";
import { validateRequest } from "../src/catalog/validate";
import { unsafeTargetReason } from "../src/domain/url-safety";
import { admin, api, expectError, issueFields, nonce, t2v, tenantWithKey } from "./helpers";

// Hosts the proxy must never POST a signed webhook to (SPEC §5, URL safety).
const INWARD = [
  "https://127.0.0.1/hook",
  "https://127.1.2.3/hook",
  "https://169.254.169.254/latest/meta-data",
  "https://10.0.0.5/hook",
  "https://172.16.0.1/hook",
  "https://172.31.255.255/hook",
  "https://192.168.1.1/hook",
  "https://100.64.0.1/hook",
  "https://0.0.0.0/hook",
  "https://[::1]/hook",
  "https://[::]/hook",
  "https://[fe80::1]/hook",
  "https://[fd00::1]/hook",
  "https://[::ffff:127.0.0.1]/hook",
  "https://[::ffff:a9fe:a9fe]/hook",
  // IPv6 that embeds an IPv4 address (SPEC §13): each may reach that IPv4 host, so each is refused whole.
  "https://[::7f00:1]/hook", // IPv4-compatible ::127.0.0.1
  "https://[::127.0.0.1]/hook",
  "https://[::a9fe:a9fe]/hook", // IPv4-compatible metadata address
  "https://[::8.8.8.8]/hook", // IPv4-compatible, deprecated even for a public address
  "https://[::ffff:0:7f00:1]/hook", // IPv4-translated ::ffff:0:127.0.0.1
  "https://[::ffff:0:a00:1]/hook",
  "https://[::ffff:7f00:1]/hook", // IPv4-mapped, hex spelling
  "https://[0:0:0:0:0:ffff:127.0.0.1]/hook", // IPv4-mapped, long spelling
  "https://[2002:7f00:1::]/hook", // 6to4 of 127.0.0.1
  "https://[2002:a9fe:a9fe::1]/hook", // 6to4 of 169.254.169.254
  "https://[2001::]/hook", // Teredo
  "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook", // Teredo with an obfuscated client IPv4
  "https://[64:ff9b::7f00:1]/hook", // NAT64 of 127.0.0.1
  "https://[64:ff9b:1::a00:1]/hook", // local-use NAT64
  "https://[fec0::1]/hook", // site-local (deprecated)
  "https://2130706433/hook", // 127.0.0.1 in decimal
  "https://0x7f000001/hook", // in hex
  "https://0177.0.0.1/hook", // in octal
  "https://127.1/hook",
  "https://localhost/hook",
  "https://api.localhost/hook",
  "https://LOCALHOST./hook",
  "https://user:pw@hooks.example.com/hook",
  "https://token@hooks.example.com/hook",
];
const OUTWARD = [
  "https://hooks.example.com/runapi",
  "https://8.8.8.8/hook",
  "https://[2606:4700::1111]/hook",
  "https://[2001:db9::1]/hook", // 2001::/32 is Teredo, its neighbours are not
  "https://[2003::1]/hook",
  "https://172.32.0.1/hook",
  "https://100.128.0.1/hook",
];

describe("URL safety: callback_url and webhook_url never point inward", () => {
  it.each(INWARD)("refuses %s", (url) => {
    expect(unsafeTargetReason(new URL(url))).not.toBeNull();
  });

  it.each(OUTWARD)("allows %s", (url) => {
    expect(unsafeTargetReason(new URL(url))).toBeNull();
  });

  it("ALLOW_PRIVATE_URLS lifts it for a callback_url (local testing)", () => {
    const body = t2v("p", { callback_url: "https://127.0.0.1/hook" });
    const t2vAction = findAction("hailuo", "text_to_video")!;
    expect(validateRequest(t2vAction, body, { allowHttp: false }).ok).toBe(false);
    expect(validateRequest(t2vAction, body, { allowHttp: false, allowPrivate: true }).ok).toBe(true);
  });

  it("a create naming an inward callback_url is a 400 that never reaches RunAPI, and holds no money", async () => {
    const { key } = await tenantWithKey();
    for (const url of ["https://169.254.169.254/x", "https://2130706433/x", "https://user:pw@hooks.example.com/x"]) {
      const res = await api(key, "/api/v1/hailuo/text_to_video", { body: t2v(nonce(), { callback_url: url }) });
      const error = await expectError(res, 400, "invalid_request");
      expect(issueFields(error)).toEqual(["callback_url"]);
    }
    expect(((await (await api(key, "/api/v1/me")).json()) as any).budgets.tenant.reserved_usd).toBe(0);
  });

  it("a tenant's webhook_url naming an inward host is a 400, on create and on change", async () => {
    for (const url of ["https://[::1]/hook", "https://10.1.2.3/hook", "https://localhost/hook"]) {
      const res = await admin("/admin/v1/tenants", { body: { name: "x", budget: { limit_usd: 1, period: "day" }, webhook_url: url } });
      expect(issueFields(await expectError(res, 400, "invalid_request"))).toEqual(["webhook_url"]);
    }
    const { tenantId } = await tenantWithKey();
    const res = await admin(`/admin/v1/tenants/${tenantId}`, { method: "PATCH", body: { webhook_url: "https://192.168.0.10/hook" } });
    expect(issueFields(await expectError(res, 400, "invalid_request"))).toEqual(["webhook_url"]);
  });
});
