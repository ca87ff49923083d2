//! `@dev-health/entitlements`: the Dev Health entitlements engine for Node.js (napi-rs).
//!
//! This crate only converts: JS values in, core calls, JS values out. Every decision (verification,
//! resolution, the UpgradeGate state, Stripe signatures and events) is made by the core crate
//! `dev-health-entitlements`. Errors become instances of the JS class `LicenseError` (a subclass of
//! `Error`) whose `code` is core's stable snake_case code.

// napi-derive registers exports only outside `cfg(test)`, so test builds see them as unused.
#![cfg_attr(test, allow(dead_code))]

mod catalog;
mod entitlements;
mod errors;
mod fast;
mod keys;
mod openfeature;
mod session;
mod stripe;
#[cfg(feature = "issue")]
mod testing;
mod verify;

use std::time::{SystemTime, UNIX_EPOCH};

use napi::Env;

/// `now` in Unix seconds: the caller's (see [`seconds`]), or `Math.floor(Date.now() / 1000)`
/// when the caller gave none.
pub(crate) fn now_or_clock(env: &Env, now: Option<f64>) -> napi::Result<i64> {
    match now {
        Some(now) => seconds(env, now, "now"),
        None => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)),
    }
}

/// A whole number of Unix seconds from a JS number, as the wasm binding reads it: `NaN`,
/// `±Infinity` and values beyond 2^53 are `invalid_input`. (Read as `i64`, Node-API turns a
/// non-finite number into 0, the epoch: an expired license or session read as current.)
pub(crate) fn seconds(env: &Env, seconds: f64, what: &str) -> napi::Result<i64> {
    // 2^53: every integer below is exact in a JS number.
    const LIMIT: f64 = 9_007_199_254_740_992.0;
    if !seconds.is_finite() || seconds.abs() > LIMIT {
        return Err(errors::invalid_input(
            env,
            format!("{what} must be a finite number of Unix seconds"),
        ));
    }
    // Finite and within 2^53, so the floored value converts exactly.
    Ok(seconds.floor() as i64)
}

/// A value of the core's interface layer as the JS object its generated declaration
/// (`interface.d.ts`) describes.
pub(crate) fn view<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
