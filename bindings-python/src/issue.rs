//! Issuing (the core's `issue` feature): signing keys, licenses and revocation lists. For tests,
//! tools and hosts that sign their own licenses.

use dev_health_entitlements as core;
use dev_health_entitlements::issue;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::convert::{from_py, to_py};
use crate::errors::IntoPyResult;
use crate::license::Keyring;

fn claims_map(claims: &Bound<'_, PyAny>) -> PyResult<Map<String, Value>> {
    match from_py(claims)? {
        Value::Object(map) => Ok(map),
        _ => Err(PyTypeError::new_err("claims must be a dict")),
    }
}

/// An Ed25519 signing key. Its repr never shows the secret.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct SigningKey {
    inner: issue::SigningKey,
}

#[pymethods]
impl SigningKey {
    /// A fresh key from the operating system's random source.
    #[staticmethod]
    fn generate() -> SigningKey {
        SigningKey {
            inner: issue::SigningKey::generate(),
        }
    }

    /// A key from base64 of its 32-byte seed, or PKCS#8 PEM.
    #[staticmethod]
    fn parse(text: &str) -> PyResult<SigningKey> {
        Ok(SigningKey {
            inner: issue::SigningKey::parse(text).py()?,
        })
    }

    /// A key from its 32-byte seed (a 64-byte NaCl secret key is refused, saying so).
    #[staticmethod]
    fn from_seed(seed: &[u8]) -> PyResult<SigningKey> {
        Ok(SigningKey {
            inner: issue::SigningKey::from_seed(seed).py()?,
        })
    }

    /// The public key, base64 of its 32 bytes.
    #[getter]
    fn public_key(&self) -> String {
        self.inner.public_key().to_base64()
    }

    /// The public key as an OKP JWK with this `kid`.
    fn public_jwk<'py>(&self, py: Python<'py>, kid: &str) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.public_key().to_jwk(kid))
    }

    /// A keyring holding only this key's public half, under `kid`.
    fn keyring(&self, kid: &str) -> Keyring {
        let mut inner = core::Keyring::new();
        inner.add(kid, self.inner.public_key());
        Keyring { inner }
    }

    /// Signs a v2 license (EdDSA JWT) from its claims (`dict`, checked like a verified token's).
    fn sign_license(&self, claims: &Bound<'_, PyAny>, kid: &str) -> PyResult<String> {
        let claims =
            core::LicenseClaims::from_json(claims_map(claims)?, core::TokenFormat::V2).py()?;
        issue::sign_v2(&claims, &self.inner, kid).py()
    }

    /// Signs a v1 legacy license the dev-health-ops way. `license_id` may be absent or `None`
    /// (written as `null`); a `features` dict is written in its own order, as dev-health-ops
    /// writes it.
    fn sign_license_v1(&self, claims: &Bound<'_, PyAny>) -> PyResult<String> {
        let features = crate::compat::ordered_features(claims)?;
        let claims =
            core::LicenseClaims::from_json(claims_map(claims)?, core::TokenFormat::V1).py()?;
        match features {
            Some(features) => issue::sign_v1_with_features(&claims, &features, &self.inner).py(),
            None => issue::sign_v1(&claims, &self.inner).py(),
        }
    }

    /// The 32-byte seed (dev-health-ops' `LICENSE_PRIVATE_KEY` is its base64).
    fn seed<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        pyo3::types::PyBytes::new(py, self.inner.seed().as_ref())
    }

    /// Base64 of the 32-byte seed.
    fn seed_base64(&self) -> String {
        self.inner.seed_base64().to_string()
    }

    /// Signs any claims as an EdDSA JWT (no checks; for session tokens and tests).
    fn sign_jwt(&self, claims: &Bound<'_, PyAny>, kid: &str) -> PyResult<String> {
        issue::sign_raw_jwt(claims_map(claims)?, &self.inner, kid).py()
    }

    /// Signs a revocation list of license ids.
    #[pyo3(signature = (revoked, *, issued_at, expires_at, kid, issuer = core::DEFAULT_ISSUER))]
    fn sign_revocation_list(
        &self,
        revoked: Vec<String>,
        issued_at: i64,
        expires_at: i64,
        kid: &str,
        issuer: &str,
    ) -> PyResult<String> {
        issue::sign_revocation_list(&revoked, issuer, issued_at, expires_at, &self.inner, kid).py()
    }

    fn __repr__(&self) -> String {
        format!("SigningKey(public_key={:?})", self.public_key())
    }
}

/// A random license id: `lic_` and 24 hex digits.
#[pyfunction]
pub fn new_license_id() -> String {
    issue::new_license_id()
}
