//! Conversions between Python values and the core's JSON values, and the clock.

use dev_health_entitlements::claims::limit_to_json;
use dev_health_entitlements::{LimitValue, Tier};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Value};

use crate::errors::IntoPyResult;

/// A JSON value as the equivalent Python value (dict, list, str, int, float, bool, None).
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A value of the core's interface layer (`dev_health_entitlements::interface`) as Python data:
/// its JSON with every object key in snake_case. The interface spells field names once, in the
/// camelCase SPEC §4 gives JS; Python's spelling of the same names is snake_case.
pub fn view_to_py<'py, T: serde::Serialize>(
    py: Python<'py>,
    view: &T,
) -> PyResult<Bound<'py, PyAny>> {
    fn snake(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let mut key = String::with_capacity(k.len() + 4);
                        for c in k.chars() {
                            if c.is_ascii_uppercase() {
                                key.push('_');
                            }
                            key.push(c.to_ascii_lowercase());
                        }
                        (key, snake(v))
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(snake).collect()),
            other => other,
        }
    }
    to_py(
        py,
        &snake(serde_json::to_value(view).unwrap_or(Value::Null)),
    )
}

/// A Python value (dict with str keys, list, tuple, str, int, float, bool, None) as JSON.
pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return Ok(Value::from(obj.extract::<u64>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{v} is not a JSON number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("JSON object keys must be str"))?;
            map.insert(key.to_cow()?.into_owned(), from_py(&v)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .map(|v| from_py(&v))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .map(|v| from_py(&v))
            .collect::<PyResult<_>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "cannot convert {} to JSON",
        obj.get_type().name()?
    )))
}

/// Text given either as `str` or as JSON-able data (dict/list): the JSON text.
pub fn json_text(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    Ok(from_py(obj)?.to_string())
}

/// Bytes given as `bytes` or `str` (UTF-8).
pub fn bytes_of(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err("expected bytes or str"))
}

/// A limit value as Python: an int when integral, a float otherwise, None for unlimited.
pub fn limit_to_py<'py>(py: Python<'py>, value: LimitValue) -> PyResult<Bound<'py, PyAny>> {
    to_py(py, &limit_to_json(value))
}

/// A number as Python: an int when integral, a float otherwise.
pub fn number_to_py<'py>(py: Python<'py>, value: f64) -> PyResult<Bound<'py, PyAny>> {
    limit_to_py(py, Some(value))
}

/// Parses an optional tier name with the core's rules.
pub fn tier_of(name: Option<&str>) -> PyResult<Option<Tier>> {
    name.map(|n| n.parse::<Tier>()).transpose().py()
}

/// `now` as given, else the current time read in Python (`time.time()`, floored to seconds), so
/// that a test or a host can replace the clock the usual Python way.
pub fn now_or_clock(py: Python<'_>, now: Option<i64>) -> PyResult<i64> {
    match now {
        Some(now) => Ok(now),
        None => {
            let seconds: f64 = py.import("time")?.getattr("time")?.call0()?.extract()?;
            Ok(seconds.floor() as i64)
        }
    }
}
