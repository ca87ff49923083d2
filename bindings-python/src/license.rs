//! Keys, verification and licenses: `Keyring`, `Verifier`, `License`, `RevocationList`.

use dev_health_entitlements as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{json, Value};

use crate::convert::{from_py, json_text, now_or_clock, to_py};
use crate::entitlements::Catalog;
use crate::errors::IntoPyResult;

/// The trusted public keys, by key id (`kid`).
#[pyclass(frozen, module = "dev_health_entitlements")]
#[derive(Clone)]
pub struct Keyring {
    pub(crate) inner: core::Keyring,
}

#[pymethods]
impl Keyring {
    /// `Keyring({"k1": "<base64 public key>", "k2": {<OKP JWK>}})`; empty without an argument.
    #[new]
    #[pyo3(signature = (keys = None))]
    fn new(keys: Option<&Bound<'_, PyDict>>) -> PyResult<Keyring> {
        let mut ring = core::Keyring::new();
        for (kid, key) in keys.into_iter().flat_map(|d| d.iter()) {
            let kid: String = kid.extract()?;
            if let Ok(text) = key.cast::<PyString>() {
                ring.add(kid, core::PublicKey::from_base64(&text.to_cow()?).py()?);
            } else {
                let mut jwk = from_py(&key)?;
                if let Value::Object(map) = &mut jwk {
                    map.insert("kid".to_owned(), Value::String(kid));
                }
                ring.extend(core::Keyring::from_jwks(&json!({ "keys": [jwk] }).to_string()).py()?);
            }
        }
        Ok(Keyring { inner: ring })
    }

    /// Reads a JWKS document (`str`, or the parsed `dict`) of OKP Ed25519 keys.
    #[staticmethod]
    fn from_jwks(jwks: &Bound<'_, PyAny>) -> PyResult<Keyring> {
        let inner = core::Keyring::from_jwks(&json_text(jwks)?).py()?;
        Ok(Keyring { inner })
    }

    /// Reads a JWKS document or a `kid=base64,kid=base64` list (a bare key gets kid `default`).
    #[staticmethod]
    fn parse(text: &str) -> PyResult<Keyring> {
        Ok(Keyring {
            inner: core::Keyring::parse(text).py()?,
        })
    }

    /// The vendor keys compiled into the engine (empty unless built with them).
    #[staticmethod]
    fn embedded() -> PyResult<Keyring> {
        Ok(Keyring {
            inner: core::Keyring::embedded().py()?,
        })
    }

    /// The key ids, in insertion order.
    #[getter]
    fn kids(&self) -> Vec<String> {
        self.inner.entries().iter().map(|e| e.kid.clone()).collect()
    }

    /// The keys as a JWKS document (`dict`).
    fn to_jwks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.to_jwks())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("Keyring(kids={:?})", self.kids())
    }
}

/// A signed list of revoked license ids.
#[pyclass(frozen, module = "dev_health_entitlements")]
#[derive(Clone)]
pub struct RevocationList {
    pub(crate) inner: core::RevocationList,
}

#[pymethods]
impl RevocationList {
    /// Verifies a signed revocation list (an EdDSA JWT) with these keys and issuer at `now`.
    #[staticmethod]
    #[pyo3(signature = (token, keyring, *, issuer = core::DEFAULT_ISSUER, now = None))]
    fn verify(
        py: Python<'_>,
        token: &str,
        keyring: &Keyring,
        issuer: &str,
        now: Option<i64>,
    ) -> PyResult<RevocationList> {
        let now = now_or_clock(py, now)?;
        let inner = core::RevocationList::verify(token, &keyring.inner, issuer, now).py()?;
        Ok(RevocationList { inner })
    }

    /// A list from ids the host keeps itself.
    #[staticmethod]
    fn from_ids(ids: Vec<String>) -> RevocationList {
        RevocationList {
            inner: core::RevocationList::from_ids(ids),
        }
    }

    /// Whether the license id is on the list.
    fn __contains__(&self, license_id: &str) -> bool {
        self.inner.contains(license_id)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// When the list was signed.
    #[getter]
    fn issued_at(&self) -> i64 {
        self.inner.issued_at
    }

    /// When the issuer expects it to be replaced.
    #[getter]
    fn expires_at(&self) -> i64 {
        self.inner.expires_at
    }
}

/// Verifies license tokens (SPEC §1) against a keyring.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct Verifier {
    inner: core::Verifier,
    keyring: Py<Keyring>,
}

/// Applies the keyword options shared by `Verifier(...)` and `Verifier.from_env(...)`.
#[allow(clippy::too_many_arguments)]
fn configure(
    py: Python<'_>,
    mut verifier: core::Verifier,
    issuer: Option<String>,
    leeway: Option<i64>,
    accept_v1: bool,
    deployment_id: Option<String>,
    catalog: Option<&Catalog>,
    revocation_list: Option<&Bound<'_, PyAny>>,
    high_water_mark: Option<i64>,
) -> PyResult<core::Verifier> {
    if let Some(issuer) = issuer {
        verifier = verifier.with_issuer(issuer);
    }
    if let Some(leeway) = leeway {
        verifier = verifier.with_leeway(leeway);
    }
    if let Some(catalog) = catalog {
        verifier = verifier.with_catalog(&catalog.inner);
    }
    let revocations = match revocation_list {
        None => None,
        Some(list) if list.is_none() => None,
        Some(list) => Some(if let Ok(list) = list.cast::<RevocationList>() {
            list.get().inner.clone()
        } else if let Ok(token) = list.cast::<PyString>() {
            let now = now_or_clock(py, None)?;
            core::RevocationList::verify(
                &token.to_cow()?,
                verifier.keyring(),
                verifier.issuer(),
                now,
            )
            .py()?
        } else {
            return Err(PyTypeError::new_err(
                "revocation_list must be a RevocationList or a signed revocation-list token",
            ));
        }),
    };
    Ok(verifier
        .with_accept_v1(accept_v1)
        .with_deployment_id(deployment_id)
        .with_revocations(revocations)
        .with_high_water_mark(high_water_mark))
}

#[pymethods]
impl Verifier {
    /// A verifier of licenses signed by `keyring`. A `revocation_list` given as a token is
    /// verified with the same keys and issuer, now.
    #[new]
    #[pyo3(signature = (keyring, *, issuer = None, leeway = None, accept_v1 = true,
        deployment_id = None, catalog = None, revocation_list = None, high_water_mark = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        keyring: Bound<'_, Keyring>,
        issuer: Option<String>,
        leeway: Option<i64>,
        accept_v1: bool,
        deployment_id: Option<String>,
        catalog: Option<&Catalog>,
        revocation_list: Option<&Bound<'_, PyAny>>,
        high_water_mark: Option<i64>,
    ) -> PyResult<Verifier> {
        let inner = configure(
            py,
            core::Verifier::new(keyring.get().inner.clone()),
            issuer,
            leeway,
            accept_v1,
            deployment_id,
            catalog,
            revocation_list,
            high_water_mark,
        )?;
        Ok(Verifier {
            inner,
            keyring: keyring.unbind(),
        })
    }

    /// A verifier with the embedded keys plus those of the environment
    /// (`DEV_HEALTH_LICENSE_PUBLIC_KEYS`, else `LICENSE_PUBLIC_KEY`), and these options.
    #[staticmethod]
    #[pyo3(signature = (*, issuer = None, leeway = None, accept_v1 = true,
        deployment_id = None, catalog = None, revocation_list = None, high_water_mark = None))]
    #[allow(clippy::too_many_arguments)]
    fn from_env(
        py: Python<'_>,
        issuer: Option<String>,
        leeway: Option<i64>,
        accept_v1: bool,
        deployment_id: Option<String>,
        catalog: Option<&Catalog>,
        revocation_list: Option<&Bound<'_, PyAny>>,
        high_water_mark: Option<i64>,
    ) -> PyResult<Verifier> {
        let base = core::Verifier::from_env().py()?;
        let keyring = Py::new(
            py,
            Keyring {
                inner: base.keyring().clone(),
            },
        )?;
        let inner = configure(
            py,
            base,
            issuer,
            leeway,
            accept_v1,
            deployment_id,
            catalog,
            revocation_list,
            high_water_mark,
        )?;
        Ok(Verifier { inner, keyring })
    }

    /// Verifies `token` at `now` (Unix seconds; `None` reads `time.time()`). Raises
    /// `LicenseError` with a SPEC §1.4 code, or returns the `License` with its status.
    #[pyo3(signature = (token, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyString>,
        now: Option<i64>,
    ) -> PyResult<License> {
        let now = now_or_clock(py, now)?;
        let inner = self.inner.verify(&token.to_cow()?, now).py()?;
        Ok(License { inner })
    }

    /// The expected issuer.
    #[getter]
    fn issuer(&self) -> &str {
        self.inner.issuer()
    }

    /// The tolerated clock skew, in seconds.
    #[getter]
    fn leeway(&self) -> i64 {
        self.inner.leeway()
    }

    /// The trusted keys.
    #[getter]
    fn keyring(&self, py: Python<'_>) -> Py<Keyring> {
        self.keyring.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Verifier(issuer={:?}, leeway={}, kids={:?})",
            self.inner.issuer(),
            self.inner.leeway(),
            self.inner
                .keyring()
                .entries()
                .iter()
                .map(|e| e.kid.as_str())
                .collect::<Vec<_>>()
        )
    }
}

/// A license whose signature and claims verified.
#[pyclass(frozen, module = "dev_health_entitlements")]
#[derive(Clone)]
pub struct License {
    pub(crate) inner: core::License,
}

#[pymethods]
impl License {
    /// The status at the moment of verification: `active`, `grace` or `expired`.
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }

    /// The status at `now` (`None` reads `time.time()`).
    #[pyo3(signature = (now = None))]
    fn status_at(&self, py: Python<'_>, now: Option<i64>) -> PyResult<&'static str> {
        Ok(self.inner.status_at(now_or_clock(py, now)?).as_str())
    }

    /// Whole days of grace left at `now` (rounded up), or `None` outside grace.
    #[pyo3(signature = (now = None))]
    fn grace_days_left(&self, py: Python<'_>, now: Option<i64>) -> PyResult<Option<u32>> {
        Ok(self.inner.grace_days_left(now_or_clock(py, now)?))
    }

    /// The licensed tier.
    #[getter]
    fn tier(&self) -> &'static str {
        self.inner.tier().as_str()
    }

    /// The org id the license is for (`sub`).
    #[getter]
    fn sub(&self) -> &str {
        self.inner.sub()
    }

    /// The license id (`jti`; v1 `license_id`).
    #[getter]
    fn license_id(&self) -> &str {
        self.inner.license_id()
    }

    /// The id of the key that verified it.
    #[getter]
    fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// `v1` or `v2`.
    #[getter]
    fn format(&self) -> &'static str {
        self.inner.format.as_str()
    }

    /// `saas`, `self_hosted`, `trial` or `evaluation`.
    #[getter]
    fn license_type(&self) -> &'static str {
        self.inner.claims.license_type.as_str()
    }

    /// `exp`, Unix seconds.
    #[getter]
    fn expires_at(&self) -> i64 {
        self.inner.expires_at()
    }

    /// The last second of the grace period.
    #[getter]
    fn grace_ends_at(&self) -> i64 {
        self.inner.grace_ends_at()
    }

    /// Grace days in force (the claim, else the catalog's default for the tier).
    #[getter]
    fn grace_days(&self) -> u32 {
        self.inner.grace_days
    }

    /// The `now` the license was verified at.
    #[getter]
    fn verified_at(&self) -> i64 {
        self.inner.verified_at
    }

    /// The verified claims as a `dict` (v2 names, unknown claims kept).
    #[getter]
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.claims.to_json())
    }

    /// The verification result, the shape of `dev-health-license verify --json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.to_json())
    }

    fn __repr__(&self) -> String {
        format!(
            "License(license_id={:?}, sub={:?}, tier={:?}, status={:?}, expires_at={})",
            self.inner.license_id(),
            self.inner.sub(),
            self.inner.tier().as_str(),
            self.inner.status.as_str(),
            self.inner.expires_at()
        )
    }
}

/// The license token from the environment: `DEV_HEALTH_LICENSE`, then `LICENSE_KEY`, then the
/// file named by `DEV_HEALTH_LICENSE_FILE`; `None` when none is set.
#[pyfunction]
pub fn license_token_from_env() -> PyResult<Option<String>> {
    core::license_token_from_env().py()
}
