//! The one error type JavaScript sees: a JS `Error` named `EntitlementsError` whose `.code` is a
//! stable snake_case code of the core (SPEC §1.4 and the core's other codes).

use dev_health_entitlements::{Error, ErrorCode};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

/// The `name` of every error this package throws.
pub const ERROR_NAME: &str = "EntitlementsError";

/// Results of the JS-facing functions: the error is the thrown JS value.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// Builds the JS error for a code and message.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(ERROR_NAME);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

/// An `invalid_input` error: an argument of the JS API is out of its domain.
pub(crate) fn invalid_input(message: impl AsRef<str>) -> JsValue {
    js_error(ErrorCode::InvalidInput.as_str(), message.as_ref())
}

/// Turns core results into JS results.
pub(crate) trait IntoJs<T> {
    /// Maps the core error to the JS error.
    fn js(self) -> JsResult<T>;
}

impl<T> IntoJs<T> for Result<T, Error> {
    fn js(self) -> JsResult<T> {
        self.map_err(|e| js_error(e.code().as_str(), e.message()))
    }
}

/// Whether `value` is an error thrown by this package (an `Error` named `EntitlementsError` with
/// a string `code`).
#[wasm_bindgen(js_name = isEntitlementsError, unchecked_return_type = "value is EntitlementsError")]
pub fn is_entitlements_error(value: &JsValue) -> bool {
    let Some(error) = value.dyn_ref::<js_sys::Error>() else {
        return false;
    };
    let code = Reflect::get(error, &JsValue::from_str("code")).unwrap_or(JsValue::UNDEFINED);
    error.name() == ERROR_NAME && code.is_string()
}
