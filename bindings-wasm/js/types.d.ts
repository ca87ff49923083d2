/** A product tier, lowest first: community < team < enterprise. */
export type Tier = "community" | "team" | "enterprise";

/** Where a verified license stands: `active` (now <= exp), `grace`, `expired`. */
export type LicenseStatus = "active" | "grace" | "expired";

/** How a license was sold. */
export type LicenseType = "saas" | "self_hosted" | "trial" | "evaluation";

/** The stable error codes (SPEC §1.4 and the engine's other inputs). */
export type ErrorCode =
  | "token_too_large"
  | "malformed_token"
  | "unsupported_algorithm"
  | "unknown_key_id"
  | "key_not_valid_now"
  | "invalid_signature"
  | "invalid_claims"
  | "issuer_mismatch"
  | "audience_mismatch"
  | "issued_in_future"
  | "not_yet_valid"
  | "revoked"
  | "clock_rollback"
  | "invalid_key"
  | "invalid_catalog"
  | "invalid_input"
  | "license_not_found"
  | "session_expired"
  | "stripe_signature_malformed"
  | "stripe_signature_mismatch"
  | "stripe_timestamp_out_of_tolerance"
  | "invalid_stripe_event";

/** The one error type this package throws: a JS `Error` with a stable `code`. */
export interface EntitlementsError extends Error {
  name: "EntitlementsError";
  code: ErrorCode;
}

/** One OKP public key of a JWKS document (RFC 8037), with an optional validity window. */
export interface Jwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg?: "EdDSA";
  use?: string;
  /** Tokens issued before this moment (Unix seconds) are refused. */
  not_before?: number;
  /** Tokens issued after this moment (Unix seconds) are refused. */
  not_after?: number;
}

/** A JWKS document. */
export interface Jwks {
  keys: Jwk[];
}

/** Options of `new Verifier(keyring, options)`. */
export interface VerifierOptions {
  /** The expected `iss` (default `fullchaos.studio`). */
  issuer?: string;
  /** Seconds of clock skew tolerated (default 60). */
  leeway?: number;
  /** Accept legacy v1 tokens (default true). */
  acceptV1?: boolean;
  /** Require this deployment id in the token's `aud`. */
  deploymentId?: string | null;
  /** The latest `now` seen (the host persists it): the clock-rollback guard. */
  highWaterMark?: number | null;
}

/** `License.toJSON()`: the shape of `dev-health-license verify --json`. */
export interface LicenseJSON {
  /** Whether the license grants its tier (active or grace). */
  valid: boolean;
  status: LicenseStatus;
  format: "v1" | "v2";
  kid: string;
  license_id: string;
  tier: Tier;
  sub: string;
  claims: Record<string, unknown>;
  expires_at: number;
  grace_ends_at: number;
  grace_days_left: number | null;
}

/** `inspectToken(token)`: what a token claims, NOT verified. */
export interface InspectedToken {
  format: "v1" | "v2";
  header: Record<string, unknown> | null;
  claims: Record<string, unknown>;
  signatureLength: number;
}

/** A tier of the catalog. */
export interface CatalogTier {
  tier: Tier;
  name: string;
  graceDays: number;
}

/** A feature of the catalog. */
export interface CatalogFeature {
  key: string;
  name: string;
  category: string;
  minTier: Tier;
  explicitPurchase: boolean;
  tierBound: boolean;
  description: string;
}

/** A limit of the catalog: a ceiling (`max`) or a floor (`min`), per tier (`null` unlimited). */
export interface CatalogLimit {
  key: string;
  name: string;
  direction: "max" | "min";
  values: Record<Tier, number | null>;
}

/** A per-org feature override, in force while `expiresAt > now`. */
export interface Override {
  feature: string;
  enabled: boolean;
  expiresAt?: number | null;
}

/** Options of `Entitlements.resolve(catalog, license, options)`. */
export interface ResolveOptions {
  /** The org being resolved (a `saas`/`trial` license applies only to its own `sub`). */
  orgId?: string | null;
  /** The org's own tier, from billing. */
  orgTier?: Tier | null;
  overrides?: Override[];
  /** Global kill switches: feature → enabled. */
  killSwitches?: Record<string, boolean>;
  /** Unix seconds (default: the JS clock). */
  now?: number | null;
}

/** `Entitlements.resolve(input)` (SPEC §4, as in the Node package): the options plus what to resolve. */
export interface ResolveInput extends ResolveOptions {
  /** The catalog (default: `Catalog.default()`). */
  catalog?: Catalog | null;
  /** A verified license, or none. */
  license?: License | null;
}

/** Why a feature is allowed or denied: the rule of SPEC §3 that decided. */
export type Reason =
  | "feature_not_registered"
  | "global_disabled"
  | "org_override_disabled"
  | "enabled_by_org_override"
  | "license_override_disabled"
  | "enabled_by_license_override"
  | "explicit_purchase_required"
  | "enabled_by_tier"
  | "tier_required"
  | "not_in_license";

/** A feature decision. */
export interface Decision {
  feature: string;
  allowed: boolean;
  reason: Reason;
  /** How a denial is presented: a purchase would unlock it, or an admin turned it off. */
  denial: "not_licensed" | "not_enabled" | null;
  currentTier: Tier;
  requiredTier: Tier | null;
  expiresAt: number | null;
}

/** A limit decision. For a `min` limit, `maximum` holds the floor. */
export interface LimitDecision {
  limit: string;
  allowed: boolean;
  /** `null` when the given `current` was not a finite number (then never allowed). */
  current: number | null;
  maximum: number | null;
  currentTier: Tier;
  direction: "max" | "min" | null;
  reason: "within_limit" | "limit_exceeded" | "limit_not_registered";
}

/** The UpgradeGate decision. */
export interface UpgradeGate {
  state: "allowed" | "upgrade" | "unavailable";
  feature: string;
  currentTier: Tier;
  requiredTier: Tier | null;
  upgradeHref: string | null;
}

/** `upgradeGate(input)` (SPEC §4, as in the Node package). */
export interface UpgradeGateInput extends UpgradeGateOptions {
  /** The resolved entitlements. */
  entitlements: Entitlements;
}

/** Options of `entitlements.upgradeGate(feature, options)`. */
export interface GateOptions {
  requiredTier?: Tier | null;
  /** Default `/org/admin/settings`. */
  upgradeHref?: string | null;
}

/** Options of `RevocationList.verify(token, keyring, options)`. */
export interface RevocationListOptions {
  /** The expected issuer (default `fullchaos.studio`). */
  issuer?: string | null;
  /** Unix seconds (default: the JS clock). */
  now?: number | null;
}

/** Options of `verifyStripeSignature(payload, header, secrets, options)`. */
export interface StripeSignatureOptions {
  /** Unix seconds (default: the JS clock). */
  now?: number | null;
  /** How far the signed timestamp may lie from `now`, in seconds (default 300). */
  tolerance?: number | null;
}

/** Options of `upgradeGate(entitlements, options)`. */
export interface UpgradeGateOptions {
  feature: string;
  requiredTier?: Tier | null;
  /** Default `/org/admin/settings`. */
  upgradeHref?: string | null;
}

/** `Entitlements.toJSON()`: the JSON dev-health-web reads (SPEC §3). Times are RFC 3339. */
export interface EntitlementsJSON {
  org_id: string | null;
  tier: Tier;
  licensed_users: number | null;
  licensed_repos: number | null;
  features: Record<string, boolean>;
  features_override: Record<string, boolean>;
  limits_override: Record<string, number | null>;
  expires_at: string | null;
  is_valid: boolean;
  limits: Record<string, number | null>;
  /** Why each feature is on or off (the rule of SPEC §3 that decided). */
  reasons: Record<string, Reason>;
  status: LicenseStatus | null;
  in_grace_period: boolean;
  grace_ends_at: string | null;
  license_id: string | null;
}

/** Options of `new SessionVerifier(keyring, options)`. */
export interface SessionVerifierOptions {
  /** A shared HS256 secret (UTF-8, at least 32 bytes); without it only EdDSA is accepted. */
  hs256Secret?: string | null;
  leeway?: number;
  issuer?: string | null;
}

/** A verified user session. */
export interface Session {
  sub: string;
  email: string;
  orgId: string;
  role: string;
  isSuperuser: boolean;
  /** Expiry (Unix seconds), as in the Node package. */
  exp: number;
  /** @deprecated The same as `exp` (this package's earlier name). */
  expiresAt: number;
}

/** `replayStripeEvents` input: the core's JSON shapes (snake_case). */
export interface StripeReplayInput {
  config?: Record<string, unknown> | null;
  orgs?: Record<string, unknown>[];
  events: Record<string, unknown>[];
}

/** `replayStripeEvents` result: one outcome per event, the final orgs, the revoked licenses. */
export interface StripeReplay {
  outcomes: Record<string, unknown>[];
  orgs: Record<string, Record<string, unknown>>;
  revokedLicenseIds: string[];
}
