//! Entitlements as OpenFeature flags: the evaluation the Python and Node providers
//! (`dev_health_entitlements.openfeature`, `@dev-health/entitlements/openfeature`) hand to their
//! SDKs, defined once here.
//!
//! * A **boolean** flag is a feature (`has`); a **number** flag is a limit's bound in force
//!   (unlimited: `+inf` for a ceiling, `-inf` for a floor); the **string** flag `tier` is the tier.
//! * The evaluation context names the org (`targetingKey`, or `org_id` / `orgId`) and may carry
//!   what [`Entitlements::resolve`] takes from the host: `tier` (the org's billing tier),
//!   `overrides` (`[{feature, enabled, expires_at?}]`) and `kill_switches` (`{feature: bool}`,
//!   merged with the provider's own; off wins). Other attributes are ignored.
//! * Reasons: the engine's rule maps onto OpenFeature's ([`FlagReason::for_reason`]): catalog
//!   rules applied to the tier are `STATIC`, rules aimed at the org (its overrides, its license's
//!   grants or limits) `TARGETING_MATCH`, a kill switch `DISABLED`, an unknown key `ERROR` with
//!   `FLAG_NOT_FOUND`, a key of another type `TYPE_MISMATCH`, an unreadable context attribute
//!   `PARSE_ERROR`, contradicting org ids `INVALID_CONTEXT`. The engine's own reason travels as
//!   [`FlagResolution::engine_reason`] (flag metadata `engine_reason`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::catalog::{Catalog, LimitDirection};
use crate::resolve::{Entitlements, Override, Reason, ResolveInput};
use crate::tier::Tier;
use crate::verify::License;

/// The string flag that reads the tier.
pub const TIER_FLAG: &str = "tier";

/// The kinds of flag an OpenFeature SDK asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagType {
    /// A feature.
    Boolean,
    /// A limit's bound.
    Number,
    /// The tier ([`TIER_FLAG`]).
    String,
    /// No entitlement is an object: a known key is a type mismatch.
    Object,
}

impl FlagType {
    /// Parses `boolean`, `number` or `string`.
    pub fn parse(name: &str) -> Option<FlagType> {
        match name {
            "boolean" => Some(FlagType::Boolean),
            "number" => Some(FlagType::Number),
            "string" => Some(FlagType::String),
            "object" => Some(FlagType::Object),
            _ => None,
        }
    }
}

/// OpenFeature's resolution reasons used by the providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagReason {
    /// The value follows from the catalog and the org's tier.
    Static,
    /// A rule aimed at this org decided (an override, the license's grants or limits).
    TargetingMatch,
    /// A kill switch turned the feature off.
    Disabled,
    /// No value: see the error code.
    Error,
}

impl FlagReason {
    /// OpenFeature's spelling: `STATIC`, `TARGETING_MATCH`, `DISABLED`, `ERROR`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlagReason::Static => "STATIC",
            FlagReason::TargetingMatch => "TARGETING_MATCH",
            FlagReason::Disabled => "DISABLED",
            FlagReason::Error => "ERROR",
        }
    }

    /// The OpenFeature reason (and error code) for an engine reason of SPEC §3.
    pub const fn for_reason(reason: Reason) -> (FlagReason, Option<FlagErrorCode>) {
        match reason {
            Reason::FeatureNotRegistered => (FlagReason::Error, Some(FlagErrorCode::FlagNotFound)),
            Reason::GlobalDisabled => (FlagReason::Disabled, None),
            Reason::OrgOverrideDisabled
            | Reason::EnabledByOrgOverride
            | Reason::LicenseOverrideDisabled
            | Reason::EnabledByLicenseOverride
            | Reason::NotInLicense => (FlagReason::TargetingMatch, None),
            Reason::ExplicitPurchaseRequired | Reason::EnabledByTier | Reason::TierRequired => {
                (FlagReason::Static, None)
            }
        }
    }
}

/// OpenFeature's error codes used by the providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagErrorCode {
    /// No feature, limit or tier flag has this key.
    FlagNotFound,
    /// The key is a flag of another type.
    TypeMismatch,
    /// A context attribute could not be read.
    ParseError,
    /// The context contradicts itself.
    InvalidContext,
}

impl FlagErrorCode {
    /// OpenFeature's spelling: `FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `PARSE_ERROR`,
    /// `INVALID_CONTEXT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlagErrorCode::FlagNotFound => "FLAG_NOT_FOUND",
            FlagErrorCode::TypeMismatch => "TYPE_MISMATCH",
            FlagErrorCode::ParseError => "PARSE_ERROR",
            FlagErrorCode::InvalidContext => "INVALID_CONTEXT",
        }
    }
}

/// A flag's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FlagValue {
    /// A feature.
    Bool(bool),
    /// A limit's bound.
    Number(f64),
    /// The tier.
    String(&'static str),
}

/// One evaluation: a value (none on error, where the SDK answers the caller's default), the
/// OpenFeature reason and error, and the engine's own reason.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagResolution {
    /// The value; `None` with [`FlagReason::Error`].
    pub value: Option<FlagValue>,
    /// OpenFeature's reason.
    pub reason: FlagReason,
    /// OpenFeature's error code, with [`FlagReason::Error`].
    pub error_code: Option<FlagErrorCode>,
    /// What went wrong, with [`FlagReason::Error`].
    pub error_message: Option<String>,
    /// The engine's reason: a SPEC §3 reason for a feature, `license_limit` / `tier_limit` /
    /// `limit_not_registered` for a limit, `license_tier` / `tier` for the tier.
    pub engine_reason: Option<&'static str>,
}

impl FlagResolution {
    fn value(value: FlagValue, reason: FlagReason, engine_reason: &'static str) -> Self {
        FlagResolution {
            value: Some(value),
            reason,
            error_code: None,
            error_message: None,
            engine_reason: Some(engine_reason),
        }
    }

    fn error(code: FlagErrorCode, message: String, engine_reason: Option<&'static str>) -> Self {
        FlagResolution {
            value: None,
            reason: FlagReason::Error,
            error_code: Some(code),
            error_message: Some(message),
            engine_reason,
        }
    }
}

/// What kind of flag `key` is in `catalog`, if any.
fn kind_of(catalog: &Catalog, key: &str) -> Option<FlagType> {
    if catalog.feature(key).is_some() {
        Some(FlagType::Boolean)
    } else if catalog.limit(key).is_some() {
        Some(FlagType::Number)
    } else if key == TIER_FLAG {
        Some(FlagType::String)
    } else {
        None
    }
}

/// Evaluates `key` as a flag of type `wanted` on resolved entitlements.
pub fn evaluate(entitlements: &Entitlements, key: &str, wanted: FlagType) -> FlagResolution {
    let catalog = entitlements.catalog();
    match (kind_of(catalog, key), wanted) {
        (Some(FlagType::Boolean), FlagType::Boolean) => {
            let decision = entitlements.check(key);
            let (reason, _) = FlagReason::for_reason(decision.reason);
            FlagResolution::value(
                FlagValue::Bool(decision.allowed),
                reason,
                decision.reason.as_str(),
            )
        }
        (Some(FlagType::Number), FlagType::Number) => {
            let direction = catalog.limit(key).map(|l| l.direction);
            let bound = entitlements.limit(key).flatten();
            let value = match (bound, direction) {
                (Some(v), _) => v,
                (None, Some(LimitDirection::Min)) => f64::NEG_INFINITY,
                (None, _) => f64::INFINITY,
            };
            if entitlements.limit_is_licensed(key) {
                FlagResolution::value(
                    FlagValue::Number(value),
                    FlagReason::TargetingMatch,
                    "license_limit",
                )
            } else {
                FlagResolution::value(FlagValue::Number(value), FlagReason::Static, "tier_limit")
            }
        }
        (Some(FlagType::String), FlagType::String) => {
            let tier = FlagValue::String(entitlements.tier().as_str());
            match entitlements.license() {
                Some(l) if l.status.is_valid() => {
                    FlagResolution::value(tier, FlagReason::TargetingMatch, "license_tier")
                }
                _ => FlagResolution::value(tier, FlagReason::Static, "tier"),
            }
        }
        (Some(kind), _) => FlagResolution::error(
            FlagErrorCode::TypeMismatch,
            format!(
                "'{key}' is a {} flag",
                match kind {
                    FlagType::Boolean => "boolean (feature)",
                    FlagType::Number => "number (limit)",
                    FlagType::String => "string (tier)",
                    FlagType::Object => "object",
                }
            ),
            None,
        ),
        (None, wanted) => FlagResolution::error(
            FlagErrorCode::FlagNotFound,
            format!("no feature, limit or tier flag is named '{key}'"),
            Some(match wanted {
                FlagType::Boolean => Reason::FeatureNotRegistered.as_str(),
                FlagType::Number => "limit_not_registered",
                FlagType::String | FlagType::Object => "flag_not_registered",
            }),
        ),
    }
}

/// What an evaluation context says about the org, read from its attributes (see the module
/// documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagContext {
    /// The org (`targetingKey`, `org_id` or `orgId`).
    pub org_id: Option<String>,
    /// The org's billing tier (`tier`).
    pub org_tier: Option<Tier>,
    /// Per-org overrides (`overrides`).
    pub overrides: Vec<Override>,
    /// Kill switches (`kill_switches` or `killSwitches`).
    pub kill_switches: BTreeMap<String, bool>,
}

/// A context that could not be used: the error code and message to report.
pub type ContextError = (FlagErrorCode, String);

fn parse_error(message: String) -> ContextError {
    (FlagErrorCode::ParseError, message)
}

fn member<'a>(context: &'a Map<String, Value>, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| context.get(*n))
        .filter(|v| !v.is_null())
}

fn read_override(value: &Value) -> Result<Override, ContextError> {
    let bad = || {
        parse_error(format!(
            "overrides: {value} is not {{feature, enabled, expires_at?}}"
        ))
    };
    let o = value.as_object().ok_or_else(bad)?;
    let feature = o.get("feature").and_then(Value::as_str).ok_or_else(bad)?;
    let enabled = o.get("enabled").and_then(Value::as_bool).ok_or_else(bad)?;
    let expires_at = match member(o, &["expires_at", "expiresAt"]) {
        None => None,
        Some(Value::String(text)) => Some(crate::resolve::parse_rfc3339(text).ok_or_else(bad)?),
        Some(v) => Some(
            v.as_f64()
                .filter(|s| s.is_finite() && s.abs() < 9.0e15)
                .map(|s| s.floor() as i64)
                .ok_or_else(bad)?,
        ),
    };
    Ok(Override {
        feature: feature.to_owned(),
        enabled,
        expires_at,
    })
}

impl FlagContext {
    /// Reads the context's attributes (a JSON object; anything else is no context).
    pub fn from_json(context: &Value) -> Result<FlagContext, ContextError> {
        let Some(context) = context.as_object() else {
            return Ok(FlagContext::default());
        };
        let mut org_id: Option<String> = None;
        for name in ["targetingKey", "targeting_key", "org_id", "orgId"] {
            match context.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(id)) if id.is_empty() => {}
                Some(Value::String(id)) => match &org_id {
                    Some(seen) if seen != id => {
                        return Err((
                            FlagErrorCode::InvalidContext,
                            format!("{name} {id:?} names another org than {seen:?}"),
                        ))
                    }
                    _ => org_id = Some(id.clone()),
                },
                Some(other) => return Err(parse_error(format!("{name}: {other} is not a string"))),
            }
        }
        let org_tier = match member(context, &["tier"]) {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(Tier::parse)
                    .ok_or_else(|| parse_error(format!("tier: {v} is not a tier")))?,
            ),
        };
        let overrides = match member(context, &["overrides"]) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                items.iter().map(read_override).collect::<Result<_, _>>()?
            }
            Some(v) => return Err(parse_error(format!("overrides: {v} is not a list"))),
        };
        let mut kill_switches = BTreeMap::new();
        match member(context, &["kill_switches", "killSwitches"]) {
            None => {}
            Some(Value::Object(switches)) => {
                for (feature, on) in switches {
                    let on = on.as_bool().ok_or_else(|| {
                        parse_error(format!("kill_switches.{feature}: {on} is not a boolean"))
                    })?;
                    kill_switches.insert(feature.clone(), on);
                }
            }
            Some(v) => return Err(parse_error(format!("kill_switches: {v} is not an object"))),
        }
        Ok(FlagContext {
            org_id,
            org_tier,
            overrides,
            kill_switches,
        })
    }
}

/// What a provider holds from its host: the catalog, the instance license (if any) and the
/// host's kill switches.
#[derive(Debug, Clone)]
pub struct FlagSource {
    /// The catalog.
    pub catalog: Arc<Catalog>,
    /// A verified license.
    pub license: Option<License>,
    /// The host's kill switches.
    pub kill_switches: BTreeMap<String, bool>,
}

impl FlagSource {
    /// Resolves the entitlements an evaluation context describes at `now`.
    pub fn resolve(&self, context: &Value, now: i64) -> Result<Entitlements, ContextError> {
        let context = FlagContext::from_json(context)?;
        let mut switches = self.kill_switches.clone();
        for (feature, on) in context.kill_switches {
            let entry = switches.entry(feature).or_insert(on);
            *entry = *entry && on;
        }
        Ok(Entitlements::resolve(
            Arc::clone(&self.catalog),
            &ResolveInput {
                license: self.license.as_ref(),
                org_id: context.org_id.as_deref(),
                org_tier: context.org_tier,
                overrides: &context.overrides,
                kill_switches: Some(&switches),
                now,
            },
        ))
    }

    /// Evaluates `key` as a flag of type `wanted` for the org the context describes.
    pub fn evaluate(
        &self,
        context: &Value,
        key: &str,
        wanted: FlagType,
        now: i64,
    ) -> FlagResolution {
        match self.resolve(context, now) {
            Ok(entitlements) => evaluate(&entitlements, key, wanted),
            Err((code, message)) => FlagResolution::error(code, message, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn source(switches: &[(&str, bool)]) -> FlagSource {
        FlagSource {
            catalog: Catalog::default_catalog().unwrap(),
            license: None,
            kill_switches: switches
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        }
    }

    fn bool_of(r: &FlagResolution) -> (Option<FlagValue>, &str, Option<&str>, Option<&str>) {
        (
            r.value.clone(),
            r.reason.as_str(),
            r.error_code.map(FlagErrorCode::as_str),
            r.engine_reason,
        )
    }

    #[test]
    fn features_are_boolean_flags_with_the_engine_reason() {
        let s = source(&[]);
        let team = json!({"targetingKey": "org_1", "tier": "team"});
        assert_eq!(
            bool_of(&s.evaluate(&team, "capacity_forecast", FlagType::Boolean, NOW)),
            (
                Some(FlagValue::Bool(true)),
                "STATIC",
                None,
                Some("enabled_by_tier")
            )
        );
        assert_eq!(
            bool_of(&s.evaluate(&team, "audit_log", FlagType::Boolean, NOW)),
            (
                Some(FlagValue::Bool(false)),
                "STATIC",
                None,
                Some("tier_required")
            )
        );
        let overridden = json!({"org_id": "org_1", "overrides": [{"feature": "audit_log", "enabled": true, "expires_at": NOW + 10}]});
        assert_eq!(
            bool_of(&s.evaluate(&overridden, "audit_log", FlagType::Boolean, NOW)),
            (
                Some(FlagValue::Bool(true)),
                "TARGETING_MATCH",
                None,
                Some("enabled_by_org_override")
            )
        );
        // The override has lapsed.
        assert_eq!(
            s.evaluate(&overridden, "audit_log", FlagType::Boolean, NOW + 10)
                .value,
            Some(FlagValue::Bool(false))
        );
    }

    #[test]
    fn a_kill_switch_is_disabled_and_the_host_s_off_wins() {
        let s = source(&[("api_access", false)]);
        let ctx = json!({"targetingKey": "org_1", "tier": "enterprise", "kill_switches": {"api_access": true, "audit_log": false}});
        for key in ["api_access", "audit_log"] {
            assert_eq!(
                bool_of(&s.evaluate(&ctx, key, FlagType::Boolean, NOW)),
                (
                    Some(FlagValue::Bool(false)),
                    "DISABLED",
                    None,
                    Some("global_disabled")
                )
            );
        }
    }

    #[test]
    fn limits_are_number_flags_and_the_tier_a_string_flag() {
        let s = source(&[]);
        let community = json!({});
        assert_eq!(
            bool_of(&s.evaluate(&community, "max_users", FlagType::Number, NOW)),
            (
                Some(FlagValue::Number(3.0)),
                "STATIC",
                None,
                Some("tier_limit")
            )
        );
        let team = json!({"targetingKey": "org_1", "tier": "team"});
        assert_eq!(
            s.evaluate(&team, "max_users", FlagType::Number, NOW).value,
            Some(FlagValue::Number(f64::INFINITY))
        );
        assert_eq!(
            bool_of(&s.evaluate(&team, "tier", FlagType::String, NOW)),
            (
                Some(FlagValue::String("team")),
                "STATIC",
                None,
                Some("tier")
            )
        );
    }

    #[test]
    fn unknown_keys_wrong_types_and_bad_contexts_are_errors() {
        let s = source(&[]);
        let ctx = json!({"targetingKey": "org_1"});
        let r = s.evaluate(&ctx, "no_such", FlagType::Boolean, NOW);
        assert_eq!(
            (r.reason, r.error_code, r.engine_reason, r.value),
            (
                FlagReason::Error,
                Some(FlagErrorCode::FlagNotFound),
                Some("feature_not_registered"),
                None
            )
        );
        for (key, wanted) in [
            ("max_users", FlagType::Boolean),
            ("audit_log", FlagType::Number),
            ("tier", FlagType::Boolean),
            ("audit_log", FlagType::String),
            ("tier", FlagType::Object),
        ] {
            assert_eq!(
                s.evaluate(&ctx, key, wanted, NOW).error_code,
                Some(FlagErrorCode::TypeMismatch),
                "{key}"
            );
        }
        for bad in [
            json!({"tier": "platinum"}),
            json!({"overrides": {"audit_log": true}}),
            json!({"overrides": [{"feature": "audit_log"}]}),
            json!({"kill_switches": {"audit_log": "off"}}),
            json!({"targetingKey": 7}),
        ] {
            let r = s.evaluate(&bad, "audit_log", FlagType::Boolean, NOW);
            assert_eq!(r.error_code, Some(FlagErrorCode::ParseError), "{bad}");
            assert!(r.error_message.is_some());
        }
        let two = json!({"targetingKey": "org_1", "org_id": "org_2"});
        assert_eq!(
            s.evaluate(&two, "audit_log", FlagType::Boolean, NOW)
                .error_code,
            Some(FlagErrorCode::InvalidContext)
        );
    }

    #[test]
    fn every_engine_reason_has_an_openfeature_reason() {
        for reason in [
            Reason::FeatureNotRegistered,
            Reason::GlobalDisabled,
            Reason::OrgOverrideDisabled,
            Reason::EnabledByOrgOverride,
            Reason::LicenseOverrideDisabled,
            Reason::EnabledByLicenseOverride,
            Reason::ExplicitPurchaseRequired,
            Reason::EnabledByTier,
            Reason::TierRequired,
        ] {
            let (of, code) = FlagReason::for_reason(reason);
            assert_eq!(of == FlagReason::Error, code.is_some(), "{reason:?}");
        }
    }
}
