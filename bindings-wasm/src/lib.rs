//! # dev-health-entitlements-wasm
//!
//! The Dev Health entitlements engine for browsers and Node through WebAssembly: the npm package
//! `@dev-health/entitlements-wasm`. It is verify-only (the core is built without its `issue`
//! feature, so the module holds no signing code) and converts types and errors only: every
//! decision is made by the core crate `dev-health-entitlements`.
//!
//! ## A thin module under a JS layer
//! The module is budgeted for size (the web build must stay under 80 KB gzipped), so it exports a
//! few coarse functions over numbers, strings and handles, and the JS layer in `js/api.js` builds
//! the public API of SPEC §4 on top: the classes `Keyring`, `Verifier`, `License`,
//! `RevocationList`, `Catalog`, `Entitlements` (and, in the `full` build, `SessionVerifier`), their
//! getters, the option bags and the `EntitlementsError` type.
//!
//! * Objects of the core live in a table on this side; JS holds their index (a *handle*) and frees
//!   it with [`free`] (by `free()`/`using`, or by a `FinalizationRegistry`).
//! * Data crosses as JSON text, which the core already reads and writes, so the module carries no
//!   second serialisation library and no per-field glue.
//! * A failed call returns its error as text, `"\u{1}code\u{1}message"` (see `table::fail`):
//!   the JS layer throws it as an `EntitlementsError` with that stable `code`.
//!
//! The core reads no clock: the JS layer passes `now` (its `Date.now()` when the caller gives
//! none).

mod entitlements;
#[cfg(feature = "full")]
mod full;
mod license;
mod table;

#[cfg(feature = "bench")]
mod bench;

pub use entitlements::{
    can, catalog, catalog_info, check_limit, contains, entitlements_from_json, gate, is_stale,
    permissions, query, resolve, tier_name,
};
#[cfg(feature = "full")]
pub use full::{session_verifier, session_verify, stripe_replay, stripe_signature};
pub use license::{
    inspect, keyring, keyring_add, keyring_jwks, license_at, license_json, revocation, verifier,
    verifier_set, verify,
};
pub use table::free;

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
