//! `Catalog`: tiers, features, limits and roles (SPEC §2).

use std::sync::Arc;

use dev_health_entitlements as core;
use dev_health_entitlements::Tier;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::convert::{json_text, to_js};
use crate::error::{invalid_input, IntoJs, JsResult};

/// The catalog of tiers, features, limits and roles.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(crate) inner: Arc<core::Catalog>,
}

/// Parses a tier name, or says which names there are.
pub(crate) fn parse_tier(name: &str) -> JsResult<Tier> {
    Tier::parse(name).ok_or_else(|| {
        invalid_input(format!(
            "{name:?} is not a tier (expected community, team or enterprise)"
        ))
    })
}

#[wasm_bindgen]
impl Catalog {
    /// The default catalog: the Enterprise Edition tier table.
    #[wasm_bindgen(js_name = "default")]
    pub fn default_catalog() -> JsResult<Catalog> {
        Ok(Catalog {
            inner: core::Catalog::default_catalog().js()?,
        })
    }

    /// The `dev-health-ops` catalog: that backend's 32 features and seven limits.
    #[wasm_bindgen(js_name = devHealthOps)]
    pub fn dev_health_ops() -> JsResult<Catalog> {
        Ok(Catalog {
            inner: core::Catalog::dev_health_ops().js()?,
        })
    }

    /// A shipped catalog by name: `default` or `dev-health-ops`.
    pub fn builtin(name: &str) -> JsResult<Catalog> {
        Ok(Catalog {
            inner: core::Catalog::builtin(name).js()?,
        })
    }

    /// A catalog from its JSON document (text or object); validated, errors name the entry.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(
        #[wasm_bindgen(unchecked_param_type = "string | object")] json: JsValue,
    ) -> JsResult<Catalog> {
        let text = json_text(&json, "the catalog document")?;
        Ok(Catalog {
            inner: Arc::new(core::Catalog::from_json(&text).js()?),
        })
    }

    /// The catalog's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// The tiers, lowest first: `[{tier, name, graceDays}]`.
    #[wasm_bindgen(getter, unchecked_return_type = "CatalogTier[]")]
    pub fn tiers(&self) -> JsResult<JsValue> {
        let tiers: Vec<Value> = self
            .inner
            .tiers()
            .iter()
            .map(|t| json!({"tier": t.tier.as_str(), "name": t.name, "graceDays": t.grace_days}))
            .collect();
        to_js(&Value::Array(tiers))
    }

    /// The features, in catalog order:
    /// `[{key, name, category, minTier, explicitPurchase, tierBound, description}]`.
    #[wasm_bindgen(getter, unchecked_return_type = "CatalogFeature[]")]
    pub fn features(&self) -> JsResult<JsValue> {
        let features: Vec<Value> = self
            .inner
            .features()
            .iter()
            .map(|f| {
                json!({
                    "key": f.key,
                    "name": f.name,
                    "category": f.category,
                    "minTier": f.min_tier.as_str(),
                    "explicitPurchase": f.explicit_purchase,
                    "tierBound": f.tier_bound,
                    "description": f.description,
                })
            })
            .collect();
        to_js(&Value::Array(features))
    }

    /// The limits, in catalog order: `[{key, name, direction, values: {tier: number | null}}]`.
    #[wasm_bindgen(getter, unchecked_return_type = "CatalogLimit[]")]
    pub fn limits(&self) -> JsResult<JsValue> {
        let limits: Vec<Value> = self
            .inner
            .limits()
            .iter()
            .map(|l| {
                let mut values = serde_json::Map::new();
                for t in Tier::ALL {
                    values.insert(
                        t.as_str().to_owned(),
                        core::claims::limit_to_json(l.values.get(t)),
                    );
                }
                json!({
                    "key": l.key,
                    "name": l.name,
                    "direction": match l.direction {
                        core::LimitDirection::Max => "max",
                        core::LimitDirection::Min => "min",
                    },
                    "values": values,
                })
            })
            .collect();
        to_js(&Value::Array(limits))
    }

    /// The role names, in catalog order.
    #[wasm_bindgen(getter)]
    pub fn roles(&self) -> Vec<String> {
        self.inner.roles().iter().map(|r| r.name.clone()).collect()
    }

    /// A tier's display name, e.g. `Enterprise`.
    #[wasm_bindgen(js_name = tierName)]
    pub fn tier_name(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Tier")] tier: &str,
    ) -> JsResult<String> {
        Ok(self.inner.tier_name(parse_tier(tier)?).to_owned())
    }

    /// Whether `role` has `permission` (own or inherited); unknown ones are denied.
    pub fn can(&self, role: &str, permission: &str) -> bool {
        self.inner.can(role, permission)
    }

    /// Every permission of `role`, own and inherited, in catalog order.
    #[wasm_bindgen(js_name = permissionsOf)]
    pub fn permissions_of(&self, role: &str) -> Vec<String> {
        self.inner
            .permissions_of(role)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}
