//! Core errors as JS `LicenseError` instances (`class LicenseError extends Error`, with `code`).
//!
//! The class is defined once per JS environment when the module loads, exported as
//! `LicenseError`, and kept here so that native code throws instances of that very class
//! (`err instanceof LicenseError` holds in CommonJS and ESM alike).

use std::cell::RefCell;

use dev_health_entitlements::Error as CoreError;
use napi::bindgen_prelude::{FnArgs, Function, FunctionRef, JsObjectValue, Object};
use napi::{Env, Status};
use napi_derive::napi;

type ErrorArgs = FnArgs<(String, String)>;

thread_local! {
    /// One JS environment per thread (main thread or worker): its `LicenseError` class.
    static ERROR_CLASS: RefCell<Option<FunctionRef<ErrorArgs, ()>>> = const { RefCell::new(None) };
}

const ERROR_CLASS_SOURCE: &str = r#"(function () {
  class LicenseError extends Error {
    constructor(code, message) {
      super(message);
      Object.defineProperty(this, 'code', { value: code, enumerable: true });
    }
  }
  Object.defineProperty(LicenseError.prototype, 'name', {
    value: 'LicenseError', writable: true, configurable: true,
  });
  return LicenseError;
})()"#;

/// Defines `LicenseError` and exports it (also as the deprecated alias `EntitlementsError`).
#[napi(module_exports)]
pub fn init(mut exports: Object, env: Env) -> napi::Result<()> {
    let class: Function<ErrorArgs, ()> = env.run_script(ERROR_CLASS_SOURCE)?;
    let reference = class.create_ref()?;
    // The wasm package's earlier name for the same class (deprecated alias).
    exports.set_named_property("EntitlementsError", reference.borrow_back(&env)?)?;
    ERROR_CLASS.with(|slot| *slot.borrow_mut() = Some(reference));
    exports.set_named_property("LicenseError", class)?;
    Ok(())
}

/// Converts a core error into a thrown `LicenseError`.
pub(crate) fn js_error(env: &Env, error: &CoreError) -> napi::Error {
    let code = error.code().as_str();
    let made = ERROR_CLASS.with(|slot| -> napi::Result<napi::Error> {
        let slot = slot.borrow();
        let reference = slot
            .as_ref()
            .ok_or_else(|| napi::Error::from_reason("LicenseError is not initialised"))?;
        let class = reference.borrow_back(env)?;
        let instance = class.new_instance((code.to_owned(), error.message().to_owned()).into())?;
        Ok(napi::Error::from(instance))
    });
    made.unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, format!("{error}")))
}

/// Shorthand: a core result into a napi result, throwing `LicenseError`.
pub(crate) trait OrThrow<T> {
    /// Maps the core error to a `LicenseError`.
    fn or_throw(self, env: &Env) -> napi::Result<T>;
}

impl<T> OrThrow<T> for Result<T, CoreError> {
    fn or_throw(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| js_error(env, &e))
    }
}

/// A `LicenseError` with code `invalid_input`, for arguments the binding itself rejects.
pub(crate) fn invalid_input(env: &Env, message: impl Into<String>) -> napi::Error {
    js_error(env, &CoreError::input(message))
}

/// A JSON argument given either as JSON text or as a JS value: the text is parsed by the core's
/// reader (a member named twice is refused), as in the wasm binding.
pub(crate) fn json_arg(
    env: &Env,
    what: &str,
    value: serde_json::Value,
) -> napi::Result<serde_json::Value> {
    match value {
        serde_json::Value::String(text) => dev_health_entitlements::json::parse(text.as_bytes())
            .map_err(|e| invalid_input(env, format!("{what} is not valid JSON: {e}"))),
        other => Ok(other),
    }
}

/// JSON text from an argument given either as text or as a JS value.
pub(crate) fn json_text(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    }
}

/// A value that JS may give as `undefined` or `null` (napi object fields accept only `undefined`
/// for `Option`).
pub(crate) type Nullable<T> = Option<napi::Either<T, napi::bindgen_prelude::Null>>;

/// `undefined` and `null` both become `None`.
pub(crate) fn nullable<T>(value: Nullable<T>) -> Option<T> {
    match value {
        Some(napi::Either::A(v)) => Some(v),
        _ => None,
    }
}

/// Parses a tier name, throwing `invalid_input` for anything else.
pub(crate) fn parse_tier(env: &Env, name: &str) -> napi::Result<dev_health_entitlements::Tier> {
    name.parse().or_throw(env)
}

/// Reads an options object strictly, as the wasm binding does: a key that is not one of `known`
/// (the camelCase names; `accept_v1` for `acceptV1`, say) is `invalid_input` instead of being
/// ignored, then the object is converted as napi-rs converts `T`. `undefined` and `null` are no
/// options. A misspelt `acceptV1`, `deploymentId` or `killSwitches` was silently dropped: v1
/// tokens accepted, the audience not checked, a kill switch not applied.
pub(crate) fn strict_options<T: napi::bindgen_prelude::FromNapiValue>(
    env: &Env,
    value: Option<Object<'_>>,
    what: &str,
    known: &[&str],
) -> napi::Result<Option<T>> {
    let Some(object) = value else {
        return Ok(None);
    };
    check_keys(env, &object, what, known)?;
    T::from_unknown(napi::bindgen_prelude::JsValue::to_unknown(&object)).map(Some)
}

/// Throws `invalid_input` when `object` has a key that is not one of `known`.
pub(crate) fn check_keys(
    env: &Env,
    object: &Object<'_>,
    what: &str,
    known: &[&str],
) -> napi::Result<()> {
    if let Some(unknown) = Object::keys(object)?
        .into_iter()
        .find(|k| !known.contains(&k.as_str()))
    {
        return Err(invalid_input(
            env,
            format!(
                "{what}: unknown option `{unknown}` (known: {})",
                known.join(", ")
            ),
        ));
    }
    Ok(())
}
