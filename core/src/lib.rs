//! # dev-health-entitlements
//!
//! The licensing and entitlements engine of Dev Health: verifies Ed25519-signed licenses (EdDSA JWT
//! and the legacy dev-health-ops format), resolves an org's tier, features and limits, answers
//! feature, limit and permission checks, verifies Stripe webhook signatures and turns Stripe
//! subscription events into tier changes.
//!
//! The crate does no I/O and reads no clock: `now` (Unix seconds) and all data are passed in. The
//! only exceptions say so in their names (`Verifier::from_env`).

pub mod error;
pub mod stripe;
pub mod tier;

pub use error::{Error, ErrorCode, Result};
pub use tier::Tier;
