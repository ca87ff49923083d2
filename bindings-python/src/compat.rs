//! Conversions for what hosts migrating from dev-health-ops hand the engine: org license records,
//! the license-feature mode, a v1 feature map in its own order. Every rule is the core's.

use dev_health_entitlements as core;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use crate::convert::from_py;
use crate::errors::IntoPyResult;

/// A host's org license record (a mapping, or `None`), read by the core.
pub fn org_license(record: Option<&Bound<'_, PyAny>>) -> PyResult<Option<core::OrgLicense>> {
    match record {
        Some(r) if !r.is_none() => Ok(Some(core::OrgLicense::from_json(&from_py(r)?).py()?)),
        _ => Ok(None),
    }
}

/// `"grants"` or `"exclusive"`, or `None` for the catalog's mode.
pub fn license_features(mode: Option<&str>) -> PyResult<Option<core::LicenseFeatures>> {
    mode.map(|m| {
        core::LicenseFeatures::parse(m).ok_or_else(|| {
            crate::errors::to_py_err(core::Error::input(format!(
                "license_features must be \"grants\" or \"exclusive\", not {m:?}"
            )))
        })
    })
    .transpose()
}

/// The `features` dict of v1 claims in its own order (JSON objects are read sorted), or `None`
/// when the claims have none.
pub fn ordered_features(claims: &Bound<'_, PyAny>) -> PyResult<Option<Vec<(String, bool)>>> {
    let Ok(claims) = claims.cast::<PyDict>() else {
        return Ok(None);
    };
    let Some(features) = claims.get_item("features")? else {
        return Ok(None);
    };
    let Ok(features) = features.cast::<PyDict>() else {
        // Not a dict: the core's claim check reports it.
        return Ok(None);
    };
    let mut ordered = Vec::with_capacity(features.len());
    for (key, value) in features.iter() {
        let (Ok(key), Ok(value)) = (key.cast::<PyString>(), value.cast::<PyBool>()) else {
            return Ok(None);
        };
        ordered.push((key.to_cow()?.into_owned(), value.is_true()));
    }
    Ok(Some(ordered))
}

/// Where a license with this `exp` and `grace_days` stands at `now` (`None` reads `time.time()`):
/// `"active"`, `"grace"` or `"expired"`, by the core's rule. For payloads a host holds without the
/// token (dev-health-ops' `LicenseValidator.is_expired(payload)`).
#[pyfunction]
#[pyo3(signature = (exp, grace_days, now = None))]
pub fn license_status(
    py: Python<'_>,
    exp: i64,
    grace_days: u32,
    now: Option<i64>,
) -> PyResult<&'static str> {
    let now = crate::convert::now_or_clock(py, now)?;
    Ok(core::verify::status_of(exp, grace_days, now).as_str())
}

/// A verified license as the fields of dev-health-ops' v1 payload, in its order: `iss, sub, iat,
/// exp, tier, features, (users, repos, api_rate, backfill_days), grace_days, org_name,
/// contact_email, license_id`. Limits use the token names with `-1` for unlimited (`None` for an
/// unlimited `backfill_days`) and `None` for one the license does not set; `grace_days` is the
/// one in force. Read straight from the claims (no JSON round trip): this is the compatibility
/// validator's hot path.
#[pyfunction]
pub fn v1_payload_fields<'py>(
    py: Python<'py>,
    license: &crate::license::License,
) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
    let lic = &license.inner;
    let c = &lic.claims;
    let features = PyDict::new(py);
    for (key, enabled) in &c.features {
        features.set_item(key, *enabled)?;
    }
    let marker = |name: &str| -> Option<i64> {
        c.limits
            .get(name)
            .map(|v| v.map_or(core::claims::UNLIMITED_MARKER, |n| n as i64))
    };
    let backfill = c
        .limits
        .get("backfill_days")
        .copied()
        .flatten()
        .map(|n| n as i64);
    let limits = (
        marker("max_users"),
        marker("max_repos"),
        marker("api_rate_limit_per_min"),
        backfill,
    );
    pyo3::types::PyTuple::new(
        py,
        [
            c.iss.as_str().into_pyobject(py)?.into_any(),
            c.sub.as_str().into_pyobject(py)?.into_any(),
            c.iat.into_pyobject(py)?.into_any(),
            c.exp.into_pyobject(py)?.into_any(),
            c.tier.as_str().into_pyobject(py)?.into_any(),
            features.into_any(),
            limits.into_pyobject(py)?.into_any(),
            lic.grace_days.into_pyobject(py)?.into_any(),
            c.org_name.as_deref().into_pyobject(py)?.into_any(),
            c.contact_email.as_deref().into_pyobject(py)?.into_any(),
            c.license_id.as_str().into_pyobject(py)?.into_any(),
        ],
    )
}
