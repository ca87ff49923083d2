//! The private native module `dev_health_entitlements._native`: the core engine's types for Python.
//!
//! Every function converts Python values into core types, calls core, and converts the answer
//! back; no decision is taken here. Errors become `dev_health_entitlements.LicenseError` with the
//! core's stable code. The GIL is kept during every call: the calls take nanoseconds (lookups) to
//! tens of microseconds (a signature verification), less than what releasing and re-taking the GIL
//! costs under contention (see the README's "Why the GIL is kept").

mod compat;
mod convert;
mod entitlements;
mod errors;
mod issue;
mod license;
mod openfeature;
mod session;
mod stripe;

use pyo3::prelude::*;

/// The native half of `dev_health_entitlements`; import the package, not this module.
#[pymodule]
mod _native {
    #[pymodule_export]
    use crate::compat::{license_status, v1_payload_fields};
    #[pymodule_export]
    use crate::entitlements::{
        permission_denial, Catalog, Decision, Entitlements, LimitDecision, UpgradeGate,
    };
    #[pymodule_export]
    use crate::issue::{new_license_id, SigningKey};
    #[pymodule_export]
    use crate::license::{license_token_from_env, Keyring, License, RevocationList, Verifier};
    #[pymodule_export]
    use crate::openfeature::FlagEvaluator;
    #[pymodule_export]
    use crate::session::{Session, SessionVerifier};
    #[pymodule_export]
    use crate::stripe::{
        apply_stripe_event, stripe_signature_header, verify_stripe_signature, BillingLedger,
        StripeEvent,
    };

    #[pymodule_export]
    const DEFAULT_ISSUER: &str = dev_health_entitlements::DEFAULT_ISSUER;
    #[pymodule_export]
    const DEFAULT_LEEWAY: i64 = dev_health_entitlements::DEFAULT_LEEWAY_SECS;
    #[pymodule_export]
    const UNLIMITED: i64 = dev_health_entitlements::claims::UNLIMITED_MARKER;
}
