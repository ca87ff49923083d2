//! The catalog: tiers, features, limits and roles as data (SPEC §2), validated when loaded.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bitset::BitSet;
use crate::claims::{limit_from_json, LimitValue};
use crate::error::{Error, ErrorCode, Result};
use crate::index::KeyIndex;
use crate::tier::{PerTier, Tier};

/// Largest catalog document accepted, in bytes.
pub const MAX_CATALOG_BYTES: usize = 1024 * 1024;

/// Most roles a catalog may list. Each role keeps a set of every permission, own and inherited,
/// for one-bit-test answers to `can`: the two limits bound that memory (128 KiB at most), which
/// the document's size alone does not (roles × permissions).
pub const MAX_ROLES: usize = 256;

/// Most distinct permissions the roles of a catalog may name together.
pub const MAX_PERMISSIONS: usize = 4096;

/// `catalogs/default.json` without its whitespace (see `build.rs`).
const DEFAULT_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/default.json"));
/// `catalogs/dev-health-ops.json` without its whitespace (see `build.rs`).
const DEV_HEALTH_OPS_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/dev-health-ops.json"));

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
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitDirection {
    /// A ceiling such as seats: within when `current <= maximum`.
    Max,
    /// A floor such as a sync interval: within when `requested >= minimum`.
    Min,
}

impl LimitDirection {
    /// `"max"` or `"min"`, as the catalog JSON and every binding write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitDirection::Max => "max",
            LimitDirection::Min => "min",
        }
    }
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

/// What a valid license's `features` map means (SPEC §3 rule 4, and the mode dev-health-ops'
/// instance license uses). A catalog names its mode (`"license_features"`, default `grants`);
/// a caller may choose another for one resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseFeatures {
    /// SPEC §3: the map grants (true) and removes (false) features on top of the tier; features
    /// it does not name follow rules 5 and 6.
    #[default]
    Grants,
    /// The map is the whole answer, as dev-health-ops' `LicenseManager` reads its instance
    /// license: a feature it names is on or off as named (rules 2 and 3 and the tier-bound floor
    /// still apply first), even a key the catalog lacks; every other feature is off
    /// (`not_in_license`). Applies only while a signed license is valid; without one, the tier
    /// decides as in `grants`.
    Exclusive,
}

impl LicenseFeatures {
    /// `"grants"` or `"exclusive"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LicenseFeatures::Grants => "grants",
            LicenseFeatures::Exclusive => "exclusive",
        }
    }

    /// Parses `"grants"` or `"exclusive"`.
    pub fn parse(name: &str) -> Option<LicenseFeatures> {
        match name {
            "grants" => Some(LicenseFeatures::Grants),
            "exclusive" => Some(LicenseFeatures::Exclusive),
            _ => None,
        }
    }
}

/// The name of the shipped dev-health-ops catalog read in [`LicenseFeatures::Exclusive`] mode.
pub const DEV_HEALTH_OPS_EXCLUSIVE: &str = "dev-health-ops-exclusive";

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
    license_features: LicenseFeatures,
    tiers: Vec<TierInfo>,
    features: Vec<Feature>,
    feature_index: KeyIndex,
    limits: Vec<LimitDef>,
    limit_index: KeyIndex,
    roles: Vec<Role>,
    role_index: KeyIndex,
    role_permissions: Vec<BitSet>,
    permissions: Vec<String>,
    permission_index: KeyIndex,
}

/// Where a JSON value sits in the catalog, for error messages: the catalog object itself, or
/// entry `index` of one of its lists.
#[derive(Clone, Copy)]
enum At {
    Root,
    Entry(&'static str, usize),
}

impl At {
    /// The path of member `name` of this object, e.g. `features[3].min_tier`.
    fn member(self, name: &str) -> String {
        match self {
            At::Root => name.to_owned(),
            At::Entry(list, index) => format!("{list}[{index}].{name}"),
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root => f.write_str("the catalog"),
            At::Entry(list, index) => write!(f, "{list}[{index}]"),
        }
    }
}

/// A JSON object of the catalog whose members have been checked against the names it may have.
/// (A member named twice was already refused when the document was parsed.)
struct Members<'a> {
    map: &'a Map<String, Value>,
    at: At,
}

impl<'a> Members<'a> {
    /// `value` as an object with no member outside `known`.
    fn new(value: &'a Value, at: At, known: &[&str]) -> Result<Members<'a>> {
        let Value::Object(map) = value else {
            return Err(invalid(format!("{at} must be an object")));
        };
        for name in map.keys() {
            if !known.contains(&name.as_str()) {
                return Err(invalid(format!("unknown field {name:?} in {at}")));
            }
        }
        Ok(Members { map, at })
    }

    fn required(&self, name: &str) -> Result<&'a Value> {
        self.map
            .get(name)
            .ok_or_else(|| invalid(format!("{} is missing", self.at.member(name))))
    }

    fn wrong_type(&self, name: &str, expected: &str) -> Error {
        invalid(format!("{} must be {expected}", self.at.member(name)))
    }

    fn as_string(&self, name: &str, value: &Value) -> Result<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            _ => Err(self.wrong_type(name, "a string")),
        }
    }

    /// A required string member.
    fn string(&self, name: &str) -> Result<String> {
        self.as_string(name, self.required(name)?)
    }

    /// An optional string member; absent is `""`.
    fn string_or_empty(&self, name: &str) -> Result<String> {
        self.map
            .get(name)
            .map_or(Ok(String::new()), |v| self.as_string(name, v))
    }

    /// An optional string member; absent or null is `None`.
    fn string_or_null(&self, name: &str) -> Result<Option<String>> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => self.as_string(name, v).map(Some),
        }
    }

    /// An optional boolean member; absent is `false`.
    fn bool_or_false(&self, name: &str) -> Result<bool> {
        match self.map.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.wrong_type(name, "true or false")),
        }
    }

    /// A required member holding a whole number that fits `u32`.
    fn u32(&self, name: &str) -> Result<u32> {
        self.required(name)?
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| self.wrong_type(name, "a whole number from 0 to 4294967295"))
    }

    fn as_array(&self, name: &str, value: &'a Value) -> Result<&'a [Value]> {
        match value {
            Value::Array(items) => Ok(items),
            _ => Err(self.wrong_type(name, "an array")),
        }
    }

    /// A required array member.
    fn array(&self, name: &str) -> Result<&'a [Value]> {
        self.as_array(name, self.required(name)?)
    }

    /// An optional array member; absent is empty.
    fn array_or_empty(&self, name: &str) -> Result<&'a [Value]> {
        self.map
            .get(name)
            .map_or(Ok(&[]), |v| self.as_array(name, v))
    }

    /// A required array member of strings.
    fn strings(&self, name: &str) -> Result<Vec<String>> {
        let items = self.array(name)?;
        let mut strings = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => strings.push(s.clone()),
                _ => {
                    return Err(invalid(format!(
                        "{}[{index}] must be a string",
                        self.at.member(name)
                    )))
                }
            }
        }
        Ok(strings)
    }

    /// A required object member.
    fn object(&self, name: &str) -> Result<&'a Map<String, Value>> {
        match self.required(name)? {
            Value::Object(map) => Ok(map),
            _ => Err(self.wrong_type(name, "an object")),
        }
    }
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
    /// unknown tier, a role inheriting an unknown role, an unknown or missing member, a member of
    /// the wrong type, more than [`MAX_ROLES`] roles or [`MAX_PERMISSIONS`] distinct permissions,
    /// a document over [`MAX_CATALOG_BYTES`]: each is an `invalid_catalog` error that names it.
    pub fn from_json(json: &str) -> Result<Catalog> {
        if json.len() > MAX_CATALOG_BYTES {
            return Err(invalid(format!(
                "the catalog is {} bytes; the limit is {MAX_CATALOG_BYTES}",
                json.len()
            )));
        }
        let value: Value = crate::json::parse(json.as_bytes())
            .map_err(|e| invalid(format!("the catalog is not valid JSON: {e}")))?;
        Catalog::from_value(&value)
    }

    fn from_value(value: &Value) -> Result<Catalog> {
        let root = Members::new(
            value,
            At::Root,
            &[
                "name",
                "tiers",
                "features",
                "limits",
                "roles",
                "license_features",
            ],
        )?;
        let name = root.string("name")?;
        if name.is_empty() {
            return Err(invalid("the catalog needs a name".into()));
        }
        // Without `ops-compat` (the web module) there is no other mode: the member is accepted
        // and every catalog grants.
        #[cfg(not(feature = "ops-compat"))]
        let license_features = LicenseFeatures::Grants;
        #[cfg(feature = "ops-compat")]
        let license_features = match root.map.get("license_features") {
            None => LicenseFeatures::default(),
            Some(Value::String(mode)) => LicenseFeatures::parse(mode).ok_or_else(|| {
                root.wrong_type("license_features", "\"grants\" or \"exclusive\"")
            })?,
            Some(_) => {
                return Err(root.wrong_type("license_features", "\"grants\" or \"exclusive\""))
            }
        };

        let tier_values = root.array("tiers")?;
        let mut tiers = Vec::with_capacity(3);
        for (position, value) in tier_values.iter().enumerate() {
            let t = Members::new(
                value,
                At::Entry("tiers", position),
                &["key", "name", "grace_days"],
            )?;
            let key = t.string("key")?;
            let name = t.string("name")?;
            let grace_days = t.u32("grace_days")?;
            let tier = known_tier(&key, "tiers")?;
            if tiers.iter().any(|i: &TierInfo| i.tier == tier) {
                return Err(invalid(format!("tiers: {key:?} appears twice")));
            }
            if tier.index() != position {
                return Err(invalid(format!(
                    "tiers: {key:?} is out of order; list community, team, enterprise"
                )));
            }
            tiers.push(TierInfo {
                tier,
                name,
                grace_days,
            });
        }
        if tiers.len() != 3 {
            return Err(invalid(
                "tiers: list all three of community, team, enterprise".into(),
            ));
        }

        let feature_values = root.array("features")?;
        let mut features = Vec::with_capacity(feature_values.len());
        let mut feature_index = KeyIndex::default();
        for (position, value) in feature_values.iter().enumerate() {
            let f = Members::new(
                value,
                At::Entry("features", position),
                &[
                    "key",
                    "name",
                    "category",
                    "min_tier",
                    "explicit_purchase",
                    "tier_bound",
                    "description",
                ],
            )?;
            let key = f.string("key")?;
            let name = f.string("name")?;
            let category = f.string_or_empty("category")?;
            let min_tier_name = f.string("min_tier")?;
            let explicit_purchase = f.bool_or_false("explicit_purchase")?;
            let tier_bound = f.bool_or_false("tier_bound")?;
            let description = f.string_or_empty("description")?;
            if key.is_empty() {
                return Err(invalid("features: a feature has an empty key".into()));
            }
            let min_tier = known_tier(&min_tier_name, &format!("feature {key:?}"))?;
            if feature_index.insert(&key).is_err() {
                return Err(invalid(format!("features: the key {key:?} appears twice")));
            }
            features.push(Feature {
                key,
                name,
                category,
                min_tier,
                explicit_purchase,
                tier_bound,
                description,
            });
        }

        let limit_values = root.array_or_empty("limits")?;
        let mut limits = Vec::with_capacity(limit_values.len());
        let mut limit_index = KeyIndex::default();
        for (position, value) in limit_values.iter().enumerate() {
            let l = Members::new(
                value,
                At::Entry("limits", position),
                &["key", "name", "direction", "values"],
            )?;
            let key = l.string("key")?;
            let name = l.string_or_empty("name")?;
            let direction = match l.required("direction")? {
                Value::String(s) if s == "max" => LimitDirection::Max,
                Value::String(s) if s == "min" => LimitDirection::Min,
                _ => return Err(l.wrong_type("direction", "\"max\" or \"min\"")),
            };
            // One entry per tier name (the parser refused a tier named twice).
            let mut values: [Option<LimitValue>; 3] = [None; 3];
            for (tier_name, value) in l.object("values")? {
                let tier = known_tier(tier_name, &format!("limit {key:?}"))?;
                let parsed = limit_from_json(value).ok_or_else(|| {
                    invalid(format!(
                        "limit {key:?}: the value for {tier_name} must be a number ≥ 0, -1 or null"
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
                        "limit {key:?}: no value for {tier} (use null for unlimited)"
                    ))
                })?;
                if let Some(slot) = per_tier.get_mut(tier.index()) {
                    *slot = value;
                }
            }
            if limit_index.insert(&key).is_err() {
                return Err(invalid(format!("limits: the key {key:?} appears twice")));
            }
            limits.push(LimitDef {
                key,
                name,
                direction,
                values: PerTier(per_tier),
            });
        }

        let role_values = root.array_or_empty("roles")?;
        if role_values.len() > MAX_ROLES {
            return Err(invalid(format!(
                "roles: the catalog has {} roles; the limit is {MAX_ROLES}",
                role_values.len()
            )));
        }
        let mut listed = Vec::with_capacity(role_values.len());
        for (position, value) in role_values.iter().enumerate() {
            let r = Members::new(
                value,
                At::Entry("roles", position),
                &["name", "inherits", "permissions"],
            )?;
            listed.push(Role {
                name: r.string("name")?,
                inherits: r.string_or_null("inherits")?,
                permissions: r.strings("permissions")?,
            });
        }
        let mut permissions: Vec<String> = Vec::new();
        let mut permission_index = KeyIndex::default();
        for role in &listed {
            for p in &role.permissions {
                if !permission_index.contains(p) {
                    if permissions.len() == MAX_PERMISSIONS {
                        return Err(invalid(format!(
                            "roles: more than {MAX_PERMISSIONS} distinct permissions; the limit is \
                             {MAX_PERMISSIONS}"
                        )));
                    }
                    let _ = permission_index.insert(p);
                    permissions.push(p.clone());
                }
            }
        }
        let mut roles = Vec::with_capacity(listed.len());
        let mut role_index = KeyIndex::default();
        let mut role_permissions: Vec<BitSet> = Vec::with_capacity(listed.len());
        for r in listed {
            let mut set = BitSet::with_len(permissions.len());
            if let Some(parent) = &r.inherits {
                // Only an earlier role may be inherited, which also rules out cycles.
                let parent_set = role_index
                    .get(parent)
                    .and_then(|i| role_permissions.get(i))
                    .ok_or_else(|| {
                        invalid(format!(
                            "role {:?} inherits {parent:?}, which is not a role listed before it",
                            r.name
                        ))
                    })?;
                set.union_with(parent_set);
            }
            for p in &r.permissions {
                if let Some(i) = permission_index.get(p) {
                    set.insert(i);
                }
            }
            if role_index.insert(&r.name).is_err() {
                return Err(invalid(format!("roles: {:?} appears twice", r.name)));
            }
            role_permissions.push(set);
            roles.push(r);
        }

        Ok(Catalog {
            name,
            license_features,
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

    /// The default grace days per tier (SPEC §2: community 0, team 14, enterprise 30), read from
    /// the default catalog: the one place this policy is written. A verifier, the Stripe engine
    /// and an issuer given no catalog all take it from here.
    pub fn default_grace_days() -> PerTier<u32> {
        // The embedded catalog always parses (its tests say so); no grace is the cautious answer
        // should it ever not.
        Catalog::default_catalog().map_or(PerTier([0; 3]), |catalog| catalog.grace_days())
    }

    /// The `dev-health-ops` catalog: that backend's 32 features and seven limits. Parsed once.
    pub fn dev_health_ops() -> Result<Arc<Catalog>> {
        static CELL: OnceLock<Result<Arc<Catalog>>> = OnceLock::new();
        CELL.get_or_init(|| Catalog::from_json(DEV_HEALTH_OPS_JSON).map(Arc::new))
            .clone()
    }

    /// The `dev-health-ops` catalog read as dev-health-ops reads its instance license: a valid
    /// license's feature map is the whole answer ([`LicenseFeatures::Exclusive`]). Named
    /// `dev-health-ops-exclusive`. Built once. (Cargo feature `ops-compat`, on by default.)
    #[cfg(feature = "ops-compat")]
    pub fn dev_health_ops_exclusive() -> Result<Arc<Catalog>> {
        static CELL: OnceLock<Result<Arc<Catalog>>> = OnceLock::new();
        CELL.get_or_init(|| {
            // Parsed again rather than cloned: a `Catalog` clone would add its code to the
            // size-budgeted web module.
            let mut catalog = Catalog::from_json(DEV_HEALTH_OPS_JSON)?;
            catalog.name = DEV_HEALTH_OPS_EXCLUSIVE.to_owned();
            catalog.license_features = LicenseFeatures::Exclusive;
            Ok(Arc::new(catalog))
        })
        .clone()
    }

    /// A shipped catalog by name: `default`, `dev-health-ops` or `dev-health-ops-exclusive`.
    pub fn builtin(name: &str) -> Result<Arc<Catalog>> {
        match name {
            "default" => Catalog::default_catalog(),
            "dev-health-ops" | "dev_health_ops" => Catalog::dev_health_ops(),
            #[cfg(feature = "ops-compat")]
            DEV_HEALTH_OPS_EXCLUSIVE | "dev_health_ops_exclusive" => {
                Catalog::dev_health_ops_exclusive()
            }
            other => Err(Error::input(format!(
                "no shipped catalog is named {other:?} (expected default, dev-health-ops or \
                 {DEV_HEALTH_OPS_EXCLUSIVE})"
            ))),
        }
    }

    /// What a valid license's `features` map means under this catalog.
    pub fn license_features(&self) -> LicenseFeatures {
        self.license_features
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
            (Some(r), Some(p)) => self.role_permissions.get(r).is_some_and(|s| s.contains(p)),
            _ => false,
        }
    }

    /// Every permission of `role`, own and inherited, in catalog order.
    pub fn permissions_of(&self, role: &str) -> Vec<&str> {
        let Some(set) = self
            .role_index
            .get(role)
            .and_then(|r| self.role_permissions.get(r))
        else {
            return Vec::new();
        };
        let mut permissions = Vec::new();
        for (i, p) in self.permissions.iter().enumerate() {
            if set.contains(i) {
                permissions.push(p.as_str());
            }
        }
        permissions
    }

    #[inline]
    pub(crate) fn feature_position(&self, key: &str) -> Option<usize> {
        self.feature_index.get(key)
    }

    /// A limit's position by its catalog name or by the name license tokens use for it
    /// (`users`, `repos`, `api_rate`: SPEC §2), so that a host may ask by either.
    #[inline]
    pub(crate) fn limit_position(&self, key: &str) -> Option<usize> {
        self.limit_index
            .get(key)
            .or_else(|| self.limit_position_by_token_name(key))
    }

    /// The limit a token name (`users`, ...) stands for. Out of line: the lookup above is
    /// inlined at every call site of the size-budgeted web module.
    #[cold]
    #[inline(never)]
    fn limit_position_by_token_name(&self, key: &str) -> Option<usize> {
        if !cfg!(feature = "ops-compat") {
            return None;
        }
        let catalog_name = crate::claims::catalog_limit_name(key);
        if catalog_name == key {
            None
        } else {
            self.limit_index.get(catalog_name)
        }
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
    fn the_shipped_catalogs_are_embedded_without_whitespace_as_they_are() {
        for (embedded, file) in [
            (DEFAULT_JSON, include_str!("../catalogs/default.json")),
            (
                DEV_HEALTH_OPS_JSON,
                include_str!("../catalogs/dev-health-ops.json"),
            ),
        ] {
            assert!(embedded.len() < file.len());
            assert!(!embedded.contains('\n'));
            assert_eq!(
                crate::json::parse(embedded.as_bytes()).unwrap(),
                crate::json::parse(file.as_bytes()).unwrap()
            );
            assert_eq!(
                format!("{:?}", Catalog::from_json(embedded).unwrap()),
                format!("{:?}", Catalog::from_json(file).unwrap())
            );
        }
    }

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
    fn a_member_named_twice_is_refused_at_any_depth() {
        // A vendor's mistake to report: silently taking the last `min_tier` would mis-tier.
        for (member, json) in [
            (
                "community",
                format!(
                    r#"{{"name":"x","tiers":{TIERS},"features":[],"limits":[{{"key":"seats","direction":"max","values":{{"community":1,"community":100,"team":2,"enterprise":3}}}}]}}"#
                ),
            ),
            (
                "min_tier",
                format!(
                    r#"{{"name":"x","tiers":{TIERS},"features":[{{"key":"a","name":"A","min_tier":"enterprise","min_tier":"community"}}]}}"#
                ),
            ),
            (
                "features",
                format!(r#"{{"name":"x","tiers":{TIERS},"features":[],"features":[]}}"#),
            ),
        ] {
            let m = err(&json);
            assert!(m.starts_with("the catalog is not valid JSON"), "{m}");
            assert!(m.contains(&format!("{member:?} appears twice")), "{m}");
        }
    }

    #[test]
    fn a_duplicate_limit_or_role_key_across_entries_is_named() {
        let l = r#"{"key":"seats","direction":"max","values":{"community":1,"team":2,"enterprise":null}}"#;
        let json = format!(r#"{{"name":"x","tiers":{TIERS},"features":[],"limits":[{l},{l}]}}"#);
        assert_eq!(err(&json), "limits: the key \"seats\" appears twice");
        let r = r#"{"name":"a","permissions":[]}"#;
        let json = format!(r#"{{"name":"x","tiers":{TIERS},"features":[],"roles":[{r},{r}]}}"#);
        assert_eq!(err(&json), "roles: \"a\" appears twice");
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

    /// A catalog with the default tiers and these members added to the root object.
    fn with(members: &str) -> String {
        format!(r#"{{"name":"x","tiers":{TIERS},{members}}}"#)
    }

    #[test]
    fn structural_problems_are_named_by_path() {
        let feature = r#"{"key":"a","name":"A","min_tier":"team"}"#;
        let cases: [(String, &str); 27] = [
            ("[]".into(), "the catalog must be an object"),
            ("{".into(), "the catalog is not valid JSON: "),
            (with(r#""features":[],"extra":1"#), r#"unknown field "extra" in the catalog"#),
            (r#"{"tiers":[],"features":[]}"#.into(), "name is missing"),
            (r#"{"name":7,"tiers":[],"features":[]}"#.into(), "name must be a string"),
            (r#"{"name":"","tiers":[],"features":[]}"#.into(), "the catalog needs a name"),
            (r#"{"name":"x","features":[]}"#.into(), "tiers is missing"),
            (r#"{"name":"x","tiers":{},"features":[]}"#.into(), "tiers must be an array"),
            (with(r#""limits":[]"#), "features is missing"),
            (with(r#""features":[],"limits":null"#), "limits must be an array"),
            (with(r#""features":[],"roles":{}"#), "roles must be an array"),
            (
                r#"{"name":"x","tiers":[{"key":"community","name":"C","grace_days":0,"foo":1}],"features":[]}"#.into(),
                r#"unknown field "foo" in tiers[0]"#,
            ),
            (
                r#"{"name":"x","tiers":[{"key":"community","grace_days":0}],"features":[]}"#.into(),
                "tiers[0].name is missing",
            ),
            (
                r#"{"name":"x","tiers":[{"key":"community","name":"C","grace_days":-1}],"features":[]}"#.into(),
                "tiers[0].grace_days must be a whole number from 0 to 4294967295",
            ),
            (
                r#"{"name":"x","tiers":[{"key":"community","name":"C","grace_days":4294967296}],"features":[]}"#.into(),
                "tiers[0].grace_days must be a whole number from 0 to 4294967295",
            ),
            (
                r#"{"name":"x","tiers":[{"key":"community","name":"C","grace_days":1.5}],"features":[]}"#.into(),
                "tiers[0].grace_days must be a whole number from 0 to 4294967295",
            ),
            (
                r#"{"name":"x","tiers":["community"],"features":[]}"#.into(),
                "tiers[0] must be an object",
            ),
            (
                with(&format!(r#""features":[{feature},{{"key":"b","name":"B","min_tier":1}}]"#)),
                "features[1].min_tier must be a string",
            ),
            (
                with(r#""features":[{"key":"b","name":"B"}]"#),
                "features[0].min_tier is missing",
            ),
            (
                with(r#""features":[{"key":"b","name":"B","min_tier":"team","tier_bound":"yes"}]"#),
                "features[0].tier_bound must be true or false",
            ),
            (
                with(r#""features":[{"key":"b","name":"B","min_tier":"team","category":null}]"#),
                "features[0].category must be a string",
            ),
            (
                with(r#""features":[{"key":"b","name":"B","min_tier":"team","price":5}]"#),
                r#"unknown field "price" in features[0]"#,
            ),
            (
                with(r#""features":[],"limits":[{"key":"s","direction":"up","values":{}}]"#),
                r#"limits[0].direction must be "max" or "min""#,
            ),
            (
                with(r#""features":[],"limits":[{"key":"s","direction":"max","values":[1,2,3]}]"#),
                "limits[0].values must be an object",
            ),
            (
                with(r#""features":[],"limits":[{"key":"s","direction":"max"}]"#),
                "limits[0].values is missing",
            ),
            (
                with(r#""features":[],"roles":[{"name":"a","permissions":["x",3]}]"#),
                "roles[0].permissions[1] must be a string",
            ),
            (
                with(r#""features":[],"roles":[{"name":"a","inherits":5,"permissions":[]}]"#),
                "roles[0].inherits must be a string",
            ),
        ];
        for (json, expected) in &cases {
            let m = err(json);
            assert!(m.starts_with(expected), "{json}: {m}");
            assert_eq!(
                Catalog::from_json(json).unwrap_err().code(),
                ErrorCode::InvalidCatalog
            );
        }
    }

    #[test]
    fn optional_members_take_their_defaults() {
        let json = with(
            r#""features":[{"key":"a","name":"A","min_tier":"team"}],"limits":[{"key":"s","direction":"min","values":{"community":-1,"team":null,"enterprise":2.5}}],"roles":[{"name":"v","inherits":null,"permissions":["p"]},{"name":"w","permissions":[]}]"#,
        );
        let c = Catalog::from_json(&json).unwrap();
        assert_eq!(c.name(), "x");
        assert_eq!(c.grace_days(), PerTier([0, 14, 30]));
        assert_eq!(c.tier_name(Tier::Enterprise), "E");
        let f = c.feature("a").unwrap();
        assert_eq!((f.category.as_str(), f.description.as_str()), ("", ""));
        assert!(!f.explicit_purchase && !f.tier_bound);
        assert_eq!(f.min_tier, Tier::Team);
        let l = c.limit("s").unwrap();
        assert_eq!(l.name, "");
        assert_eq!(l.direction, LimitDirection::Min);
        assert_eq!(l.values, PerTier([None, None, Some(2.5)]));
        assert_eq!(c.roles()[0].inherits, None);
        assert!(c.can("v", "p") && !c.can("w", "p"));
        let bare = Catalog::from_json(&with(r#""features":[]"#)).unwrap();
        assert!(bare.limits().is_empty() && bare.roles().is_empty());
    }

    /// A catalog of `roles` roles, each inheriting the one before and adding
    /// `permissions_per_role` permissions of its own.
    fn with_roles(roles: usize, permissions_per_role: usize) -> String {
        let list: Vec<String> = (0..roles)
            .map(|r| {
                let inherits = match r {
                    0 => "null".to_owned(),
                    _ => format!("\"r{}\"", r - 1),
                };
                let own: Vec<String> = (0..permissions_per_role)
                    .map(|p| format!("\"p{r}:{p}\""))
                    .collect();
                format!(
                    r#"{{"name":"r{r}","inherits":{inherits},"permissions":[{}]}}"#,
                    own.join(",")
                )
            })
            .collect();
        with(&format!(r#""features":[],"roles":[{}]"#, list.join(",")))
    }

    #[test]
    fn a_catalog_at_the_role_and_permission_limits_loads() {
        let c = Catalog::from_json(&with_roles(MAX_ROLES, MAX_PERMISSIONS / MAX_ROLES)).unwrap();
        assert_eq!(c.roles().len(), MAX_ROLES);
        assert_eq!(c.permissions().len(), MAX_PERMISSIONS);
        let last = format!("r{}", MAX_ROLES - 1);
        assert!(c.can(&last, "p0:0") && !c.can("r0", &format!("p{}:0", MAX_ROLES - 1)));
        assert_eq!(c.permissions_of(&last).len(), MAX_PERMISSIONS);
    }

    #[test]
    fn more_roles_than_the_limit_are_refused() {
        let m = err(&with_roles(MAX_ROLES + 1, 0));
        assert_eq!(
            m,
            format!(
                "roles: the catalog has {} roles; the limit is {MAX_ROLES}",
                MAX_ROLES + 1
            )
        );
    }

    #[test]
    fn more_distinct_permissions_than_the_limit_are_refused() {
        let m = err(&with_roles(1, MAX_PERMISSIONS + 1));
        assert_eq!(
            m,
            format!("roles: more than {MAX_PERMISSIONS} distinct permissions; the limit is {MAX_PERMISSIONS}")
        );
        // A permission named by several roles counts once.
        let json = with(&format!(
            r#""features":[],"roles":[{{"name":"a","permissions":[{p}]}},{{"name":"b","permissions":[{p}]}}]"#,
            p = (0..MAX_PERMISSIONS)
                .map(|i| format!("\"p{i}\""))
                .collect::<Vec<_>>()
                .join(",")
        ));
        assert_eq!(
            Catalog::from_json(&json).unwrap().permissions().len(),
            MAX_PERMISSIONS
        );
    }

    #[test]
    fn the_reviewed_memory_blowup_is_refused() {
        // One role with 60,000 permissions and 18,500 empty roles, under 1 MiB: a dense bitset per
        // role made this cost 180 MB.
        let many: Vec<String> = (0..60_000).map(|i| format!("\"{i:x}\"")).collect();
        let empty: Vec<String> = (0..18_500)
            .map(|i| format!(r#"{{"name":"{i:x}","permissions":[]}}"#))
            .collect();
        let json = with(&format!(
            r#""features":[],"roles":[{{"name":"big","permissions":[{}]}},{}]"#,
            many.join(","),
            empty.join(",")
        ));
        assert!(json.len() <= MAX_CATALOG_BYTES, "{}", json.len());
        let e = Catalog::from_json(&json).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidCatalog);
        assert!(e.message().contains("the limit is"), "{e}");
    }

    #[test]
    fn an_oversized_catalog_is_refused_before_parsing() {
        let json = " ".repeat(MAX_CATALOG_BYTES + 1);
        assert!(err(&json).contains("bytes; the limit is"));
    }
}
