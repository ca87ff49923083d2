// The public JS API of @dev-health/entitlements-wasm (SPEC §4), over the thin wasm module.
//
// The module (bindings-wasm/src) exports coarse functions over numbers, strings and handles (its
// objects stay in a table on the Rust side); data crosses as JSON text, and a failed call returns
// "\x01code\x01message". This file builds the classes, getters, option bags and the error type on
// top. It makes no decision: every answer comes from the core. It checks arguments the way a JS
// API should (types, unknown option keys, finite numbers) so that a mistake is an
// `LicenseError` with code `invalid_input` and a message naming the argument.
//
// `make wasm` wraps this function for each build (js/build.mjs): an ES module for the web, a
// CommonJS module for Node. `w` is the wasm-bindgen glue of that build.
// eslint-disable-next-line no-unused-vars
function entitlementsApi(w) {
  "use strict";
  // The error class both JS packages declare (interface.d.ts): `LicenseError`. Its instances keep
  // the `name` "EntitlementsError" of this package's earlier releases (deprecated alias).
  const ERROR_NAME = "EntitlementsError";
  class LicenseError extends Error {
    constructor(code, message) {
      super(message);
      this.name = ERROR_NAME;
      this.code = code;
    }
  }

  const err = (code, message) => new LicenseError(code, message);
  const bad = (message) => err("invalid_input", message);
  // A module result: the text itself, or the error it carries thrown.
  const ok = (result) => {
    if (result.charCodeAt(0) === 1) {
      const end = result.indexOf("\x01", 1);
      throw err(result.slice(1, end), result.slice(end + 1));
    }
    return result;
  };
  const parsed = (result) => JSON.parse(ok(result));

  // Whole seconds from a JS value read as a number (as a wasm f64 parameter reads it: "17" is 17),
  // finite and within 2^53, floored.
  const seconds = (value, what) => {
    const n = +value;
    if (!Number.isFinite(n) || Math.abs(n) > 2 ** 53) throw bad(`${what} must be a finite number of Unix seconds`);
    return Math.floor(n);
  };
  // Unix seconds: `now` when given, else the JS clock.
  const clock = (now) => (now == null ? Math.floor(Date.now() / 1000) : seconds(now, "now"));
  // A document given as JSON text or as an object: its JSON text.
  const jsonText = (value, what) => {
    if (typeof value === "string") return value;
    if (value == null) throw bad(`${what} is missing: pass JSON text or an object`);
    return stringify(value, what);
  };
  const stringify = (value, what) => {
    let text;
    try {
      text = JSON.stringify(value);
    } catch {
      // cyclic, BigInt, a throwing toJSON: reported below
    }
    if (typeof text !== "string") throw bad(`${what} cannot be read as JSON`);
    return text;
  };
  // A JS value as plain JSON data (`undefined`/`null` are `null`), as the module would read it.
  const data = (value, what) => (value == null ? null : JSON.parse(stringify(value, what)));
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

  // A strict options bag: unknown keys, wrong types and non-finite numbers are `invalid_input`,
  // so that a misspelt option (`accept_v1` for `acceptV1`) is not silently ignored.
  const options = (value, what, known) => {
    if (value !== null && typeof value === "object") {
      // JSON has no NaN or Infinity: they would read as "not given". Refuse them first.
      for (const key of known) {
        let n;
        try {
          n = value[key];
        } catch {
          throw bad(`${what} cannot be read as JSON`);
        }
        if (typeof n === "number" && !Number.isFinite(n)) throw bad(`${what}: \`${key}\` must be a finite number`);
      }
    }
    const bag = data(value, what) ?? {};
    if (!isObject(bag)) throw bad(`${what} must be an object`);
    for (const key in bag) {
      if (!known.includes(key)) throw bad(`${what}: unknown option \`${key}\` (known: ${known.join(", ")})`);
    }
    const get = (key, fits, expected) => {
      const v = bag[key];
      if (v == null) return undefined;
      if (!fits(v)) throw bad(`${what}: \`${key}\` must be ${expected}`);
      return v;
    };
    return {
      str: (key) => get(key, (v) => typeof v === "string", "a string"),
      bool: (key) => get(key, (v) => typeof v === "boolean", "a boolean"),
      int: (key) => get(key, Number.isInteger, "a whole number"),
      value: (key) => (bag[key] == null ? undefined : bag[key]),
      // The caller's own value (not read through JSON): for lists whose members hold numbers.
      raw: (key) => (value?.[key] == null ? undefined : value[key]),
    };
  };

  // Handles: each object owns one slot of the module's table, freed by `free()` (or `using`), or
  // by the garbage collector through the registry.
  const registry = new FinalizationRegistry((handle) => w.free(handle));
  const own = (Class, handle, fields) => {
    const obj = Object.create(Class.prototype);
    obj._handle = handle;
    registry.register(obj, handle, obj);
    return Object.assign(obj, fields);
  };
  class Handle {
    /** Frees the object in the module now, rather than when it is garbage-collected. */
    free() {
      const handle = this._handle;
      if (handle !== undefined) {
        // Forgotten first: if this object cannot be changed (frozen), it keeps its slot.
        this._handle = undefined;
        registry.unregister(this);
        w.free(handle);
      }
    }
    get _h() {
      if (this._handle === undefined) throw new Error(`${this.constructor.name} was freed`);
      return this._handle;
    }
  }
  if (Symbol.dispose) Handle.prototype[Symbol.dispose] = Handle.prototype.free;
  // A member cached in JS, read like the others: only while the object is alive.
  const cached = (obj, key) => (obj._h === undefined ? undefined : obj[key]);
  const handleOf = (value, Class) => {
    if (!(value instanceof Class)) throw new Error(`expected instance of ${Class.name}`);
    return value._h;
  };

  class Keyring extends Handle {
    constructor(keys) {
      super();
      const map = data(keys, "keys");
      if (map !== null && !isObject(map)) throw bad("keys must be an object {kid: base64}");
      const handle = +ok(w.keyring(0, ""));
      try {
        for (const kid in map) {
          const key = map[kid];
          ok(w.keyring_add(handle, kid, typeof key === "string" ? key : undefined, true));
        }
      } catch (e) {
        w.free(handle);
        throw e;
      }
      return own(Keyring, handle);
    }
    static fromJwks(jwks) {
      return own(Keyring, +ok(w.keyring(1, jsonText(jwks, "the JWKS document"))));
    }
    static parse(text) {
      return own(Keyring, +ok(w.keyring(2, text)));
    }
    add(kid, publicKey) {
      ok(w.keyring_add(this._h, kid, publicKey, false));
    }
    toJwks() {
      return parsed(w.keyring_jwks(this._h));
    }
    get kids() {
      return this.toJwks().keys.map((k) => k.kid);
    }
    get size() {
      return this.toJwks().keys.length;
    }
  }

  const VERIFIER_OPTIONS = ["issuer", "leeway", "acceptV1", "deploymentId", "highWaterMark"];
  class Verifier extends Handle {
    constructor(keyring, opts) {
      super();
      const keys = handleOf(keyring, Keyring);
      const o = options(opts, "Verifier options", VERIFIER_OPTIONS);
      const args = [o.str("issuer"), o.int("leeway"), o.bool("acceptV1"), o.str("deploymentId"), o.int("highWaterMark")];
      const [handle, issuer, leeway] = parsed(w.verifier(keys, ...args));
      return own(Verifier, handle, { _issuer: issuer, _leeway: leeway });
    }
    useCatalog(catalog) {
      ok(w.verifier_set(this._h, 0, handleOf(catalog, Catalog)));
    }
    useRevocationList(list) {
      ok(w.verifier_set(this._h, 1, handleOf(list, RevocationList)));
    }
    clearRevocationList() {
      ok(w.verifier_set(this._h, 2, 0));
    }
    verify(token, now) {
      return own(License, +ok(w.verify(this._h, token, clock(now))));
    }
    get issuer() {
      return cached(this, "_issuer");
    }
    get leeway() {
      return cached(this, "_leeway");
    }
  }

  // Fetched and parsed once per object; members that are objects or lists are handed out as
  // copies, so callers get objects of their own (as a getter of the module gave).
  const copy = (value) => (value !== null && typeof value === "object" ? structuredClone(value) : value);
  // A license's data: [graceDays, verifiedAt, toJSON()].
  const L = (license, i) => {
    const handle = license._h; // throws once freed, like every other member
    return (license._data ??= parsed(w.license_json(handle)))[i];
  };
  const claims = (license) => L(license, 2).claims;
  class License extends Handle {
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
    get issuer() { return claims(this).iss; }
    get licenseType() { return claims(this).license_type; }
    get issuedAt() { return claims(this).iat; }
    get notBefore() { return claims(this).nbf ?? undefined; }
    get audience() { return copy(claims(this).aud ?? []); }
    get orgName() { return claims(this).org_name ?? null; }
    get contactEmail() { return claims(this).contact_email ?? null; }
    get features() { return copy(claims(this).features); }
    get limits() { return copy(claims(this).limits); }
    get claims() { return copy(claims(this)); }
    statusAt(now) {
      return ["active", "grace", "expired"][w.license_at(this._h, 0, clock(now))];
    }
    graceDaysLeftAt(now) {
      const days = w.license_at(this._h, 1, clock(now));
      return days < 0 ? undefined : days;
    }
    toJSON() {
      return copy(L(this, 2));
    }
  }

  class RevocationList extends Handle {
    // (token, keyring, {issuer?, now?}) as in Node, or (token, keyring, issuer?, now?).
    static verify(token, keyring, issuer, now) {
      const keys = handleOf(keyring, Keyring);
      if (issuer !== null && typeof issuer === "object") {
        const o = options(issuer, "revocation list options", ["issuer", "now"]);
        [issuer, now] = [o.str("issuer"), o.int("now")];
      }
      const [handle, size, issuedAt, expiresAt] = parsed(w.revocation(token, keys, issuer ?? undefined, clock(now)));
      return own(RevocationList, handle, { _info: { size, issuedAt, expiresAt } });
    }
    contains(licenseId) {
      return w.contains(this._h, licenseId);
    }
    get size() { return cached(this, "_info").size; }
    get issuedAt() { return cached(this, "_info").issuedAt; }
    get expiresAt() { return cached(this, "_info").expiresAt; }
  }

  function inspectToken(token) {
    const t = parsed(w.inspect(token));
    return { format: t.format, header: t.header, claims: t.claims, signatureLength: t.signature_bytes };
  }

  const catalog = (kind, source = "") => own(Catalog, +ok(w.catalog(kind, source)));
  // [name, tiers, features, limits, roles] in lists, fetched once; each read builds new objects.
  const info = (c, i) => {
    const handle = c._h;
    return (c._info ??= parsed(w.catalog_info(handle)))[i];
  };
  class Catalog extends Handle {
    static default() { return catalog(0); }
    static devHealthOps() { return catalog(1); }
    static builtin(name) { return catalog(2, name); }
    static fromJson(json) { return catalog(3, jsonText(json, "the catalog document")); }
    get name() { return info(this, 0); }
    get tiers() {
      return info(this, 1).map(([tier, name, graceDays]) => ({ tier, name, graceDays }));
    }
    get features() {
      return info(this, 2).map(([key, name, category, minTier, explicitPurchase, tierBound, description]) =>
        ({ key, name, category, minTier, explicitPurchase, tierBound, description }));
    }
    get limits() {
      return info(this, 3).map(([key, name, direction, [community, team, enterprise]]) =>
        ({ key, name, direction, values: { community, team, enterprise } }));
    }
    get roles() { return [...info(this, 4)]; }
    tierName(tier) { return parsed(w.tier_name(this._h, tier)); }
    can(role, permission) { return w.can(this._h, role, permission); }
    permissionsOf(role) { return parsed(w.permissions(this._h, role)); }
  }

  const RESOLVE_OPTIONS = ["orgId", "orgTier", "overrides", "killSwitches", "now"];
  const OVERRIDE_KEYS = ["feature", "enabled", "expiresAt"];
  const overrides = (list) => {
    if (!Array.isArray(list)) throw bad("`overrides` must be a list");
    return list.map((item, i) => {
      const wrong = (what) => bad(`overrides[${i}]: ${what}`);
      if (!isObject(item)) throw wrong("must be an object {feature, enabled, expiresAt?}");
      for (const key in item) {
        if (!OVERRIDE_KEYS.includes(key)) throw wrong(`unknown key \`${key}\` (known: feature, enabled, expiresAt)`);
      }
      if (typeof item.feature !== "string") throw wrong("`feature` must be a string");
      if (typeof item.enabled !== "boolean") throw wrong("`enabled` must be a boolean");
      const at = item.expiresAt ?? null;
      if (at !== null && !(Number.isInteger(at) && Math.abs(at) < 2 ** 63)) {
        throw wrong("`expiresAt` must be whole Unix seconds or null");
      }
      return [item.feature, item.enabled, at];
    });
  };
  const killSwitches = (switches) => {
    if (!isObject(switches)) throw bad("`killSwitches` must be an object {feature: enabled}");
    for (const feature in switches) {
      if (typeof switches[feature] !== "boolean") throw bad(`killSwitches.${feature} must be a boolean`);
    }
    return switches;
  };
  // [handle, tier, orgId, staleAt] from the module.
  const entitlements = (result) => {
    const [handle, tier, orgId, staleAt] = parsed(result);
    return own(Entitlements, handle, { _tier: tier, _orgId: orgId, _staleAt: staleAt });
  };
  const decision = (ent, [feature, allowed, reason, denial, requiredTier, expiresAt]) =>
    ({ feature, allowed, reason, denial, currentTier: ent._tier, requiredTier, expiresAt });

  let defaultCatalog;
  class Entitlements extends Handle {
    // SPEC §4 (as in Node): resolve({catalog?, license?, orgId?, orgTier?, overrides?,
    // killSwitches?, now?}), the catalog defaulting to Catalog.default(); or
    // resolve(catalog, license, {orgId?, …}).
    static resolve(catalog, license, opts) {
      if (!(catalog instanceof Catalog) && arguments.length < 2) {
        const bag = catalog ?? {};
        if (!isObject(bag)) throw bad("resolve options must be an object");
        ({ catalog, license, ...opts } = bag);
        if (catalog == null) catalog = (defaultCatalog ??= Catalog.default());
      }
      const cat = handleOf(catalog, Catalog);
      let lic;
      if (license != null) {
        if (!(license instanceof License) || license._handle === undefined) {
          throw bad("`license` must be a License (from Verifier.verify) or null");
        }
        lic = license._h;
      }
      const o = options(opts, "resolve options", RESOLVE_OPTIONS);
      const orgId = o.str("orgId");
      const orgTier = o.str("orgTier");
      // Checked on the caller's values: through JSON, an `expiresAt` of NaN would read as null.
      const list = JSON.stringify(overrides(o.raw("overrides") ?? []));
      const switches = JSON.stringify(killSwitches(o.raw("killSwitches") ?? {}));
      const now = o.int("now") ?? clock();
      return entitlements(w.resolve(cat, lic, orgId, orgTier, list, switches, now));
    }
    static fromJSON(catalog, json) {
      const cat = handleOf(catalog, Catalog);
      const text = typeof json === "string" ? json : stringify(json ?? null, "entitlements JSON");
      return entitlements(w.entitlements_from_json(cat, text));
    }
    get tier() { return cached(this, "_tier"); }
    get orgId() { return cached(this, "_orgId"); }
    get staleAt() { return cached(this, "_staleAt") ?? undefined; }
    isStale(now) { return w.is_stale(this._h, clock(now)); }
    has(feature) { return w.contains(this._h, feature); }
    check(feature) { return decision(this, parsed(w.query(this._h, 0, feature))); }
    decisions() { return parsed(w.query(this._h, 1, "")).map((d) => decision(this, d)); }
    checkLimit(limit, current) {
      const [allowed, maximum, direction, reason] = parsed(w.check_limit(this._h, limit, current));
      const n = Number(current);
      return { limit, allowed, current: Number.isFinite(n) ? n : null, maximum, currentTier: this._tier, direction, reason };
    }
    limit(limit) {
      const [, maximum, direction] = parsed(w.check_limit(this._h, limit, 0));
      return direction === null ? undefined : maximum;
    }
    can(role, permission) { return w.can(this._h, role, permission); }
    // (feature, {requiredTier?, upgradeHref?}) as in Node, or (feature, requiredTier?, upgradeHref?).
    upgradeGate(feature, requiredTier, upgradeHref) {
      if (requiredTier !== null && typeof requiredTier === "object") {
        const o = options(requiredTier, "upgradeGate options", ["requiredTier", "upgradeHref"]);
        [requiredTier, upgradeHref] = [o.str("requiredTier"), o.str("upgradeHref")];
      }
      const [state, required, href] = parsed(w.gate(this._h, feature, requiredTier ?? undefined, upgradeHref ?? undefined));
      return { state, feature, currentTier: this._tier, requiredTier: required, upgradeHref: href };
    }
    toJSON() { return parsed(w.query(this._h, 2, "")); }
  }

  // SPEC §4 (as in Node): upgradeGate({feature, requiredTier?, entitlements, upgradeHref?}); or
  // upgradeGate(entitlements, {feature, requiredTier?, upgradeHref?}).
  function upgradeGate(entitlements, opts) {
    if (!(entitlements instanceof Entitlements)) {
      const bag = entitlements;
      if (!isObject(bag)) throw bad("upgradeGate takes {feature, requiredTier?, entitlements, upgradeHref?}");
      ({ entitlements, ...opts } = bag);
      if (!(entitlements instanceof Entitlements)) throw bad("upgradeGate: `entitlements` must be an Entitlements");
    }
    const o = options(opts, "upgradeGate options", ["feature", "requiredTier", "upgradeHref"]);
    const feature = o.str("feature");
    if (feature === undefined) throw bad("upgradeGate: `feature` is required");
    return entitlements.upgradeGate(feature, o.str("requiredTier"), o.str("upgradeHref"));
  }

  function isEntitlementsError(value) {
    return value instanceof Error && value.name === ERROR_NAME && typeof value.code === "string";
  }

  const api = {
    Keyring,
    Verifier,
    License,
    RevocationList,
    Catalog,
    Entitlements,
    upgradeGate,
    inspectToken,
    isEntitlementsError,
    LicenseError,
    EntitlementsError: LicenseError,
    version: () => w.version(),
  };

  // The `full` build (Node, and the browser conformance run): sessions and Stripe.
  if (w.session_verifier) {
    const SESSION_OPTIONS = ["hs256Secret", "leeway", "issuer"];
    class SessionVerifier extends Handle {
      constructor(keyring, opts) {
        super();
        const keys = handleOf(keyring, Keyring);
        const o = options(opts, "SessionVerifier options", SESSION_OPTIONS);
        return own(SessionVerifier, +ok(w.session_verifier(keys, o.str("hs256Secret"), o.int("leeway"), o.str("issuer"))));
      }
      verify(token, now) {
        return parsed(w.session_verify(this._h, token, clock(now)));
      }
    }
    api.SessionVerifier = SessionVerifier;
    // (payload, header, secrets, {now?, tolerance?}) as in Node, or (…, now?, tolerance?); `secrets`
    // is one secret or a list.
    api.verifyStripeSignature = (payload, header, secrets, now, tolerance) => {
      if (now !== null && typeof now === "object") {
        const o = options(now, "Stripe signature options", ["now", "tolerance"]);
        [now, tolerance] = [o.value("now"), o.value("tolerance")];
      }
      if (typeof secrets === "string") secrets = [secrets];
      let bytes;
      if (typeof payload === "string") bytes = new TextEncoder().encode(payload);
      else if (payload instanceof Uint8Array) bytes = payload;
      else throw bad("the payload must be a string or a Uint8Array");
      if (!Array.isArray(secrets) || !secrets.every((s) => typeof s === "string")) {
        throw bad("secrets must be a list of strings");
      }
      const limit = tolerance == null ? undefined : seconds(tolerance, "tolerance");
      return +ok(w.stripe_signature(bytes, header, secrets, clock(now), limit));
    };
    api.replayStripeEvents = (input) => parsed(w.stripe_replay(stringify(input ?? null, "replay input")));
  }
  // The bench build's baseline (bare ed25519-dalek verify_strict), for `make bench-wasm` only.
  if (w.BenchStrictVerifier) api.BenchStrictVerifier = w.BenchStrictVerifier;
  return api;
}
