//! Conversions between JS values and the core's types: plain objects go through JSON, which the
//! core already speaks, so the module needs no second serialisation library.

use dev_health_entitlements as core;
use js_sys::JSON;
use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use crate::error::{invalid_input, JsResult};

/// A JSON value as a plain JS value.
pub(crate) fn to_js(value: &Value) -> JsResult<JsValue> {
    match value {
        Value::Null => Ok(JsValue::NULL),
        Value::Bool(b) => Ok(JsValue::from_bool(*b)),
        Value::String(s) => Ok(JsValue::from_str(s)),
        Value::Number(n) => Ok(JsValue::from_f64(n.as_f64().unwrap_or(f64::NAN))),
        // `serde_json::to_string`, not `Display`: Display also links the pretty printer.
        Value::Array(_) | Value::Object(_) => match serde_json::to_string(value) {
            Ok(text) => JSON::parse(&text),
            Err(e) => Err(invalid_input(format!("cannot write JSON: {e}"))),
        },
    }
}

/// A JS value (plain object, array, string, number, boolean; `undefined` is `null`) as JSON.
pub(crate) fn from_js(value: &JsValue, what: &str) -> JsResult<Value> {
    if value.is_undefined() || value.is_null() {
        return Ok(Value::Null);
    }
    let text = JSON::stringify(value)
        .map_err(|_| invalid_input(format!("{what} cannot be read as JSON")))?;
    let text = text
        .as_string()
        .ok_or_else(|| invalid_input(format!("{what} cannot be read as JSON")))?;
    // The core's reader: one JSON reader in the module.
    core::json::parse(text.as_bytes()).map_err(|e| invalid_input(format!("{what}: {e}")))
}

/// A document given either as JSON text or as a plain object: returns the JSON text.
pub(crate) fn json_text(value: &JsValue, what: &str) -> JsResult<String> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if value.is_undefined() || value.is_null() {
        return Err(invalid_input(format!(
            "{what} is missing: pass JSON text or an object"
        )));
    }
    JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| invalid_input(format!("{what} cannot be read as JSON")))
}

/// The moment to use: `now` (Unix seconds) when given, else the JS clock (`Date.now() / 1000`).
pub(crate) fn now_or_clock(now: Option<f64>) -> JsResult<i64> {
    let seconds = match now {
        Some(n) => n,
        None => (js_sys::Date::now() / 1000.0).floor(),
    };
    seconds_to_i64(seconds, "now")
}

/// A whole number of seconds from a JS number.
pub(crate) fn seconds_to_i64(seconds: f64, what: &str) -> JsResult<i64> {
    // 2^53: every integer below is exact in a JS number.
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    if !seconds.is_finite() || seconds.abs() > LIMIT {
        return Err(invalid_input(format!(
            "{what} must be a finite number of Unix seconds"
        )));
    }
    // In range and finite, so the conversion is exact after flooring.
    Ok(seconds.floor() as i64)
}

/// A plain-object options bag read strictly: wrong types and unknown keys are `invalid_input`,
/// so that a misspelt option (`accept_v1` for `acceptV1`) is not silently ignored.
pub(crate) struct Options {
    what: &'static str,
    map: Map<String, Value>,
}

impl Options {
    /// Reads `value` (undefined or null is an empty bag) and checks its keys against `known`.
    pub(crate) fn read(value: &JsValue, what: &'static str, known: &[&str]) -> JsResult<Options> {
        // JSON text has no NaN or Infinity: `JSON.stringify` would turn them into null, read as
        // "not given" (a `highWaterMark: NaN` would switch the rollback guard off). Refuse them.
        if value.is_object() {
            for key in known {
                let given = js_sys::Reflect::get(value, &JsValue::from_str(key));
                if let Some(n) = given.ok().and_then(|v| v.as_f64()) {
                    if !n.is_finite() {
                        return Err(invalid_input(format!(
                            "{what}: `{key}` must be a finite number"
                        )));
                    }
                }
            }
        }
        let map = match from_js(value, what)? {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            _ => return Err(invalid_input(format!("{what} must be an object"))),
        };
        if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(invalid_input(format!(
                "{what}: unknown option `{unknown}` (known: {})",
                known.join(", ")
            )));
        }
        Ok(Options { what, map })
    }

    fn present(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &str) -> JsValue {
        invalid_input(format!("{}: `{key}` must be {expected}", self.what))
    }

    /// An optional string.
    pub(crate) fn string(&self, key: &str) -> JsResult<Option<String>> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    /// An optional boolean.
    pub(crate) fn bool(&self, key: &str) -> JsResult<Option<bool>> {
        match self.present(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(key, "a boolean")),
        }
    }

    /// An optional whole number.
    pub(crate) fn int(&self, key: &str) -> JsResult<Option<i64>> {
        match self.present(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| self.wrong(key, "a whole number")),
        }
    }

    /// An optional JSON value, as given.
    pub(crate) fn value(&self, key: &str) -> Option<&Value> {
        self.present(key)
    }
}
