//! contract §2, §3 and the appendix written out by hand, independently of the engine: the two tier
//! tables, their limits, grace days and roles, and a plain reading of the §3 decision order. The
//! generator checks the shipped catalogs against these tables and every decision of
//! `entitlements.json` against [`decide`].

use std::collections::BTreeMap;

use dev_health_entitlements::{Catalog, LimitDirection, Override, Tier};

use crate::common::{agree, Res};
use crate::ensure;

use Tier::{Community as C, Enterprise as E, Team as Tm};

/// A feature as the contract lists it: key, min tier, explicit purchase, tier-bound.
pub type SpecFeature = (&'static str, Tier, bool, bool);

/// contract §2's default catalog.
pub const DEFAULT_FEATURES: [SpecFeature; 18] = [
    ("basic_analytics", C, false, false),
    ("git_sync", C, false, false),
    ("work_items_sync", C, false, false),
    ("grafana_dashboards", C, false, false),
    ("password_auth", C, false, false),
    ("community_support", C, false, false),
    ("multi_org", Tm, false, false),
    ("api_access", Tm, false, false),
    ("webhooks", Tm, false, false),
    ("capacity_forecast", Tm, false, false),
    ("email_support", Tm, false, false),
    ("investment_view", E, false, false),
    ("sso_saml", E, false, false),
    ("sso_oidc", E, false, false),
    ("audit_log", E, false, false),
    ("custom_retention", E, false, false),
    ("ip_allowlist", E, false, false),
    ("priority_support", E, false, false),
];

/// The appendix's dev-health-ops registry. The contract gives the explicit-purchase keys no minimum tier;
/// the catalog files them under enterprise (the tier shown when one is asked for).
pub const OPS_FEATURES: [SpecFeature; 32] = [
    ("git_sync", C, false, false),
    ("work_items_sync", C, false, false),
    ("basic_analytics", C, false, false),
    ("team_management", C, false, false),
    ("canonical_incident_ingestion", C, false, false),
    ("github_integration", Tm, false, false),
    ("gitlab_integration", Tm, false, false),
    ("jira_integration", Tm, false, false),
    ("linear_integration", Tm, false, false),
    ("investment_view", Tm, false, false),
    ("api_access", Tm, false, false),
    ("capacity_forecast", Tm, false, false),
    ("work_graph", Tm, false, false),
    ("quadrant_analysis", Tm, false, false),
    ("llm_categorization", Tm, false, false),
    ("webhooks", Tm, false, false),
    ("customer_push_ingest", Tm, false, true),
    ("scheduled_jobs", Tm, false, false),
    ("byo_llm", Tm, false, true),
    ("sso_saml", E, false, false),
    ("sso_oidc", E, false, false),
    ("audit_log", E, false, false),
    ("custom_retention", E, false, false),
    ("ip_allowlist", E, false, false),
    ("data_export", E, false, false),
    ("multi_org", E, false, false),
    ("custom_branding", E, false, false),
    ("priority_support", E, false, false),
    ("agent_context_runtime", E, true, false),
    ("ask_dev", E, true, false),
    ("ask_dev_contextual_entrypoints", E, true, false),
    ("ask_dev_wave_3_1", E, true, false),
];

/// A limit as the contract lists it: key, direction, community / team / enterprise (`None` unlimited).
pub type SpecLimit = (&'static str, LimitDirection, [Option<f64>; 3]);

/// contract §2's default limits.
pub const DEFAULT_LIMITS: [SpecLimit; 2] = [
    ("max_users", LimitDirection::Max, [Some(3.0), None, None]),
    ("max_orgs", LimitDirection::Max, [Some(1.0), None, None]),
];

/// The appendix's seven dev-health-ops limits.
pub const OPS_LIMITS: [SpecLimit; 7] = [
    (
        "max_users",
        LimitDirection::Max,
        [Some(5.0), Some(20.0), None],
    ),
    (
        "max_repos",
        LimitDirection::Max,
        [Some(3.0), Some(10.0), None],
    ),
    (
        "max_work_items",
        LimitDirection::Max,
        [Some(1000.0), Some(10000.0), None],
    ),
    (
        "retention_days",
        LimitDirection::Max,
        [Some(30.0), Some(90.0), None],
    ),
    (
        "backfill_days",
        LimitDirection::Max,
        [Some(30.0), Some(90.0), None],
    ),
    (
        "api_rate_limit_per_min",
        LimitDirection::Max,
        [Some(100.0), Some(500.0), None],
    ),
    (
        "min_sync_interval_hours",
        LimitDirection::Min,
        [Some(24.0), Some(6.0), Some(0.25)],
    ),
];

/// contract §2's roles, each adding to the one before.
pub const ROLES: [(&str, &[&str]); 4] = [
    (
        "viewer",
        &[
            "analytics:read",
            "metrics:read",
            "work_items:read",
            "git:read",
            "teams:read",
            "settings:read",
            "members:read",
            "org:read",
        ],
    ),
    (
        "editor",
        &[
            "analytics:export",
            "teams:write",
            "git:sync",
            "work_items:sync",
            "metrics:compute",
        ],
    ),
    (
        "admin",
        &[
            "settings:write",
            "integrations:read",
            "integrations:write",
            "members:invite",
            "members:manage",
            "org:write",
        ],
    ),
    ("owner", &["org:delete", "billing:manage"]),
];

/// Every permission of contract §2, in the order the roles add them.
pub fn all_permissions() -> Vec<&'static str> {
    ROLES.iter().flat_map(|(_, p)| p.iter().copied()).collect()
}

/// Whether the contract gives `role` the `permission` (roles inherit the ones before them).
pub fn role_has(role: &str, permission: &str) -> bool {
    let Some(rank) = ROLES.iter().position(|(r, _)| *r == role) else {
        return false;
    };
    ROLES
        .iter()
        .take(rank + 1)
        .any(|(_, perms)| perms.contains(&permission))
}

/// The the contract tables of a catalog by name.
pub fn features_of(catalog: &str) -> &'static [SpecFeature] {
    if catalog.starts_with("dev-health-ops") {
        &OPS_FEATURES
    } else {
        &DEFAULT_FEATURES
    }
}

/// Whether the catalog reads a valid license's feature map as the whole answer: the
/// `dev-health-ops-exclusive` catalog, dev-health-ops' reading of its instance license.
pub fn license_map_is_whole_answer(catalog: &str) -> bool {
    catalog == "dev-health-ops-exclusive"
}

/// The the contract limits of a catalog by name.
pub fn limits_of(catalog: &str) -> &'static [SpecLimit] {
    if catalog.starts_with("dev-health-ops") {
        &OPS_LIMITS
    } else {
        &DEFAULT_LIMITS
    }
}

/// The the contract value of a limit for a tier: `None` unknown, `Some(None)` unlimited.
pub fn limit_value(catalog: &str, limit: &str, tier: Tier) -> Option<Option<f64>> {
    limits_of(catalog)
        .iter()
        .find(|(k, _, _)| *k == limit)
        .and_then(|(_, _, v)| v.get(tier.index()).copied())
}

/// Checks a shipped catalog against the contract's tables: the same features with the same min tier,
/// explicit-purchase and tier-bound flags, the same limits, grace days 0/14/30 and the roles.
pub fn check_catalog(name: &str) -> Res<()> {
    let catalog = Catalog::builtin(name)?;
    let spec = features_of(name);
    agree(
        name,
        "number of features",
        catalog.features().len(),
        spec.len(),
    )?;
    for (key, min, explicit, bound) in spec {
        let f = catalog
            .feature(key)
            .ok_or_else(|| format!("catalog {name} lacks the contract's feature {key}"))?;
        agree(name, &format!("{key}.min_tier"), f.min_tier, *min)?;
        agree(
            name,
            &format!("{key}.explicit_purchase"),
            f.explicit_purchase,
            *explicit,
        )?;
        agree(name, &format!("{key}.tier_bound"), f.tier_bound, *bound)?;
    }
    let limits = limits_of(name);
    agree(
        name,
        "number of limits",
        catalog.limits().len(),
        limits.len(),
    )?;
    for (key, direction, values) in limits {
        let l = catalog
            .limit(key)
            .ok_or_else(|| format!("catalog {name} lacks the contract's limit {key}"))?;
        agree(name, &format!("{key}.direction"), l.direction, *direction)?;
        for tier in Tier::ALL {
            agree(
                name,
                &format!("{key}[{tier}]"),
                l.values.get(tier),
                values.get(tier.index()).copied().flatten(),
            )?;
        }
    }
    let grace = catalog.grace_days();
    agree(
        name,
        "grace days",
        [grace.get(C), grace.get(Tm), grace.get(E)],
        [0, 14, 30],
    )?;
    let mut spec_perms = all_permissions();
    spec_perms.sort_unstable();
    let mut perms: Vec<&str> = catalog.permissions().iter().map(String::as_str).collect();
    perms.sort_unstable();
    agree(name, "permissions", perms, spec_perms)?;
    Ok(())
}

/// What §3 needs besides the feature: the resolved tier (stated by hand in each case), the kill
/// switches, the overrides, and the license that applies (valid and in scope), if any.
pub struct Inputs<'a> {
    /// The tier the case states by hand.
    pub tier: Tier,
    /// Global kill switches.
    pub kill: &'a BTreeMap<String, bool>,
    /// Per-org overrides.
    pub overrides: &'a [Override],
    /// The applying license's `features` and the end of its grace period.
    pub license: Option<(&'a BTreeMap<String, bool>, i64)>,
    /// The moment of resolution.
    pub now: i64,
}

/// A decision as §3 reads: allowed, reason, required tier, expires_at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecDecision {
    /// Allowed or not.
    pub allowed: bool,
    /// The rule's reason string.
    pub reason: &'static str,
    /// The feature's min tier (`None` when unknown).
    pub required_tier: Option<Tier>,
    /// When the deciding source lapses. The contract names the field but not its value; the engine gives
    /// the override's `expires_at` for rule 3, the license's grace end when a license decided (rule 4,
    /// or rule 6 with the license's tier), and nothing for denials by tier, purchase or switch.
    pub expires_at: Option<i64>,
}

/// §3, rule by rule, top to bottom.
pub fn decide(catalog: &str, key: &str, input: &Inputs<'_>) -> SpecDecision {
    let deny = |reason, required_tier, expires_at| SpecDecision {
        allowed: false,
        reason,
        required_tier,
        expires_at,
    };
    let allow = |reason, required_tier, expires_at| SpecDecision {
        allowed: true,
        reason,
        required_tier,
        expires_at,
    };
    // The exclusive reading (dev-health-ops' instance license): a valid license's map is the
    // whole answer, even for keys the catalog lacks (no tier floor, never explicit purchase).
    let exclusive = license_map_is_whole_answer(catalog) && input.license.is_some();
    let in_license = input.license.is_some_and(|(f, _)| f.contains_key(key));
    // 1. not in the catalog
    let (required, min, explicit, bound) = match features_of(catalog).iter().find(|f| f.0 == key) {
        Some((_, min, explicit, bound)) => (Some(*min), *min, *explicit, *bound),
        None if exclusive && in_license => (None, C, false, false),
        None => return deny("feature_not_registered", None, None),
    };
    let (min, explicit) = (&min, &explicit);
    let below_floor = bound && input.tier < *min;
    // 2. kill switch off
    if input.kill.get(key) == Some(&false) {
        return deny("global_disabled", required, None);
    }
    // 3. an override in force (expires_at > now). Several for one feature: the contract is silent; an
    //    "off" one wins (fail closed).
    let in_force: Vec<&Override> = input
        .overrides
        .iter()
        .filter(|o| o.feature == key && o.expires_at.is_none_or(|at| at > input.now))
        .collect();
    if let Some(o) = in_force
        .iter()
        .find(|o| !o.enabled)
        .or_else(|| in_force.first())
    {
        return match (o.enabled, below_floor) {
            (false, _) => deny("org_override_disabled", required, o.expires_at),
            (true, true) => deny("tier_required", required, None),
            (true, false) => allow("enabled_by_org_override", required, o.expires_at),
        };
    }
    // 4. the license's features
    if let Some((features, exp)) = input.license {
        if let Some(granted) = features.get(key) {
            return match (*granted, below_floor) {
                (false, _) => deny("license_override_disabled", required, Some(exp)),
                (true, true) => deny("tier_required", required, None),
                (true, false) => allow("enabled_by_license_override", required, Some(exp)),
            };
        }
    }
    // Exclusive: a key the license does not name is off.
    if exclusive {
        return deny("not_in_license", required, None);
    }
    // 5. explicit purchase
    if *explicit {
        return deny("explicit_purchase_required", required, None);
    }
    // 6. the tier
    if input.tier >= *min {
        allow(
            "enabled_by_tier",
            required,
            input.license.map(|(_, exp)| exp),
        )
    } else {
        deny("tier_required", required, None)
    }
}

/// §4's UpgradeGate read from a §3 decision: allowed when on; upgrade when a tier above the
/// current one is required and the denial is one a purchase lifts; unavailable otherwise.
pub fn gate(
    decision: &SpecDecision,
    requested: Option<Tier>,
    current: Tier,
) -> (&'static str, Option<Tier>) {
    let required = requested.into_iter().chain(decision.required_tier).max();
    let purchasable = matches!(
        decision.reason,
        "tier_required"
            | "explicit_purchase_required"
            | "license_override_disabled"
            | "not_in_license"
    );
    let state = if decision.allowed {
        "allowed"
    } else if purchasable && required.is_some_and(|r| r > current) {
        "upgrade"
    } else {
        "unavailable"
    };
    (state, required)
}

/// Checks that the contract's role table is what the catalog answers for every role and permission.
pub fn check_roles(name: &str) -> Res<()> {
    let catalog = Catalog::builtin(name)?;
    for (role, _) in ROLES {
        for permission in all_permissions() {
            ensure!(
                catalog.can(role, permission) == role_has(role, permission),
                "catalog {name}: {role} × {permission} disagrees with the contract"
            );
        }
    }
    Ok(())
}

/// contract §7.2's verification order, written out by hand: each check, in order, with the §1.4 error
/// it reports. When a token has several faults, the first check in this list that fails decides.
pub const VERIFY_ORDER: [(&str, &str); 13] = [
    ("size", "token_too_large"),
    ("structure", "malformed_token"),
    ("alg", "unsupported_algorithm"),
    ("kid", "unknown_key_id"),
    ("signature", "invalid_signature"),
    ("claims", "invalid_claims"),
    ("key_window", "key_not_valid_now"),
    ("issuer", "issuer_mismatch"),
    ("audience", "audience_mismatch"),
    ("clock_rollback", "clock_rollback"),
    ("iat", "issued_in_future"),
    ("nbf", "not_yet_valid"),
    ("revoked", "revoked"),
];

/// The error contract §7.2 reports for a token with these faults (checks named as in
/// [`VERIFY_ORDER`]): the one of the earliest failing check.
pub fn first_failing(faults: &[&str]) -> Res<&'static str> {
    for name in faults {
        ensure!(
            VERIFY_ORDER.iter().any(|(check, _)| check == name),
            "{name} is not a check of contract §7.2"
        );
    }
    VERIFY_ORDER
        .iter()
        .find(|(check, _)| faults.contains(check))
        .map(|(_, code)| *code)
        .ok_or_else(|| "a token without faults has no first failing check".into())
}

/// The order in which the Stripe event rules of contract §5 and §7.10 refuse an event, written out by
/// hand (the contract names the rules but not their order; this is the order core's `stripe::events`
/// documents): a repeated event id, an event type not acted on, no org, an org managed by hand,
/// then for a subscription event a status Stripe does not document, an event older than the last
/// one applied, an event about a subscription that is not the current one, a price with no tier.
/// When an event breaks several rules, the first in this list names it.
pub const STRIPE_ORDER: [&str; 8] = [
    "duplicate",
    "unhandled_event_type",
    "unknown_org",
    "manual_org",
    "unknown_status",
    "stale_event",
    "not_current_subscription",
    "unknown_price",
];

/// The ignore reason of an event breaking these Stripe rules (named as in [`STRIPE_ORDER`]).
pub fn first_stripe_rule(faults: &[&str]) -> Res<&'static str> {
    for name in faults {
        ensure!(
            STRIPE_ORDER.contains(name),
            "{name} is not a Stripe rule of the hand order"
        );
    }
    STRIPE_ORDER
        .iter()
        .find(|rule| faults.contains(rule))
        .copied()
        .ok_or_else(|| "an event breaking no rule has no first rule".into())
}
