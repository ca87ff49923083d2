//! Core errors as `dev_health_entitlements.LicenseError(code, message)`.

use dev_health_entitlements::Error;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

static LICENSE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The Python exception for a core error: `LicenseError(code, message, reason)`, the class being
/// defined in pure Python (`dev_health_entitlements._errors`) so that it carries `.code`,
/// `.message` and `.reason` (the core's `ErrorDetail`, a machine-readable refinement, or `None`).
pub fn to_py_err(error: Error) -> PyErr {
    Python::attach(|py| {
        let class = LICENSE_ERROR.import(py, "dev_health_entitlements._errors", "LicenseError");
        match class {
            Ok(class) => PyErr::from_type(
                class.clone(),
                (
                    error.code().as_str(),
                    error.message().to_owned(),
                    error.detail().map(|d| d.as_str()),
                ),
            ),
            Err(import_error) => import_error,
        }
    })
}

/// Maps a core result into a Python one.
pub trait IntoPyResult<T> {
    /// `Err(core error)` becomes `LicenseError`.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}
