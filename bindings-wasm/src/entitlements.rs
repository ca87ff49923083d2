//! `Entitlements`: an org's resolved tier, features and limits (SPEC §3), and `upgradeGate`.

use std::collections::BTreeMap;

use dev_health_entitlements as core;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::catalog::{parse_tier, Catalog};
use crate::convert::{from_js, now_or_clock, to_js, Options};
use crate::error::{invalid_input, IntoJs, JsResult};
use crate::license::License;

/// An org's resolved tier, features and limits. Checks are lookups into the resolved state.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Entitlements {
    inner: core::Entitlements,
}

const RESOLVE_OPTIONS: &[&str] = &["orgId", "orgTier", "overrides", "killSwitches", "now"];
const GATE_OPTIONS: &[&str] = &["feature", "requiredTier", "upgradeHref"];

fn overrides(value: Option<&Value>) -> JsResult<Vec<core::Override>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        return Err(invalid_input("`overrides` must be a list"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let wrong = |what: &str| invalid_input(format!("overrides[{i}]: {what}"));
            let obj = item
                .as_object()
                .ok_or_else(|| wrong("must be an object {feature, enabled, expiresAt?}"))?;
            if let Some(k) = obj
                .keys()
                .find(|k| !["feature", "enabled", "expiresAt"].contains(&k.as_str()))
            {
                return Err(wrong(&format!(
                    "unknown key `{k}` (known: feature, enabled, expiresAt)"
                )));
            }
            let feature = obj
                .get("feature")
                .and_then(Value::as_str)
                .ok_or_else(|| wrong("`feature` must be a string"))?;
            let enabled = obj
                .get("enabled")
                .and_then(Value::as_bool)
                .ok_or_else(|| wrong("`enabled` must be a boolean"))?;
            let expires_at = match obj.get("expiresAt") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_i64()
                        .ok_or_else(|| wrong("`expiresAt` must be whole Unix seconds or null"))?,
                ),
            };
            Ok(core::Override {
                feature: feature.to_owned(),
                enabled,
                expires_at,
            })
        })
        .collect()
}

fn kill_switches(value: Option<&Value>) -> JsResult<BTreeMap<String, bool>> {
    let Some(value) = value else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(map) = value else {
        return Err(invalid_input(
            "`killSwitches` must be an object {feature: enabled}",
        ));
    };
    // Inserted one by one: `collect` into a map adds a sort to the size-budgeted module.
    let mut switches = BTreeMap::new();
    for (k, v) in map {
        let enabled = v
            .as_bool()
            .ok_or_else(|| invalid_input(format!("killSwitches.{k} must be a boolean")))?;
        switches.insert(k.clone(), enabled);
    }
    Ok(switches)
}

fn tier_or_null(tier: Option<core::Tier>) -> Value {
    tier.map_or(Value::Null, |t| t.as_str().into())
}

fn decision_json(d: &core::Decision<'_>) -> Value {
    json!({
        "feature": d.feature,
        "allowed": d.allowed,
        "reason": d.reason.as_str(),
        "denial": match d.reason.denial() {
            None => Value::Null,
            Some(core::Denial::NotLicensed) => "not_licensed".into(),
            Some(core::Denial::NotEnabled) => "not_enabled".into(),
        },
        "currentTier": d.current_tier.as_str(),
        "requiredTier": tier_or_null(d.required_tier),
        "expiresAt": d.expires_at,
    })
}

fn gate_json(g: &core::UpgradeGate) -> Value {
    json!({
        "state": match g.state {
            core::GateState::Allowed => "allowed",
            core::GateState::Upgrade => "upgrade",
            core::GateState::Unavailable => "unavailable",
        },
        "feature": g.feature,
        "currentTier": g.current_tier.as_str(),
        "requiredTier": tier_or_null(g.required_tier),
        "upgradeHref": g.upgrade_href,
    })
}

#[wasm_bindgen]
impl Entitlements {
    /// Resolves an org's entitlements (SPEC §3) from a catalog, a verified license (or none) and
    /// `{orgId?, orgTier?, overrides?: [{feature, enabled, expiresAt?}], killSwitches?, now?}`
    /// (`now` defaults to the JS clock).
    pub fn resolve(
        catalog: &Catalog,
        #[wasm_bindgen(unchecked_optional_param_type = "License | null")] license: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ResolveOptions | null")] options: JsValue,
    ) -> JsResult<Entitlements> {
        let license = License::from_handle(&license)?;
        let options = Options::read(&options, "resolve options", RESOLVE_OPTIONS)?;
        let org_id = options.string("orgId")?;
        let org_tier = options
            .string("orgTier")?
            .map(|t| parse_tier(&t))
            .transpose()?;
        let overrides = overrides(options.value("overrides"))?;
        let kill_switches = kill_switches(options.value("killSwitches"))?;
        let now = match options.int("now")? {
            Some(now) => now,
            None => now_or_clock(None)?,
        };
        let input = core::ResolveInput {
            license: license.as_ref().map(|l| &l.inner),
            org_id: org_id.as_deref(),
            org_tier,
            overrides: &overrides,
            kill_switches: Some(&kill_switches),
            now,
        };
        Ok(Entitlements {
            inner: core::Entitlements::resolve(catalog.inner.clone(), &input),
        })
    }

    /// Rebuilds entitlements from the JSON of `toJSON()` (for example what the entitlements API
    /// returned), so a page can gate without holding the license.
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(
        catalog: &Catalog,
        #[wasm_bindgen(unchecked_param_type = "EntitlementsJSON | string")] json: JsValue,
    ) -> JsResult<Entitlements> {
        let value = match json.as_string() {
            Some(text) => core::json::parse(text.as_bytes())
                .map_err(|e| invalid_input(format!("entitlements JSON: {e}")))?,
            None => from_js(&json, "entitlements JSON")?,
        };
        Ok(Entitlements {
            inner: core::Entitlements::from_json(catalog.inner.clone(), &value).js()?,
        })
    }

    /// The resolved tier.
    #[wasm_bindgen(getter, unchecked_return_type = "Tier")]
    pub fn tier(&self) -> String {
        self.inner.tier().as_str().to_owned()
    }

    /// The org resolved for, if any.
    #[wasm_bindgen(getter, js_name = orgId, unchecked_return_type = "string | null")]
    pub fn org_id(&self) -> JsValue {
        self.inner.org_id().map_or(JsValue::NULL, JsValue::from_str)
    }

    /// The first moment (Unix seconds) at which resolving again could answer differently.
    #[wasm_bindgen(getter, js_name = staleAt)]
    pub fn stale_at(&self) -> Option<f64> {
        self.inner.stale_at().map(|s| s as f64)
    }

    /// Whether the entitlements must be resolved again at `now` (the JS clock when left out).
    #[wasm_bindgen(js_name = isStale)]
    pub fn is_stale(&self, now: Option<f64>) -> JsResult<bool> {
        Ok(self.inner.is_stale(now_or_clock(now)?))
    }

    /// Whether the feature is allowed.
    pub fn has(&self, feature: &str) -> bool {
        self.inner.has(feature)
    }

    /// The full decision for a feature:
    /// `{feature, allowed, reason, denial, currentTier, requiredTier, expiresAt}`.
    #[wasm_bindgen(unchecked_return_type = "Decision")]
    pub fn check(&self, feature: &str) -> JsResult<JsValue> {
        to_js(&decision_json(&self.inner.check(feature)))
    }

    /// The decision for every feature of the catalog, in catalog order.
    #[wasm_bindgen(unchecked_return_type = "Decision[]")]
    pub fn decisions(&self) -> JsResult<JsValue> {
        let all: Vec<Value> = self
            .inner
            .catalog()
            .features()
            .iter()
            .map(|f| decision_json(&self.inner.check(&f.key)))
            .collect();
        to_js(&Value::Array(all))
    }

    /// Checks `current` against a limit:
    /// `{limit, allowed, current, maximum, currentTier, direction, reason}`.
    #[wasm_bindgen(js_name = checkLimit, unchecked_return_type = "LimitDecision")]
    pub fn check_limit(&self, limit: &str, current: f64) -> JsResult<JsValue> {
        let d = self.inner.check_limit(limit, current);
        to_js(&json!({
            "limit": d.limit,
            "allowed": d.allowed,
            "current": d.current,
            "maximum": d.maximum,
            "currentTier": d.current_tier.as_str(),
            "direction": d.direction.map(|dir| match dir {
                core::LimitDirection::Max => "max",
                core::LimitDirection::Min => "min",
            }),
            "reason": match d.reason {
                core::LimitReason::WithinLimit => "within_limit",
                core::LimitReason::LimitExceeded => "limit_exceeded",
                core::LimitReason::LimitNotRegistered => "limit_not_registered",
            },
        }))
    }

    /// The bound of a limit in force: a number, `null` for unlimited, `undefined` when the
    /// catalog has no such limit.
    #[wasm_bindgen(unchecked_return_type = "number | null | undefined")]
    pub fn limit(&self, limit: &str) -> JsValue {
        match self.inner.limit(limit) {
            None => JsValue::UNDEFINED,
            Some(None) => JsValue::NULL,
            Some(Some(v)) => JsValue::from_f64(v),
        }
    }

    /// Whether `role` has `permission` in the catalog.
    pub fn can(&self, role: &str, permission: &str) -> bool {
        self.inner.can(role, permission)
    }

    /// The UpgradeGate decision for a feature:
    /// `{state: "allowed" | "upgrade" | "unavailable", feature, currentTier, requiredTier,
    /// upgradeHref}` (default `upgradeHref` `/org/admin/settings`, only for `upgrade`).
    #[wasm_bindgen(js_name = upgradeGate, unchecked_return_type = "UpgradeGate")]
    pub fn upgrade_gate(
        &self,
        feature: &str,
        #[wasm_bindgen(js_name = requiredTier, unchecked_optional_param_type = "Tier | null")]
        required_tier: Option<String>,
        #[wasm_bindgen(js_name = upgradeHref, unchecked_optional_param_type = "string | null")]
        upgrade_href: Option<String>,
    ) -> JsResult<JsValue> {
        let required = required_tier.map(|t| parse_tier(&t)).transpose()?;
        to_js(&gate_json(&self.inner.upgrade_gate(
            feature,
            required,
            upgrade_href.as_deref(),
        )))
    }

    /// The JSON dev-health-web reads (SPEC §3): `{org_id, tier, licensed_users, licensed_repos,
    /// features, features_override, limits_override, expires_at, is_valid, limits, status,
    /// in_grace_period, grace_ends_at, license_id}`. `JSON.stringify(entitlements)` uses it.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "EntitlementsJSON")]
    pub fn to_json(&self) -> JsResult<JsValue> {
        to_js(&self.inner.to_json())
    }
}

/// The UpgradeGate decision (SPEC §4), made by the core:
/// `upgradeGate(entitlements, {feature, requiredTier?, upgradeHref?})`.
#[wasm_bindgen(js_name = upgradeGate, unchecked_return_type = "UpgradeGate")]
pub fn upgrade_gate(
    entitlements: &Entitlements,
    #[wasm_bindgen(unchecked_param_type = "UpgradeGateOptions")] options: JsValue,
) -> JsResult<JsValue> {
    let options = Options::read(&options, "upgradeGate options", GATE_OPTIONS)?;
    let feature = options
        .string("feature")?
        .ok_or_else(|| invalid_input("upgradeGate: `feature` is required"))?;
    entitlements.upgrade_gate(
        &feature,
        options.string("requiredTier")?,
        options.string("upgradeHref")?,
    )
}
