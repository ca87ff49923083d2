// Hand-written JS layer over the thin wasm module (variant A: u32 handles, JSON text across the
// boundary). Same public API as @dev-health/entitlements-wasm's web build (pkg/web/index.d.ts).
import init, * as w from "./index.js";
export { init as default };
export { initSync } from "./index.js";

const E = "EntitlementsError";
const TIERS = ["community", "team", "enterprise"];
const err = (code, message) => {
  const e = new Error(message);
  e.name = E;
  e.code = code;
  return e;
};
const bad = (message) => err("invalid_input", message);
// Results: JSON text, or "\x01code\x01message".
const ok = (r) => {
  if (r[0] === "\x01") {
    const [, code, message] = r.split("\x01");
    throw err(code, message);
  }
  return r;
};
const clock = (now) => {
  if (now == null) now = Math.floor(Date.now() / 1000);
  if (!Number.isFinite(now) || Math.abs(now) > 2 ** 53) throw bad("now must be a finite number of Unix seconds");
  return Math.floor(now);
};
const tier = (name) => {
  if (!TIERS.includes(name)) throw bad(`${JSON.stringify(name)} is not a tier (expected community, team or enterprise)`);
  return name;
};
const jsonText = (v, what) => {
  if (typeof v === "string") return v;
  if (v == null) throw bad(`${what} is missing: pass JSON text or an object`);
  const t = JSON.stringify(v);
  if (typeof t !== "string") throw bad(`${what} cannot be read as JSON`);
  return t;
};
// JS value -> plain JSON data (what the real binding reads through JSON.stringify).
const data = (v, what) => {
  if (v == null) return null;
  let t;
  try {
    t = JSON.stringify(v);
  } catch {}
  if (typeof t !== "string") throw bad(`${what} cannot be read as JSON`);
  return JSON.parse(t);
};
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
// A strict options bag: unknown keys and wrong types are invalid_input.
const options = (v, what, known) => {
  const o = data(v, what) ?? {};
  if (!isObj(o)) throw bad(`${what} must be an object`);
  for (const k in o) if (!known.includes(k)) throw bad(`${what}: unknown option \`${k}\` (known: ${known.join(", ")})`);
  const get = (k, ok, expected) => {
    const x = o[k];
    if (x == null) return undefined;
    if (!ok(x)) throw bad(`${what}: \`${k}\` must be ${expected}`);
    return x;
  };
  return {
    str: (k) => get(k, (x) => typeof x === "string", "a string"),
    bool: (k) => get(k, (x) => typeof x === "boolean", "a boolean"),
    int: (k) => get(k, Number.isInteger, "a whole number"),
    value: (k) => (o[k] == null ? undefined : o[k]),
  };
};

// Handles: freed by free()/dispose or by the GC.
const registry = new FinalizationRegistry((box) => --box.n || w.free(box.h));
const wrap = (C, h, extra) => {
  const o = Object.create(C.prototype);
  o._b = { h, n: 1 };
  registry.register(o, o._b, o);
  return Object.assign(o, extra);
};
class Handle {
  free() {
    const b = this._b;
    if (b && !b.dead) {
      registry.unregister(this);
      b.dead = this._b = undefined;
      if (!--b.n) w.free(b.h);
    }
  }
  get _h() {
    if (!this._b) throw new Error("null pointer passed to rust");
    return this._b.h;
  }
}
if (Symbol.dispose) Handle.prototype[Symbol.dispose] = Handle.prototype.free;
const need = (v, C) => {
  if (!(v instanceof C)) throw new Error(`expected instance of ${C.name}`);
  return v._h;
};

export class Keyring extends Handle {
  constructor(keys) {
    super();
    const map = data(keys, "keys");
    if (map !== null && !isObj(map)) throw bad("keys must be an object {kid: base64}");
    const h = +w.keyring(0, "");
    try {
      for (const kid in map) {
        const key = map[kid];
        if (typeof key !== "string") throw bad(`key ${JSON.stringify(kid)} must be a base64 string`);
        const r = w.keyring_add(h, kid, key);
        if (r) {
          const [, code, message] = r.split("\x01");
          throw err(code, `key ${JSON.stringify(kid)}: ${message}`);
        }
      }
    } catch (e) {
      w.free(h);
      throw e;
    }
    return wrap(Keyring, h);
  }
  static fromJwks(jwks) {
    return wrap(Keyring, +ok(w.keyring(1, jsonText(jwks, "the JWKS document"))));
  }
  static parse(text) {
    return wrap(Keyring, +ok(w.keyring(2, text)));
  }
  add(kid, publicKey) {
    ok(w.keyring_add(this._h, kid, publicKey));
  }
  toJwks() {
    return JSON.parse(w.keyring_jwks(this._h));
  }
  get kids() {
    return this.toJwks().keys.map((k) => k.kid);
  }
  get size() {
    return this.toJwks().keys.length;
  }
}

export class Verifier extends Handle {
  constructor(keyring, opts) {
    super();
    const kh = need(keyring, Keyring);
    const o = options(opts, "Verifier options", ["issuer", "leeway", "acceptV1", "deploymentId", "highWaterMark"]);
    const issuer = o.str("issuer");
    const leeway = o.int("leeway");
    const h = w.verifier(kh, issuer, leeway, o.bool("acceptV1"), o.str("deploymentId"), o.int("highWaterMark"));
    return wrap(Verifier, h, { _i: issuer ?? "fullchaos.studio", _l: leeway ?? 60 });
  }
  useCatalog(catalog) {
    w.verifier_set(this._h, 0, need(catalog, Catalog));
  }
  useRevocationList(list) {
    w.verifier_set(this._h, 1, need(list, RevocationList));
  }
  clearRevocationList() {
    w.verifier_set(this._h, 2, 0);
  }
  verify(token, now) {
    return wrap(License, +ok(w.verify(this._h, token, clock(now))));
  }
  get issuer() {
    return this._i;
  }
  get leeway() {
    return this._l;
  }
}

// [graceDays, verifiedAt, toJSON(), notBefore, audience, orgName, contactEmail]: fetched on first
// use, parsed afresh for every read (callers get new objects).
const L = (l, i) => JSON.parse((l._t ??= w.license_json(l._h)))[i];
const C = (l) => L(l, 2).claims;
export class License extends Handle {
  __clone() {
    this._b.n++;
    const o = Object.create(License.prototype);
    o._b = this._b;
    o._t = this._t;
    registry.register(o, o._b, o);
    return o;
  }
  get status() { return L(this, 2).status; }
  get isValid() { return L(this, 2).valid; }
  get format() { return L(this, 2).format; }
  get kid() { return L(this, 2).kid; }
  get tier() { return L(this, 2).tier; }
  get sub() { return L(this, 2).sub; }
  get licenseId() { return L(this, 2).license_id; }
  get expiresAt() { return L(this, 2).expires_at; }
  get graceEndsAt() { return L(this, 2).grace_ends_at; }
  get graceDaysLeft() { return L(this, 2).grace_days_left ?? undefined; }
  get graceDays() { return L(this, 0); }
  get verifiedAt() { return L(this, 1); }
  get issuer() { return C(this).iss; }
  get licenseType() { return C(this).license_type; }
  get issuedAt() { return C(this).iat; }
  get notBefore() { return L(this, 3) ?? undefined; }
  get audience() { return L(this, 4); }
  get orgName() { return L(this, 5); }
  get contactEmail() { return L(this, 6); }
  get features() { return C(this).features; }
  get limits() { return C(this).limits; }
  get claims() { return C(this); }
  statusAt(now) {
    return ["active", "grace", "expired"][w.num(this._h, 0, clock(now))];
  }
  graceDaysLeftAt(now) {
    const d = w.num(this._h, 1, clock(now));
    return d < 0 ? undefined : d;
  }
  toJSON() {
    return L(this, 2);
  }
}

export class RevocationList extends Handle {
  static verify(token, keyring, issuer, now) {
    const r = JSON.parse(ok(w.revocation(token, need(keyring, Keyring), issuer, clock(now))));
    return wrap(RevocationList, r[0], { _r: r });
  }
  contains(licenseId) {
    return w.contains(this._h, licenseId);
  }
  get size() { return this._r[1]; }
  get issuedAt() { return this._r[2]; }
  get expiresAt() { return this._r[3]; }
}

export function inspectToken(token) {
  const t = JSON.parse(ok(w.inspect(token)));
  return { format: t.format, header: t.header, claims: t.claims, signatureLength: t.signature_bytes };
}

const catalog = (kind, text = "") => wrap(Catalog, +ok(w.catalog(kind, text)));
// [name, tiers, features, limits, roles]
const I = (c, i) => JSON.parse((c._x ??= w.catalog_info(c._h)))[i];
export class Catalog extends Handle {
  static default() { return catalog(0); }
  static devHealthOps() { return catalog(1); }
  static builtin(name) { return catalog(2, name); }
  static fromJson(json) { return catalog(3, jsonText(json, "the catalog document")); }
  get name() { return I(this, 0); }
  get tiers() {
    return I(this, 1).map(([tier, name, graceDays]) => ({ tier, name, graceDays }));
  }
  get features() {
    return I(this, 2).map(([key, name, category, minTier, explicitPurchase, tierBound, description]) =>
      ({ key, name, category, minTier, explicitPurchase, tierBound, description }));
  }
  get limits() {
    return I(this, 3).map(([key, name, min, [community, team, enterprise]]) =>
      ({ key, name, direction: min ? "min" : "max", values: { community, team, enterprise } }));
  }
  get roles() { return I(this, 4); }
  tierName(t) {
    return I(this, 1)[TIERS.indexOf(tier(t))]?.[1] ?? t;
  }
  can(role, permission) { return w.can(this._h, role, permission); }
  permissionsOf(role) { return JSON.parse(w.permissions(this._h, role)); }
}

const DENIAL = {
  tier_required: "not_licensed",
  explicit_purchase_required: "not_licensed",
  license_override_disabled: "not_licensed",
  global_disabled: "not_enabled",
  org_override_disabled: "not_enabled",
  feature_not_registered: "not_enabled",
};
// [handle, tier, orgId, staleAt]
const ent = (t) => {
  const r = JSON.parse(ok(t));
  return wrap(Entitlements, r[0], { _e: r });
};
export class Entitlements extends Handle {
  static resolve(catalog, license, opts) {
    const ch = need(catalog, Catalog);
    let lh = -1;
    if (license != null) {
      if (!(license instanceof License)) throw bad("`license` must be a License (from Verifier.verify) or null");
      lh = license._h;
    }
    const o = options(opts, "resolve options", ["orgId", "orgTier", "overrides", "killSwitches", "now"]);
    const orgId = o.str("orgId");
    const orgTier = o.str("orgTier");
    if (orgTier !== undefined) tier(orgTier);
    const list = o.value("overrides") ?? [];
    if (!Array.isArray(list)) throw bad("`overrides` must be a list");
    const v = list.map((x, i) => {
      const no = (what) => bad(`overrides[${i}]: ${what}`);
      if (!isObj(x)) throw no("must be an object {feature, enabled, expiresAt?}");
      for (const k in x) if (!["feature", "enabled", "expiresAt"].includes(k)) throw no(`unknown key \`${k}\` (known: feature, enabled, expiresAt)`);
      if (typeof x.feature !== "string") throw no("`feature` must be a string");
      if (typeof x.enabled !== "boolean") throw no("`enabled` must be a boolean");
      const at = x.expiresAt ?? null;
      if (at !== null && !(Number.isInteger(at) && Math.abs(at) < 2 ** 63)) throw no("`expiresAt` must be whole Unix seconds or null");
      return [x.feature, x.enabled, at];
    });
    const k = o.value("killSwitches") ?? {};
    if (!isObj(k)) throw bad("`killSwitches` must be an object {feature: enabled}");
    for (const f in k) if (typeof k[f] !== "boolean") throw bad(`killSwitches.${f} must be a boolean`);
    const now = o.int("now") ?? clock();
    return ent(w.resolve(ch, lh, JSON.stringify({ o: orgId, t: orgTier, v, k }), now));
  }
  static fromJSON(catalog, json) {
    const ch = need(catalog, Catalog);
    const text = typeof json === "string" ? json : JSON.stringify(data(json, "entitlements JSON"));
    return ent(w.entitlements_from_json(ch, text));
  }
  get tier() { return this._e[1]; }
  get orgId() { return this._e[2]; }
  get staleAt() { return this._e[3] ?? undefined; }
  isStale(now) { return !!w.num(this._h, 2, clock(now)); }
  has(feature) { return w.contains(this._h, feature); }
  _d([feature, allowed, reason, requiredTier, expiresAt]) {
    return { feature, allowed, reason, denial: DENIAL[reason] ?? null, currentTier: this.tier, requiredTier, expiresAt };
  }
  check(feature) { return this._d(JSON.parse(w.query(this._h, 0, feature))); }
  decisions() { return JSON.parse(w.query(this._h, 1, "")).map((d) => this._d(d)); }
  checkLimit(limit, current) {
    const c = w.limit(this._h, limit, current, 0);
    const m = w.limit(this._h, limit, 0, 1);
    return {
      limit,
      allowed: !!(c & 1),
      current: Number.isFinite(current) ? current : null,
      maximum: m === m && m !== Infinity ? m : null,
      currentTier: this.tier,
      direction: [null, "max", "min"][(c >> 1) & 3],
      reason: ["within_limit", "limit_exceeded", "limit_not_registered"][c >> 3],
    };
  }
  limit(limit) {
    const m = w.limit(this._h, limit, 0, 1);
    return m !== m ? undefined : m === Infinity ? null : m;
  }
  can(role, permission) { return w.can(this._h, role, permission); }
  upgradeGate(feature, requiredTier, upgradeHref) {
    if (requiredTier != null) tier(requiredTier);
    const [s, req, href] = JSON.parse(w.gate(this._h, feature, requiredTier, upgradeHref));
    return { state: ["allowed", "upgrade", "unavailable"][s], feature, currentTier: this.tier, requiredTier: req, upgradeHref: href };
  }
  toJSON() { return JSON.parse(w.query(this._h, 2, "")); }
}

export function upgradeGate(entitlements, opts) {
  need(entitlements, Entitlements);
  const o = options(opts, "upgradeGate options", ["feature", "requiredTier", "upgradeHref"]);
  const feature = o.str("feature");
  if (feature === undefined) throw bad("upgradeGate: `feature` is required");
  return entitlements.upgradeGate(feature, o.str("requiredTier"), o.str("upgradeHref"));
}

export function isEntitlementsError(value) {
  return value instanceof Error && value.name === E && typeof value.code === "string";
}

export function version() {
  return "0.1.0";
}
