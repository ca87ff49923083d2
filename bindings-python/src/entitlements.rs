//! Catalogs, resolution and decisions: `Catalog`, `Entitlements`, `Decision`, `LimitDecision`,
//! `UpgradeGate`.

use std::collections::BTreeMap;
use std::sync::Arc;

use dev_health_entitlements as core;
use dev_health_entitlements::claims::limit_to_json;
use dev_health_entitlements::interface::CatalogView;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFrozenSet, PyString};
use serde_json::json;

use crate::convert::{
    from_py, json_text, limit_to_py, now_or_clock, number_to_py, tier_of, to_py, view_to_py,
};
use crate::errors::IntoPyResult;
use crate::license::License;

/// A denial (core `web::HttpDenial`) as the dict `{"error", "status", "detail", "message"}`.
fn denial_to_py(py: Python<'_>, d: core::web::HttpDenial) -> PyResult<Bound<'_, PyAny>> {
    to_py(
        py,
        &json!({"error": d.kind.as_str(), "status": d.status, "detail": d.detail, "message": d.message}),
    )
}

/// The 403 `permission_denied` answer for `role` (`None` without a session) lacking
/// `permission` (core `web::permission_denial`), as a dict `{"error", "status", "detail",
/// "message"}`.
#[pyfunction]
#[pyo3(signature = (permission, role = None))]
pub fn permission_denial<'py>(
    py: Python<'py>,
    permission: &str,
    role: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    denial_to_py(py, core::web::permission_denial(permission, role))
}

/// A catalog of tiers, features, limits and roles.
#[pyclass(frozen, module = "dev_health_entitlements")]
#[derive(Clone)]
pub struct Catalog {
    pub(crate) inner: Arc<core::Catalog>,
}

#[pymethods]
impl Catalog {
    /// The default catalog (the Enterprise Edition tier table).
    #[staticmethod]
    fn default() -> PyResult<Catalog> {
        Ok(Catalog {
            inner: core::Catalog::default_catalog().py()?,
        })
    }

    /// The catalog reproducing dev-health-ops' 32 features and seven limits.
    #[staticmethod]
    fn dev_health_ops() -> PyResult<Catalog> {
        Ok(Catalog {
            inner: core::Catalog::dev_health_ops().py()?,
        })
    }

    /// A shipped catalog by name: `default` or `dev-health-ops`.
    #[staticmethod]
    fn builtin(name: &str) -> PyResult<Catalog> {
        Ok(Catalog {
            inner: core::Catalog::builtin(name).py()?,
        })
    }

    /// A catalog from its JSON document (`str`, or the parsed `dict`).
    #[staticmethod]
    fn from_json(document: &Bound<'_, PyAny>) -> PyResult<Catalog> {
        Ok(Catalog {
            inner: Arc::new(core::Catalog::from_json(&json_text(document)?).py()?),
        })
    }

    /// The catalog's name.
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The feature keys, in catalog order.
    #[getter]
    fn feature_keys(&self) -> Vec<String> {
        self.inner
            .features()
            .iter()
            .map(|f| f.key.clone())
            .collect()
    }

    /// The limit keys, in catalog order.
    #[getter]
    fn limit_keys(&self) -> Vec<String> {
        self.inner.limits().iter().map(|l| l.key.clone()).collect()
    }

    /// The tiers, lowest first: `{"tier", "name", "grace_days"}` each.
    #[getter]
    fn tiers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        view_to_py(py, &CatalogView::from(&*self.inner).tiers)
    }

    /// The features, in catalog order: `{"key", "name", "category", "min_tier",
    /// "explicit_purchase", "tier_bound", "description"}` each.
    #[getter]
    fn features<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        view_to_py(py, &CatalogView::from(&*self.inner).features)
    }

    /// The limits, in catalog order: `{"key", "name", "direction", "values": {"community",
    /// "team", "enterprise"}}` each (`None` is unlimited).
    #[getter]
    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        view_to_py(py, &CatalogView::from(&*self.inner).limits)
    }

    /// The whole catalog view: `{"name", "tiers", "features", "limits", "roles"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        view_to_py(py, &CatalogView::from(&*self.inner))
    }

    /// The role names, in catalog order.
    #[getter]
    fn roles(&self) -> Vec<String> {
        self.inner.roles().iter().map(|r| r.name.clone()).collect()
    }

    /// A feature's catalog entry as a `dict`, or `None`.
    fn feature<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .feature(key)
            .map(|f| {
                let value = serde_json::to_value(f).unwrap_or_default();
                to_py(py, &value)
            })
            .transpose()
    }

    /// Whether `role` has `permission` (own or inherited).
    fn can(&self, role: &Bound<'_, PyString>, permission: &Bound<'_, PyString>) -> PyResult<bool> {
        Ok(self.inner.can(&role.to_cow()?, &permission.to_cow()?))
    }

    /// Every permission of `role`, own and inherited, in catalog order.
    fn permissions_of(&self, role: &str) -> Vec<String> {
        self.inner
            .permissions_of(role)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    fn __repr__(&self) -> String {
        format!("Catalog(name={:?})", self.inner.name())
    }
}

/// An org's resolved tier, features and limits. Checks are lookups.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct Entitlements {
    inner: core::Entitlements,
    /// The features the core allowed at resolution, as a Python set: `has()` answers from it
    /// without converting the key to UTF-8 (which costs an allocation under abi3 for 3.9).
    allowed: Py<PyFrozenSet>,
}

impl Entitlements {
    fn wrap(py: Python<'_>, inner: core::Entitlements) -> PyResult<Entitlements> {
        let allowed = PyFrozenSet::new(py, inner.allowed_features())?.unbind();
        Ok(Entitlements { inner, allowed })
    }
}

#[pymethods]
impl Entitlements {
    /// Resolves an org's entitlements (SPEC §3). `overrides` are `{"feature", "enabled",
    /// "expires_at"?}` mappings; `kill_switches` maps feature → enabled; `now=None` reads
    /// `time.time()`. `org_license` is the host's trusted record for the org (`{"tier"?,
    /// "features"?, "limits"?, "expires_at"?}`), standing where a signed license would when
    /// none is valid; `license_features` (`"grants"` or `"exclusive"`) overrides the catalog's
    /// reading of a license's feature map.
    #[staticmethod]
    #[pyo3(signature = (catalog = None, license = None, org_id = None, org_tier = None,
        overrides = None, kill_switches = None, now = None, *, org_license = None,
        license_features = None))]
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        py: Python<'_>,
        catalog: Option<&Catalog>,
        license: Option<&License>,
        org_id: Option<String>,
        org_tier: Option<String>,
        overrides: Option<&Bound<'_, PyAny>>,
        kill_switches: Option<BTreeMap<String, bool>>,
        now: Option<i64>,
        org_license: Option<&Bound<'_, PyAny>>,
        license_features: Option<&str>,
    ) -> PyResult<Entitlements> {
        let catalog = match catalog {
            Some(c) => c.inner.clone(),
            None => core::Catalog::default_catalog().py()?,
        };
        let overrides: Vec<core::Override> = match overrides {
            None => Vec::new(),
            Some(o) if o.is_none() => Vec::new(),
            Some(o) => serde_json::from_value(from_py(o)?).map_err(|e| {
                crate::errors::to_py_err(core::Error::input(format!(
                    "overrides must be a list of {{feature, enabled, expires_at?}}: {e}"
                )))
            })?,
        };
        let input = core::ResolveInput {
            license: license.map(|l| &l.inner),
            org_id: org_id.as_deref(),
            org_tier: tier_of(org_tier.as_deref())?,
            overrides: &overrides,
            kill_switches: kill_switches.as_ref(),
            now: now_or_clock(py, now)?,
        };
        let org_license = crate::compat::org_license(org_license)?;
        let options = core::ResolveOptions {
            license_features: crate::compat::license_features(license_features)?,
            org_license: org_license.as_ref(),
        };
        Entitlements::wrap(
            py,
            core::Entitlements::resolve_with(catalog, &input, &options),
        )
    }

    /// Rebuilds entitlements from the `to_dict()` JSON (for example what the entitlements API
    /// returned).
    #[staticmethod]
    #[pyo3(signature = (data, catalog = None))]
    fn from_dict(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        catalog: Option<&Catalog>,
    ) -> PyResult<Entitlements> {
        let catalog = match catalog {
            Some(c) => c.inner.clone(),
            None => core::Catalog::default_catalog().py()?,
        };
        let inner = core::Entitlements::from_json(catalog, &from_py(data)?).py()?;
        Entitlements::wrap(py, inner)
    }

    /// The resolved tier.
    #[getter]
    fn tier(&self) -> &'static str {
        self.inner.tier().as_str()
    }

    /// The org resolved for, if any.
    #[getter]
    fn org_id(&self) -> Option<&str> {
        self.inner.org_id()
    }

    /// The catalog resolved against.
    #[getter]
    fn catalog(&self) -> Catalog {
        Catalog {
            inner: self.inner.catalog().clone(),
        }
    }

    /// The `now` of resolution.
    #[getter]
    fn resolved_at(&self) -> i64 {
        self.inner.resolved_at()
    }

    /// The first moment at which resolving again could give another answer, if any.
    #[getter]
    fn stale_at(&self) -> Option<i64> {
        self.inner.stale_at()
    }

    /// Whether these entitlements must be resolved again at `now` (`None` reads `time.time()`).
    #[pyo3(signature = (now = None))]
    fn is_stale(&self, py: Python<'_>, now: Option<i64>) -> PyResult<bool> {
        Ok(self.inner.is_stale(now_or_clock(py, now)?))
    }

    /// The features allowed, as a `frozenset`.
    #[getter]
    fn allowed_features(&self, py: Python<'_>) -> Py<PyFrozenSet> {
        self.allowed.clone_ref(py)
    }

    /// The license that applied, as `{license_id, status, expires_at, grace_ends_at,
    /// license_type}`, or `None`.
    #[getter]
    fn license<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .license()
            .map(|l| to_py(py, &serde_json::to_value(l).unwrap_or_default()))
            .transpose()
    }

    /// Whether the feature is allowed. A set lookup.
    fn has(&self, py: Python<'_>, feature: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.allowed.bind(py).contains(feature)
    }

    /// The full decision for a feature.
    fn check(&self, feature: &Bound<'_, PyString>) -> PyResult<Decision> {
        let feature = feature.to_cow()?;
        Ok(Decision::from_core(&self.inner.check(&feature)))
    }

    /// Checks a value against a limit (`current <= maximum` for a ceiling, `>=` for a floor).
    fn check_limit(&self, limit: &Bound<'_, PyString>, current: f64) -> PyResult<LimitDecision> {
        let limit = limit.to_cow()?;
        Ok(LimitDecision::from_core(
            &self.inner.check_limit(&limit, current),
        ))
    }

    /// Whether `role` has `permission` in the catalog.
    fn can(&self, role: &Bound<'_, PyString>, permission: &Bound<'_, PyString>) -> PyResult<bool> {
        Ok(self.inner.can(&role.to_cow()?, &permission.to_cow()?))
    }

    /// The UpgradeGate decision: `allowed`, `upgrade` (a higher tier unlocks it) or
    /// `unavailable`.
    #[pyo3(signature = (feature, required_tier = None, upgrade_href = None))]
    fn upgrade_gate(
        &self,
        feature: &str,
        required_tier: Option<&str>,
        upgrade_href: Option<&str>,
    ) -> PyResult<UpgradeGate> {
        let gate = self
            .inner
            .upgrade_gate(feature, tier_of(required_tier)?, upgrade_href);
        Ok(UpgradeGate {
            state: gate.state.as_str(),
            feature: gate.feature,
            current_tier: gate.current_tier.as_str(),
            required_tier: gate.required_tier.map(core::Tier::as_str),
            upgrade_href: gate.upgrade_href,
        })
    }

    /// The HTTP answer when `feature` is denied (core `web::feature_denial`): a dict
    /// `{"error", "status", "detail", "message"}` (402 `feature_not_licensed` or 403
    /// `feature_not_enabled`), or `None` when it is allowed.
    #[pyo3(signature = (feature, required_tier = None, upgrade_url = None))]
    fn feature_denial<'py>(
        &self,
        py: Python<'py>,
        feature: &str,
        required_tier: Option<&str>,
        upgrade_url: Option<&str>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        core::web::feature_denial(&self.inner, feature, tier_of(required_tier)?, upgrade_url)
            .map(|d| denial_to_py(py, d))
            .transpose()
    }

    /// The HTTP answer when `current` crosses `limit` (core `web::limit_denial`, 402
    /// `limit_exceeded`), or `None` when it is within.
    fn limit_denial<'py>(
        &self,
        py: Python<'py>,
        limit: &str,
        current: f64,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        core::web::limit_denial(&self.inner.check_limit(limit, current))
            .map(|d| denial_to_py(py, d))
            .transpose()
    }

    /// The JSON dev-health-web reads (SPEC §3), as a `dict`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.to_json())
    }

    fn __repr__(&self) -> String {
        format!(
            "Entitlements(org_id={:?}, tier={:?})",
            self.inner.org_id(),
            self.inner.tier().as_str()
        )
    }
}

/// A feature decision (SPEC §3).
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct Decision {
    /// The feature asked about.
    #[pyo3(get)]
    feature: String,
    /// Whether it is allowed.
    #[pyo3(get)]
    allowed: bool,
    /// The rule that decided, e.g. `tier_required`.
    #[pyo3(get)]
    reason: &'static str,
    /// The org's tier.
    #[pyo3(get)]
    current_tier: &'static str,
    /// The feature's minimum tier (`None` for an unknown feature).
    #[pyo3(get)]
    required_tier: Option<&'static str>,
    /// When the decision's source lapses.
    #[pyo3(get)]
    expires_at: Option<i64>,
    /// How a denial is presented: `not_licensed` (HTTP 402) or `not_enabled` (403); `None`
    /// when allowed.
    #[pyo3(get)]
    denial: Option<&'static str>,
}

impl Decision {
    fn from_core(d: &core::Decision<'_>) -> Decision {
        Decision {
            feature: d.feature.to_owned(),
            allowed: d.allowed,
            reason: d.reason.as_str(),
            current_tier: d.current_tier.as_str(),
            required_tier: d.required_tier.map(core::Tier::as_str),
            expires_at: d.expires_at,
            denial: d.reason.denial().map(core::Denial::as_str),
        }
    }
}

#[pymethods]
impl Decision {
    fn __bool__(&self) -> bool {
        self.allowed
    }

    /// `{feature, allowed, reason, current_tier, required_tier, expires_at}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = json!({
            "feature": self.feature,
            "allowed": self.allowed,
            "reason": self.reason,
            "current_tier": self.current_tier,
            "required_tier": self.required_tier,
            "expires_at": self.expires_at,
        });
        to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        format!(
            "Decision(feature={:?}, allowed={}, reason={:?}, current_tier={:?}, required_tier={})",
            self.feature,
            if self.allowed { "True" } else { "False" },
            self.reason,
            self.current_tier,
            self.required_tier
                .map_or("None".to_owned(), |t| format!("{t:?}"))
        )
    }
}

/// A limit decision (SPEC §3). For a floor (`direction == "min"`), `maximum` holds the floor.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct LimitDecision {
    /// The limit asked about.
    #[pyo3(get)]
    limit: String,
    /// Whether `current` is within it.
    #[pyo3(get)]
    allowed: bool,
    current: f64,
    maximum: core::LimitValue,
    /// The org's tier.
    #[pyo3(get)]
    current_tier: &'static str,
    /// `max` (a ceiling) or `min` (a floor); `None` for an unknown limit.
    #[pyo3(get)]
    direction: Option<&'static str>,
    /// `within_limit`, `limit_exceeded` or `limit_not_registered`.
    #[pyo3(get)]
    reason: &'static str,
}

impl LimitDecision {
    fn from_core(d: &core::LimitDecision<'_>) -> LimitDecision {
        LimitDecision {
            limit: d.limit.to_owned(),
            allowed: d.allowed,
            current: d.current,
            maximum: d.maximum,
            current_tier: d.current_tier.as_str(),
            direction: d.direction.map(core::LimitDirection::as_str),
            reason: d.reason.as_str(),
        }
    }
}

#[pymethods]
impl LimitDecision {
    /// The value checked (an `int` when integral).
    #[getter]
    fn current<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        number_to_py(py, self.current)
    }

    /// The bound in force (an `int` when integral); `None` is unlimited.
    #[getter]
    fn maximum<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        limit_to_py(py, self.maximum)
    }

    fn __bool__(&self) -> bool {
        self.allowed
    }

    /// `{limit, allowed, current, maximum, current_tier, direction, reason}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let dict = PyDict::new(py);
        dict.set_item("limit", &self.limit)?;
        dict.set_item("allowed", self.allowed)?;
        dict.set_item("current", self.current(py)?)?;
        dict.set_item("maximum", self.maximum(py)?)?;
        dict.set_item("current_tier", self.current_tier)?;
        dict.set_item("direction", self.direction)?;
        dict.set_item("reason", self.reason)?;
        Ok(dict.into_any())
    }

    fn __repr__(&self) -> String {
        format!(
            "LimitDecision(limit={:?}, allowed={}, current={}, maximum={}, reason={:?})",
            self.limit,
            if self.allowed { "True" } else { "False" },
            limit_to_json(Some(self.current)),
            self.maximum
                .map_or("None".to_owned(), |m| limit_to_json(Some(m)).to_string()),
            self.reason
        )
    }
}

/// What an UpgradeGate shows (SPEC §4).
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct UpgradeGate {
    /// `allowed`, `upgrade` or `unavailable`.
    #[pyo3(get)]
    state: &'static str,
    /// The feature.
    #[pyo3(get)]
    feature: String,
    /// The org's tier.
    #[pyo3(get)]
    current_tier: &'static str,
    /// The tier that unlocks it, where one does.
    #[pyo3(get)]
    required_tier: Option<&'static str>,
    /// Where the upgrade link goes (only for `upgrade`).
    #[pyo3(get)]
    upgrade_href: Option<String>,
}

#[pymethods]
impl UpgradeGate {
    /// `{state, feature, current_tier, required_tier, upgrade_href}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = json!({
            "state": self.state,
            "feature": self.feature,
            "current_tier": self.current_tier,
            "required_tier": self.required_tier,
            "upgrade_href": self.upgrade_href,
        });
        to_py(py, &value)
    }

    fn __repr__(&self) -> String {
        format!(
            "UpgradeGate(state={:?}, feature={:?})",
            self.state, self.feature
        )
    }
}
