//! # dev-health-entitlements
//!
//! The licensing and entitlements engine of Dev Health: verifies Ed25519-signed licenses (EdDSA JWT
//! and the legacy dev-health-ops format), resolves an org's tier, features and limits, answers
//! feature, limit and permission checks, verifies Stripe webhook signatures and turns Stripe
//! subscription events into tier changes.
//!
//! The crate does no I/O and reads no clock: `now` (Unix seconds) and all data are passed in. The
//! only exceptions say so in their names (`Verifier::from_env`, `license_token_from_env`).
//!
//! ```
//! use dev_health_entitlements::{Catalog, Entitlements, Keyring, ResolveInput, Verifier};
//!
//! let verifier = Verifier::new(Keyring::parse("k1=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=")?);
//! let err = verifier.verify("eyJhbGciOiJub25lIn0.e30.", 1_700_000_000).unwrap_err();
//! assert_eq!(err.code().as_str(), "unsupported_algorithm");
//!
//! // Without a license, an org gets its billing tier (or community).
//! let ent = Entitlements::resolve(Catalog::default_catalog()?, &ResolveInput {
//!     now: 1_700_000_000,
//!     ..Default::default()
//! });
//! assert_eq!(ent.tier().as_str(), "community");
//! assert!(ent.check_limit("max_users", 3.0).allowed);
//! assert!(!ent.check_limit("max_users", 4.0).allowed);
//! # Ok::<(), dev_health_entitlements::Error>(())
//! ```

mod bitset;
pub mod calendar;
pub mod catalog;
pub mod claims;
pub mod error;
mod index;
pub mod interface;
#[cfg(feature = "issue")]
pub mod issue;
pub mod json;
pub mod keys;
pub mod openfeature;
pub mod resolve;
pub mod session;
pub mod stripe;
pub mod tier;
pub mod token;
pub mod verify;
pub mod web;

pub use calendar::{parse_rfc3339, rfc3339};
pub use catalog::{Catalog, Feature, LicenseFeatures, LimitDef, LimitDirection, Role, TierInfo};
pub use claims::{LicenseClaims, LicenseType, LimitValue};
pub use error::{Error, ErrorCode, ErrorDetail, Result};
pub use keys::{KeyEntry, Keyring, PublicKey};
pub use resolve::{
    Decision, Denial, Entitlements, GateState, LicenseSummary, LimitDecision, LimitReason,
    OrgLicense, Override, Reason, ResolveInput, ResolveOptions, UpgradeGate,
};
pub use session::{Session, SessionVerifier};
pub use tier::Tier;
pub use token::unverified::UnverifiedToken;
pub use token::TokenFormat;
pub use verify::{
    license_token_from_env, License, LicenseStatus, RevocationList, Verifier, DEFAULT_ISSUER,
    DEFAULT_LEEWAY_SECS,
};

/// The `rust` blocks of the docs run as this crate's doctests (`make docs-test` checks that every
/// page with such a block is listed here).
#[cfg(doctest)]
#[doc = include_str!("../../docs/token-format.md")]
pub struct DocsTokenFormat;
