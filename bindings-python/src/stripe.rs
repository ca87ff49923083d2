//! Stripe webhooks: signature verification and the event engine, over JSON-shaped dicts.

use dev_health_entitlements::stripe as core;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::convert::{bytes_of, from_py, now_or_clock, to_py};
use crate::errors::{to_py_err, IntoPyResult};
use dev_health_entitlements::Error;

/// Reads an engine type from its JSON shape; a wrong shape is `LicenseError("invalid_input")`.
fn from_dict<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    serde_json::from_value(from_py(obj)?)
        .map_err(|e| to_py_err(Error::input(format!("{what} is not valid: {e}"))))
}

fn to_dict<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| PyValueError::new_err(format!("cannot convert to JSON: {e}")))?;
    to_py(py, &json)
}

fn config_of(config: Option<&Bound<'_, PyAny>>) -> PyResult<core::BillingConfig> {
    match config {
        None => Ok(core::BillingConfig::default()),
        Some(c) if c.is_none() => Ok(core::BillingConfig::default()),
        Some(c) => from_dict(c, "the billing config"),
    }
}

/// Verifies a `Stripe-Signature` header against the raw body and returns its timestamp.
/// `secrets` is one webhook secret or several (rotation); `now=None` reads `time.time()`.
#[pyfunction]
#[pyo3(signature = (payload, header, secrets, now = None, tolerance = core::DEFAULT_TOLERANCE_SECS))]
pub fn verify_stripe_signature(
    py: Python<'_>,
    payload: &Bound<'_, PyAny>,
    header: &str,
    secrets: &Bound<'_, PyAny>,
    now: Option<i64>,
    tolerance: i64,
) -> PyResult<i64> {
    let secrets: Vec<String> = if let Ok(one) = secrets.cast::<PyString>() {
        vec![one.to_cow()?.into_owned()]
    } else {
        secrets.extract()?
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let now = now_or_clock(py, now)?;
    core::verify_signature(&bytes_of(payload)?, header, &secrets, now, tolerance).py()
}

/// The `Stripe-Signature` header Stripe would send (for tests and tools).
#[pyfunction]
pub fn stripe_signature_header(
    payload: &Bound<'_, PyAny>,
    secret: &str,
    timestamp: i64,
) -> PyResult<String> {
    Ok(core::signature_header(
        &bytes_of(payload)?,
        secret,
        timestamp,
    ))
}

/// A parsed Stripe event.
#[pyclass(frozen, module = "dev_health_entitlements")]
pub struct StripeEvent {
    inner: core::StripeEvent,
}

#[pymethods]
impl StripeEvent {
    /// Parses a webhook body (`bytes` or `str`), after its signature was verified.
    #[staticmethod]
    fn parse(body: &Bound<'_, PyAny>) -> PyResult<StripeEvent> {
        Ok(StripeEvent {
            inner: core::StripeEvent::parse(&bytes_of(body)?).py()?,
        })
    }

    /// An event from its parsed JSON (`dict`).
    #[staticmethod]
    fn from_dict(event: &Bound<'_, PyAny>) -> PyResult<StripeEvent> {
        Ok(StripeEvent {
            inner: core::StripeEvent::from_value(from_py(event)?).py()?,
        })
    }

    /// The event id (`evt_...`).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// The event type, e.g. `customer.subscription.updated`.
    #[getter]
    fn r#type(&self) -> &str {
        &self.inner.event_type
    }

    /// When Stripe created the event.
    #[getter]
    fn created(&self) -> i64 {
        self.inner.created
    }

    /// The event's `data.object`.
    #[getter]
    fn object<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.object)
    }

    /// Who the event is about: `{org_id, customer_id, subscription_id}`.
    fn org_ref<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner.org_ref())
    }
}

/// Applies one event to the billing state of the org it concerns (`dict` or `None`) and returns
/// the outcome `{state, actions, ignored}`; the host stores the state and performs the actions.
#[pyfunction]
#[pyo3(signature = (event, org, config = None))]
pub fn apply_stripe_event<'py>(
    py: Python<'py>,
    event: &StripeEvent,
    org: Option<&Bound<'py, PyAny>>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let org: Option<core::BillingState> = match org {
        Some(o) if !o.is_none() => Some(from_dict(o, "the billing state")?),
        _ => None,
    };
    let outcome = core::apply_event(&event.inner, org.as_ref(), &config_of(config)?);
    to_dict(py, &outcome)
}

/// An in-memory host for the event engine: orgs, applied event ids, signed and revoked licenses.
#[pyclass(module = "dev_health_entitlements")]
pub struct BillingLedger {
    inner: core::BillingLedger,
}

#[pymethods]
impl BillingLedger {
    /// A ledger holding these orgs (billing-state dicts).
    #[new]
    #[pyo3(signature = (orgs = None))]
    fn new(orgs: Option<Vec<Bound<'_, PyAny>>>) -> PyResult<BillingLedger> {
        let mut inner = core::BillingLedger::new();
        for org in orgs.unwrap_or_default() {
            inner.add_org(from_dict(&org, "the billing state")?);
        }
        Ok(BillingLedger { inner })
    }

    /// Applies an event once (a repeated id is `duplicate`) and returns the outcome dict.
    #[pyo3(signature = (event, config = None))]
    fn apply<'py>(
        &mut self,
        py: Python<'py>,
        event: &StripeEvent,
        config: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let outcome = self.inner.apply(&event.inner, &config_of(config)?);
        to_dict(py, &outcome)
    }

    /// The org with this id, as a billing-state dict.
    fn org<'py>(&self, py: Python<'py>, org_id: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.org(org_id).map(|o| to_dict(py, o)).transpose()
    }

    /// Every org, by id.
    #[getter]
    fn orgs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.inner.orgs)
    }

    /// The ids of the licenses revoked so far, in order.
    #[getter]
    fn revoked_license_ids(&self) -> Vec<String> {
        self.inner.revoked_license_ids.clone()
    }
}
