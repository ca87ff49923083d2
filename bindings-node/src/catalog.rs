//! `Catalog`: tiers, features, limits and roles (SPEC §2).

use std::sync::Arc;

use dev_health_entitlements as core;
use dev_health_entitlements::interface::CatalogView;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{json_text, OrThrow};
use crate::view;

/// A catalog of tiers, features, limits and roles.
#[napi]
pub struct Catalog {
    pub(crate) inner: Arc<core::Catalog>,
}

impl Catalog {
    fn view(&self) -> CatalogView {
        CatalogView::from(&*self.inner)
    }
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

    /// The tiers, lowest first, with their default grace days.
    #[napi(getter, ts_return_type = "Array<CatalogTier>")]
    pub fn tiers(&self) -> Value {
        view(&self.view().tiers)
    }

    /// The features, with their categories and minimum tiers.
    #[napi(getter, ts_return_type = "Array<CatalogFeature>")]
    pub fn features(&self) -> Value {
        view(&self.view().features)
    }

    /// The limits, with their bound on each tier (`null` is unlimited).
    #[napi(getter, ts_return_type = "Array<CatalogLimit>")]
    pub fn limits(&self) -> Value {
        view(&self.view().limits)
    }

    /// The whole catalog view: name, tiers, features, limits and roles.
    #[napi(js_name = "toJSON", ts_return_type = "CatalogJSON")]
    pub fn to_json(&self) -> Value {
        view(&self.view())
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
