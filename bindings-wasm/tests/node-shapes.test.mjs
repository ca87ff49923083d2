// The call shapes of SPEC §4 and the Node package (@dev-health/entitlements) are accepted next to
// this package's earlier positional ones, and both give the same answers.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const api = require("../pkg/node/index.js");
const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const load = (name) => JSON.parse(readFileSync(`${vectors}${name}.json`, "utf8")).cases;
const byName = (cases, name) => cases.find((c) => c.name === name);
const isCode = (code) => (e) => api.isEntitlementsError(e) && e.code === code;

const active = byName(load("verify"), "v2_active");
const license = new api.Verifier(api.Keyring.fromJwks(active.jwks)).verify(active.token, active.now);

describe("Entitlements.resolve", () => {
  test("({catalog, license, …}) resolves as (catalog, license, {…})", () => {
    const opts = { orgId: "org_x", overrides: [{ feature: "sso_saml", enabled: true }], now: active.now };
    const spec = api.Entitlements.resolve({ catalog: api.Catalog.devHealthOps(), license, ...opts });
    const positional = api.Entitlements.resolve(api.Catalog.devHealthOps(), license, opts);
    assert.deepEqual(spec.toJSON(), positional.toJSON());
    assert.equal(spec.tier, "team");
    assert.equal(spec.check("sso_saml").reason, "enabled_by_org_override");
  });

  test("the catalog defaults to Catalog.default(), and no argument resolves community", () => {
    const spec = api.Entitlements.resolve({ license, now: active.now });
    assert.deepEqual(spec.toJSON(), api.Entitlements.resolve(api.Catalog.default(), license, { now: active.now }).toJSON());
    assert.equal(api.Entitlements.resolve().tier, "community");
    assert.equal(api.Entitlements.resolve({ orgTier: "enterprise" }).tier, "enterprise");
  });

  test("the object form is checked as strictly as the options", () => {
    assert.throws(() => api.Entitlements.resolve({ licence: license }), isCode("invalid_input"));
    assert.throws(() => api.Entitlements.resolve({ catalog: "default" }), /expected instance of Catalog/);
    assert.throws(() => api.Entitlements.resolve({ license: active.token }), isCode("invalid_input"));
    assert.throws(() => api.Entitlements.resolve({ orgTier: "gold" }), (e) => isCode("invalid_input")(e) && /"gold" is not a tier/.test(e.message));
  });
});

describe("upgradeGate", () => {
  const ent = api.Entitlements.resolve({ license, now: active.now });

  test("({feature, requiredTier, entitlements}) decides as (entitlements, {…}) and the method", () => {
    for (const [feature, requiredTier] of [["sso_saml", undefined], ["audit_log", "enterprise"], ["no_such_feature", undefined]]) {
      const spec = api.upgradeGate({ feature, requiredTier, entitlements: ent, upgradeHref: "/billing" });
      assert.deepEqual(spec, api.upgradeGate(ent, { feature, requiredTier, upgradeHref: "/billing" }));
      assert.deepEqual(spec, ent.upgradeGate(feature, { requiredTier, upgradeHref: "/billing" }));
      assert.deepEqual(spec, ent.upgradeGate(feature, requiredTier, "/billing"));
      assert.equal(spec.feature, feature);
      assert.equal(spec.currentTier, "team");
    }
    assert.equal(api.upgradeGate({ feature: "audit_log", requiredTier: "enterprise", entitlements: ent }).state, "upgrade");
    assert.equal(api.upgradeGate({ feature: "audit_log", requiredTier: "enterprise", entitlements: ent }).upgradeHref, "/org/admin/settings");
  });

  test("a missing or wrong entitlements, feature or option is invalid_input", () => {
    assert.throws(() => api.upgradeGate({ feature: "sso_saml" }), isCode("invalid_input"));
    assert.throws(() => api.upgradeGate({ feature: "sso_saml", entitlements: ent.toJSON() }), isCode("invalid_input"));
    assert.throws(() => api.upgradeGate({ entitlements: ent }), isCode("invalid_input"));
    assert.throws(() => api.upgradeGate({ feature: "sso_saml", entitlements: ent, required_tier: "team" }), isCode("invalid_input"));
    assert.throws(() => ent.upgradeGate("sso_saml", { requiredTier: "gold" }), isCode("invalid_input"));
  });
});

test("RevocationList.verify(token, keyring, {issuer, now}) as (token, keyring, issuer, now)", () => {
  const c = byName(load("verify"), "revoked_listed");
  const keyring = api.Keyring.fromJwks(c.jwks);
  const token = c.options.revocation_list;
  const spec = api.RevocationList.verify(token, keyring, { issuer: c.options.issuer, now: c.now });
  const positional = api.RevocationList.verify(token, keyring, c.options.issuer, c.now);
  assert.deepEqual([spec.size, spec.issuedAt, spec.expiresAt], [positional.size, positional.issuedAt, positional.expiresAt]);
  assert.ok(spec.size > 0);
  assert.throws(() => api.RevocationList.verify(token, keyring, { issuer: "someone.else", now: c.now }), isCode("issuer_mismatch"));
  assert.throws(() => api.RevocationList.verify(token, keyring, { iss: "x" }), isCode("invalid_input"));
});

test("verifyStripeSignature takes {now, tolerance} and one secret as in Node", () => {
  const c = byName(load("stripe_signatures"), "stripe_sig_valid_now");
  const [secret] = c.secrets;
  assert.equal(api.verifyStripeSignature(c.payload, c.header, secret, { now: c.now, tolerance: c.tolerance }), c.expect.timestamp);
  assert.equal(api.verifyStripeSignature(c.payload, c.header, c.secrets, c.now, c.tolerance), c.expect.timestamp);
  assert.throws(
    () => api.verifyStripeSignature(c.payload, c.header, secret, { now: c.now + 10_000, tolerance: 300 }),
    isCode("stripe_timestamp_out_of_tolerance"),
  );
  assert.throws(() => api.verifyStripeSignature(c.payload, c.header, secret, { now: c.now, tol: 1 }), isCode("invalid_input"));
});

test("a verified session carries exp, as in Node (expiresAt kept)", () => {
  const c = byName(load("sessions"), "session_eddsa_admin");
  const session = new api.SessionVerifier(api.Keyring.fromJwks(c.jwks)).verify(c.token, c.now);
  assert.equal(session.sub, c.expect.sub);
  assert.equal(typeof session.exp, "number");
  assert.ok(session.exp > c.now);
  assert.equal(session.expiresAt, session.exp);
});
