//! # dev-health-entitlements-wasm
//!
//! The Dev Health entitlements engine for browsers and Node through WebAssembly: the npm package
//! `@dev-health/entitlements-wasm`. It is verify-only (the core is built without its `issue`
//! feature, so the module holds no signing code) and converts types and errors only: every
//! decision is made by the core crate `dev-health-entitlements`.
//!
//! JavaScript sees the nouns of SPEC §4 in camelCase: `Keyring`, `Verifier`, `License`, `Catalog`,
//! `Entitlements`, plus `upgradeGate`, `SessionVerifier`, `RevocationList`, the Stripe helpers and
//! one error type (a JS `Error` named `EntitlementsError` with a stable `.code`). Inputs and
//! results that are data are plain JS objects. A `now` argument left out is read from the JS clock
//! (`Date.now() / 1000`); the core itself reads no clock.

mod catalog;
mod convert;
mod entitlements;
mod error;
mod keys;
mod license;
#[cfg(feature = "full")]
mod session;
#[cfg(feature = "full")]
mod stripe;
mod types;

#[cfg(feature = "bench")]
mod bench;

pub use catalog::Catalog;
pub use entitlements::{upgrade_gate, Entitlements};
pub use error::{is_entitlements_error, ERROR_NAME};
pub use keys::Keyring;
pub use license::{inspect_token, License, RevocationList, Verifier};
#[cfg(feature = "full")]
pub use session::SessionVerifier;
#[cfg(feature = "full")]
pub use stripe::{replay_stripe_events, verify_stripe_signature};

#[cfg(feature = "bench")]
pub use bench::BenchStrictVerifier;

use wasm_bindgen::prelude::wasm_bindgen;

/// The version of this package (the workspace version).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The allocator: talc instead of the standard library's dlmalloc (smaller, as fast here).
#[cfg(target_family = "wasm")]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
