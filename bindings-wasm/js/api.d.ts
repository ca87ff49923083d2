// The public API of @dev-health/entitlements-wasm (both builds). Hand-written: js/api.js
// implements it over the thin module; tests/types-check.ts checks it with tsc --strict.
/**
 * The catalog of tiers, features, limits and roles.
 */
export class Catalog {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * A shipped catalog by name: `default` or `dev-health-ops`.
     */
    static builtin(name: string): Catalog;
    /**
     * Whether `role` has `permission` (own or inherited); unknown ones are denied.
     */
    can(role: string, permission: string): boolean;
    /**
     * The default catalog: the Enterprise Edition tier table.
     */
    static default(): Catalog;
    /**
     * The `dev-health-ops` catalog: that backend's 32 features and seven limits.
     */
    static devHealthOps(): Catalog;
    /**
     * A catalog from its JSON document (text or object); validated, errors name the entry.
     */
    static fromJson(json: string | object): Catalog;
    /**
     * Every permission of `role`, own and inherited, in catalog order.
     */
    permissionsOf(role: string): string[];
    /**
     * A tier's display name, e.g. `Enterprise`.
     */
    tierName(tier: Tier): string;
    /**
     * The features, in catalog order:
     * `[{key, name, category, minTier, explicitPurchase, tierBound, description}]`.
     */
    readonly features: CatalogFeature[];
    /**
     * The limits, in catalog order: `[{key, name, direction, values: {tier: number | null}}]`.
     */
    readonly limits: CatalogLimit[];
    /**
     * The catalog's name.
     */
    readonly name: string;
    /**
     * The role names, in catalog order.
     */
    readonly roles: string[];
    /**
     * The tiers, lowest first: `[{tier, name, graceDays}]`.
     */
    readonly tiers: CatalogTier[];
}

/**
 * An org's resolved tier, features and limits. Checks are lookups into the resolved state.
 */
export class Entitlements {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Whether `role` has `permission` in the catalog.
     */
    can(role: string, permission: string): boolean;
    /**
     * Checks `current` against a limit:
     * `{limit, allowed, current, maximum, currentTier, direction, reason}`.
     */
    checkLimit(limit: string, current: number): LimitDecision;
    /**
     * The full decision for a feature:
     * `{feature, allowed, reason, denial, currentTier, requiredTier, expiresAt}`.
     */
    check(feature: string): Decision;
    /**
     * The decision for every feature of the catalog, in catalog order.
     */
    decisions(): Decision[];
    /**
     * Rebuilds entitlements from the JSON of `toJSON()` (for example what the entitlements API
     * returned), so a page can gate without holding the license.
     */
    static fromJSON(catalog: Catalog, json: EntitlementsJSON | string): Entitlements;
    /**
     * Whether the feature is allowed.
     */
    has(feature: string): boolean;
    /**
     * Whether the entitlements must be resolved again at `now` (the JS clock when left out).
     */
    isStale(now?: number | null): boolean;
    /**
     * The bound of a limit in force: a number, `null` for unlimited, `undefined` when the
     * catalog has no such limit.
     */
    limit(limit: string): number | null | undefined;
    /**
     * Resolves an org's entitlements (SPEC §3), as in SPEC §4 and the Node package:
     * `{catalog?, license?, orgId?, orgTier?, overrides?: [{feature, enabled, expiresAt?}],
     * killSwitches?, now?}` (the catalog defaults to `Catalog.default()`, `now` to the JS clock).
     */
    static resolve(input?: ResolveInput | null): Entitlements;
    /**
     * Resolves an org's entitlements (SPEC §3) from a catalog, a verified license (or none) and
     * `{orgId?, orgTier?, overrides?: [{feature, enabled, expiresAt?}], killSwitches?, now?}`
     * (`now` defaults to the JS clock).
     */
    static resolve(catalog: Catalog, license?: License | null, options?: ResolveOptions | null): Entitlements;
    /**
     * The JSON dev-health-web reads (SPEC §3): `{org_id, tier, licensed_users, licensed_repos,
     * features, features_override, limits_override, expires_at, is_valid, limits, status,
     * in_grace_period, grace_ends_at, license_id}`. `JSON.stringify(entitlements)` uses it.
     */
    toJSON(): EntitlementsJSON;
    /**
     * The UpgradeGate decision for a feature:
     * `{state: "allowed" | "upgrade" | "unavailable", feature, currentTier, requiredTier,
     * upgradeHref}` (default `upgradeHref` `/org/admin/settings`, only for `upgrade`).
     */
    upgradeGate(feature: string, requiredTier?: Tier | null, upgradeHref?: string | null): UpgradeGate;
    /** The same, with options as in the Node package: `(feature, {requiredTier?, upgradeHref?})`. */
    upgradeGate(feature: string, options: GateOptions): UpgradeGate;
    /**
     * The org resolved for, if any.
     */
    readonly orgId: string | null;
    /**
     * The first moment (Unix seconds) at which resolving again could answer differently.
     */
    readonly staleAt: number | undefined;
    /**
     * The resolved tier.
     */
    readonly tier: Tier;
}

/**
 * The trusted public keys, by `kid`, with optional validity windows.
 */
export class Keyring {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Adds a key (base64 of its 32 raw bytes), replacing any key with the same `kid`.
     */
    add(kid: string, publicKey: string): void;
    /**
     * Reads a JWKS document (`{"keys":[{"kty":"OKP","crv":"Ed25519","x":..,"kid":..}]}`), as
     * JSON text or as an object. Keys may carry `not_before` / `not_after` (Unix seconds).
     */
    static fromJwks(jwks: string | Jwks): Keyring;
    /**
     * A keyring from `{kid: "<base64 of the 32-byte public key>"}` (empty when left out).
     */
    constructor(keys?: Record<string, string> | null);
    /**
     * Reads a JWKS document or a `kid=base64,kid=base64` list (a bare base64 key gets the kid
     * `default`), the forms of `DEV_HEALTH_LICENSE_PUBLIC_KEYS`.
     */
    static parse(text: string): Keyring;
    /**
     * The keyring as a JWKS document.
     */
    toJwks(): Jwks;
    /**
     * The key ids, in insertion order.
     */
    readonly kids: string[];
    /**
     * The number of keys.
     */
    readonly size: number;
}

/**
 * A license whose signature and claims verified, with its status at the moment of verification.
 */
export class License {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Whole days of grace left at another moment (`null` unless in grace then).
     */
    graceDaysLeftAt(now?: number | null): number | undefined;
    /**
     * The status at another moment (Unix seconds; the JS clock when left out).
     */
    statusAt(now?: number | null): LicenseStatus;
    /**
     * The verification result as the CLI prints it (`dev-health-license verify --json`):
     * `{valid, status, format, kid, license_id, tier, sub, claims, expires_at, grace_ends_at,
     * grace_days_left}`.
     */
    toJSON(): LicenseJSON;
    /**
     * The deployments the license is for (`aud`; empty when absent).
     */
    readonly audience: string[];
    /**
     * Every claim, v2-shaped (`jti` for the license id), unknown claims kept.
     */
    readonly claims: Record<string, unknown>;
    /**
     * Display only: the contact email.
     */
    readonly contactEmail: string | null;
    /**
     * `exp`, Unix seconds.
     */
    readonly expiresAt: number;
    /**
     * Explicit feature grants (true) and removals (false) in the license.
     */
    readonly features: Record<string, boolean>;
    /**
     * `"v1"` (legacy) or `"v2"` (EdDSA JWT).
     */
    readonly format: "v1" | "v2";
    /**
     * Whole days of grace left at the moment of verification (`null` unless in grace).
     */
    readonly graceDaysLeft: number | undefined;
    /**
     * Grace days in force (the claim, or the catalog's default for the tier).
     */
    readonly graceDays: number;
    /**
     * The last second of the grace period, Unix seconds.
     */
    readonly graceEndsAt: number;
    /**
     * Whether the license grants its tier (`active` or `grace`).
     */
    readonly isValid: boolean;
    /**
     * `iat`, Unix seconds.
     */
    readonly issuedAt: number;
    /**
     * The issuer (`iss`).
     */
    readonly issuer: string;
    /**
     * The id of the key that verified it.
     */
    readonly kid: string;
    /**
     * The license id (`jti`, or v1 `license_id`).
     */
    readonly licenseId: string;
    /**
     * How it was sold: `saas`, `self_hosted`, `trial` or `evaluation`.
     */
    readonly licenseType: LicenseType;
    /**
     * Limits in the license, by catalog name (`null` is unlimited).
     */
    readonly limits: Record<string, number | null>;
    /**
     * `nbf`, Unix seconds, when the license has one.
     */
    readonly notBefore: number | undefined;
    /**
     * Display only: the org's name.
     */
    readonly orgName: string | null;
    /**
     * `"active"`, `"grace"` or `"expired"`, at the moment of verification.
     */
    readonly status: LicenseStatus;
    /**
     * The org id the license is for (`sub`).
     */
    readonly sub: string;
    /**
     * The licensed tier.
     */
    readonly tier: Tier;
    /**
     * The `now` the license was verified at, Unix seconds.
     */
    readonly verifiedAt: number;
}

/**
 * A signed revocation list, verified.
 */
export class RevocationList {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Whether the license id is revoked.
     */
    contains(licenseId: string): boolean;
    /**
     * Verifies a signed revocation list (`{"iss","iat","exp","revoked":[..]}`, EdDSA) with
     * `keyring`, expecting `issuer` (default `fullchaos.studio`), at `now` (the JS clock when
     * left out).
     */
    static verify(token: string, keyring: Keyring, issuer?: string | null, now?: number | null): RevocationList;
    /** The same, with options as in the Node package: `(token, keyring, {issuer?, now?})`. */
    static verify(token: string, keyring: Keyring, options: RevocationListOptions): RevocationList;
    /**
     * When the issuer expects it to be replaced (Unix seconds).
     */
    readonly expiresAt: number;
    /**
     * When the list was signed (Unix seconds).
     */
    readonly issuedAt: number;
    /**
     * How many ids the list holds.
     */
    readonly size: number;
}

/**
 * Verifies license tokens against a keyring.
 */
export class Verifier {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Stops checking a revocation list.
     */
    clearRevocationList(): void;
    /**
     * A verifier for `keyring` with options `{issuer = "fullchaos.studio", leeway = 60,
     * acceptV1 = true, deploymentId?, highWaterMark?}`. Grace days default to the default
     * catalog's; `useCatalog` and `useRevocationList` set the rest.
     */
    constructor(keyring: Keyring, options?: VerifierOptions | null);
    /**
     * Takes the default grace days per tier from this catalog.
     */
    useCatalog(catalog: Catalog): void;
    /**
     * Rejects licenses on this (verified) revocation list with `revoked`.
     */
    useRevocationList(list: RevocationList): void;
    /**
     * Verifies `token` at `now` (Unix seconds; the JS clock when left out). Throws an
     * `LicenseError` whose `code` says what was wrong; returns the license with its status.
     */
    verify(token: string, now?: number | null): License;
    /**
     * The expected issuer.
     */
    readonly issuer: string;
    /**
     * The leeway in seconds.
     */
    readonly leeway: number;
}

/**
 * Decodes a token WITHOUT verifying it, for display only (what a rejected token claims):
 * `{format, header, claims, signatureLength}`. Nothing in it is trusted.
 */
export function inspectToken(token: string): InspectedToken;

/**
 * Whether `value` is an error thrown by this package (an `Error` named `EntitlementsError` with
 * a string `code`).
 */
export function isEntitlementsError(value: unknown): value is EntitlementsError;

/**
 * The UpgradeGate decision (SPEC §4), made by the core:
 * `upgradeGate({feature, requiredTier?, entitlements, upgradeHref?})` →
 * `{state: "allowed" | "upgrade" | "unavailable", feature, currentTier, requiredTier, upgradeHref}`.
 */
export function upgradeGate(input: UpgradeGateInput): UpgradeGate;
/** The same decision: `upgradeGate(entitlements, {feature, requiredTier?, upgradeHref?})`. */
export function upgradeGate(entitlements: Entitlements, options: UpgradeGateOptions): UpgradeGate;

/**
 * The version of this package (the workspace version).
 */
export function version(): string;
