//! `FlagEvaluator`: the engine's OpenFeature evaluation (core `openfeature`) for
//! `dev_health_entitlements.openfeature.EntitlementsProvider`.

use std::collections::BTreeMap;

use dev_health_entitlements as core;
use dev_health_entitlements::openfeature::{FlagSource, FlagType, FlagValue};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

use crate::convert::{from_py, now_or_clock};
use crate::entitlements::Catalog;
use crate::errors::IntoPyResult;
use crate::license::License;

/// `(value, reason, error_code, error_message, engine_reason)` of one evaluation.
type Resolution<'py> = (
    Bound<'py, PyAny>,
    &'static str,
    Option<&'static str>,
    Option<String>,
    Option<&'static str>,
);

/// Evaluates features (boolean), limits (number) and the tier (string) as OpenFeature flags for
/// the org an evaluation context names.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct FlagEvaluator {
    source: FlagSource,
}

#[pymethods]
impl FlagEvaluator {
    #[new]
    #[pyo3(signature = (catalog = None, license = None, kill_switches = None))]
    fn new(
        catalog: Option<&Catalog>,
        license: Option<&License>,
        kill_switches: Option<BTreeMap<String, bool>>,
    ) -> PyResult<FlagEvaluator> {
        let catalog = match catalog {
            Some(c) => c.inner.clone(),
            None => core::Catalog::default_catalog().py()?,
        };
        Ok(FlagEvaluator {
            source: FlagSource {
                catalog,
                license: license.map(|l| l.inner.clone()),
                kill_switches: kill_switches.unwrap_or_default(),
            },
        })
    }

    /// Evaluates `key` as a `"boolean"`, `"number"` or `"string"` flag for the org `context`
    /// names (a dict: `targetingKey` or `org_id`, with `tier`, `overrides`, `kill_switches`).
    /// Returns `(value, reason, error_code, error_message, engine_reason)`; `value` is `None`
    /// on error.
    #[pyo3(signature = (key, flag_type, context = None, now = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        flag_type: &str,
        context: Option<&Bound<'py, PyAny>>,
        now: Option<i64>,
    ) -> PyResult<Resolution<'py>> {
        let wanted = FlagType::parse(flag_type).ok_or_else(|| {
            PyValueError::new_err(format!(
                "flag type must be boolean, number, string or object, not {flag_type:?}"
            ))
        })?;
        let context = context.map(from_py).transpose()?.unwrap_or_default();
        let r = self
            .source
            .evaluate(&context, key, wanted, now_or_clock(py, now)?);
        let value = match r.value {
            Some(FlagValue::Bool(b)) => b.into_bound_py_any(py)?,
            Some(FlagValue::Number(n)) => n.into_bound_py_any(py)?,
            Some(FlagValue::String(s)) => s.into_bound_py_any(py)?,
            None => py.None().into_bound(py),
        };
        Ok((
            value,
            r.reason.as_str(),
            r.error_code.map(|c| c.as_str()),
            r.error_message,
            r.engine_reason,
        ))
    }
}
