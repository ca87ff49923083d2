//! License claims: the schema of SPEC §1.1 (v2) and §1.2 (v1), read with errors that name the claim.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorDetail, Result};
use crate::keys::describe;
use crate::tier::Tier;
use crate::token::TokenFormat;

/// A limit's value: `Some(n)` is the bound, `None` is unlimited (`-1` or `null` in a token).
pub type LimitValue = Option<f64>;

/// How a license was sold; decides whether it covers one org or the whole instance (SPEC §3).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LicenseType {
    /// A SaaS org's license, issued from billing; covers only the org in `sub`.
    Saas,
    /// A self-hosted customer's license; covers every org of the instance.
    #[default]
    SelfHosted,
    /// A trial; covers only the org in `sub`.
    Trial,
    /// An evaluation; covers every org of the instance.
    Evaluation,
}

impl LicenseType {
    /// The type's snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LicenseType::Saas => "saas",
            LicenseType::SelfHosted => "self_hosted",
            LicenseType::Trial => "trial",
            LicenseType::Evaluation => "evaluation",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(name: &str) -> Option<LicenseType> {
        match name {
            "saas" => Some(LicenseType::Saas),
            "self_hosted" => Some(LicenseType::SelfHosted),
            "trial" => Some(LicenseType::Trial),
            "evaluation" => Some(LicenseType::Evaluation),
            _ => None,
        }
    }

    /// Whether a license of this type applies only to the org named in its `sub`.
    pub const fn is_org_scoped(self) -> bool {
        matches!(self, LicenseType::Saas | LicenseType::Trial)
    }
}

/// How license tokens (and dev-health-ops' `LicenseLimits`) write "unlimited" for a limit; the
/// engine itself answers `None` (JSON `null`).
pub const UNLIMITED_MARKER: i64 = -1;

/// Maps a license-token limit name to its catalog name (`users` → `max_users`, ...). Catalog
/// lookups accept either name.
pub fn catalog_limit_name(token_name: &str) -> &str {
    match token_name {
        "users" => "max_users",
        "repos" => "max_repos",
        "api_rate" => "api_rate_limit_per_min",
        other => other,
    }
}

/// The verified claims of a license, the same for both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenseClaims {
    /// `iss`: who issued the license.
    pub iss: String,
    /// `sub`: the org id the license is for.
    pub sub: String,
    /// `aud`: the deployments the license is for (empty when absent).
    pub aud: Vec<String>,
    /// `iat`: when it was issued (Unix seconds).
    pub iat: i64,
    /// `nbf`: not valid before (Unix seconds).
    pub nbf: Option<i64>,
    /// `exp`: expiry (Unix seconds); the license is active while `now <= exp`.
    pub exp: i64,
    /// The license id (`jti` in v2, `license_id` in v1).
    pub license_id: String,
    /// The licensed tier.
    pub tier: Tier,
    /// Explicit grants (true) and removals (false) on top of the tier.
    pub features: BTreeMap<String, bool>,
    /// Limits by catalog name (token names such as `users` are mapped).
    pub limits: BTreeMap<String, LimitValue>,
    /// Grace days after `exp`; `None` takes the catalog's default for the tier.
    pub grace_days: Option<u32>,
    /// Display only.
    pub org_name: Option<String>,
    /// Display only.
    pub contact_email: Option<String>,
    /// How the license was sold.
    pub license_type: LicenseType,
    /// Claims this version does not know, kept as they were.
    pub extra: Map<String, Value>,
}

impl LicenseClaims {
    /// Reads v2 claims from their JSON text: [`LicenseClaims::from_json`] of the parsed object.
    /// With `fast-json`, well-formed claims (only members the schema reads, each of its JSON
    /// type, none twice) are first read straight into their fields; anything else takes the
    /// object path, which words every error.
    pub(crate) fn from_v2_json(json: &[u8]) -> Result<LicenseClaims> {
        // serde would also read a struct from a JSON array: only an object may take the fast path.
        #[cfg(feature = "fast-json")]
        if json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            if let Some(claims) = serde_json::from_slice::<WellFormedV2>(json)
                .ok()
                .and_then(WellFormedV2::into_claims)
            {
                return Ok(claims);
            }
        }
        LicenseClaims::from_json(crate::token::v2::claims_object(json)?, TokenFormat::V2)
    }

    /// Reads claims from a decoded JSON object of the given format.
    pub fn from_json(map: Map<String, Value>, format: TokenFormat) -> Result<LicenseClaims> {
        LicenseClaims::from_members(map, format)
    }

    /// Reads claims from the members of a JSON object, in order; of a member named twice, the
    /// last counts (as in a map). Claims the format does not read are kept in `extra`.
    fn from_members<Name: AsRef<str> + Into<String>>(
        members: impl IntoIterator<Item = (Name, Value)>,
        format: TokenFormat,
    ) -> Result<LicenseClaims> {
        let mut known: [Option<Value>; Claim::COUNT] = Default::default();
        let mut map = Map::new();
        for (name, value) in members {
            match Claim::of(name.as_ref(), format) {
                Some(claim) => {
                    if let Some(slot) = known.get_mut(claim as usize) {
                        *slot = Some(value);
                    }
                }
                None => {
                    map.insert(name.into(), value);
                }
            }
        }
        LicenseClaims::from_known(known, map, format)
    }

    /// The claims from the members the format reads (`known`, by [`Claim`]) and the others
    /// (`map`). Not generic, so that the binary holds one copy for every kind of member list.
    #[inline(never)]
    fn from_known(
        mut known: [Option<Value>; Claim::COUNT],
        map: Map<String, Value>,
        format: TokenFormat,
    ) -> Result<LicenseClaims> {
        // A claim given as `null` reads as absent.
        let mut take = |claim: Claim| {
            known
                .get_mut(claim as usize)
                .and_then(Option::take)
                .filter(|v| !v.is_null())
        };
        let iss = required_string(take(Claim::Iss), "iss")?;
        let sub = required_string(take(Claim::Sub), "sub")?;
        let iat = required_int(take(Claim::Iat), "iat")?;
        let exp = required_int(take(Claim::Exp), "exp")?;
        let tier = tier(take(Claim::Tier))?;
        let features = features(take(Claim::Features))?;
        let limits = limits(take(Claim::Limits))?;
        let grace_days = grace_days(take(Claim::GraceDays))?;
        let org_name = optional_string(take(Claim::OrgName), "org_name")?;
        let contact_email = optional_string(take(Claim::ContactEmail), "contact_email")?;
        let (license_id, nbf, aud, license_type) = match format {
            // dev-health-ops' payload model makes `license_id` optional (its helpers sign
            // `null`): absent, it is left empty here and the verifier derives a stable id from
            // the token (`token::v1::derived_license_id`), so that revocation still works.
            TokenFormat::V1 => (
                match take(Claim::LicenseId) {
                    None => String::new(),
                    id => required_string(id, "license_id")?,
                },
                None,
                Vec::new(),
                LicenseType::SelfHosted,
            ),
            TokenFormat::V2 => {
                let license_id = required_string(take(Claim::LicenseId), "jti")?;
                let nbf = match take(Claim::Nbf) {
                    None => None,
                    v => Some(required_int(v, "nbf")?),
                };
                let aud = audience(take(Claim::Aud))?;
                let license_type = license_type(take(Claim::LicenseType))?;
                (license_id, nbf, aud, license_type)
            }
        };
        Ok(LicenseClaims {
            iss,
            sub,
            aud,
            iat,
            nbf,
            exp,
            license_id,
            tier,
            features,
            limits,
            grace_days,
            org_name,
            contact_email,
            license_type,
            extra: map,
        })
    }

    /// The last second of this license's grace under `catalog`'s default grace days: the
    /// [`License::grace_ends_at`](crate::License::grace_ends_at) a verifier with that catalog will
    /// report, for hosts that record it before any verifier sees the token (the server's rows).
    pub fn grace_ends_at(&self, catalog: &crate::Catalog) -> i64 {
        use crate::verify::{grace_days_for, grace_end};
        grace_end(
            self.exp,
            grace_days_for(self.tier, self.grace_days, catalog.grace_days()),
        )
    }

    /// The claims as a v2-shaped JSON object (`jti` for the license id, catalog limit names,
    /// `null` for unlimited), with unknown claims kept.
    pub fn to_json(&self) -> Value {
        let mut out = self.extra.clone();
        let mut put = |k: &str, v: Value| {
            out.insert(k.to_owned(), v);
        };
        put("iss", self.iss.clone().into());
        put("sub", self.sub.clone().into());
        if !self.aud.is_empty() {
            put("aud", self.aud.clone().into());
        }
        put("iat", self.iat.into());
        if let Some(nbf) = self.nbf {
            put("nbf", nbf.into());
        }
        put("exp", self.exp.into());
        put("jti", self.license_id.clone().into());
        put("tier", self.tier.as_str().into());
        let mut features = Map::new();
        for (k, v) in &self.features {
            features.insert(k.clone(), Value::Bool(*v));
        }
        put("features", Value::Object(features));
        let mut limits = Map::new();
        for (k, v) in &self.limits {
            limits.insert(k.clone(), limit_to_json(*v));
        }
        put("limits", Value::Object(limits));
        if let Some(days) = self.grace_days {
            put("grace_days", days.into());
        }
        if let Some(name) = &self.org_name {
            put("org_name", name.clone().into());
        }
        if let Some(email) = &self.contact_email {
            put("contact_email", email.clone().into());
        }
        put("license_type", self.license_type.as_str().into());
        Value::Object(out)
    }
}

/// The claims the formats read, each with its slot in `from_members`; any other member is kept in
/// `extra`.
#[derive(Debug, Clone, Copy)]
enum Claim {
    Iss,
    Sub,
    Iat,
    Exp,
    Tier,
    Features,
    Limits,
    GraceDays,
    OrgName,
    ContactEmail,
    /// `jti` in v2, `license_id` in v1.
    LicenseId,
    Nbf,
    Aud,
    LicenseType,
}

impl Claim {
    const COUNT: usize = Claim::LicenseType as usize + 1;

    /// The claim `name` is in `format`, if the format reads it.
    fn of(name: &str, format: TokenFormat) -> Option<Claim> {
        Some(match (name, format) {
            ("iss", _) => Claim::Iss,
            ("sub", _) => Claim::Sub,
            ("iat", _) => Claim::Iat,
            ("exp", _) => Claim::Exp,
            ("tier", _) => Claim::Tier,
            ("features", _) => Claim::Features,
            ("limits", _) => Claim::Limits,
            ("grace_days", _) => Claim::GraceDays,
            ("org_name", _) => Claim::OrgName,
            ("contact_email", _) => Claim::ContactEmail,
            ("license_id", TokenFormat::V1) | ("jti", TokenFormat::V2) => Claim::LicenseId,
            ("nbf", TokenFormat::V2) => Claim::Nbf,
            ("aud", TokenFormat::V2) => Claim::Aud,
            ("license_type", TokenFormat::V2) => Claim::LicenseType,
            _ => return None,
        })
    }
}

/// Well-formed v2 claims: only members the schema reads, each of its JSON type, none twice (serde
/// refuses a duplicate), `null` where the object path also reads "absent". Whatever fails here,
/// the object path reads instead.
/// (`tier` and `license_type` are borrowed: one written with escapes takes the object path.)
/// A speed path only, built with the `fast-json` feature.
#[cfg(feature = "fast-json")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WellFormedV2<'a> {
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
    tier: &'a str,
    #[serde(default, deserialize_with = "crate::json::unique_members")]
    features: Option<BTreeMap<String, bool>>,
    #[serde(default, deserialize_with = "crate::json::unique_members")]
    limits: Option<BTreeMap<String, Option<f64>>>,
    grace_days: Option<Value>,
    org_name: Option<String>,
    contact_email: Option<String>,
    jti: String,
    nbf: Option<i64>,
    aud: Option<Value>,
    license_type: Option<&'a str>,
}

#[cfg(feature = "fast-json")]
impl WellFormedV2<'_> {
    /// The claims, checked by the same functions as the object path; `None` when any check fails
    /// (the object path then reports it).
    fn into_claims(self) -> Option<LicenseClaims> {
        Some(LicenseClaims {
            iss: required_string(Some(Value::String(self.iss)), "iss").ok()?,
            sub: required_string(Some(Value::String(self.sub)), "sub").ok()?,
            aud: audience(self.aud).ok()?,
            iat: self.iat,
            nbf: self.nbf,
            exp: self.exp,
            license_id: required_string(Some(Value::String(self.jti)), "jti").ok()?,
            tier: Tier::parse(self.tier)?,
            features: self.features.unwrap_or_default(),
            limits: match self.limits {
                None => BTreeMap::new(),
                Some(entries) => limit_entries(
                    entries
                        .into_iter()
                        .map(|(key, v)| (key, v.map_or(Value::Null, Value::from))),
                )
                .ok()?,
            },
            grace_days: grace_days(self.grace_days).ok()?,
            org_name: self.org_name,
            contact_email: self.contact_email,
            license_type: match self.license_type {
                None => LicenseType::default(),
                Some(name) => LicenseType::parse(name)?,
            },
            extra: Map::new(),
        })
    }
}

fn tier(value: Option<Value>) -> Result<Tier> {
    match value.as_ref().and_then(Value::as_str) {
        Some(name) => Tier::parse(name),
        None => None,
    }
    .ok_or_else(|| {
        claim_error(
            value.as_ref(),
            format!(
                "claim `tier` must be \"community\", \"team\" or \"enterprise\", found {}",
                describe(value.as_ref())
            ),
        )
    })
}

fn grace_days(value: Option<Value>) -> Result<Option<u32>> {
    let Some(v) = value else {
        return Ok(None);
    };
    v.as_u64()
        .and_then(|d| u32::try_from(d).ok())
        .filter(|&d| d <= 3650)
        .map(Some)
        .ok_or_else(|| {
            Error::claims(format!(
                "claim `grace_days` must be an integer from 0 to 3650, found {}",
                describe(Some(&v))
            ))
        })
}

fn license_type(value: Option<Value>) -> Result<LicenseType> {
    let Some(v) = value else {
        return Ok(LicenseType::default());
    };
    v.as_str().and_then(LicenseType::parse).ok_or_else(|| {
        Error::claims(format!(
            "claim `license_type` must be saas, self_hosted, trial or evaluation, found {}",
            describe(Some(&v))
        ))
    })
}

/// A limit as JSON: integers stay integers, unlimited is `null`.
pub fn limit_to_json(value: LimitValue) -> Value {
    match value {
        None => Value::Null,
        Some(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Value::from(v as i64),
        Some(v) => serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
    }
}

/// Reads a limit from JSON: `null` and `-1` are unlimited; other values must be finite and ≥ 0.
pub fn limit_from_json(value: &Value) -> Option<LimitValue> {
    match value {
        Value::Null => Some(None),
        Value::Number(n) => {
            let v = n.as_f64()?;
            if v == UNLIMITED_MARKER as f64 {
                Some(None)
            } else if v.is_finite() && v >= 0.0 {
                Some(Some(v))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// An `invalid_claims` error about a claim: `missing_claim` when it is absent, else
/// `invalid_claim`.
fn claim_error(value: Option<&Value>, message: String) -> Error {
    let error = Error::claims(message);
    match value {
        None => error.with_detail(ErrorDetail::MissingClaim),
        Some(_) => error,
    }
}

fn required_string(value: Option<Value>, name: &str) -> Result<String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        other => Err(claim_error(
            other.as_ref(),
            format!(
                "claim `{name}` must be a non-empty string, found {}",
                describe(other.as_ref())
            ),
        )),
    }
}

fn optional_string(value: Option<Value>, name: &str) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Error::claims(format!(
            "claim `{name}` must be a string, found {}",
            describe(Some(&other))
        ))),
    }
}

fn required_int(value: Option<Value>, name: &str) -> Result<i64> {
    value.as_ref().and_then(Value::as_i64).ok_or_else(|| {
        claim_error(
            value.as_ref(),
            format!(
                "claim `{name}` must be an integer (Unix seconds), found {}",
                describe(value.as_ref())
            ),
        )
    })
}

fn audience(value: Option<Value>) -> Result<Vec<String>> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) => {
            let mut audience = Vec::with_capacity(items.len());
            for item in items {
                let Value::String(s) = item else {
                    return Err(Error::claims(format!(
                        "claim `aud` must list strings, found {}",
                        describe(Some(&item))
                    )));
                };
                audience.push(s);
            }
            Ok(audience)
        }
        Some(other) => Err(Error::claims(format!(
            "claim `aud` must be a string or a list of strings, found {}",
            describe(Some(&other))
        ))),
    }
}

fn features(value: Option<Value>) -> Result<BTreeMap<String, bool>> {
    let Some(value) = value else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(map) = value else {
        return Err(Error::claims(format!(
            "claim `features` must be an object of booleans, found {}",
            describe(Some(&value))
        )));
    };
    // Inserted one by one: `collect` into a map would add a sort to the (size-budgeted) binary.
    let mut features = BTreeMap::new();
    for (key, v) in map {
        let Value::Bool(b) = v else {
            return Err(Error::claims(format!(
                "claim `features.{key}` must be true or false, found {}",
                describe(Some(&v))
            )));
        };
        features.insert(key, b);
    }
    Ok(features)
}

fn limits(value: Option<Value>) -> Result<BTreeMap<String, LimitValue>> {
    let Some(value) = value else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(map) = value else {
        return Err(Error::claims(format!(
            "claim `limits` must be an object, found {}",
            describe(Some(&value))
        )));
    };
    limit_entries(map)
}

/// The entries of a `limits` claim, by catalog name.
fn limit_entries(
    entries: impl IntoIterator<Item = (String, Value)>,
) -> Result<BTreeMap<String, LimitValue>> {
    let mut limits = BTreeMap::new();
    for (key, v) in entries {
        let limit = limit_from_json(&v).ok_or_else(|| {
            Error::claims(format!(
                "claim `limits.{key}` must be a number ≥ 0, -1 or null, found {}",
                describe(Some(&v))
            ))
        })?;
        let name = catalog_limit_name(&key);
        if limits.insert(name.to_owned(), limit).is_some() {
            // `users` and `max_users` both name one limit: which wins must not depend on order.
            return Err(Error::claims(format!(
                "claim `limits` names `{name}` twice (`{key}` is another name for it)"
            )));
        }
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v2(value: Value) -> Result<LicenseClaims> {
        match value {
            Value::Object(map) => LicenseClaims::from_json(map, TokenFormat::V2),
            _ => Err(Error::claims("not an object")),
        }
    }

    fn base() -> Value {
        json!({"iss":"fullchaos.studio","sub":"org_1","iat":1,"exp":2,"jti":"lic_1","tier":"team"})
    }

    #[test]
    fn a_minimal_v2_claim_set_takes_its_defaults() {
        let c = v2(base()).unwrap();
        assert_eq!(c.license_type, LicenseType::SelfHosted);
        assert!(c.features.is_empty() && c.limits.is_empty() && c.grace_days.is_none());
    }

    #[test]
    fn every_missing_required_claim_is_named() {
        for name in ["iss", "sub", "iat", "exp", "jti", "tier"] {
            let mut c = base();
            c.as_object_mut().unwrap().remove(name);
            let err = v2(c).unwrap_err();
            assert!(err.message().contains(&format!("`{name}`")), "{err}");
        }
    }

    #[test]
    fn token_limit_names_map_to_catalog_names_and_minus_one_is_unlimited() {
        let mut c = base();
        c["limits"] = json!({"users": -1, "repos": 10, "api_rate": null, "backfill_days": 90});
        let c = v2(c).unwrap();
        assert_eq!(c.limits.get("max_users"), Some(&None));
        assert_eq!(c.limits.get("max_repos"), Some(&Some(10.0)));
        assert_eq!(c.limits.get("api_rate_limit_per_min"), Some(&None));
        assert_eq!(c.limits.get("backfill_days"), Some(&Some(90.0)));
    }

    #[test]
    fn float_timestamps_and_upper_case_tiers_are_invalid_claims() {
        let mut c = base();
        c["exp"] = json!(2.5);
        assert!(v2(c).unwrap_err().message().contains("`exp`"));
        let mut c = base();
        c["tier"] = json!("Team");
        assert!(v2(c).unwrap_err().message().contains("`tier`"));
    }

    #[test]
    fn unknown_claims_are_kept_as_extra() {
        let mut c = base();
        c["seats_note"] = json!("hello");
        let c = v2(c).unwrap();
        assert_eq!(c.extra.get("seats_note"), Some(&json!("hello")));
        assert_eq!(c.to_json()["seats_note"], json!("hello"));
    }

    #[test]
    fn claims_of_more_members_than_the_member_reader_takes_are_read_through_a_map() {
        let mut c = base();
        for i in 0..crate::json::MAX_MEMBERS {
            c[format!("note_{i}")] = json!(i);
        }
        let text = c.to_string();
        let read = LicenseClaims::from_v2_json(text.as_bytes()).unwrap();
        assert_eq!(read.extra.len(), crate::json::MAX_MEMBERS);
        assert_eq!(read, v2(c).unwrap());
        // A repeated member is refused on this path too.
        let repeated = text.replacen("\"note_0\":0", "\"note_0\":0,\"note_0\":1", 1);
        let err = LicenseClaims::from_v2_json(repeated.as_bytes()).unwrap_err();
        assert!(err.message().contains("appears twice"), "{err}");
    }

    /// The streaming v2 reader must give exactly what the object path gives, errors included.
    fn same_as_object_path(json: &str) {
        let streamed = LicenseClaims::from_v2_json(json.as_bytes());
        let object = crate::token::v2::claims_object(json.as_bytes())
            .and_then(|map| LicenseClaims::from_json(map, TokenFormat::V2));
        assert_eq!(streamed, object, "{json}");
    }

    #[test]
    fn the_streaming_v2_reader_agrees_with_the_object_path() {
        let base =
            r#""iss":"fullchaos.studio","sub":"org_1","iat":1,"exp":2,"jti":"lic_1","tier":"team""#;
        for json in [
            format!("{{{base}}}"),
            format!(
                r#"{{{base},"features":{{"sso_saml":true,"webhooks":false}},"limits":{{"users":-1,"max_orgs":5,"api_rate":null}},"grace_days":7,"org_name":"Acme","contact_email":"a@b.c","license_type":"saas","aud":["d1","d2"],"nbf":1}}"#
            ),
            format!(
                r#"{{{base},"extra_claim":{{"nested":[1,2,3]}},"license_id":"v1-name-is-extra-in-v2"}}"#
            ),
            format!(r#"{{{base},"iss":"later.duplicate.wins"}}"#),
            format!(r#"{{{base},"iss":null}}"#),
            format!(r#"{{{base},"org_name":null,"nbf":null,"aud":null}}"#),
            format!(r#"{{{base},"iss":"escaped.key","x"y":1}}"#),
            format!(r#"{{{base},"tier":"Team"}}"#),
            format!(r#"{{{base},"features":{{"a":1}}}}"#),
            format!(r#"{{{base},"limits":{{"users":-2}}}}"#),
            format!(r#"{{{base},"license_type":"lifetime"}}"#),
            format!(r#"{{{base},"aud":[1]}}"#),
            format!(r#"{{{base},"exp":2.5}}"#),
            format!(r#"{{{base}}} trailing"#),
            format!(r#"  {{{base}}}  "#),
            format!(r#"{{{base},}}"#),
            format!(r#"{{{base}"#),
            r#"{"sub":"org_1"}"#.to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
            "[1] trailing".to_owned(),
            // A struct-shaped array must not be read as the struct.
            r#"["fullchaos.studio","org_1",1,2,"team",null,null,null,null,null,"lic_1",null,null,null]"#
                .to_owned(),
            format!("\u{c}{{{base}}}"),
            format!("\n\t {{{base}}}\r\n"),
            format!(r#"{{{base},"limits":{{"users":3,"max_users":4}}}}"#),
            format!(r#"{{{base},"grace_days":3651}}"#),
            format!(r#"{{{base},"grace_days":-1}}"#),
            format!(r#"{{{base},"iat":9223372036854775808}}"#),
            format!(r#"{{{base},"iat":-9223372036854775808}}"#),
            format!(r#"{{{base},"features":null,"limits":null,"tier":"enterprise"}}"#),
            format!(r#"{{{base},"features":{{"a":true,"a":false}}}}"#),
            format!(r#"{{{base},"tier":"te\u0061m","license_type":"tri\u0061l"}}"#),
            format!(r#"{{{base},"license_type":null,"grace_days":null}}"#),
            format!(
                r#"{{{base},"limits":{{"max_users":18446744073709551615,"max_orgs":1e2,"users_x":-1.0}}}}"#
            ),
            "\"a string\"".to_owned(),
            "null".to_owned(),
            "".to_owned(),
            "{\"iss\":".to_owned(),
            format!("{}1{}", "[".repeat(200), "]".repeat(200)),
            format!(
                r#"{{{base},"deep":{}1{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            ),
        ] {
            same_as_object_path(&json);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_streaming_v2_reader_agrees_on_arbitrary_claim_sets(
            entries in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "iss", "sub", "iat", "exp", "jti", "tier", "features", "limits",
                        "grace_days", "org_name", "contact_email", "nbf", "aud", "license_type",
                        "license_id", "other", "",
                    ]),
                    proptest::sample::select(vec![
                        "null", "1", "-1", "2.5", "true", "\"team\"", "\"saas\"", "\"x\"", "\"\"",
                        "[]", "[\"d\"]", "{}", "{\"sso_saml\":true}", "{\"users\":3}",
                        "1700000000", "3651",
                    ]),
                ),
                0..24,
            )
        ) {
            let body: Vec<String> = entries.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            same_as_object_path(&format!("{{{}}}", body.join(",")));
        }

        /// Mostly valid claim sets, so that the fast path of `from_v2_json` is taken often.
        #[test]
        fn the_fast_path_agrees_on_near_valid_claim_sets(
            optional in proptest::collection::btree_map(
                proptest::sample::select(vec![
                    "features", "limits", "grace_days", "org_name", "contact_email", "nbf", "aud",
                    "license_type", "tier", "iat", "extra",
                ]),
                proptest::sample::select(vec![
                    "null", "7", "3650", "3651", "-1", "2.5", "1700000000", "\"team\"",
                    "\"enterprise\"", "\"trial\"", "\"Team\"", "\"Acme\"", "\"\"", "\"d1\"",
                    "[\"d1\",\"d2\"]", "[1]", "{\"sso_saml\":true,\"webhooks\":false}", "{\"a\":1}",
                    "{\"users\":-1,\"max_orgs\":5}", "{\"users\":3,\"max_users\":4}",
                    "{\"users\":-2}", "{\"users\":null,\"repos\":2.5}",
                ]),
                0..8,
            )
        ) {
            let mut body = vec![
                r#""iss":"fullchaos.studio""#.to_owned(),
                r#""sub":"org_1""#.to_owned(),
                r#""exp":2"#.to_owned(),
                r#""jti":"lic_1""#.to_owned(),
            ];
            if !optional.contains_key("tier") {
                body.push(r#""tier":"team""#.to_owned());
            }
            if !optional.contains_key("iat") {
                body.push(r#""iat":1"#.to_owned());
            }
            body.extend(optional.iter().map(|(k, v)| format!("\"{k}\":{v}")));
            same_as_object_path(&format!("{{{}}}", body.join(",")));
        }
    }

    #[test]
    fn integral_limits_render_as_integers() {
        assert_eq!(limit_to_json(Some(3.0)), json!(3));
        assert_eq!(limit_to_json(Some(0.25)), json!(0.25));
        assert_eq!(limit_to_json(None), Value::Null);
    }
}
