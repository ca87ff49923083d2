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
mod session;
mod stripe;
#[cfg(feature = "issue")]
mod testing;
mod verify;

use std::time::{SystemTime, UNIX_EPOCH};

/// `now` in Unix seconds when the caller gave none: `Math.floor(Date.now() / 1000)`.
pub(crate) fn now_or_clock(now: Option<i64>) -> i64 {
    now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    })
}
