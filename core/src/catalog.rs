//! The catalog: tiers, features, limits and roles as data (SPEC §2), validated when loaded.

use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bitset::BitSet;
use crate::claims::{limit_from_json, LimitValue};
use crate::error::{Error, ErrorCode, Result};
use crate::tier::{PerTier, Tier};

/// Largest catalog document accepted, in bytes.
pub const MAX_CATALOG_BYTES: usize = 1024 * 1024;

const DEFAULT_JSON: &str = include_str!("../catalogs/default.json");
const DEV_HEALTH_OPS_JSON: &str = include_str!("../catalogs/dev-health-ops.json");

/// A feature of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    /// The stable key, e.g. `sso_saml`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Display grouping.
    pub category: String,
    /// The lowest tier that has it.
    pub min_tier: Tier,
    /// Off on every tier unless granted by a license or an override.
    pub explicit_purchase: bool,
    /// An override or license grant cannot lift an org below `min_tier`.
    pub tier_bound: bool,
    /// One sentence for people.
    pub description: String,
}

/// Whether a limit is a ceiling or a floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitDirection {
    /// A ceiling such as seats: within when `current <= maximum`.
    Max,
    /// A floor such as a sync interval: within when `requested >= minimum`.
    Min,
}

/// A limit of the catalog with its value per tier.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitDef {
    /// The catalog name, e.g. `max_users`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Ceiling or floor.
    pub direction: LimitDirection,
    /// The value per tier; `None` is unlimited.
    pub values: PerTier<LimitValue>,
}

/// A tier's display name and default grace days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierInfo {
    /// The tier.
    pub tier: Tier,
    /// Display name, e.g. `Enterprise`.
    pub name: String,
    /// Grace days after a license of this tier expires, unless the license says otherwise.
    pub grace_days: u32,
}

/// A role and the permissions it adds to the role it inherits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role name, e.g. `admin`.
    pub name: String,
    /// The role it inherits every permission of.
    pub inherits: Option<String>,
    /// The permissions this role adds.
    pub permissions: Vec<String>,
}

/// The validated catalog. Lookups by key are hash lookups into dense indices.
#[derive(Debug, Clone)]
pub struct Catalog {
    name: String,
    tiers: Vec<TierInfo>,
    features: Vec<Feature>,
    feature_index: FxHashMap<Box<str>, usize>,
    limits: Vec<LimitDef>,
    limit_index: FxHashMap<Box<str>, usize>,
    roles: Vec<Role>,
    role_index: FxHashMap<Box<str>, usize>,
    role_permissions: Vec<BitSet>,
    permissions: Vec<String>,
    permission_index: FxHashMap<Box<str>, usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    name: String,
    tiers: Vec<RawTier>,
    features: Vec<RawFeature>,
    #[serde(default)]
    limits: Vec<RawLimit>,
    #[serde(default)]
    roles: Vec<RawRole>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    key: String,
    name: String,
    grace_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeature {
    key: String,
    name: String,
    #[serde(default)]
    category: String,
    min_tier: String,
    #[serde(default)]
    explicit_purchase: bool,
    #[serde(default)]
    tier_bound: bool,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    key: String,
    #[serde(default)]
    name: String,
    direction: LimitDirection,
    values: Entries,
}

/// A JSON object read as its entries in order, duplicates kept (a map would silently keep the
/// last of two equal keys, and a catalog with `"community"` twice is a mistake to report).
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of tier → value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRole {
    name: String,
    #[serde(default)]
    inherits: Option<String>,
    permissions: Vec<String>,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidCatalog, message)
}

fn known_tier(name: &str, context: &str) -> Result<Tier> {
    Tier::parse(name).ok_or_else(|| {
        invalid(format!(
            "{context}: unknown tier {name:?} (expected community, team or enterprise)"
        ))
    })
}

impl Catalog {
    /// Loads and validates a catalog from JSON. An unknown tier, a duplicate key, a limit for an
    /// unknown tier, a role inheriting an unknown role: each is an `invalid_catalog` error that
    /// names it.
    pub fn from_json(json: &str) -> Result<Catalog> {
        if json.len() > MAX_CATALOG_BYTES {
            return Err(invalid(format!(
                "the catalog is {} bytes; the limit is {MAX_CATALOG_BYTES}",
                json.len()
            )));
        }
        let raw: RawCatalog = serde_json::from_str(json)
            .map_err(|e| invalid(format!("the catalog is not valid: {e}")))?;
        Catalog::from_raw(raw)
    }

    fn from_raw(raw: RawCatalog) -> Result<Catalog> {
        if raw.name.is_empty() {
            return Err(invalid("the catalog needs a name".into()));
        }
        let mut tiers = Vec::with_capacity(3);
        for (position, t) in raw.tiers.into_iter().enumerate() {
            let tier = known_tier(&t.key, "tiers")?;
            if tiers.iter().any(|i: &TierInfo| i.tier == tier) {
                return Err(invalid(format!("tiers: {:?} appears twice", t.key)));
            }
            if tier.index() != position {
                return Err(invalid(format!(
                    "tiers: {:?} is out of order; list community, team, enterprise",
                    t.key
                )));
            }
            tiers.push(TierInfo {
                tier,
                name: t.name,
                grace_days: t.grace_days,
            });
        }
        if tiers.len() != 3 {
            return Err(invalid(
                "tiers: list all three of community, team, enterprise".into(),
            ));
        }

        let mut features = Vec::with_capacity(raw.features.len());
        let mut feature_index = FxHashMap::default();
        for f in raw.features {
            if f.key.is_empty() {
                return Err(invalid("features: a feature has an empty key".into()));
            }
            let min_tier = known_tier(&f.min_tier, &format!("feature {:?}", f.key))?;
            if feature_index
                .insert(f.key.clone().into_boxed_str(), features.len())
                .is_some()
            {
                return Err(invalid(format!(
                    "features: the key {:?} appears twice",
                    f.key
                )));
            }
            features.push(Feature {
                key: f.key,
                name: f.name,
                category: f.category,
                min_tier,
                explicit_purchase: f.explicit_purchase,
                tier_bound: f.tier_bound,
                description: f.description,
            });
        }

        let mut limits = Vec::with_capacity(raw.limits.len());
        let mut limit_index = FxHashMap::default();
        for l in raw.limits {
            let mut values: [Option<LimitValue>; 3] = [None; 3];
            for (tier_name, value) in &l.values.0 {
                let tier = known_tier(tier_name, &format!("limit {:?}", l.key))?;
                if values.get(tier.index()).is_some_and(Option::is_some) {
                    return Err(invalid(format!(
                        "limit {:?}: the value for {tier_name} appears twice",
                        l.key
                    )));
                }
                let parsed = limit_from_json(value).ok_or_else(|| {
                    invalid(format!(
                        "limit {:?}: the value for {tier_name} must be a number ≥ 0, -1 or null",
                        l.key
                    ))
                })?;
                if let Some(slot) = values.get_mut(tier.index()) {
                    *slot = Some(parsed);
                }
            }
            let mut per_tier = [None; 3];
            for tier in Tier::ALL {
                let value = values.get(tier.index()).copied().flatten().ok_or_else(|| {
                    invalid(format!(
                        "limit {:?}: no value for {tier} (use null for unlimited)",
                        l.key
                    ))
                })?;
                if let Some(slot) = per_tier.get_mut(tier.index()) {
                    *slot = value;
                }
            }
            if limit_index
                .insert(l.key.clone().into_boxed_str(), limits.len())
                .is_some()
            {
                return Err(invalid(format!(
                    "limits: the key {:?} appears twice",
                    l.key
                )));
            }
            limits.push(LimitDef {
                key: l.key,
                name: l.name,
                direction: l.direction,
                values: PerTier(per_tier),
            });
        }

        let mut permissions: Vec<String> = Vec::new();
        let mut permission_index: FxHashMap<Box<str>, usize> = FxHashMap::default();
        for role in &raw.roles {
            for p in &role.permissions {
                if !permission_index.contains_key(p.as_str()) {
                    permission_index.insert(p.clone().into_boxed_str(), permissions.len());
                    permissions.push(p.clone());
                }
            }
        }
        let mut roles = Vec::with_capacity(raw.roles.len());
        let mut role_index = FxHashMap::default();
        let mut role_permissions: Vec<BitSet> = Vec::with_capacity(raw.roles.len());
        for r in raw.roles {
            let mut set = BitSet::with_len(permissions.len());
            if let Some(parent) = &r.inherits {
                // Only an earlier role may be inherited, which also rules out cycles.
                let parent_set = role_index
                    .get(parent.as_str())
                    .and_then(|&i: &usize| role_permissions.get(i))
                    .ok_or_else(|| {
                        invalid(format!(
                            "role {:?} inherits {parent:?}, which is not a role listed before it",
                            r.name
                        ))
                    })?;
                set.union_with(parent_set);
            }
            for p in &r.permissions {
                if let Some(&i) = permission_index.get(p.as_str()) {
                    set.insert(i);
                }
            }
            if role_index
                .insert(r.name.clone().into_boxed_str(), roles.len())
                .is_some()
            {
                return Err(invalid(format!("roles: {:?} appears twice", r.name)));
            }
            role_permissions.push(set);
            roles.push(Role {
                name: r.name,
                inherits: r.inherits,
                permissions: r.permissions,
            });
        }

        Ok(Catalog {
            name: raw.name,
            tiers,
            features,
            feature_index,
            limits,
            limit_index,
            roles,
            role_index,
            role_permissions,
            permissions,
            permission_index,
        })
    }

    /// The default catalog: the Enterprise Edition tier table of SPEC §2. Parsed once.
    pub fn default_catalog() -> Result<Arc<Catalog>> {
        static CELL: OnceLock<Result<Arc<Catalog>>> = OnceLock::new();
        CELL.get_or_init(|| Catalog::from_json(DEFAULT_JSON).map(Arc::new))
            .clone()
    }

    /// The `dev-health-ops` catalog: that backend's 32 features and seven limits. Parsed once.
    pub fn dev_health_ops() -> Result<Arc<Catalog>> {
        static CELL: OnceLock<Result<Arc<Catalog>>> = OnceLock::new();
        CELL.get_or_init(|| Catalog::from_json(DEV_HEALTH_OPS_JSON).map(Arc::new))
            .clone()
    }

    /// A shipped catalog by name: `default` or `dev-health-ops`.
    pub fn builtin(name: &str) -> Result<Arc<Catalog>> {
        match name {
            "default" => Catalog::default_catalog(),
            "dev-health-ops" | "dev_health_ops" => Catalog::dev_health_ops(),
            other => Err(Error::input(format!(
                "no shipped catalog is named {other:?} (expected default or dev-health-ops)"
            ))),
        }
    }

    /// The catalog's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tiers, lowest first.
    pub fn tiers(&self) -> &[TierInfo] {
        &self.tiers
    }

    /// A tier's display name.
    pub fn tier_name(&self, tier: Tier) -> &str {
        self.tiers
            .get(tier.index())
            .map_or(tier.as_str(), |t| t.name.as_str())
    }

    /// Default grace days per tier.
    pub fn grace_days(&self) -> PerTier<u32> {
        let days = |t: Tier| self.tiers.get(t.index()).map_or(0, |i| i.grace_days);
        PerTier([
            days(Tier::Community),
            days(Tier::Team),
            days(Tier::Enterprise),
        ])
    }

    /// All features, in catalog order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The feature with this key.
    pub fn feature(&self, key: &str) -> Option<&Feature> {
        self.feature_position(key)
            .and_then(|i| self.features.get(i))
    }

    /// All limits, in catalog order.
    pub fn limits(&self) -> &[LimitDef] {
        &self.limits
    }

    /// The limit with this key.
    pub fn limit(&self, key: &str) -> Option<&LimitDef> {
        self.limit_position(key).and_then(|i| self.limits.get(i))
    }

    /// All roles, in catalog order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Every permission some role has.
    pub fn permissions(&self) -> &[String] {
        &self.permissions
    }

    /// Whether `role` has `permission` (its own or inherited). An unknown role has no
    /// permissions; an unknown permission is denied.
    #[inline]
    pub fn can(&self, role: &str, permission: &str) -> bool {
        match (
            self.role_index.get(role),
            self.permission_index.get(permission),
        ) {
            (Some(&r), Some(&p)) => self.role_permissions.get(r).is_some_and(|s| s.contains(p)),
            _ => false,
        }
    }

    /// Every permission of `role`, own and inherited, in catalog order.
    pub fn permissions_of(&self, role: &str) -> Vec<&str> {
        let Some(set) = self
            .role_index
            .get(role)
            .and_then(|&r| self.role_permissions.get(r))
        else {
            return Vec::new();
        };
        self.permissions
            .iter()
            .enumerate()
            .filter(|(i, _)| set.contains(*i))
            .map(|(_, p)| p.as_str())
            .collect()
    }

    #[inline]
    pub(crate) fn feature_position(&self, key: &str) -> Option<usize> {
        self.feature_index.get(key).copied()
    }

    #[inline]
    pub(crate) fn limit_position(&self, key: &str) -> Option<usize> {
        self.limit_index.get(key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Catalog::from_json(json)
            .err()
            .map(|e| e.message().to_owned())
            .unwrap_or_default()
    }

    const TIERS: &str = r#"[{"key":"community","name":"C","grace_days":0},{"key":"team","name":"T","grace_days":14},{"key":"enterprise","name":"E","grace_days":30}]"#;

    #[test]
    fn the_shipped_catalogs_load() {
        let default = Catalog::default_catalog().unwrap();
        assert_eq!(default.features().len(), 18);
        assert_eq!(default.limits().len(), 2);
        let ops = Catalog::dev_health_ops().unwrap();
        assert_eq!(ops.features().len(), 32);
        assert_eq!(ops.limits().len(), 7);
        assert_eq!(
            ops.limit("min_sync_interval_hours").unwrap().direction,
            LimitDirection::Min
        );
    }

    #[test]
    fn an_unknown_min_tier_is_named() {
        let json = format!(
            r#"{{"name":"x","tiers":{TIERS},"features":[{{"key":"a","name":"A","min_tier":"gold"}}]}}"#
        );
        let m = err(&json);
        assert!(m.contains("gold") && m.contains("\"a\""), "{m}");
    }

    #[test]
    fn a_duplicate_feature_key_is_named() {
        let f = r#"{"key":"dup","name":"A","min_tier":"team"}"#;
        let json = format!(r#"{{"name":"x","tiers":{TIERS},"features":[{f},{f}]}}"#);
        assert!(err(&json).contains("\"dup\" appears twice"));
    }

    #[test]
    fn a_limit_for_an_unknown_tier_is_named() {
        let json = format!(
            r#"{{"name":"x","tiers":{TIERS},"features":[],"limits":[{{"key":"seats","direction":"max","values":{{"community":1,"team":2,"enterprise":3,"platinum":4}}}}]}}"#
        );
        let m = err(&json);
        assert!(m.contains("platinum") && m.contains("seats"), "{m}");
    }

    #[test]
    fn a_limit_with_a_tier_twice_is_named() {
        let json = format!(
            r#"{{"name":"x","tiers":{TIERS},"features":[],"limits":[{{"key":"seats","direction":"max","values":{{"community":1,"community":100,"team":2,"enterprise":3}}}}]}}"#
        );
        assert!(err(&json).contains("community appears twice"));
    }

    #[test]
    fn a_limit_missing_a_tier_is_named() {
        let json = format!(
            r#"{{"name":"x","tiers":{TIERS},"features":[],"limits":[{{"key":"seats","direction":"max","values":{{"community":1}}}}]}}"#
        );
        assert!(err(&json).contains("no value for team"));
    }

    #[test]
    fn roles_inherit_and_unknowns_are_denied() {
        let c = Catalog::default_catalog().unwrap();
        assert!(c.can("owner", "analytics:read"));
        assert!(c.can("admin", "org:write"));
        assert!(!c.can("editor", "org:write"));
        assert!(!c.can("root", "analytics:read"));
        assert!(!c.can("owner", "nuclear:launch"));
        assert_eq!(c.permissions_of("viewer").len(), 8);
        assert_eq!(c.permissions_of("owner").len(), 21);
    }

    #[test]
    fn a_role_inheriting_an_unknown_role_is_named() {
        let json = format!(
            r#"{{"name":"x","tiers":{TIERS},"features":[],"roles":[{{"name":"a","inherits":"ghost","permissions":[]}}]}}"#
        );
        assert!(err(&json).contains("ghost"));
    }
}
