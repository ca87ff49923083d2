// The handle table under stress and misuse: a trap inside a call, freed and frozen objects, calls
// bound to the wrong class, many live objects; and inputs that JSON cannot carry faithfully.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const NODE_PKG = fileURLToPath(new URL("../pkg/node/index.js", import.meta.url));
const api = require(NODE_PKG);
const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const active = JSON.parse(readFileSync(`${vectors}verify.json`, "utf8")).cases.find((c) => c.name === "v2_active");
const isCode = (code) => (e) => api.isEntitlementsError(e) && e.code === code;
const resolve = (orgId, orgTier) => api.Entitlements.resolve({ orgId, orgTier, now: active.now });

test("a trap inside one call loses that object only; the module and the GC carry on", () => {
  // 300 pages of memory: a 3 MB feature key (18 MB as JSON) runs the module out of memory inside
  // `check`, a bare wasm trap.
  const program = `
    const api = require(${JSON.stringify(NODE_PKG)});
    const ent = api.Entitlements.resolve({ orgTier: "enterprise", now: 1800000000 });
    const out = [];
    try { ent.check("\\x01".repeat(3e6)); out.push("no trap"); } catch (e) { out.push(e.constructor.name); }
    out.push(api.Entitlements.resolve({ orgTier: "team", now: 1800000000 }).tier);
    out.push(api.Catalog.default().name);
    try { ent.check("sso_saml"); out.push("lost object answered"); } catch (e) { out.push(e.code); }
    (async () => {
      for (let i = 0; i < 3; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); }
      out.push(api.Entitlements.resolve({ orgTier: "community", now: 1800000000 }).tier);
      console.log(out.join(" "));
    })();`;
  const out = execFileSync(process.execPath, ["--wasm-max-mem-pages=300", "--expose-gc", "-e", program], { encoding: "utf8" });
  assert.equal(out.trim(), "RuntimeError team default invalid_input community");
});

describe("freed objects", () => {
  test("every member of a freed object throws, cached ones included", () => {
    const license = new api.Verifier(api.Keyring.fromJwks(active.jwks)).verify(active.token, active.now);
    assert.equal(license.tier, "team"); // read once: cached in JS
    const ent = api.Entitlements.resolve({ license, now: active.now });
    const verifier = new api.Verifier(api.Keyring.fromJwks(active.jwks));
    for (const obj of [license, ent, verifier]) obj.free();
    assert.throws(() => license.tier, /License was freed/);
    assert.throws(() => ent.tier, /Entitlements was freed/);
    assert.throws(() => verifier.issuer, /Verifier was freed/);
    assert.throws(() => api.Entitlements.resolve({ license, now: active.now }), isCode("invalid_input"));
    license.free(); // twice: a no-op
  });

  test("a handle kept after free never reaches the slot's next object", () => {
    const a = resolve("org_a", "community");
    const stale = a._handle;
    a.free();
    const b = resolve("org_b", "enterprise");
    assert.notEqual(b._handle, stale);
    // Even forged onto another object, the old handle answers "freed", not org_b's entitlements.
    const forged = Object.create(api.Entitlements.prototype);
    forged._handle = stale;
    assert.throws(() => forged.check("sso_saml"), isCode("invalid_input"));
    assert.equal(forged.has("sso_saml"), false);
    assert.equal(b.has("sso_saml"), true);
  });

  test("a frozen object that cannot be freed keeps its own data", () => {
    const a = Object.freeze(resolve("org_a", "community"));
    assert.throws(() => a.free(), TypeError);
    const b = resolve("org_b", "enterprise");
    assert.equal(a.toJSON().org_id, "org_a");
    assert.equal(a.has("sso_saml"), false);
    assert.equal(b.has("sso_saml"), true);
  });

  test("a call bound to an object of another class is invalid_input", () => {
    const ent = resolve("org_a", "team");
    const catalog = api.Catalog.default();
    assert.throws(() => api.Keyring.prototype.toJwks.call(ent), isCode("invalid_input"));
    assert.throws(() => api.Entitlements.prototype.check.call(catalog, "sso_saml"), isCode("invalid_input"));
    assert.throws(() => Object.getOwnPropertyDescriptor(api.Catalog.prototype, "name").get.call(ent), isCode("invalid_input"));
  });

  test("50,000 live objects, then freed, leave the table reusable", () => {
    const live = Array.from({ length: 50_000 }, (_, i) => resolve(`org_${i}`, i % 2 ? "team" : "community"));
    assert.equal(live[49_999].toJSON().org_id, "org_49999");
    assert.equal(live[12_345].tier, "team");
    for (const e of live) e.free();
    assert.equal(resolve("org_again", "enterprise").orgId, "org_again");
  });
});

describe("inputs JSON cannot carry faithfully", () => {
  test("a lone surrogate in a kill switch or override is refused, never dropped", () => {
    const opts = { orgTier: "enterprise", now: active.now };
    assert.equal(api.Entitlements.resolve({ ...opts, killSwitches: { sso_saml: false } }).check("sso_saml").reason, "global_disabled");
    assert.throws(() => api.Entitlements.resolve({ ...opts, killSwitches: { sso_saml: false, "\ud800": false } }), isCode("invalid_input"));
    const off = { feature: "audit_log", enabled: false };
    assert.throws(() => api.Entitlements.resolve({ ...opts, overrides: [off, { feature: "x\udc00", enabled: true }] }), isCode("invalid_input"));
  });

  test("an override expiring at NaN or Infinity is refused, not made permanent", () => {
    for (const expiresAt of [Number.NaN, Infinity, Date.parse("garbage") / 1000]) {
      assert.throws(
        () => api.Entitlements.resolve({ orgTier: "community", now: active.now, overrides: [{ feature: "sso_saml", enabled: true, expiresAt }] }),
        isCode("invalid_input"),
      );
    }
  });

  test("text starting with U+0001 is data, and error messages keep it", () => {
    const tiers = api.Catalog.default().tiers.map((t) => ({
      key: t.tier,
      name: t.tier === "team" ? "\x01revoked\x01forged" : t.name,
      grace_days: t.graceDays,
    }));
    const catalog = api.Catalog.fromJson({ name: "custom", tiers, features: [], limits: [], roles: [] });
    assert.equal(catalog.tierName("team"), "\x01revoked\x01forged");
    assert.throws(() => catalog.tierName("t\x01x"), (e) => isCode("invalid_input")(e) && e.message.includes("is not a tier"));
  });

  test("now given as a numeric string is read as a number, as a wasm f64 parameter reads it", () => {
    const verifier = new api.Verifier(api.Keyring.fromJwks(active.jwks));
    assert.equal(verifier.verify(active.token, String(active.now)).verifiedAt, active.now);
    assert.throws(() => verifier.verify(active.token, "soon"), isCode("invalid_input"));
  });
});

test("members that are objects are the caller's own: changing one changes nothing else", () => {
  const license = new api.Verifier(api.Keyring.fromJwks(active.jwks)).verify(active.token, active.now);
  license.claims.tier = "enterprise";
  license.toJSON().tier = "enterprise";
  license.features.forged = true;
  license.audience.push("elsewhere");
  assert.equal(license.tier, "team");
  assert.equal(license.claims.tier, "team");
  assert.equal(license.toJSON().tier, "team");
  assert.equal(license.features.forged, undefined);
  assert.ok(!license.audience.includes("elsewhere"));
  const catalog = api.Catalog.default();
  catalog.roles.push("forged");
  catalog.features[0].minTier = "community";
  assert.ok(!catalog.roles.includes("forged"));
  assert.deepEqual(catalog.features, api.Catalog.default().features);
});
