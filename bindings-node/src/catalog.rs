//! `Catalog`: tiers, features, limits and roles (SPEC §2).

use std::sync::Arc;

use dev_health_entitlements as core;
use napi::Env;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::errors::{json_text, OrThrow};

/// A catalog of tiers, features, limits and roles.
#[napi]
pub struct Catalog {
    pub(crate) inner: Arc<core::Catalog>,
}

#[napi]
impl Catalog {
    /// The default Enterprise Edition catalog.
    #[napi(factory, js_name = "default")]
    pub fn default_catalog(env: Env) -> napi::Result<Self> {
        Ok(Catalog {
            inner: core::Catalog::default_catalog().or_throw(&env)?,
        })
    }

    /// The `dev-health-ops` catalog (its 32 feature keys and seven limits).
    #[napi(factory)]
    pub fn dev_health_ops(env: Env) -> napi::Result<Self> {
        Ok(Catalog {
            inner: core::Catalog::dev_health_ops().or_throw(&env)?,
        })
    }

    /// A shipped catalog by name: `default` or `dev-health-ops`.
    #[napi(factory)]
    pub fn builtin(env: Env, name: String) -> napi::Result<Self> {
        Ok(Catalog {
            inner: core::Catalog::builtin(&name).or_throw(&env)?,
        })
    }

    /// A catalog from its JSON document (text or object).
    #[napi(factory, ts_args_type = "json: string | object")]
    pub fn from_json(env: Env, json: Value) -> napi::Result<Self> {
        Ok(Catalog {
            inner: Arc::new(core::Catalog::from_json(&json_text(json)).or_throw(&env)?),
        })
    }

    /// The catalog's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    /// The tiers, lowest first: `{tier, name, graceDays}`.
    #[napi(
        getter,
        ts_return_type = "Array<{ tier: Tier; name: string; graceDays: number }>"
    )]
    pub fn tiers(&self) -> Value {
        self.inner
            .tiers()
            .iter()
            .map(|t| json!({"tier": t.tier.as_str(), "name": t.name, "graceDays": t.grace_days}))
            .collect()
    }

    /// The features: `{key, name, category, minTier, explicitPurchase, tierBound, description}`.
    #[napi(getter, ts_return_type = "Array<CatalogFeature>")]
    pub fn features(&self) -> Value {
        self.inner
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
            .collect()
    }

    /// The limits: `{key, name, direction, values: {community, team, enterprise}}` (`null` is
    /// unlimited).
    #[napi(getter, ts_return_type = "Array<CatalogLimit>")]
    pub fn limits(&self) -> Value {
        self.inner
            .limits()
            .iter()
            .map(|l| {
                let values: serde_json::Map<String, Value> = core::Tier::ALL
                    .iter()
                    .map(|t| (t.as_str().to_owned(), json!(l.values.get(*t))))
                    .collect();
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
            .collect()
    }

    /// The role names, lowest first.
    #[napi(getter)]
    pub fn roles(&self) -> Vec<String> {
        self.inner.roles().iter().map(|r| r.name.clone()).collect()
    }

    /// Whether `role` has `permission` (unknown role or permission: `false`).
    #[napi]
    pub fn can(&self, role: String, permission: String) -> bool {
        self.inner.can(&role, &permission)
    }

    /// Every permission of `role`, inherited ones included.
    #[napi]
    pub fn permissions_of(&self, role: String) -> Vec<String> {
        self.inner
            .permissions_of(&role)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}
