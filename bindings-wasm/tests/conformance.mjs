// The conformance runner shared by Node and the browser: one function per vector file that runs
// a case through the package's public API and throws on the first field that differs.
// Plain ES module, no Node built-ins, so the same checks run in Chromium.

/** The vector files this package has runners for (tests/vectors/, format: tests/vectors/README.md). */
export const VECTOR_FILES = [
  "verify",
  "entitlements",
  "rbac",
  "sessions",
  "stripe_signatures",
  "stripe_events",
];

/**
 * Files of tests/vectors/ that are not API vectors: the Wycheproof suite, run by
 * `wycheproofMismatches` below (and by core/tests/wycheproof.rs and the other bindings).
 */
const NOT_API_VECTORS = new Set(["wycheproof_ed25519.json"]);

/**
 * The vector files (names without `.json`) of a listing of tests/vectors/: every `.json` file but
 * the Wycheproof suite. Throws when the listing holds a file no runner here knows (so a new file is
 * never skipped silently) or lacks one that a runner expects.
 */
export function vectorFilesIn(listing) {
  const files = listing
    .filter((name) => name.endsWith(".json") && !NOT_API_VECTORS.has(name))
    .map((name) => name.slice(0, -".json".length));
  const unknown = files.filter((f) => !VECTOR_FILES.includes(f));
  const missing = VECTOR_FILES.filter((f) => !files.includes(f));
  if (unknown.length > 0 || missing.length > 0) {
    throw new Error(
      `tests/vectors: files without a runner in tests/conformance.mjs: [${unknown}]; files missing: [${missing}]`,
    );
  }
  return VECTOR_FILES.filter((f) => files.includes(f));
}

/** The files whose API lives only in the full build (Node, web-full). */
export const FULL_ONLY = new Set(["sessions", "stripe_signatures", "stripe_events"]);

/**
 * The cases of dev-health-ops compatibility (core feature `ops-compat`), which the size-budgeted
 * web module leaves out (see mk/wasm.mk): they run through web-full, and the web module is held
 * to its documented older answer for them (it refuses each). A new compatibility vector fails
 * the web module's run until it is named here.
 */
export const OPS_COMPAT_ONLY = new Set([
  "v1_without_license_id",
  "v1_license_id_null",
  "v1_without_license_id_revoked_by_derived_id",
  "exclusive_license_map_is_the_whole_answer",
  "exclusive_kill_switch_and_override_come_first",
  "exclusive_tier_bound_grant_below_floor",
  "exclusive_without_license_follows_the_tier",
  "exclusive_expired_license_follows_the_tier",
  "limits_by_token_names",
]);

function show(value) {
  return JSON.stringify(value);
}

/** Deep equality with a message naming the first path that differs. */
export function expectEqual(actual, expected, path = "value") {
  if (expected === null || typeof expected !== "object") {
    if (!Object.is(actual, expected)) {
      throw new Error(`${path}: expected ${show(expected)}, got ${show(actual)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new Error(`${path}: expected a list, got ${show(actual)}`);
    if (actual.length !== expected.length) {
      throw new Error(`${path}: expected ${expected.length} items, got ${actual.length}: ${show(actual)}`);
    }
    expected.forEach((item, i) => expectEqual(actual[i], item, `${path}[${i}]`));
    return;
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
    throw new Error(`${path}: expected an object, got ${show(actual)}`);
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    if (!(key in expected)) throw new Error(`${path}.${key}: unexpected, got ${show(actual[key])}`);
    if (!(key in actual)) throw new Error(`${path}.${key}: missing, expected ${show(expected[key])}`);
    expectEqual(actual[key], expected[key], `${path}.${key}`);
  }
}

/** Runs `fn` and checks that it throws the package's error with this code. */
function expectError(api, fn, code) {
  let result;
  try {
    result = fn();
  } catch (e) {
    if (!api.isEntitlementsError(e)) throw new Error(`expected error ${code}, got a foreign error: ${e}`);
    if (!(e instanceof Error) || e.name !== "EntitlementsError") {
      throw new Error(`expected an Error named EntitlementsError, got ${e && e.name}`);
    }
    if (e.code !== code) throw new Error(`expected error ${code}, got ${e.code}: ${e.message}`);
    if (typeof e.message !== "string" || e.message.length === 0) throw new Error("the error has no message");
    return;
  }
  throw new Error(`expected error ${code}, got a result: ${show(result)}`);
}

function verifyCase(api, c) {
  const o = c.options ?? {};
  const keyring = api.Keyring.fromJwks(c.jwks);
  const run = () => {
    const verifier = new api.Verifier(keyring, {
      issuer: o.issuer,
      leeway: o.leeway,
      acceptV1: o.accept_v1,
      deploymentId: o.deployment_id,
      highWaterMark: o.high_water_mark,
    });
    if (o.catalog !== undefined) verifier.useCatalog(api.Catalog.builtin(o.catalog));
    if (o.revocation_list !== undefined) {
      verifier.useRevocationList(api.RevocationList.verify(o.revocation_list, keyring, o.issuer, c.now));
    }
    return verifier.verify(c.token, c.now);
  };
  if ("error" in c.expect) return expectError(api, run, c.expect.error);
  const lic = run();
  expectEqual(
    {
      status: lic.status,
      format: lic.format,
      kid: lic.kid,
      tier: lic.tier,
      sub: lic.sub,
      license_id: lic.licenseId,
      license_type: lic.licenseType,
      expires_at: lic.expiresAt,
      grace_ends_at: lic.graceEndsAt,
      grace_days_left: lic.graceDaysLeft ?? null,
    },
    c.expect,
    "license",
  );
  // toJSON is the CLI's shape (`valid` false once expired) and agrees with the getters.
  const json = lic.toJSON();
  expectEqual(
    [json.valid, json.status, json.license_id, json.grace_days_left],
    [c.expect.status !== "expired", c.expect.status, c.expect.license_id, c.expect.grace_days_left],
    "license.toJSON()",
  );
}

function entitlementsCase(api, c) {
  const catalog = api.Catalog.builtin(c.catalog);
  let license = null;
  if (c.license !== undefined) {
    license = new api.Verifier(api.Keyring.fromJwks(c.jwks)).verify(c.license, c.now);
  }
  const ent = api.Entitlements.resolve(catalog, license, {
    orgId: c.org_id ?? null,
    orgTier: c.org_tier ?? null,
    overrides: (c.overrides ?? []).map((o) => ({
      feature: o.feature,
      enabled: o.enabled,
      expiresAt: o.expires_at ?? null,
    })),
    killSwitches: c.kill_switches ?? {},
    now: c.now,
  });
  const e = c.expect;
  expectEqual(ent.tier, e.tier, "tier");
  for (const d of e.decisions) {
    const got = ent.check(d.feature);
    expectEqual(
      {
        feature: got.feature,
        allowed: got.allowed,
        reason: got.reason,
        required_tier: got.requiredTier,
        expires_at: got.expiresAt,
      },
      d,
      `decision ${d.feature}`,
    );
    expectEqual(ent.has(d.feature), d.allowed, `has(${d.feature})`);
  }
  for (const l of e.limits) {
    const got = ent.checkLimit(l.limit, l.current);
    expectEqual(
      { limit: got.limit, current: got.current, allowed: got.allowed, maximum: got.maximum, reason: got.reason },
      l,
      `limit ${l.limit} at ${l.current}`,
    );
  }
  for (const g of e.gates) {
    // The vector's `required_tier` is both the request and the answer (a fixed point).
    const request = { feature: g.feature, requiredTier: g.required_tier };
    for (const got of [api.upgradeGate(ent, request), ent.upgradeGate(g.feature, g.required_tier)]) {
      expectEqual(
        { feature: got.feature, required_tier: got.requiredTier, state: got.state, upgrade_href: got.upgradeHref },
        g,
        `gate ${g.feature}`,
      );
    }
  }
  expectEqual(ent.toJSON(), e.json, "toJSON()");
  expectEqual(JSON.parse(JSON.stringify(ent)), e.json, "JSON.stringify(entitlements)");
  // Rebuilt from its JSON (what a page gets from the entitlements API), the features agree.
  const rebuilt = api.Entitlements.fromJSON(catalog, e.json);
  for (const [feature, on] of Object.entries(e.json.features)) {
    expectEqual(rebuilt.has(feature), on, `fromJSON has(${feature})`);
  }
}

function rbacCase(api, c) {
  const catalog = api.Catalog.builtin(c.catalog);
  expectEqual(catalog.can(c.role, c.permission), c.allowed, "catalog.can");
  const ent = api.Entitlements.resolve(catalog, null, { now: 0 });
  expectEqual(ent.can(c.role, c.permission), c.allowed, "entitlements.can");
}

function sessionsCase(api, c) {
  const run = () =>
    new api.SessionVerifier(api.Keyring.fromJwks(c.jwks), { hs256Secret: c.hs256_secret ?? null }).verify(
      c.token,
      c.now,
    );
  if ("error" in c.expect) return expectError(api, run, c.expect.error);
  const s = run();
  expectEqual(
    { sub: s.sub, email: s.email, org_id: s.orgId, role: s.role, is_superuser: s.isSuperuser },
    c.expect,
    "session",
  );
}

function stripeSignatureCase(api, c) {
  const run = () => api.verifyStripeSignature(c.payload, c.header, c.secrets, c.now, c.tolerance);
  if ("error" in c.expect) return expectError(api, run, c.expect.error);
  expectEqual({ timestamp: run() }, c.expect, "signature");
  // Bytes and text are the same payload.
  expectEqual(
    api.verifyStripeSignature(new TextEncoder().encode(c.payload), c.header, c.secrets, c.now, c.tolerance),
    c.expect.timestamp,
    "signature over bytes",
  );
}

function stripeEventsCase(api, c) {
  const got = api.replayStripeEvents({ config: c.config, orgs: c.orgs, events: c.events });
  expectEqual(
    { outcomes: got.outcomes, orgs: got.orgs, revoked_license_ids: got.revokedLicenseIds },
    c.expect,
    "replay",
  );
}

const RUNNERS = {
  verify: verifyCase,
  entitlements: entitlementsCase,
  rbac: rbacCase,
  sessions: sessionsCase,
  stripe_signatures: stripeSignatureCase,
  stripe_events: stripeEventsCase,
};

/** Runs one case of one file; throws with the case name on a mismatch. */
export function runCase(api, file, c) {
  const runner = RUNNERS[file];
  if (!runner) throw new Error(`no runner for ${file}`);
  runner(api, c);
}

/** Checks the shape every vector file shares and returns its cases. */
export function casesOf(file, doc) {
  if (typeof doc.description !== "string" || !Array.isArray(doc.cases) || doc.cases.length === 0) {
    throw new Error(`${file}.json has no cases`);
  }
  const names = new Set();
  for (const c of doc.cases) {
    if (typeof c.name !== "string" || names.has(c.name)) throw new Error(`${file}.json: bad or repeated name ${c.name}`);
    names.add(c.name);
  }
  return doc.cases;
}

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Standard base64 with padding, or base64url without it (`url`). No Node built-ins. */
function base64(bytes, url) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((shift) => B64[(n >> shift) & 63]);
    const kept = Math.min(4, Math.ceil(((bytes.length - i) * 4) / 3));
    out += chars.slice(0, kept).join("") + (url ? "" : "=".repeat(4 - kept));
  }
  return url ? out.replaceAll("+", "-").replaceAll("/", "_") : out;
}

/**
 * The Wycheproof Ed25519 suite (tests/vectors/wycheproof_ed25519.json) through the package's
 * verifier: each case is a v1 token (SPEC §1.2: standard base64 of the message, a dot, base64 of
 * the signature, the signature over the message bytes) under a keyring holding the case's key.
 * A `valid` signature passes the signature check and fails only as a license (`invalid_claims`:
 * the message is no claim set); an `invalid` one is `invalid_signature` (or its key is refused as
 * a key). Returns the cases answered otherwise, and how many of each kind ran.
 */
export function wycheproofMismatches(api, suite) {
  const wrong = [];
  const counts = { valid: 0, invalid: 0 };
  for (const group of suite.testGroups) {
    const x = base64(hexBytes(group.publicKey.pk), true);
    let verifier;
    let keyError;
    try {
      const keyring = api.Keyring.fromJwks(JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", kid: "wycheproof", x }] }));
      verifier = new api.Verifier(keyring);
    } catch (e) {
      keyError = e.code;
    }
    for (const t of group.tests) {
      counts[t.result] += 1;
      const token = `${base64(hexBytes(t.msg), false)}.${base64(hexBytes(t.sig), false)}`;
      let answer = keyError === undefined ? null : `key refused (${keyError})`;
      if (verifier) {
        try {
          verifier.verify(token, 1800000000);
          answer = "verified";
        } catch (e) {
          answer = e.code;
        }
      }
      const expected = t.result === "valid" ? "invalid_claims" : "invalid_signature";
      const refusedKey = t.result === "invalid" && answer?.startsWith("key refused");
      if (answer !== expected && !refusedKey) {
        wrong.push(`tcId ${t.tcId} (${t.comment}): ${t.result}, expected ${expected}, got ${answer}`);
      }
    }
  }
  return { wrong, counts };
}
