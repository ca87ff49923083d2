// The engine's values (tiers, statuses, reasons, decisions, the catalog view, the JSON documents
// and the error class) are declared in js/interface.d.ts, generated from the core's interface
// layer and shared with the Node package; js/build.mjs puts it first in index.d.ts. What follows
// is this package's own: option bags and the shapes only its API has.

/**
 * @deprecated The same class as `LicenseError` (the name both JS packages share). Errors of this
 * package keep the `name` "EntitlementsError" for this release, so that code testing `e.name`
 * keeps working.
 */
export type EntitlementsError = LicenseError;
/** @deprecated The same class as `LicenseError`. */
export declare const EntitlementsError: typeof LicenseError;

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

/** `inspectToken(token)`: what a token claims, NOT verified. */
export interface InspectedToken {
  format: "v1" | "v2";
  header: Record<string, unknown> | null;
  claims: Record<string, unknown>;
  signatureLength: number;
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
