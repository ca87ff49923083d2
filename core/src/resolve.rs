//! Resolution (SPEC §3): from a catalog, a license, the org's billing tier, overrides and kill
//! switches to [`Entitlements`], whose checks are lookups.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bitset::BitSet;
use crate::catalog::{Catalog, Feature, LicenseFeatures, LimitDirection};
use crate::claims::{catalog_limit_name, limit_from_json, limit_to_json, LicenseType, LimitValue};
use crate::error::{Error, Result};
use crate::index::KeyIndex;
use crate::tier::Tier;
use crate::verify::{License, LicenseStatus};

/// A per-org feature override (SPEC §3 rule 3). It is in force while `expires_at > now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The feature key.
    pub feature: String,
    /// On or off.
    pub enabled: bool,
    /// When it stops applying (Unix seconds); `None` never.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl Override {
    /// Whether the override is in force at `now` (`expires_at == now` is expired).
    pub fn in_force(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// Why a feature is allowed or denied: the rule of SPEC §3 that decided it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Rule 1: the catalog has no such feature.
    FeatureNotRegistered,
    /// Rule 2: a global kill switch turned it off.
    GlobalDisabled,
    /// Rule 3: an org override turned it off.
    OrgOverrideDisabled,
    /// Rule 3: an org override turned it on.
    EnabledByOrgOverride,
    /// Rule 4: the license's `features` removes it.
    LicenseOverrideDisabled,
    /// Rule 4: the license's `features` grants it.
    EnabledByLicenseOverride,
    /// Rule 5: it must be bought explicitly.
    ExplicitPurchaseRequired,
    /// Rule 6: the tier includes it.
    EnabledByTier,
    /// Rule 6 (and the tier-bound exception of rules 3 and 4): a higher tier is needed.
    TierRequired,
    /// [`LicenseFeatures::Exclusive`]: the valid license's feature map does not name it.
    NotInLicense,
}

impl Reason {
    /// The reason's snake_case string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::FeatureNotRegistered => "feature_not_registered",
            Reason::GlobalDisabled => "global_disabled",
            Reason::OrgOverrideDisabled => "org_override_disabled",
            Reason::EnabledByOrgOverride => "enabled_by_org_override",
            Reason::LicenseOverrideDisabled => "license_override_disabled",
            Reason::EnabledByLicenseOverride => "enabled_by_license_override",
            Reason::ExplicitPurchaseRequired => "explicit_purchase_required",
            Reason::EnabledByTier => "enabled_by_tier",
            Reason::TierRequired => "tier_required",
            Reason::NotInLicense => "not_in_license",
        }
    }

    /// Parses a reason from its snake_case string.
    pub fn parse(name: &str) -> Option<Reason> {
        [
            Reason::FeatureNotRegistered,
            Reason::GlobalDisabled,
            Reason::OrgOverrideDisabled,
            Reason::EnabledByOrgOverride,
            Reason::LicenseOverrideDisabled,
            Reason::EnabledByLicenseOverride,
            Reason::ExplicitPurchaseRequired,
            Reason::EnabledByTier,
            Reason::TierRequired,
            Reason::NotInLicense,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
    }

    /// Whether this reason allows the feature.
    pub const fn allows(self) -> bool {
        matches!(
            self,
            Reason::EnabledByOrgOverride | Reason::EnabledByLicenseOverride | Reason::EnabledByTier
        )
    }

    /// How a denial should be presented; `None` for an allowing reason.
    pub const fn denial(self) -> Option<Denial> {
        match self {
            Reason::TierRequired
            | Reason::ExplicitPurchaseRequired
            | Reason::LicenseOverrideDisabled
            | Reason::NotInLicense => Some(Denial::NotLicensed),
            Reason::GlobalDisabled | Reason::OrgOverrideDisabled | Reason::FeatureNotRegistered => {
                Some(Denial::NotEnabled)
            }
            Reason::EnabledByOrgOverride
            | Reason::EnabledByLicenseOverride
            | Reason::EnabledByTier => None,
        }
    }
}

/// The two kinds of denial the bindings present differently.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Denial {
    /// A purchase would unlock it (a higher tier, an explicit purchase, another license):
    /// HTTP 402 `feature_not_licensed`, UpgradeGate `upgrade` when a higher tier is needed.
    NotLicensed,
    /// An administrator turned it off, or it does not exist: HTTP 403 `feature_not_enabled`,
    /// UpgradeGate `unavailable`.
    NotEnabled,
}

impl Denial {
    /// The denial's snake_case string (`not_licensed`, `not_enabled`), as every binding shows it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Denial::NotLicensed => "not_licensed",
            Denial::NotEnabled => "not_enabled",
        }
    }
}

/// A feature decision (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision<'a> {
    /// The feature asked about.
    pub feature: &'a str,
    /// Whether it is allowed.
    pub allowed: bool,
    /// The rule that decided.
    pub reason: Reason,
    /// The org's resolved tier.
    pub current_tier: Tier,
    /// The feature's minimum tier (`None` for an unknown feature).
    pub required_tier: Option<Tier>,
    /// When the decision's source lapses: the override's `expires_at`, or the end of the
    /// license's grace period when the license decided.
    pub expires_at: Option<i64>,
}

/// Why a limit check came out as it did.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitReason {
    /// Within the limit (or the limit is unlimited).
    WithinLimit,
    /// Beyond the limit.
    LimitExceeded,
    /// The catalog has no such limit; denied.
    LimitNotRegistered,
}

impl LimitReason {
    /// The reason's snake_case string, as every binding shows it.
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitReason::WithinLimit => "within_limit",
            LimitReason::LimitExceeded => "limit_exceeded",
            LimitReason::LimitNotRegistered => "limit_not_registered",
        }
    }
}

/// A limit decision (SPEC §3). For a `min` limit, `maximum` holds the floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LimitDecision<'a> {
    /// The limit asked about.
    pub limit: &'a str,
    /// Whether `current` is within it.
    pub allowed: bool,
    /// The value checked.
    pub current: f64,
    /// The bound in force; `None` is unlimited.
    pub maximum: LimitValue,
    /// The org's resolved tier.
    pub current_tier: Tier,
    /// Ceiling or floor (`None` for an unknown limit).
    pub direction: Option<LimitDirection>,
    /// Why.
    pub reason: LimitReason,
}

/// What an UpgradeGate shows (SPEC §4).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateState {
    /// The content.
    Allowed,
    /// An overlay naming the required plan, with an upgrade link.
    Upgrade,
    /// "Feature unavailable", without an upgrade link.
    Unavailable,
}

impl GateState {
    /// The state's snake_case string (`allowed`, `upgrade`, `unavailable`), as every binding
    /// shows it.
    pub const fn as_str(self) -> &'static str {
        match self {
            GateState::Allowed => "allowed",
            GateState::Upgrade => "upgrade",
            GateState::Unavailable => "unavailable",
        }
    }
}

/// The UpgradeGate decision for one feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeGate {
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

/// Where the upgrade link of an UpgradeGate goes unless told otherwise.
pub const DEFAULT_UPGRADE_HREF: &str = "/org/admin/settings";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FeatureState {
    reason: Reason,
    expires_at: Option<i64>,
}

/// The license facts kept by resolved entitlements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseSummary {
    /// The license id.
    pub license_id: String,
    /// Status at resolution time.
    pub status: LicenseStatus,
    /// `exp`.
    pub expires_at: i64,
    /// End of grace.
    pub grace_ends_at: i64,
    /// How it was sold.
    pub license_type: LicenseType,
}

/// Everything [`Entitlements::resolve`] needs besides the catalog.
#[derive(Debug, Clone, Default)]
pub struct ResolveInput<'a> {
    /// A verified license, or none.
    pub license: Option<&'a License>,
    /// The org being resolved; `None` for the instance as a whole.
    pub org_id: Option<&'a str>,
    /// The org's own tier (SaaS, from billing).
    pub org_tier: Option<Tier>,
    /// Per-org overrides.
    pub overrides: &'a [Override],
    /// Global kill switches: feature → enabled.
    pub kill_switches: Option<&'a BTreeMap<String, bool>>,
    /// The moment of resolution (Unix seconds).
    pub now: i64,
}

/// A trusted, host-side license record for one org (a row of the host's own database, such as
/// dev-health-ops' `OrgLicense`): it stands where a signed license would (SPEC §3), for hosts that
/// keep per-org license data themselves instead of signing tokens in-process to feed the engine.
///
/// It applies only while no valid signed license applies to the org (a signed license wins), and
/// while `expires_at` (if any) is after `now`. Then its `tier` is the license tier (else the org
/// tier, else community), its `features` are rule 4's license grants and removals (always in
/// [`LicenseFeatures::Grants`] mode), and its `limits` replace the tier's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrgLicense {
    /// The licensed tier; `None` leaves the org tier.
    pub tier: Option<Tier>,
    /// Grants (true) and removals (false), rule 4.
    pub features: BTreeMap<String, bool>,
    /// Limits by catalog name; `None` is unlimited.
    pub limits: BTreeMap<String, LimitValue>,
    /// When the record stops applying (Unix seconds); `None` never.
    pub expires_at: Option<i64>,
}

impl OrgLicense {
    /// Reads a record from JSON `{"tier"?, "features"?: {key: bool}, "limits"?: {name: number |
    /// -1 | null}, "expires_at"?}`. Limits may use the token names (`users`, `repos`,
    /// `api_rate`); `-1` and `null` are unlimited. Anything else is `invalid_input`, named.
    pub fn from_json(value: &Value) -> Result<OrgLicense> {
        let obj = value
            .as_object()
            .ok_or_else(|| Error::input("an org license record must be an object"))?;
        let mut record = OrgLicense::default();
        for (name, member) in obj {
            match (name.as_str(), member) {
                (_, Value::Null) => {}
                ("tier", Value::String(t)) => {
                    record.tier = Some(Tier::parse(t).ok_or_else(|| {
                        Error::input(format!("org license `tier`: unknown tier {t:?}"))
                    })?);
                }
                ("features", Value::Object(map)) => {
                    for (key, enabled) in map {
                        let enabled = enabled.as_bool().ok_or_else(|| {
                            Error::input(format!("org license `features.{key}` must be a boolean"))
                        })?;
                        record.features.insert(key.clone(), enabled);
                    }
                }
                ("limits", Value::Object(map)) => {
                    for (key, v) in map {
                        let limit = limit_from_json(v).ok_or_else(|| {
                            Error::input(format!(
                                "org license `limits.{key}` must be a number ≥ 0, -1 or null"
                            ))
                        })?;
                        let catalog_name = catalog_limit_name(key);
                        if record
                            .limits
                            .insert(catalog_name.to_owned(), limit)
                            .is_some()
                        {
                            return Err(Error::input(format!(
                                "org license `limits` names `{catalog_name}` twice"
                            )));
                        }
                    }
                }
                ("expires_at", v) => {
                    record.expires_at = Some(v.as_i64().ok_or_else(|| {
                        Error::input("org license `expires_at` must be Unix seconds")
                    })?);
                }
                (other, _) => {
                    return Err(Error::input(format!(
                        "org license: unknown or mistyped member `{other}` (expected tier, \
                         features, limits, expires_at)"
                    )))
                }
            }
        }
        Ok(record)
    }

    /// Whether the record applies at `now` (`expires_at == now` has lapsed).
    pub fn in_force(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// What a host adds to [`ResolveInput`] beyond SPEC §3's inputs (see
/// [`Entitlements::resolve_with`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ResolveOptions<'a> {
    /// The license-feature mode for this resolution; `None` takes the catalog's.
    pub license_features: Option<LicenseFeatures>,
    /// The org's trusted host-side license record.
    pub org_license: Option<&'a OrgLicense>,
}

/// An org's resolved tier, features and limits. Checks are lookups: no allocation, no
/// verification.
///
/// ```
/// use dev_health_entitlements::{Catalog, Entitlements, ResolveInput, Tier};
/// let catalog = Catalog::default_catalog().unwrap();
/// let ent = Entitlements::resolve(catalog, &ResolveInput {
///     org_tier: Some(Tier::Team),
///     now: 1_700_000_000,
///     ..Default::default()
/// });
/// assert!(ent.has("capacity_forecast"));
/// assert!(!ent.has("sso_saml"));
/// assert_eq!(ent.check("sso_saml").reason.as_str(), "tier_required");
/// ```
#[derive(Debug, Clone)]
pub struct Entitlements {
    catalog: Arc<Catalog>,
    org_id: Option<String>,
    tier: Tier,
    states: Box<[FeatureState]>,
    allowed: BitSet,
    limits: Box<[LimitValue]>,
    license: Option<LicenseSummary>,
    /// The license's feature grants, then the overrides in force: of two entries for one
    /// feature, the later counts.
    features_override: Vec<(String, bool)>,
    /// The license's limits, by name in ascending order.
    limits_override: Vec<(String, LimitValue)>,
    resolved_at: i64,
    stale_at: Option<i64>,
    /// [`LicenseFeatures::Exclusive`]: the license's keys the catalog lacks, with their states,
    /// by key in ascending order (empty otherwise).
    unregistered: Vec<(String, FeatureState)>,
}

/// Rules 2 to 6 of SPEC §3 for one registered feature (rule 1 is the catalog lookup).
fn decide(
    feature: &Feature,
    tier: Tier,
    kill_switch: Option<bool>,
    org_override: Option<&Override>,
    license_grant: Option<bool>,
    license_exp: Option<i64>,
    exclusive: bool,
) -> FeatureState {
    let below_floor = feature.tier_bound && tier < feature.min_tier;
    let state = |reason, expires_at| FeatureState { reason, expires_at };
    if kill_switch == Some(false) {
        return state(Reason::GlobalDisabled, None);
    }
    if let Some(o) = org_override {
        return match (o.enabled, below_floor) {
            (false, _) => state(Reason::OrgOverrideDisabled, o.expires_at),
            (true, true) => state(Reason::TierRequired, None),
            (true, false) => state(Reason::EnabledByOrgOverride, o.expires_at),
        };
    }
    if let Some(granted) = license_grant {
        return match (granted, below_floor) {
            (false, _) => state(Reason::LicenseOverrideDisabled, license_exp),
            (true, true) => state(Reason::TierRequired, None),
            (true, false) => state(Reason::EnabledByLicenseOverride, license_exp),
        };
    }
    if exclusive {
        return state(Reason::NotInLicense, None);
    }
    if feature.explicit_purchase {
        return state(Reason::ExplicitPurchaseRequired, None);
    }
    if tier >= feature.min_tier {
        state(Reason::EnabledByTier, license_exp)
    } else {
        state(Reason::TierRequired, None)
    }
}

/// The override in force for each feature: of several for one feature, one that turns it off
/// wins (fail closed).
struct EffectiveOverrides<'a> {
    /// By the feature's position in the catalog (empty without overrides).
    registered: Vec<Option<&'a Override>>,
    /// For features the catalog does not have.
    unregistered: Vec<&'a Override>,
}

impl<'a> EffectiveOverrides<'a> {
    fn new(catalog: &Catalog, overrides: &'a [Override], now: i64) -> EffectiveOverrides<'a> {
        let mut registered: Vec<Option<&Override>> = Vec::new();
        let mut unregistered: Vec<&Override> = Vec::new();
        let mut unregistered_index = KeyIndex::default();
        for o in overrides {
            if !o.in_force(now) {
                continue;
            }
            let current: &mut &Override = match catalog.feature_position(&o.feature) {
                Some(i) => {
                    if registered.is_empty() {
                        registered = vec![None; catalog.features().len()];
                    }
                    match registered.get_mut(i) {
                        Some(Some(current)) => current,
                        Some(slot) => {
                            *slot = Some(o);
                            continue;
                        }
                        None => continue,
                    }
                }
                None => match unregistered_index.insert(&o.feature) {
                    Err(i) => match unregistered.get_mut(i) {
                        Some(current) => current,
                        None => continue,
                    },
                    Ok(_) => {
                        unregistered.push(o);
                        continue;
                    }
                },
            };
            if !o.enabled && current.enabled {
                *current = o;
            }
        }
        EffectiveOverrides {
            registered,
            unregistered,
        }
    }
}

impl Entitlements {
    /// Resolves an org's entitlements (SPEC §3).
    ///
    /// Tier: a valid (`active` or `grace`) license's tier, else the org's tier, else community.
    /// A `saas` or `trial` license applies only when resolving for the org in its `sub` (not
    /// when `org_id` is `None`); a `self_hosted` or `evaluation` license covers every org of the
    /// instance.
    pub fn resolve(catalog: Arc<Catalog>, input: &ResolveInput<'_>) -> Entitlements {
        Entitlements::resolve_with(catalog, input, &ResolveOptions::default())
    }

    /// [`Entitlements::resolve`] with a host's additions: a license-feature mode other than the
    /// catalog's, and a trusted host-side [`OrgLicense`] record, which stands where a signed
    /// license would when none applies.
    pub fn resolve_with(
        catalog: Arc<Catalog>,
        input: &ResolveInput<'_>,
        options: &ResolveOptions<'_>,
    ) -> Entitlements {
        let now = input.now;
        // An org-scoped license applies only when resolving for exactly its org: resolving for
        // the instance as a whole (no org) must not let one org's trial unlock every org.
        let applicable = input.license.filter(|l| {
            !l.claims.license_type.is_org_scoped() || input.org_id == Some(l.claims.sub.as_str())
        });
        let valid = applicable.filter(|l| l.status_at(now).is_valid());
        // A host-side record stands in for a signed license only when none is valid.
        #[cfg(feature = "ops-compat")]
        let record = options
            .org_license
            .filter(|r| valid.is_none() && r.in_force(now));
        #[cfg(not(feature = "ops-compat"))]
        let record: Option<&OrgLicense> = None;
        let tier = valid
            .map(License::tier)
            .or(record.and_then(|r| r.tier))
            .or(input.org_tier)
            .unwrap_or(Tier::Community);
        // Rule 4's source: the valid license's map, else the record's; and until when it holds
        // (a license-derived decision holds until the grace period ends, not merely until `exp`).
        let (license_features, license_exp) = match (valid, record) {
            (Some(l), _) => (Some(&l.claims.features), Some(l.grace_ends_at())),
            (None, Some(r)) => (Some(&r.features), r.expires_at),
            (None, None) => (None, None),
        };
        let exclusive = cfg!(feature = "ops-compat")
            && valid.is_some()
            && options
                .license_features
                .unwrap_or_else(|| catalog.license_features())
                == LicenseFeatures::Exclusive;
        let overrides = EffectiveOverrides::new(&catalog, input.overrides, now);
        let kill_switch = |key: &str| input.kill_switches.and_then(|k| k.get(key).copied());

        let mut allowed = BitSet::with_len(catalog.features().len());
        let states: Box<[FeatureState]> = catalog
            .features()
            .iter()
            .enumerate()
            .map(|(i, feature)| {
                let key = feature.key.as_str();
                let state = decide(
                    feature,
                    tier,
                    kill_switch(key),
                    overrides.registered.get(i).copied().flatten(),
                    license_features.and_then(|f| f.get(key).copied()),
                    license_exp,
                    exclusive,
                );
                if state.reason.allows() {
                    allowed.insert(i);
                }
                state
            })
            .collect();

        // Exclusive mode answers for the license's keys the catalog lacks, with rules 2 to 4 (a
        // feature outside the catalog has no tier floor and is never bought explicitly).
        #[cfg_attr(not(feature = "ops-compat"), allow(unused_mut))]
        let mut unregistered = Vec::new();
        #[cfg(feature = "ops-compat")]
        if exclusive {
            for (key, granted) in license_features.into_iter().flatten() {
                if catalog.feature_position(key).is_some() {
                    continue;
                }
                let feature = Feature {
                    key: key.clone(),
                    name: String::new(),
                    category: String::new(),
                    min_tier: Tier::Community,
                    explicit_purchase: false,
                    tier_bound: false,
                    description: String::new(),
                };
                let org_override = overrides
                    .unregistered
                    .iter()
                    .find(|o| &o.feature == key)
                    .copied();
                let state = decide(
                    &feature,
                    tier,
                    kill_switch(key),
                    org_override,
                    Some(*granted),
                    license_exp,
                    true,
                );
                unregistered.push((key.clone(), state));
            }
        }

        let license_limits = valid
            .map(|l| &l.claims.limits)
            .or(record.map(|r| &r.limits));
        let limits: Box<[LimitValue]> = catalog
            .limits()
            .iter()
            .map(|def| {
                license_limits
                    .and_then(|l| l.get(&def.key).copied())
                    .unwrap_or_else(|| def.values.get(tier))
            })
            .collect();

        let mut features_override: Vec<(String, bool)> = Vec::new();
        if let Some(features) = license_features {
            features_override.reserve(features.len());
            for (key, granted) in features {
                features_override.push((key.clone(), *granted));
            }
        }
        let mut soonest_lapse: Option<i64> = record.and_then(|r| r.expires_at);
        for o in overrides
            .registered
            .iter()
            .flatten()
            .chain(overrides.unregistered.iter())
        {
            features_override.push((o.feature.clone(), o.enabled));
            if let Some(at) = o.expires_at {
                soonest_lapse = Some(soonest_lapse.map_or(at, |s| s.min(at)));
            }
        }

        let stale_at = [
            applicable.and_then(|l| l.next_status_change(now)),
            soonest_lapse,
        ]
        .into_iter()
        .flatten()
        .min();

        Entitlements {
            org_id: input.org_id.map(str::to_owned),
            tier,
            states,
            allowed,
            limits,
            license: applicable.map(|l| LicenseSummary {
                license_id: l.license_id().to_owned(),
                status: l.status_at(now),
                expires_at: l.expires_at(),
                grace_ends_at: l.grace_ends_at(),
                license_type: l.claims.license_type,
            }),
            features_override,
            limits_override: license_limits.map_or_else(Vec::new, |limits| {
                let mut list = Vec::with_capacity(limits.len());
                for (name, value) in limits {
                    list.push((name.clone(), *value));
                }
                list
            }),
            resolved_at: now,
            stale_at,
            unregistered,
            catalog,
        }
    }

    /// The keys of every allowed feature: the catalog's, in catalog order, then (in
    /// [`LicenseFeatures::Exclusive`] mode) the license's keys the catalog lacks.
    pub fn allowed_features(&self) -> impl Iterator<Item = &str> {
        let catalog = self
            .catalog
            .features()
            .iter()
            .enumerate()
            .filter(|(i, _)| self.allowed.contains(*i))
            .map(|(_, f)| f.key.as_str());
        let extra = self
            .unregistered
            .iter()
            .filter(|(_, state)| state.reason.allows())
            .map(|(key, _)| key.as_str());
        catalog.chain(extra)
    }

    /// The state of a key the catalog lacks (exclusive mode only).
    fn unregistered_state(&self, feature: &str) -> Option<&FeatureState> {
        if !cfg!(feature = "ops-compat") {
            return None;
        }
        self.unregistered
            .binary_search_by(|(key, _)| key.as_str().cmp(feature))
            .ok()
            .and_then(|i| self.unregistered.get(i))
            .map(|(_, state)| state)
    }

    /// The resolved tier.
    pub fn tier(&self) -> Tier {
        self.tier
    }

    /// The org resolved for, if any.
    pub fn org_id(&self) -> Option<&str> {
        self.org_id.as_deref()
    }

    /// The catalog the entitlements were resolved against.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The license that applied to this org (valid or not), if any.
    pub fn license(&self) -> Option<&LicenseSummary> {
        self.license.as_ref()
    }

    /// The `now` of resolution.
    pub fn resolved_at(&self) -> i64 {
        self.resolved_at
    }

    /// The first moment at which resolving again could give another answer (the license
    /// entering or leaving grace, an override lapsing). Hosts re-resolve when `now >= stale_at`.
    pub fn stale_at(&self) -> Option<i64> {
        self.stale_at
    }

    /// Whether the entitlements must be resolved again at `now`.
    pub fn is_stale(&self, now: i64) -> bool {
        self.stale_at.is_some_and(|at| now >= at) || now < self.resolved_at
    }

    /// Whether the feature is allowed. A lookup.
    #[inline]
    pub fn has(&self, feature: &str) -> bool {
        match self.catalog.feature_position(feature) {
            Some(i) => self.allowed.contains(i),
            None => self
                .unregistered_state(feature)
                .is_some_and(|state| state.reason.allows()),
        }
    }

    /// The full decision for a feature. A lookup.
    pub fn check<'a>(&self, feature: &'a str) -> Decision<'a> {
        let position = self.catalog.feature_position(feature);
        let found = position.and_then(|i| {
            Some((
                self.states.get(i)?,
                self.catalog.features().get(i)?.min_tier,
            ))
        });
        match found {
            Some((state, min_tier)) => Decision {
                feature,
                allowed: state.reason.allows(),
                reason: state.reason,
                current_tier: self.tier,
                required_tier: Some(min_tier),
                expires_at: state.expires_at,
            },
            None => {
                let state = self
                    .unregistered_state(feature)
                    .copied()
                    .unwrap_or(FeatureState {
                        reason: Reason::FeatureNotRegistered,
                        expires_at: None,
                    });
                Decision {
                    feature,
                    allowed: state.reason.allows(),
                    reason: state.reason,
                    current_tier: self.tier,
                    required_tier: None,
                    expires_at: state.expires_at,
                }
            }
        }
    }

    /// The bound of a limit in force (`Some(None)` is unlimited; `None` an unknown limit).
    pub fn limit(&self, limit: &str) -> Option<LimitValue> {
        self.catalog
            .limit_position(limit)
            .and_then(|i| self.limits.get(i).copied())
    }

    /// Whether the bound of `limit` in force comes from the license (its `limits`) rather than
    /// the catalog's value for the tier.
    pub fn limit_is_licensed(&self, limit: &str) -> bool {
        self.limits_override.iter().any(|(name, _)| name == limit)
    }

    /// Checks `current` against a limit: `current <= maximum` for a ceiling, `current >= minimum`
    /// for a floor; unlimited always passes; an unknown limit is denied. A lookup.
    pub fn check_limit<'a>(&self, limit: &'a str, current: f64) -> LimitDecision<'a> {
        let position = self.catalog.limit_position(limit);
        let found = position.and_then(|i| {
            Some((
                self.catalog.limits().get(i)?.direction,
                *self.limits.get(i)?,
            ))
        });
        let Some((direction, bound)) = found else {
            return LimitDecision {
                limit,
                allowed: false,
                current,
                maximum: None,
                current_tier: self.tier,
                direction: None,
                reason: LimitReason::LimitNotRegistered,
            };
        };
        let within = match (bound, direction) {
            (None, _) => !current.is_nan(),
            (Some(max), LimitDirection::Max) => current <= max,
            (Some(min), LimitDirection::Min) => current >= min,
        };
        LimitDecision {
            limit,
            allowed: within,
            current,
            maximum: bound,
            current_tier: self.tier,
            direction: Some(direction),
            reason: if within {
                LimitReason::WithinLimit
            } else {
                LimitReason::LimitExceeded
            },
        }
    }

    /// Whether `role` has `permission` in this catalog (SPEC §2 roles). A lookup.
    #[inline]
    pub fn can(&self, role: &str, permission: &str) -> bool {
        self.catalog.can(role, permission)
    }

    /// The UpgradeGate decision (SPEC §4): `allowed` when the feature is on; `upgrade` when a
    /// tier above the current one is required (by the feature or by `required_tier`) and no
    /// administrator turned it off; `unavailable` otherwise.
    pub fn upgrade_gate(
        &self,
        feature: &str,
        required_tier: Option<Tier>,
        upgrade_href: Option<&str>,
    ) -> UpgradeGate {
        let decision = self.check(feature);
        let required = required_tier
            .into_iter()
            .chain(decision.required_tier)
            .max();
        let state = if decision.allowed {
            GateState::Allowed
        } else if decision.reason.denial() == Some(Denial::NotLicensed)
            && required.is_some_and(|r| r > self.tier)
        {
            GateState::Upgrade
        } else {
            GateState::Unavailable
        };
        UpgradeGate {
            state,
            feature: feature.to_owned(),
            current_tier: self.tier,
            required_tier: required,
            upgrade_href: (state == GateState::Upgrade)
                .then(|| upgrade_href.unwrap_or(DEFAULT_UPGRADE_HREF).to_owned()),
        }
    }

    /// The JSON dev-health-web reads (SPEC §3): `{org_id, tier, licensed_users, licensed_repos,
    /// features, features_override, limits_override, expires_at, is_valid, limits, status,
    /// in_grace_period, grace_ends_at, license_id}`, plus `reasons` (feature → the §3 reason), so
    /// that [`Entitlements::from_json`] rebuilds the same decisions. Times are RFC 3339 UTC strings.
    pub fn to_json(&self) -> Value {
        // Maps are filled one entry at a time: `collect` into a map would add a sort to the
        // (size-budgeted) wasm binary for each map type. `states` holds one entry per catalog
        // feature, in catalog order (as `limits` does per catalog limit).
        let mut features = Map::new();
        let mut reasons = Map::new();
        for (i, (f, state)) in self
            .catalog
            .features()
            .iter()
            .zip(self.states.iter())
            .enumerate()
        {
            features.insert(f.key.clone(), Value::Bool(self.allowed.contains(i)));
            reasons.insert(f.key.clone(), Value::from(state.reason.as_str()));
        }
        #[cfg(feature = "ops-compat")]
        for (key, state) in &self.unregistered {
            features.insert(key.clone(), Value::Bool(state.reason.allows()));
            reasons.insert(key.clone(), Value::from(state.reason.as_str()));
        }
        let mut limits = Map::new();
        for (def, value) in self.catalog.limits().iter().zip(self.limits.iter()) {
            limits.insert(def.key.clone(), limit_to_json(*value));
        }
        let mut features_override = Map::new();
        for (k, v) in &self.features_override {
            features_override.insert(k.clone(), Value::Bool(*v));
        }
        let mut limits_override = Map::new();
        for (k, v) in &self.limits_override {
            limits_override.insert(k.clone(), limit_to_json(*v));
        }
        // A license may limit what the catalog does not (the default catalog has no `max_repos`).
        let licensed = |key: &str| match self.limits_override.iter().find(|(k, _)| k == key) {
            Some((_, value)) => limit_to_json(*value),
            None => self.limit(key).map_or(Value::Null, limit_to_json),
        };
        let license = self.license.as_ref();
        crate::json::object(&mut [
            ("org_id", self.org_id.clone().into()),
            ("tier", self.tier.as_str().into()),
            ("licensed_users", licensed("max_users")),
            ("licensed_repos", licensed("max_repos")),
            ("features", Value::Object(features)),
            ("reasons", Value::Object(reasons)),
            ("features_override", Value::Object(features_override)),
            ("limits_override", Value::Object(limits_override)),
            ("expires_at", license.map(|l| rfc3339(l.expires_at)).into()),
            (
                "is_valid",
                license.is_none_or(|l| l.status.is_valid()).into(),
            ),
            ("limits", Value::Object(limits)),
            ("status", license.map(|l| l.status.as_str()).into()),
            (
                "in_grace_period",
                license
                    .is_some_and(|l| l.status == LicenseStatus::Grace)
                    .into(),
            ),
            (
                "grace_ends_at",
                license.map(|l| rfc3339(l.grace_ends_at)).into(),
            ),
            ("license_id", license.map(|l| l.license_id.clone()).into()),
        ])
    }

    /// Rebuilds entitlements from the JSON of [`Entitlements::to_json`] (for example what the
    /// entitlements API returned), so a host can gate without holding the license: the tier, the
    /// features with their `reasons`, the limits and the license summary. For JSON without
    /// `reasons` (an older server), a feature marked off gets the reason the catalog and
    /// `features_override` explain (`tier_required`, `explicit_purchase_required`, an override,
    /// or `global_disabled` when nothing else does). Checks answer as on the resolving side;
    /// per-decision `expires_at` is not carried and reads `None`. [`Entitlements::stale_at`] is
    /// the license's next status change (the second after `expires_at` while active, after
    /// `grace_ends_at` in grace): the JSON does not say when overrides lapse.
    pub fn from_json(catalog: Arc<Catalog>, json: &Value) -> Result<Entitlements> {
        let obj = json
            .as_object()
            .ok_or_else(|| Error::input("entitlements JSON must be an object"))?;
        let tier = obj
            .get("tier")
            .and_then(Value::as_str)
            .and_then(Tier::parse)
            .ok_or_else(|| Error::input("entitlements JSON: `tier` must be a tier name"))?;
        let member = |name: &str, key: &str| obj.get(name).and_then(|m| m.get(key));
        let mut allowed = BitSet::with_len(catalog.features().len());
        let mut states = Vec::with_capacity(catalog.features().len());
        for (i, f) in catalog.features().iter().enumerate() {
            let on = member("features", &f.key)
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let stated = member("reasons", &f.key)
                .and_then(Value::as_str)
                .map(|r| {
                    Reason::parse(r).ok_or_else(|| {
                        Error::input(format!(
                            "entitlements JSON: unknown reason {r:?} for {:?}",
                            f.key
                        ))
                    })
                })
                .transpose()?;
            let reason = match stated {
                Some(reason) if reason.allows() == on => reason,
                Some(_) => {
                    return Err(Error::input(format!(
                        "entitlements JSON: `features.{}` contradicts its reason",
                        f.key
                    )))
                }
                // JSON without `reasons` (older servers): the catalog explains what it can.
                None => match (
                    on,
                    member("features_override", &f.key).and_then(Value::as_bool),
                ) {
                    (true, Some(true)) => Reason::EnabledByOrgOverride,
                    (true, _) => Reason::EnabledByTier,
                    (false, Some(false)) => Reason::OrgOverrideDisabled,
                    (false, _) if f.explicit_purchase => Reason::ExplicitPurchaseRequired,
                    (false, _) if tier < f.min_tier => Reason::TierRequired,
                    (false, _) => Reason::GlobalDisabled,
                },
            };
            if reason.allows() {
                allowed.insert(i);
            }
            states.push(FeatureState {
                reason,
                expires_at: None,
            });
        }
        let mut limits = Vec::with_capacity(catalog.limits().len());
        for def in catalog.limits() {
            limits.push(match member("limits", &def.key) {
                Some(v) => crate::claims::limit_from_json(v).ok_or_else(|| {
                    Error::input(format!(
                        "entitlements JSON: `limits.{}` must be a number or null",
                        def.key
                    ))
                })?,
                None => def.values.get(tier),
            });
        }
        let time = |name: &str| {
            obj.get(name)
                .and_then(Value::as_str)
                .and_then(parse_rfc3339)
        };
        let status = obj
            .get("status")
            .and_then(Value::as_str)
            .and_then(|s| match s {
                "active" => Some(LicenseStatus::Active),
                "grace" => Some(LicenseStatus::Grace),
                "expired" => Some(LicenseStatus::Expired),
                _ => None,
            });
        let license_id = obj.get("license_id").and_then(Value::as_str);
        let license = match (license_id, status, time("expires_at")) {
            (Some(id), Some(status), Some(expires_at)) => Some(LicenseSummary {
                license_id: id.to_owned(),
                status,
                expires_at,
                grace_ends_at: time("grace_ends_at").unwrap_or(expires_at),
                license_type: LicenseType::default(),
            }),
            _ => None,
        };
        let mut features_override = Vec::new();
        if let Some(m) = obj.get("features_override").and_then(Value::as_object) {
            for (k, v) in m {
                if let Some(b) = v.as_bool() {
                    features_override.push((k.clone(), b));
                }
            }
        }
        let mut limits_override = Vec::new();
        if let Some(m) = obj.get("limits_override").and_then(Value::as_object) {
            for (k, v) in m {
                if let Some(limit) = crate::claims::limit_from_json(v) {
                    limits_override.push((k.clone(), limit));
                }
            }
        }
        let stale_at = license.as_ref().and_then(|l| match l.status {
            LicenseStatus::Active => Some(l.expires_at.saturating_add(1)),
            LicenseStatus::Grace => Some(l.grace_ends_at.saturating_add(1)),
            LicenseStatus::Expired => None,
        });
        Ok(Entitlements {
            org_id: obj.get("org_id").and_then(Value::as_str).map(str::to_owned),
            tier,
            states: states.into_boxed_slice(),
            allowed,
            limits: limits.into_boxed_slice(),
            license,
            features_override,
            limits_override,
            resolved_at: i64::MIN,
            stale_at,
            #[cfg(feature = "ops-compat")]
            unregistered: unregistered_from_json(&catalog, obj.get("reasons"))?,
            #[cfg(not(feature = "ops-compat"))]
            unregistered: Vec::new(),
            catalog,
        })
    }
}

/// The decisions `to_json` wrote for keys the catalog lacks (exclusive mode): every key of
/// `reasons` outside the catalog whose reason is not `feature_not_registered`.
#[cfg(feature = "ops-compat")]
fn unregistered_from_json(
    catalog: &Catalog,
    reasons: Option<&Value>,
) -> Result<Vec<(String, FeatureState)>> {
    let mut unregistered = Vec::new();
    for (key, reason) in reasons.and_then(Value::as_object).into_iter().flatten() {
        if catalog.feature_position(key).is_some() {
            continue;
        }
        let reason = reason.as_str().and_then(Reason::parse).ok_or_else(|| {
            Error::input(format!("entitlements JSON: unknown reason for {key:?}"))
        })?;
        if reason == Reason::FeatureNotRegistered {
            continue;
        }
        // Kept in key order by inserting in place (no sort: the web module is size-budgeted).
        let at = unregistered
            .binary_search_by(|(k, _): &(String, FeatureState)| k.as_str().cmp(key))
            .unwrap_or_else(|at| at);
        unregistered.insert(
            at,
            (
                key.clone(),
                FeatureState {
                    reason,
                    expires_at: None,
                },
            ),
        );
    }
    Ok(unregistered)
}

/// Moved to [`crate::calendar`]; kept here for code that names the old path.
pub use crate::calendar::{parse_rfc3339, rfc3339};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_strings_are_their_json_names() {
        for denial in [Denial::NotLicensed, Denial::NotEnabled] {
            assert_eq!(serde_json::to_value(denial).unwrap(), denial.as_str());
        }
    }
}
