/* Generated from core/src/interface.rs by `make types` (ts-rs): do not edit. A test fails when this file differs from what the Rust types generate. */

/**
 * A product tier. Tiers are ordered: `Community < Team < Enterprise`.
 */
export type Tier = "community" | "team" | "enterprise";
/**
 * Where a verified license stands at a moment in time (SPEC §1.4).
 */
export type LicenseStatus = "active" | "grace" | "expired";
/**
 * How a license was sold; decides whether it covers one org or the whole instance (SPEC §3).
 */
export type LicenseType = "saas" | "self_hosted" | "trial" | "evaluation";
/**
 * Which format a token was written in.
 */
export type TokenFormat = "v1" | "v2";
/**
 * Why a feature is allowed or denied: the rule of SPEC §3 that decided it.
 */
export type Reason = "feature_not_registered" | "global_disabled" | "org_override_disabled" | "enabled_by_org_override" | "license_override_disabled" | "enabled_by_license_override" | "explicit_purchase_required" | "enabled_by_tier" | "tier_required" | "not_in_license";
/**
 * The two kinds of denial the bindings present differently.
 */
export type Denial = "not_licensed" | "not_enabled";
/**
 * Why a limit check came out as it did.
 */
export type LimitReason = "within_limit" | "limit_exceeded" | "limit_not_registered";
/**
 * Whether a limit is a ceiling or a floor.
 */
export type LimitDirection = "max" | "min";
/**
 * What an UpgradeGate shows (SPEC §4).
 */
export type GateState = "allowed" | "upgrade" | "unavailable";
/**
 * A stable, snake_case error code. The same strings appear in every language binding.
 *
 * The first thirteen are the license-verification codes of SPEC §1.4; the rest name failures of
 * the other inputs the engine accepts (keys, catalogs, session tokens, Stripe webhooks).
 */
export type ErrorCode = "token_too_large" | "malformed_token" | "unsupported_algorithm" | "unknown_key_id" | "key_not_valid_now" | "invalid_signature" | "invalid_claims" | "issuer_mismatch" | "audience_mismatch" | "issued_in_future" | "not_yet_valid" | "revoked" | "clock_rollback" | "invalid_key" | "invalid_catalog" | "invalid_input" | "license_not_found" | "session_expired" | "stripe_signature_malformed" | "stripe_signature_mismatch" | "stripe_timestamp_out_of_tolerance" | "invalid_stripe_event";
/**
 * An error as another language sees it: a stable code (SPEC §1.4) and a message. Each binding
 * raises it as its one error type (`LicenseError`).
 */
export type ErrorJSON = { 
/**
 * The stable code.
 */
code: ErrorCode, 
/**
 * What was wrong, never echoing key material.
 */
message: string, };
/**
 * A feature decision (SPEC §3), with how a denial is presented.
 */
export type Decision = { 
/**
 * The feature asked about.
 */
feature: string, 
/**
 * Whether it is allowed.
 */
allowed: boolean, 
/**
 * The rule of SPEC §3 that decided.
 */
reason: Reason, 
/**
 * How a denial is presented: a purchase would unlock it, or an admin turned it off
 * (`null` when allowed). The Node package leaves it out: its decisions had no `denial` in
 * its first release, and callers compare them whole (`Reason`'s denial kind is `reason`'s).
 */
denial?: Denial | null, 
/**
 * The org's resolved tier.
 */
currentTier: Tier, 
/**
 * The feature's minimum tier (`null` for an unknown feature).
 */
requiredTier: Tier | null, 
/**
 * When the decision's source lapses (Unix seconds): an override's `expires_at`, or the end
 * of the license's grace when the license decided.
 */
expiresAt: number | null, };
/**
 * A limit decision (SPEC §3, §7.7). For a `min` limit, `maximum` holds the floor.
 */
export type LimitDecision = { 
/**
 * The limit asked about.
 */
limit: string, 
/**
 * Whether `current` is within it.
 */
allowed: boolean, 
/**
 * The value checked (`null` when it was not a finite number: then never allowed).
 */
current: number | null, 
/**
 * The bound in force; `null` is unlimited.
 */
maximum: number | null, 
/**
 * The org's resolved tier.
 */
currentTier: Tier, 
/**
 * Ceiling or floor (`null` for an unknown limit).
 */
direction: LimitDirection | null, 
/**
 * Why.
 */
reason: LimitReason, };
/**
 * The UpgradeGate decision for one feature (SPEC §4).
 */
export type UpgradeGate = { 
/**
 * What to show.
 */
state: GateState, 
/**
 * The feature.
 */
feature: string, 
/**
 * The org's tier.
 */
currentTier: Tier, 
/**
 * The tier that unlocks it, where one does.
 */
requiredTier: Tier | null, 
/**
 * Where the upgrade link goes (only for `upgrade`).
 */
upgradeHref: string | null, };
/**
 * A tier of the catalog, with its default grace days.
 */
export type CatalogTier = { 
/**
 * The tier.
 */
tier: Tier, 
/**
 * Its display name.
 */
name: string, 
/**
 * Days a license of this tier stays usable after `exp` unless it says otherwise.
 */
graceDays: number, };
/**
 * A feature of the catalog.
 */
export type CatalogFeature = { 
/**
 * The feature key.
 */
key: string, 
/**
 * Its display name.
 */
name: string, 
/**
 * Its category (for grouping in a UI).
 */
category: string, 
/**
 * The lowest tier that includes it.
 */
minTier: Tier, 
/**
 * Off on every tier unless granted explicitly.
 */
explicitPurchase: boolean, 
/**
 * An override cannot lift an org below `minTier` to it.
 */
tierBound: boolean, 
/**
 * What it does.
 */
description: string, };
/**
 * A limit's bound on each tier (`null` is unlimited).
 */
export type TierLimits = { 
/**
 * On community.
 */
community: number | null, 
/**
 * On team.
 */
team: number | null, 
/**
 * On enterprise.
 */
enterprise: number | null, };
/**
 * A limit of the catalog: a ceiling (`max`) or a floor (`min`), per tier (`null` unlimited).
 */
export type CatalogLimit = { 
/**
 * The limit key.
 */
key: string, 
/**
 * Its display name.
 */
name: string, 
/**
 * Ceiling or floor.
 */
direction: LimitDirection, 
/**
 * The bound of each tier.
 */
values: TierLimits, };
/**
 * A catalog as hosts show it (SPEC §2): its tiers with their grace days, its features with their
 * categories, its limits per tier and its roles.
 */
export type CatalogJSON = { 
/**
 * The catalog's name.
 */
name: string, 
/**
 * The tiers, lowest first.
 */
tiers: Array<CatalogTier>, 
/**
 * The features, in catalog order.
 */
features: Array<CatalogFeature>, 
/**
 * The limits, in catalog order.
 */
limits: Array<CatalogLimit>, 
/**
 * The role names, lowest first.
 */
roles: Array<string>, };
/**
 * `License.toJSON()` / `License.to_dict()`: the shape of `dev-health-license verify --json`
 * (written by the core's `License::to_json`). Times are Unix seconds.
 */
export type LicenseJSON = { 
/**
 * Whether the license grants its tier (`active` or `grace`).
 */
valid: boolean, 
/**
 * Where it stands.
 */
status: LicenseStatus, 
/**
 * The token format.
 */
format: TokenFormat, 
/**
 * The key id that verified it (empty for v1).
 */
kid: string, 
/**
 * The license id.
 */
license_id: string, 
/**
 * The licensed tier.
 */
tier: Tier, 
/**
 * The org id it was issued for.
 */
sub: string, 
/**
 * Every claim, v2-shaped.
 */
claims: Record<string, unknown>, 
/**
 * `exp`.
 */
expires_at: number, 
/**
 * The last second of grace.
 */
grace_ends_at: number, 
/**
 * Whole days of grace left when in grace.
 */
grace_days_left: number | null, };
/**
 * `Entitlements.toJSON()` / `to_dict()`: the JSON dev-health-web reads (SPEC §3, §7.6), written
 * by the core's `Entitlements::to_json`. Times are RFC 3339 strings.
 */
export type EntitlementsJSON = { 
/**
 * The org resolved for.
 */
org_id: string | null, 
/**
 * The resolved tier.
 */
tier: Tier, 
/**
 * The user limit in force (`null` unlimited).
 */
licensed_users: number | null, 
/**
 * The repository limit in force (`null` unlimited).
 */
licensed_repos: number | null, 
/**
 * Every catalog feature: on or off.
 */
features: { [key in string]: boolean }, 
/**
 * Why each feature is on or off: the rule of SPEC §3 that decided (servers that predate
 * it leave it out; `Entitlements.fromJSON` then explains each feature from the catalog).
 */
reasons?: { [key in string]: Reason }, 
/**
 * The license's explicit grants and removals.
 */
features_override: { [key in string]: boolean }, 
/**
 * The license's limits.
 */
limits_override: { [key in string]: number | null }, 
/**
 * The license's `exp` (RFC 3339).
 */
expires_at: string | null, 
/**
 * Whether the license (if any) grants its tier.
 */
is_valid: boolean, 
/**
 * Every catalog limit in force.
 */
limits: { [key in string]: number | null }, 
/**
 * The license's status.
 */
status: LicenseStatus | null, 
/**
 * Whether the license is in its grace period.
 */
in_grace_period: boolean, 
/**
 * The end of the license's grace (RFC 3339).
 */
grace_ends_at: string | null, 
/**
 * The license id.
 */
license_id: string | null, };

/** The one error type both JS packages throw: a JS `Error` with a stable `code` (SPEC §1.4). */
export declare class LicenseError extends Error {
  constructor(code: ErrorCode, message: string);
  readonly code: ErrorCode;
}
