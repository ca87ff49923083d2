//! User session tokens: `SessionVerifier`, `Session`.

use dev_health_entitlements as core;
use pyo3::prelude::*;

use crate::convert::{bytes_of, now_or_clock, to_py};
use crate::errors::IntoPyResult;
use crate::license::Keyring;

/// Verifies user session JWTs (EdDSA; HS256 only with a configured shared secret).
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct SessionVerifier {
    inner: core::SessionVerifier,
}

#[pymethods]
impl SessionVerifier {
    /// A verifier of sessions signed by `keyring`; `hs256_secret` (`str` or `bytes`, at least 32
    /// bytes) also accepts HS256 tokens made with it.
    #[new]
    #[pyo3(signature = (keyring, *, hs256_secret = None, leeway = None, issuer = None))]
    fn new(
        keyring: &Keyring,
        hs256_secret: Option<&Bound<'_, PyAny>>,
        leeway: Option<i64>,
        issuer: Option<String>,
    ) -> PyResult<SessionVerifier> {
        let secret = hs256_secret.map(bytes_of).transpose()?;
        let mut inner = core::SessionVerifier::new(keyring.inner.clone())
            .with_hs256_secret(secret.as_deref())
            .py()?
            .with_issuer(issuer);
        if let Some(leeway) = leeway {
            inner = inner.with_leeway(leeway);
        }
        Ok(SessionVerifier { inner })
    }

    /// Verifies a session token at `now` (`None` reads `time.time()`).
    #[pyo3(signature = (token, now = None))]
    fn verify(&self, py: Python<'_>, token: &str, now: Option<i64>) -> PyResult<Session> {
        let now = now_or_clock(py, now)?;
        Ok(Session {
            inner: self.inner.verify(token, now).py()?,
        })
    }
}

/// A verified user session.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct Session {
    inner: core::Session,
}

#[pymethods]
impl Session {
    /// The user id.
    #[getter]
    fn sub(&self) -> &str {
        &self.inner.sub
    }

    /// The user's email.
    #[getter]
    fn email(&self) -> &str {
        &self.inner.email
    }

    /// The org the session is for.
    #[getter]
    fn org_id(&self) -> &str {
        &self.inner.org_id
    }

    /// The user's role in that org.
    #[getter]
    fn role(&self) -> &str {
        &self.inner.role
    }

    /// Whether the user reaches every org.
    #[getter]
    fn is_superuser(&self) -> bool {
        self.inner.is_superuser
    }

    /// Expiry, Unix seconds.
    #[getter]
    fn exp(&self) -> i64 {
        self.inner.exp
    }

    /// `{sub, email, org_id, role, is_superuser, exp}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &serde_json::to_value(&self.inner).unwrap_or_default())
    }

    fn __repr__(&self) -> String {
        format!(
            "Session(sub={:?}, org_id={:?}, role={:?})",
            self.inner.sub, self.inner.org_id, self.inner.role
        )
    }
}
