// The package's own behaviour beyond the vectors: the JS clock, handles, strict options, errors.
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const api = require("../pkg/node/index.js");
const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const verifyCases = JSON.parse(readFileSync(`${vectors}verify.json`, "utf8")).cases;
const active = verifyCases.find((c) => c.name === "v2_active");
const realNow = Date.now;

afterEach(() => {
  Date.now = realNow;
});

const isCode = (code) => (e) => api.isEntitlementsError(e) && e.code === code && e instanceof Error;

describe("the clock", () => {
  test("an omitted now is read from Date.now() in JS", () => {
    const verifier = new api.Verifier(api.Keyring.fromJwks(active.jwks));
    Date.now = () => active.now * 1000 + 999;
    const license = verifier.verify(active.token);
    assert.equal(license.status, "active");
    assert.equal(license.verifiedAt, active.now);
    // Far past the token's expiry and grace, the same call says expired.
    Date.now = () => (active.expect.grace_ends_at + 1) * 1000;
    assert.equal(verifier.verify(active.token).status, "expired");
    assert.equal(license.statusAt(), "expired");
    // Before its iat (beyond the leeway), it was issued in the future.
    Date.now = () => 1_000_000_000_000;
    assert.throws(() => verifier.verify(active.token), isCode("issued_in_future"));
  });

  test("now must be a finite number", () => {
    const verifier = new api.Verifier(api.Keyring.fromJwks(active.jwks));
    assert.throws(() => verifier.verify(active.token, Number.NaN), isCode("invalid_input"));
    assert.throws(() => verifier.verify(active.token, Infinity), isCode("invalid_input"));
  });

  test("resolve without now uses the clock too", () => {
    const license = new api.Verifier(api.Keyring.fromJwks(active.jwks)).verify(active.token, active.now);
    Date.now = () => active.now * 1000;
    assert.equal(api.Entitlements.resolve(api.Catalog.default(), license).tier, "team");
    Date.now = () => (active.expect.grace_ends_at + 1) * 1000;
    assert.equal(api.Entitlements.resolve(api.Catalog.default(), license).tier, "community");
  });
});

describe("handles and plain objects", () => {
  const keyring = api.Keyring.fromJwks(active.jwks);
  const license = new api.Verifier(keyring).verify(active.token, active.now);

  test("a license stays usable after being passed to resolve", () => {
    const a = api.Entitlements.resolve(api.Catalog.default(), license, { now: active.now });
    const b = api.Entitlements.resolve(api.Catalog.devHealthOps(), license, { now: active.now, orgId: "org_other" });
    assert.equal(a.tier, "team");
    assert.equal(b.tier, "team"); // a self-hosted license covers every org
    assert.equal(license.licenseId, "lic_v2_team");
  });

  test("license getters and toJSON", () => {
    assert.equal(license.orgName, "Acme Inc");
    assert.equal(license.contactEmail, "it@acme.example");
    assert.equal(license.issuer, "fullchaos.studio");
    assert.equal(license.isValid, true);
    assert.deepEqual(license.audience, []);
    assert.equal(license.claims.jti, "lic_v2_team");
    assert.equal(license.graceDaysLeft, undefined);
    const json = JSON.parse(JSON.stringify(license));
    assert.equal(json.license_id, "lic_v2_team");
    assert.equal(json.valid, true);
  });

  test("keyrings from a map, added keys and JWKS round trips", () => {
    const ring = new api.Keyring({ a: "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=" });
    ring.add("b", "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=");
    assert.deepEqual(ring.kids, ["a", "b"]);
    assert.equal(api.Keyring.fromJwks(JSON.stringify(ring.toJwks())).size, 2);
    assert.equal(new api.Keyring().size, 0);
    assert.throws(() => new api.Keyring({ a: "bm9wZQ==" }), isCode("invalid_key"));
  });

  test("catalog data as plain objects", () => {
    const catalog = api.Catalog.default();
    assert.equal(catalog.name, "default");
    assert.deepEqual(catalog.tiers.map((t) => [t.tier, t.graceDays]), [["community", 0], ["team", 14], ["enterprise", 30]]);
    assert.ok(catalog.features.some((f) => f.key === "sso_saml" && f.minTier === "enterprise"));
    assert.deepEqual(catalog.limits.find((l) => l.key === "max_users").values, { community: 3, team: null, enterprise: null });
    assert.equal(catalog.tierName("enterprise"), "Enterprise");
    assert.ok(catalog.permissionsOf("owner").includes("billing:manage"));
    assert.throws(() => api.Catalog.fromJson("{}"), isCode("invalid_catalog"));
  });

  test("large catalogs, made and freed many times, keep resolving right (the allocator grows and reuses)", () => {
    // A catalog near the 1 MiB limit: thousands of features, each with a long description.
    const tiers = [
      { key: "community", name: "Community", grace_days: 0 },
      { key: "team", name: "Team", grace_days: 14 },
      { key: "enterprise", name: "Enterprise", grace_days: 30 },
    ];
    const features = Array.from({ length: 4000 }, (_, i) => ({
      key: `feature_${i}`,
      name: `Feature ${i}`,
      category: "bulk",
      min_tier: ["community", "team", "enterprise"][i % 3],
      description: "x".repeat(150),
    }));
    const document = JSON.stringify({ name: "bulk", tiers, features, limits: [], roles: [] });
    assert.ok(document.length > 700_000 && document.length < 1024 * 1024, `${document.length}`);
    for (let round = 0; round < 12; round++) {
      const catalog = api.Catalog.fromJson(document);
      const ent = api.Entitlements.resolve(catalog, null, { orgTier: "team" });
      assert.equal(ent.has("feature_3998"), false, "an enterprise feature on team");
      assert.equal(ent.has("feature_3997"), true, "a team feature on team");
      assert.equal(ent.has("feature_3999"), true, "a community feature on team");
      assert.equal(ent.decisions().length, 4000);
      ent.free();
      catalog.free();
    }
  });

  test("entitlements: decisions, limits, gates, JSON round trip", () => {
    const ent = api.Entitlements.resolve(api.Catalog.default(), null, { orgTier: "team", now: 0 });
    assert.equal(ent.decisions().length, api.Catalog.default().features.length);
    assert.deepEqual(ent.check("sso_saml"), {
      feature: "sso_saml",
      allowed: false,
      reason: "tier_required",
      denial: "not_licensed",
      currentTier: "team",
      requiredTier: "enterprise",
      expiresAt: null,
    });
    assert.equal(ent.limit("max_users"), null);
    assert.equal(ent.limit("no_such_limit"), undefined);
    assert.equal(ent.upgradeGate("sso_saml", null, "/billing").upgradeHref, "/billing");
    assert.equal(api.upgradeGate(ent, { feature: "api_access" }).state, "allowed");
    const back = api.Entitlements.fromJSON(api.Catalog.default(), JSON.stringify(ent));
    assert.deepEqual(back.toJSON().features, ent.toJSON().features);
    // JSON text naming a member twice is refused, as the Node binding refuses it.
    assert.throws(
      () => api.Entitlements.fromJSON(api.Catalog.default(), '{"tier":"community","tier":"enterprise"}'),
      (e) => isCode("invalid_input")(e) && /"tier" appears twice/.test(e.message),
    );
  });
});

describe("errors", () => {
  test("misspelt or mistyped options are refused, naming them", () => {
    const keyring = api.Keyring.fromJwks(active.jwks);
    assert.throws(() => new api.Verifier(keyring, { accept_v1: false }), (e) => isCode("invalid_input")(e) && /accept_v1/.test(e.message));
    assert.throws(() => new api.Verifier(keyring, { leeway: "60" }), isCode("invalid_input"));
    assert.throws(() => api.Entitlements.resolve(api.Catalog.default(), null, { orgTier: "gold" }), isCode("invalid_input"));
    assert.throws(() => api.Entitlements.resolve(api.Catalog.default(), { tier: "enterprise" }), isCode("invalid_input"));
    assert.throws(() => api.upgradeGate(api.Entitlements.resolve(api.Catalog.default(), null, { now: 0 }), {}), isCode("invalid_input"));
    // NaN and Infinity are not "not given": JSON would turn them into null and, e.g., switch the
    // clock-rollback guard off.
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(() => new api.Verifier(keyring, { highWaterMark: bad }), (e) => isCode("invalid_input")(e) && /highWaterMark/.test(e.message));
      assert.throws(() => new api.Verifier(keyring, { leeway: bad }), isCode("invalid_input"));
      assert.throws(() => api.Entitlements.resolve(api.Catalog.default(), null, { now: bad }), (e) => isCode("invalid_input")(e) && /now/.test(e.message));
    }
  });

  test("only this package's errors pass isEntitlementsError", () => {
    assert.equal(api.isEntitlementsError(new Error("x")), false);
    assert.equal(api.isEntitlementsError({ name: "EntitlementsError", code: "revoked" }), false);
    assert.equal(api.isEntitlementsError(undefined), false);
  });

  test("inspectToken shows what a rejected token claims, without trusting it", () => {
    const [h, , s] = active.token.split(".");
    const forged = [h, Buffer.from(JSON.stringify({ sub: "org_evil", tier: "enterprise" })).toString("base64url"), s].join(".");
    const verifier = new api.Verifier(api.Keyring.fromJwks(active.jwks));
    assert.throws(() => verifier.verify(forged, active.now), isCode("invalid_signature"));
    const seen = api.inspectToken(forged);
    assert.equal(seen.format, "v2");
    assert.equal(seen.header.kid, "test-zero");
    assert.equal(seen.claims.sub, "org_evil");
    assert.equal(seen.signatureLength, 64);
  });
});
