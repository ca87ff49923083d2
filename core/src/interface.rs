//! The interface layer: every value that crosses into another language, as plain serde data with
//! one stable JSON shape each (in the spirit of cedar's `ffi` module).
//!
//! The bindings convert these values and add their language's glue; they do not re-spell a field
//! name, an enum's strings or a JSON shape. The TypeScript declarations of both JS packages
//! (`bindings-node/interface.d.ts`, `bindings-wasm/js/interface.d.ts`) are generated from these
//! types (cargo feature `typescript`, [`typescript::declarations`]), and a test fails when the
//! committed files differ from what the types generate.
//!
//! Two casings, each for a reason:
//! * The objects JS code builds and reads field by field ([`CatalogView`], [`DecisionView`],
//!   [`LimitDecisionView`], [`UpgradeGateView`], [`ErrorView`]) use camelCase, as SPEC §4 asks of
//!   Node and WASM. Python reads the same values through attributes and dicts in snake_case.
//! * The JSON documents other programs exchange ([`LicenseJson`], the shape of
//!   `dev-health-license verify --json`; [`EntitlementsJson`], the shape dev-health-web reads)
//!   keep their snake_case wire names in every language.
//!
//! Enum strings (tiers, statuses, reasons, error codes, ...) are the core enums' own serde names,
//! which equal their `as_str` (a test here checks every variant).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalog::{Catalog, LimitDirection};
use crate::claims::LimitValue;
use crate::error::{Error, ErrorCode};
use crate::resolve::{
    Decision, Denial, GateState, LimitDecision, LimitReason, Reason, UpgradeGate,
};
use crate::tier::Tier;
use crate::token::TokenFormat;
use crate::verify::LicenseStatus;

#[cfg(feature = "typescript")]
use ts_rs::TS;

/// An error as another language sees it: a stable code (SPEC §1.4) and a message. Each binding
/// raises it as its one error type (`LicenseError`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "ErrorJSON"))]
pub struct ErrorView {
    /// The stable code.
    pub code: ErrorCode,
    /// What was wrong, never echoing key material.
    pub message: String,
}

impl From<&Error> for ErrorView {
    fn from(error: &Error) -> Self {
        ErrorView {
            code: error.code(),
            message: error.message().to_owned(),
        }
    }
}

/// A feature decision (SPEC §3), with how a denial is presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "Decision"))]
pub struct DecisionView {
    /// The feature asked about.
    pub feature: String,
    /// Whether it is allowed.
    pub allowed: bool,
    /// The rule of SPEC §3 that decided.
    pub reason: Reason,
    /// How a denial is presented: a purchase would unlock it, or an admin turned it off
    /// (`null` when allowed). The Node package leaves it out: its decisions had no `denial` in
    /// its first release, and callers compare them whole (`Reason`'s denial kind is `reason`'s).
    #[cfg_attr(feature = "typescript", ts(optional = nullable))]
    pub denial: Option<Denial>,
    /// The org's resolved tier.
    pub current_tier: Tier,
    /// The feature's minimum tier (`null` for an unknown feature).
    pub required_tier: Option<Tier>,
    /// When the decision's source lapses (Unix seconds): an override's `expires_at`, or the end
    /// of the license's grace when the license decided.
    #[cfg_attr(feature = "typescript", ts(type = "number | null"))]
    pub expires_at: Option<i64>,
}

impl From<&Decision<'_>> for DecisionView {
    fn from(d: &Decision<'_>) -> Self {
        DecisionView {
            feature: d.feature.to_owned(),
            allowed: d.allowed,
            reason: d.reason,
            denial: d.reason.denial(),
            current_tier: d.current_tier,
            required_tier: d.required_tier,
            expires_at: d.expires_at,
        }
    }
}

/// A limit decision (SPEC §3, §7.7). For a `min` limit, `maximum` holds the floor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "LimitDecision"))]
pub struct LimitDecisionView {
    /// The limit asked about.
    pub limit: String,
    /// Whether `current` is within it.
    pub allowed: bool,
    /// The value checked (`null` when it was not a finite number: then never allowed).
    pub current: Option<f64>,
    /// The bound in force; `null` is unlimited.
    pub maximum: LimitValue,
    /// The org's resolved tier.
    pub current_tier: Tier,
    /// Ceiling or floor (`null` for an unknown limit).
    pub direction: Option<LimitDirection>,
    /// Why.
    pub reason: LimitReason,
}

impl From<&LimitDecision<'_>> for LimitDecisionView {
    fn from(d: &LimitDecision<'_>) -> Self {
        LimitDecisionView {
            limit: d.limit.to_owned(),
            allowed: d.allowed,
            current: Some(d.current).filter(|c| c.is_finite()),
            maximum: d.maximum,
            current_tier: d.current_tier,
            direction: d.direction,
            reason: d.reason,
        }
    }
}

/// The UpgradeGate decision for one feature (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "UpgradeGate"))]
pub struct UpgradeGateView {
    /// What to show.
    pub state: GateState,
    /// The feature.
    pub feature: String,
    /// The org's tier.
    pub current_tier: Tier,
    /// The tier that unlocks it, where one does.
    pub required_tier: Option<Tier>,
    /// Where the upgrade link goes (only for `upgrade`).
    pub upgrade_href: Option<String>,
}

impl From<&UpgradeGate> for UpgradeGateView {
    fn from(g: &UpgradeGate) -> Self {
        UpgradeGateView {
            state: g.state,
            feature: g.feature.clone(),
            current_tier: g.current_tier,
            required_tier: g.required_tier,
            upgrade_href: g.upgrade_href.clone(),
        }
    }
}

/// A catalog as hosts show it (SPEC §2): its tiers with their grace days, its features with their
/// categories, its limits per tier and its roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "CatalogJSON"))]
pub struct CatalogView {
    /// The catalog's name.
    pub name: String,
    /// The tiers, lowest first.
    pub tiers: Vec<CatalogTier>,
    /// The features, in catalog order.
    pub features: Vec<CatalogFeature>,
    /// The limits, in catalog order.
    pub limits: Vec<CatalogLimit>,
    /// The role names, lowest first.
    pub roles: Vec<String>,
}

/// A tier of the catalog, with its default grace days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS))]
pub struct CatalogTier {
    /// The tier.
    pub tier: Tier,
    /// Its display name.
    pub name: String,
    /// Days a license of this tier stays usable after `exp` unless it says otherwise.
    pub grace_days: u32,
}

/// A feature of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS))]
pub struct CatalogFeature {
    /// The feature key.
    pub key: String,
    /// Its display name.
    pub name: String,
    /// Its category (for grouping in a UI).
    pub category: String,
    /// The lowest tier that includes it.
    pub min_tier: Tier,
    /// Off on every tier unless granted explicitly.
    pub explicit_purchase: bool,
    /// An override cannot lift an org below `minTier` to it.
    pub tier_bound: bool,
    /// What it does.
    pub description: String,
}

/// A limit of the catalog: a ceiling (`max`) or a floor (`min`), per tier (`null` unlimited).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "typescript", derive(TS))]
pub struct CatalogLimit {
    /// The limit key.
    pub key: String,
    /// Its display name.
    pub name: String,
    /// Ceiling or floor.
    pub direction: LimitDirection,
    /// The bound of each tier.
    pub values: TierLimits,
}

/// A limit's bound on each tier (`null` is unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(TS))]
pub struct TierLimits {
    /// On community.
    pub community: LimitValue,
    /// On team.
    pub team: LimitValue,
    /// On enterprise.
    pub enterprise: LimitValue,
}

impl From<&Catalog> for CatalogView {
    fn from(c: &Catalog) -> Self {
        CatalogView {
            name: c.name().to_owned(),
            tiers: c
                .tiers()
                .iter()
                .map(|t| CatalogTier {
                    tier: t.tier,
                    name: t.name.clone(),
                    grace_days: t.grace_days,
                })
                .collect(),
            features: c
                .features()
                .iter()
                .map(|f| CatalogFeature {
                    key: f.key.clone(),
                    name: f.name.clone(),
                    category: f.category.clone(),
                    min_tier: f.min_tier,
                    explicit_purchase: f.explicit_purchase,
                    tier_bound: f.tier_bound,
                    description: f.description.clone(),
                })
                .collect(),
            limits: c
                .limits()
                .iter()
                .map(|l| CatalogLimit {
                    key: l.key.clone(),
                    name: l.name.clone(),
                    direction: l.direction,
                    values: TierLimits {
                        community: l.values.get(Tier::Community),
                        team: l.values.get(Tier::Team),
                        enterprise: l.values.get(Tier::Enterprise),
                    },
                })
                .collect(),
            roles: c.roles().iter().map(|r| r.name.clone()).collect(),
        }
    }
}

/// `License.toJSON()` / `License.to_dict()`: the shape of `dev-health-license verify --json`
/// (written by the core's `License::to_json`). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "LicenseJSON"))]
pub struct LicenseJson {
    /// Whether the license grants its tier (`active` or `grace`).
    pub valid: bool,
    /// Where it stands.
    pub status: LicenseStatus,
    /// The token format.
    pub format: TokenFormat,
    /// The key id that verified it (empty for v1).
    pub kid: String,
    /// The license id.
    pub license_id: String,
    /// The licensed tier.
    pub tier: Tier,
    /// The org id it was issued for.
    pub sub: String,
    /// Every claim, v2-shaped.
    #[cfg_attr(feature = "typescript", ts(type = "Record<string, unknown>"))]
    pub claims: Map<String, Value>,
    /// `exp`.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub expires_at: i64,
    /// The last second of grace.
    #[cfg_attr(feature = "typescript", ts(type = "number"))]
    pub grace_ends_at: i64,
    /// Whole days of grace left when in grace.
    pub grace_days_left: Option<u32>,
}

/// `Entitlements.toJSON()` / `to_dict()`: the JSON dev-health-web reads (SPEC §3, §7.6), written
/// by the core's `Entitlements::to_json`. Times are RFC 3339 strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "typescript", derive(TS), ts(rename = "EntitlementsJSON"))]
pub struct EntitlementsJson {
    /// The org resolved for.
    pub org_id: Option<String>,
    /// The resolved tier.
    pub tier: Tier,
    /// The user limit in force (`null` unlimited).
    pub licensed_users: LimitValue,
    /// The repository limit in force (`null` unlimited).
    pub licensed_repos: LimitValue,
    /// Every catalog feature: on or off.
    pub features: BTreeMap<String, bool>,
    /// Why each feature is on or off: the rule of SPEC §3 that decided (servers that predate
    /// it leave it out; `Entitlements.fromJSON` then explains each feature from the catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub reasons: Option<BTreeMap<String, Reason>>,
    /// The license's explicit grants and removals.
    pub features_override: BTreeMap<String, bool>,
    /// The license's limits.
    pub limits_override: BTreeMap<String, LimitValue>,
    /// The license's `exp` (RFC 3339).
    pub expires_at: Option<String>,
    /// Whether the license (if any) grants its tier.
    pub is_valid: bool,
    /// Every catalog limit in force.
    pub limits: BTreeMap<String, LimitValue>,
    /// The license's status.
    pub status: Option<LicenseStatus>,
    /// Whether the license is in its grace period.
    pub in_grace_period: bool,
    /// The end of the license's grace (RFC 3339).
    pub grace_ends_at: Option<String>,
    /// The license id.
    pub license_id: Option<String>,
}

/// Every stable error code, for bindings that list them (Python's `ERROR_CODES`).
pub fn error_codes() -> impl Iterator<Item = &'static str> {
    ErrorCode::ALL.into_iter().map(ErrorCode::as_str)
}

/// TypeScript declarations generated from the interface types (cargo feature `typescript`).
#[cfg(feature = "typescript")]
pub mod typescript {
    use super::*;
    use crate::claims::LicenseType;

    /// The header of the generated file.
    const HEADER: &str =
        "/* Generated from core/src/interface.rs by `make types` (ts-rs): do not edit. \
A test fails when this file differs from what the Rust types generate. */\n";

    /// The error class both JS packages throw: declared here so that its name is one.
    const ERROR_CLASS: &str = r#"
/** The one error type both JS packages throw: a JS `Error` with a stable `code` (SPEC §1.4). */
export declare class LicenseError extends Error {
  constructor(code: ErrorCode, message: string);
  readonly code: ErrorCode;
}
"#;

    fn export<T: TS>(out: &mut String, cfg: &ts_rs::Config) {
        if let Some(docs) = T::docs() {
            out.push_str(&docs);
        }
        out.push_str("export ");
        out.push_str(&T::decl(cfg));
        out.push('\n');
    }

    /// The declarations: the enums' string unions, the interface types, the error class.
    pub fn declarations() -> String {
        let cfg = ts_rs::Config::new().with_large_int("number");
        let mut out = String::from(HEADER);
        out.push('\n');
        export::<Tier>(&mut out, &cfg);
        export::<LicenseStatus>(&mut out, &cfg);
        export::<LicenseType>(&mut out, &cfg);
        export::<TokenFormat>(&mut out, &cfg);
        export::<Reason>(&mut out, &cfg);
        export::<Denial>(&mut out, &cfg);
        export::<LimitReason>(&mut out, &cfg);
        export::<LimitDirection>(&mut out, &cfg);
        export::<GateState>(&mut out, &cfg);
        export::<ErrorCode>(&mut out, &cfg);
        export::<ErrorView>(&mut out, &cfg);
        export::<DecisionView>(&mut out, &cfg);
        export::<LimitDecisionView>(&mut out, &cfg);
        export::<UpgradeGateView>(&mut out, &cfg);
        export::<CatalogTier>(&mut out, &cfg);
        export::<CatalogFeature>(&mut out, &cfg);
        export::<TierLimits>(&mut out, &cfg);
        export::<CatalogLimit>(&mut out, &cfg);
        export::<CatalogView>(&mut out, &cfg);
        export::<LicenseJson>(&mut out, &cfg);
        export::<EntitlementsJson>(&mut out, &cfg);
        out.push_str(ERROR_CLASS);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::claims::LicenseType;
    use crate::resolve::{Override, ResolveInput};
    use crate::Entitlements;

    /// Each enum's serde name (what the interface types carry) is its `as_str` (what core's JSON
    /// writers and the bindings use), for every variant.
    #[test]
    fn enum_strings_are_defined_once() {
        fn same<T: Serialize>(value: T, name: &str) {
            assert_eq!(serde_json::to_value(value).unwrap(), Value::from(name));
        }
        for t in Tier::ALL {
            same(t, t.as_str());
        }
        for c in ErrorCode::ALL {
            same(c, c.as_str());
        }
        for s in [
            LicenseStatus::Active,
            LicenseStatus::Grace,
            LicenseStatus::Expired,
        ] {
            same(s, s.as_str());
        }
        for t in [
            LicenseType::Saas,
            LicenseType::SelfHosted,
            LicenseType::Trial,
            LicenseType::Evaluation,
        ] {
            same(t, t.as_str());
        }
        for f in [TokenFormat::V1, TokenFormat::V2] {
            same(f, f.as_str());
        }
        for r in [
            "feature_not_registered",
            "global_disabled",
            "org_override_disabled",
            "enabled_by_org_override",
            "license_override_disabled",
            "enabled_by_license_override",
            "explicit_purchase_required",
            "enabled_by_tier",
            "tier_required",
            "not_in_license",
        ] {
            same(Reason::parse(r).unwrap(), r);
        }
        for d in [Denial::NotLicensed, Denial::NotEnabled] {
            same(d, d.as_str());
        }
        for r in [
            LimitReason::WithinLimit,
            LimitReason::LimitExceeded,
            LimitReason::LimitNotRegistered,
        ] {
            same(r, r.as_str());
        }
        for d in [LimitDirection::Max, LimitDirection::Min] {
            same(d, d.as_str());
        }
        for g in [
            GateState::Allowed,
            GateState::Upgrade,
            GateState::Unavailable,
        ] {
            same(g, g.as_str());
        }
    }

    fn resolved() -> Entitlements {
        let overrides = [Override {
            feature: "audit_log".into(),
            enabled: true,
            expires_at: Some(1_800_000_000),
        }];
        Entitlements::resolve(
            Catalog::default_catalog().unwrap(),
            &ResolveInput {
                org_tier: Some(Tier::Team),
                overrides: &overrides,
                now: 1_700_000_000,
                ..Default::default()
            },
        )
    }

    #[test]
    fn the_entitlements_json_has_exactly_the_interface_shape() {
        let json = resolved().to_json();
        let typed: EntitlementsJson = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), json);
    }

    #[test]
    fn a_decision_says_how_a_denial_is_presented() {
        let ent = resolved();
        let view = DecisionView::from(&ent.check("sso_saml"));
        assert_eq!(view.denial, Some(Denial::NotLicensed));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["currentTier"], "team");
        assert_eq!(json["requiredTier"], "enterprise");
        assert_eq!(json["reason"], "tier_required");
        let allowed = DecisionView::from(&ent.check("audit_log"));
        assert_eq!(allowed.denial, None);
        assert_eq!(allowed.expires_at, Some(1_800_000_000));
    }

    #[test]
    fn a_limit_decision_of_a_value_that_is_not_a_number_carries_null() {
        let ent = resolved();
        let view = LimitDecisionView::from(&ent.check_limit("max_users", f64::NAN));
        assert!(!view.allowed);
        assert_eq!(view.current, None);
        let within = LimitDecisionView::from(&ent.check_limit("max_users", 4.0));
        assert_eq!(within.current, Some(4.0));
        assert_eq!(within.reason, LimitReason::WithinLimit);
    }

    #[test]
    fn the_catalog_view_has_tiers_with_grace_limits_per_tier_and_categories() {
        let view = CatalogView::from(&*Catalog::dev_health_ops().unwrap());
        let grace: Vec<(Tier, u32)> = view.tiers.iter().map(|t| (t.tier, t.grace_days)).collect();
        assert_eq!(
            grace,
            [
                (Tier::Community, 0),
                (Tier::Team, 14),
                (Tier::Enterprise, 30)
            ]
        );
        let users = view.limits.iter().find(|l| l.key == "max_users").unwrap();
        assert_eq!(
            (
                users.values.community,
                users.values.team,
                users.values.enterprise
            ),
            (Some(5.0), Some(20.0), None)
        );
        let interval = view
            .limits
            .iter()
            .find(|l| l.key == "min_sync_interval_hours")
            .unwrap();
        assert_eq!(interval.direction, LimitDirection::Min);
        assert!(view.features.iter().all(|f| !f.category.is_empty()));
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["tiers"][1]["graceDays"], 14);
        assert_eq!(json["features"][0]["minTier"], "community");
    }

    /// The committed TypeScript declarations of both JS packages are what the interface types
    /// generate. `UPDATE_TYPES=1 cargo test -p dev-health-entitlements --features typescript
    /// interface` (or `make types`) rewrites them.
    #[cfg(feature = "typescript")]
    #[test]
    fn the_committed_typescript_declarations_are_generated_from_the_interface() {
        let generated = typescript::declarations();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for file in [
            "bindings-node/interface.d.ts",
            "bindings-wasm/js/interface.d.ts",
        ] {
            let path = root.join(file);
            if std::env::var_os("UPDATE_TYPES").is_some() {
                std::fs::write(&path, &generated).unwrap();
            }
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                committed == generated,
                "{file} is stale: run `make types` and commit it"
            );
        }
    }
}
