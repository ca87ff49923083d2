//! `Entitlements` (SPEC §3) and the UpgradeGate decision (SPEC §4).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use dev_health_entitlements as core;
use dev_health_entitlements::interface;
use napi::bindgen_prelude::{
    ClassInstance, Either, Either3, JavaScriptClassExt, Null, Object, Undefined,
};
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::errors::{check_keys, json_arg, nullable, parse_tier, strict_options, OrThrow};
use crate::verify::License;
use crate::view;

/// A per-org feature override (SPEC §3 rule 3); in force while `expiresAt > now`.
#[napi(object, object_to_js = false)]
pub struct Override {
    /// The feature key.
    pub feature: String,
    /// On or off.
    pub enabled: bool,
    /// When it stops applying (Unix seconds); absent or `null`: never.
    #[napi(ts_type = "number | null")]
    pub expires_at: Option<Either<f64, Null>>,
}

/// The inputs of [`Entitlements::resolve`].
#[napi(object, object_to_js = false)]
// Declares the argument's type for index.d.ts; the binding reads the JS object field by field.
#[allow(dead_code)]
pub struct ResolveOptions {
    /// The catalog (default: `Catalog.default()`).
    #[napi(ts_type = "Catalog | null")]
    pub catalog: Option<Either<&'static Catalog, Null>>,
    /// A verified license, or none.
    #[napi(ts_type = "License | null")]
    pub license: Option<Either<&'static License, Null>>,
    /// The org being resolved; none for the instance as a whole.
    #[napi(ts_type = "string | null")]
    pub org_id: Option<Either<String, Null>>,
    /// The org's own tier (SaaS, from billing).
    #[napi(ts_type = "Tier | null")]
    pub org_tier: Option<Either<String, Null>>,
    /// Per-org overrides.
    pub overrides: Option<Vec<Override>>,
    /// Global kill switches: feature → enabled.
    pub kill_switches: Option<HashMap<String, bool>>,
    /// The moment of resolution (Unix seconds; default now).
    #[napi(ts_type = "number | null")]
    pub now: Option<Either<f64, Null>>,
}

/// Options of [`Entitlements::upgrade_gate`].
#[napi(object, object_to_js = false)]
pub struct GateOptions {
    /// A tier the page requires on top of the feature's own minimum.
    #[napi(ts_type = "Tier | null")]
    pub required_tier: Option<Either<String, Null>>,
    /// Where the upgrade link goes (default `/org/admin/settings`).
    #[napi(ts_type = "string | null")]
    pub upgrade_href: Option<Either<String, Null>>,
}

/// Options of [`Entitlements::feature_denial`].
#[napi(object, object_to_js = false)]
pub struct DenialOptions {
    /// A tier the route requires on top of the feature's own minimum (named in a 402 body).
    #[napi(ts_type = "Tier | null")]
    pub required_tier: Option<Either<String, Null>>,
    /// The 402 body's `upgrade_url` (default `/org/admin/settings`).
    #[napi(ts_type = "string | null")]
    pub upgrade_url: Option<Either<String, Null>>,
}

/// A denied check as HTTP glue answers it (core `web::HttpDenial`): `status` with the JSON body
/// `{detail}`, the same bodies as the FastAPI dependencies.
#[napi(object)]
pub struct HttpDenial {
    /// `feature_not_licensed`, `feature_not_enabled`, `limit_exceeded` or `permission_denied`.
    #[napi(
        ts_type = "'feature_not_licensed' | 'feature_not_enabled' | 'limit_exceeded' | 'permission_denied'"
    )]
    pub error: String,
    /// 402 or 403.
    #[napi(ts_type = "402 | 403")]
    pub status: u32,
    /// The body's `detail` object (its `error` member is `error`).
    #[napi(ts_type = "Record<string, unknown> & { error: string }")]
    pub detail: Value,
    /// A sentence for logs (never a secret).
    pub message: String,
}

impl From<core::web::HttpDenial> for HttpDenial {
    fn from(d: core::web::HttpDenial) -> HttpDenial {
        HttpDenial {
            error: d.kind.as_str().to_owned(),
            status: u32::from(d.status),
            detail: d.detail,
            message: d.message,
        }
    }
}

/// The 403 `permission_denied` answer for a role (`null` without a session) lacking
/// `permission` (core `web::permission_denial`).
#[napi]
pub fn permission_denial(permission: String, role: Option<String>) -> HttpDenial {
    core::web::permission_denial(&permission, role.as_deref()).into()
}

/// The argument of the top-level [`upgrade_gate`].
#[napi(object, object_to_js = false)]
// Declares the argument's type for index.d.ts; the binding reads the JS object field by field.
#[allow(dead_code)]
pub struct UpgradeGateInput {
    /// The feature key.
    pub feature: String,
    /// A tier the page requires on top of the feature's own minimum.
    #[napi(ts_type = "Tier | null")]
    pub required_tier: Option<Either<String, Null>>,
    /// The resolved entitlements.
    pub entitlements: &'static Entitlements,
    /// Where the upgrade link goes (default `/org/admin/settings`).
    #[napi(ts_type = "string | null")]
    pub upgrade_href: Option<Either<String, Null>>,
}

/// An org's resolved tier, features and limits. Checks are lookups.
#[napi]
pub struct Entitlements {
    inner: Arc<core::Entitlements>,
}

impl Entitlements {
    /// Wraps resolved entitlements in a JS object with its fast `has` and `can` (see `fast`).
    fn into_js(env: &Env, inner: core::Entitlements) -> napi::Result<Object<'_>> {
        let inner = Arc::new(inner);
        let instance = Entitlements {
            inner: Arc::clone(&inner),
        }
        .into_instance(env)?;
        let object = instance.as_object(env);
        crate::fast::install(env, &object, &inner)?;
        Ok(object)
    }

    fn gate(
        &self,
        env: &Env,
        feature: &str,
        required_tier: Option<&str>,
        upgrade_href: Option<&str>,
    ) -> napi::Result<Value> {
        let required = required_tier.map(|t| parse_tier(env, t)).transpose()?;
        let gate = self.inner.upgrade_gate(feature, required, upgrade_href);
        Ok(view(&interface::UpgradeGateView::from(&gate)))
    }
}

/// The fields of [`ResolveOptions`], read from the JS object one by one.
struct ResolveFields<'a> {
    catalog: Option<Either<ClassInstance<'a, Catalog>, Null>>,
    license: Option<Either<ClassInstance<'a, License>, Null>>,
    org_id: Option<Either<String, Null>>,
    org_tier: Option<Either<String, Null>>,
    overrides: Option<Vec<Override>>,
    kill_switches: Option<HashMap<String, bool>>,
    now: Option<Either<f64, Null>>,
}

impl<'a> ResolveFields<'a> {
    fn read(env: &Env, options: Option<Object<'a>>) -> napi::Result<Self> {
        let Some(o) = options else {
            return Ok(ResolveFields {
                catalog: None,
                license: None,
                org_id: None,
                org_tier: None,
                overrides: None,
                kill_switches: None,
                now: None,
            });
        };
        check_keys(
            env,
            &o,
            "Entitlements.resolve options",
            &[
                "catalog",
                "license",
                "orgId",
                "orgTier",
                "overrides",
                "killSwitches",
                "now",
            ],
        )?;
        for item in o.get::<Vec<Object<'_>>>("overrides")?.unwrap_or_default() {
            check_keys(
                env,
                &item,
                "an override",
                &["feature", "enabled", "expiresAt"],
            )?;
        }
        Ok(ResolveFields {
            catalog: o.get("catalog")?,
            license: o.get("license")?,
            org_id: o.get("orgId")?,
            org_tier: o.get("orgTier")?,
            overrides: o.get("overrides")?,
            kill_switches: o.get("killSwitches")?,
            now: o.get("now")?,
        })
    }
}

#[napi]
impl Entitlements {
    /// Resolves an org's entitlements (SPEC §3).
    #[napi(
        ts_args_type = "options?: ResolveOptions | undefined | null",
        ts_return_type = "Entitlements"
    )]
    pub fn resolve<'env>(
        env: &'env Env,
        options: Option<Object<'_>>,
    ) -> napi::Result<Object<'env>> {
        // Read strictly and field by field: napi-rs converts class references (`catalog`,
        // `license`) only while it converts a callback's own arguments.
        let options = ResolveFields::read(env, options)?;
        let license = nullable(options.license);
        let catalog = match nullable(options.catalog) {
            Some(c) => Arc::clone(&c.inner),
            None => core::Catalog::default_catalog().or_throw(env)?,
        };
        let org_tier = nullable(options.org_tier)
            .as_deref()
            .map(|t| parse_tier(env, t))
            .transpose()?;
        let org_id = nullable(options.org_id);
        let overrides = options
            .overrides
            .unwrap_or_default()
            .into_iter()
            .map(|o| {
                Ok(core::Override {
                    expires_at: nullable(o.expires_at)
                        .map(|at| crate::seconds(env, at, "an override's expiresAt"))
                        .transpose()?,
                    feature: o.feature,
                    enabled: o.enabled,
                })
            })
            .collect::<napi::Result<Vec<core::Override>>>()?;
        let kill_switches: Option<BTreeMap<String, bool>> =
            options.kill_switches.map(|k| k.into_iter().collect());
        let input = core::ResolveInput {
            license: license.as_deref().map(|l| &l.inner),
            org_id: org_id.as_deref(),
            org_tier,
            overrides: &overrides,
            kill_switches: kill_switches.as_ref(),
            now: crate::now_or_clock(env, nullable(options.now))?,
        };
        Entitlements::into_js(env, core::Entitlements::resolve(catalog, &input))
    }

    /// Rebuilds entitlements from the §3 JSON (what the entitlements API returned), so server
    /// code can gate without holding the license (core `Entitlements::from_json`).
    #[napi(
        js_name = "fromJSON",
        ts_return_type = "Entitlements",
        ts_args_type = "json: string | EntitlementsJSON, catalog?: Catalog | undefined | null"
    )]
    pub fn from_json<'env>(
        env: &'env Env,
        json: Value,
        catalog: Option<&Catalog>,
    ) -> napi::Result<Object<'env>> {
        let value = json_arg(env, "the entitlements JSON", json)?;
        let catalog = match catalog {
            Some(c) => Arc::clone(&c.inner),
            None => core::Catalog::default_catalog().or_throw(env)?,
        };
        let inner = core::Entitlements::from_json(catalog, &value).or_throw(env)?;
        Entitlements::into_js(env, inner)
    }

    /// The resolved tier.
    #[napi(getter, ts_return_type = "Tier")]
    pub fn tier(&self) -> &'static str {
        self.inner.tier().as_str()
    }

    /// The org resolved for, or `null`.
    #[napi(getter)]
    pub fn org_id(&self) -> Option<String> {
        self.inner.org_id().map(str::to_owned)
    }

    /// The first moment at which resolving again could give another answer, or `null`.
    #[napi(getter)]
    pub fn stale_at(&self) -> Option<i64> {
        self.inner.stale_at()
    }

    /// Whether the entitlements must be resolved again at `now` (default now).
    #[napi]
    pub fn is_stale(&self, env: Env, now: Option<f64>) -> napi::Result<bool> {
        Ok(self.inner.is_stale(crate::now_or_clock(&env, now)?))
    }

    /// Whether the feature is allowed. A lookup.
    #[napi]
    pub fn has(&self, feature: String) -> bool {
        self.inner.has(&feature)
    }

    /// The full decision for a feature. A lookup.
    #[napi(ts_return_type = "Decision")]
    pub fn check(&self, feature: String) -> Value {
        let mut decision = view(&interface::DecisionView::from(&self.inner.check(&feature)));
        // This package's decisions never had `denial` (see `DecisionView::denial`).
        if let Some(fields) = decision.as_object_mut() {
            fields.remove("denial");
        }
        decision
    }

    /// Checks `current` against a limit: `current <= maximum` for a ceiling, `current >= minimum`
    /// for a floor; unlimited always passes; an unknown limit is denied.
    #[napi(ts_return_type = "LimitDecision")]
    pub fn check_limit(&self, limit: String, current: f64) -> Value {
        view(&interface::LimitDecisionView::from(
            &self.inner.check_limit(&limit, current),
        ))
    }

    /// The bound of a limit in force: a number, `null` for unlimited, `undefined` for an
    /// unknown limit.
    #[napi(ts_return_type = "number | null | undefined")]
    pub fn limit(&self, limit: String) -> Either3<f64, Null, Undefined> {
        match self.inner.limit(&limit) {
            Some(Some(bound)) => Either3::A(bound),
            Some(None) => Either3::B(Null),
            None => Either3::C(()),
        }
    }

    /// Whether `role` has `permission` (SPEC §2 roles). A lookup.
    #[napi]
    pub fn can(&self, role: String, permission: String) -> bool {
        self.inner.can(&role, &permission)
    }

    /// The UpgradeGate decision for a feature (core `Entitlements::upgrade_gate`).
    #[napi(
        ts_args_type = "feature: string, options?: GateOptions | undefined | null",
        ts_return_type = "UpgradeGate"
    )]
    pub fn upgrade_gate(
        &self,
        env: Env,
        feature: String,
        options: Option<Object<'_>>,
    ) -> napi::Result<Value> {
        let options: Option<GateOptions> = strict_options(
            &env,
            options,
            "upgradeGate options",
            &["requiredTier", "upgradeHref"],
        )?;
        let (required, href) = options
            .map(|o| (nullable(o.required_tier), nullable(o.upgrade_href)))
            .unwrap_or((None, None));
        self.gate(&env, &feature, required.as_deref(), href.as_deref())
    }

    /// The HTTP answer when `feature` is denied (402 `feature_not_licensed` or 403
    /// `feature_not_enabled`, core `web::feature_denial`), or `null` when it is allowed.
    #[napi(ts_args_type = "feature: string, options?: DenialOptions | undefined | null")]
    pub fn feature_denial(
        &self,
        env: Env,
        feature: String,
        options: Option<Object<'_>>,
    ) -> napi::Result<Option<HttpDenial>> {
        let options: Option<DenialOptions> = strict_options(
            &env,
            options,
            "featureDenial options",
            &["requiredTier", "upgradeUrl"],
        )?;
        let (required, url) = options
            .map(|o| (nullable(o.required_tier), nullable(o.upgrade_url)))
            .unwrap_or((None, None));
        let required = required.map(|t| parse_tier(&env, &t)).transpose()?;
        Ok(
            core::web::feature_denial(&self.inner, &feature, required, url.as_deref())
                .map(HttpDenial::from),
        )
    }

    /// The HTTP answer when `current` crosses `limit` (402 `limit_exceeded`, core
    /// `web::limit_denial`), or `null` when it is within.
    #[napi]
    pub fn limit_denial(&self, limit: String, current: f64) -> Option<HttpDenial> {
        core::web::limit_denial(&self.inner.check_limit(&limit, current)).map(HttpDenial::from)
    }

    /// The JSON dev-health-web reads (SPEC §3), snake_case keys: `{org_id, tier, licensed_users,
    /// licensed_repos, features, features_override, limits_override, expires_at, is_valid,
    /// limits, status, in_grace_period, grace_ends_at, license_id}`.
    #[napi(js_name = "toJSON", ts_return_type = "EntitlementsJSON")]
    pub fn to_json(&self) -> Value {
        self.inner.to_json()
    }
}

/// The UpgradeGate decision (SPEC §4): `allowed` when the feature is on; `upgrade` when the
/// current tier is below the required one; `unavailable` (turned off by an admin; no link)
/// otherwise. Decided by core `Entitlements::upgrade_gate`.
#[napi(
    ts_args_type = "input: UpgradeGateInput",
    ts_return_type = "UpgradeGate"
)]
pub fn upgrade_gate(env: Env, input: Object<'_>) -> napi::Result<Value> {
    // Read strictly and field by field: napi-rs converts the class reference (`entitlements`)
    // only while it converts a callback's own arguments.
    check_keys(
        &env,
        &input,
        "upgradeGate input",
        &["feature", "requiredTier", "entitlements", "upgradeHref"],
    )?;
    let missing = |what: &str| {
        crate::errors::invalid_input(&env, format!("upgradeGate: `{what}` is missing"))
    };
    let feature: String = input.get("feature")?.ok_or_else(|| missing("feature"))?;
    let entitlements: ClassInstance<'_, Entitlements> = input
        .get("entitlements")?
        .ok_or_else(|| missing("entitlements"))?;
    let required: Option<Either<String, Null>> = input.get("requiredTier")?;
    let href: Option<Either<String, Null>> = input.get("upgradeHref")?;
    entitlements.gate(
        &env,
        &feature,
        nullable(required).as_deref(),
        nullable(href).as_deref(),
    )
}
