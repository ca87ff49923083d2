//! `Verifier` and `License` (SPEC §1).

use dev_health_entitlements as core;
use napi::bindgen_prelude::{ClassInstance, Either, Null, Object};
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::errors::{check_keys, nullable, OrThrow};
use crate::keys::{Keyring, RevocationList};

/// Options of a [`Verifier`].
#[napi(object, object_to_js = false)]
// Declares the argument's type for index.d.ts; the binding reads the JS object field by field.
#[allow(dead_code)]
pub struct VerifierOptions {
    /// The expected `iss` (default `fullchaos.studio`).
    pub issuer: Option<String>,
    /// Seconds of clock skew tolerated (default 60).
    pub leeway: Option<i64>,
    /// Whether v1 legacy tokens are accepted (default true).
    pub accept_v1: Option<bool>,
    /// When set, the license's `aud` must list it.
    #[napi(ts_type = "string | null")]
    pub deployment_id: Option<Either<String, Null>>,
    /// Where default grace days per tier come from: a `Catalog`, or the name of a shipped one
    /// (`default`, `dev-health-ops`). Default: the default catalog.
    #[napi(ts_type = "Catalog | 'default' | 'dev-health-ops'")]
    pub catalog: Option<Either<String, &'static Catalog>>,
    /// Licenses on this list are rejected with `revoked`.
    #[napi(ts_type = "RevocationList | null")]
    pub revocation_list: Option<Either<&'static RevocationList, Null>>,
    /// The latest `now` the host has seen (it persists it): an earlier clock by more than the
    /// leeway is `clock_rollback`.
    #[napi(ts_type = "number | null")]
    pub high_water_mark: Option<Either<f64, Null>>,
}

/// The keys of [`VerifierOptions`].
const VERIFIER_OPTIONS: &[&str] = &[
    "issuer",
    "leeway",
    "acceptV1",
    "deploymentId",
    "catalog",
    "revocationList",
    "highWaterMark",
];

/// Verifies license tokens against a keyring.
#[napi]
pub struct Verifier {
    inner: core::Verifier,
}

/// Builds a verifier from [`VerifierOptions`], read strictly (see `errors::check_keys`). The
/// fields are read one by one: napi-rs converts class references (`catalog`,
/// `revocationList`) only while it converts a callback's own arguments.
fn build(env: &Env, keyring: core::Keyring, options: Option<Object<'_>>) -> napi::Result<Verifier> {
    let mut verifier = core::Verifier::new(keyring);
    if let Some(o) = options {
        check_keys(env, &o, "Verifier options", VERIFIER_OPTIONS)?;
        if let Some(issuer) = o.get::<String>("issuer")? {
            verifier = verifier.with_issuer(issuer);
        }
        if let Some(leeway) = o.get::<i64>("leeway")? {
            verifier = verifier.with_leeway(leeway);
        }
        if let Some(accept) = o.get::<bool>("acceptV1")? {
            verifier = verifier.with_accept_v1(accept);
        }
        verifier =
            verifier.with_deployment_id(nullable(o.get::<Either<String, Null>>("deploymentId")?));
        match o.get::<Either<String, ClassInstance<'_, Catalog>>>("catalog")? {
            Some(Either::A(name)) => {
                let catalog = core::Catalog::builtin(&name).or_throw(env)?;
                verifier = verifier.with_catalog(&catalog);
            }
            Some(Either::B(catalog)) => verifier = verifier.with_catalog(&catalog.inner),
            None => {}
        }
        let revocations =
            nullable(o.get::<Either<ClassInstance<'_, RevocationList>, Null>>("revocationList")?);
        verifier = verifier
            .with_revocations(revocations.map(|l| l.inner.clone()))
            .with_high_water_mark(
                nullable(o.get::<Either<f64, Null>>("highWaterMark")?)
                    .map(|at| crate::seconds(env, at, "highWaterMark"))
                    .transpose()?,
            );
    }
    Ok(Verifier { inner: verifier })
}

#[napi]
impl Verifier {
    /// A verifier trusting `keyring`, with options.
    #[napi(
        constructor,
        ts_args_type = "keyring: Keyring, options?: VerifierOptions | undefined | null"
    )]
    pub fn new(env: Env, keyring: &Keyring, options: Option<Object<'_>>) -> napi::Result<Self> {
        build(&env, keyring.inner.clone(), options)
    }

    /// A verifier from the environment (SPEC §1.3): the embedded keys plus
    /// `DEV_HEALTH_LICENSE_PUBLIC_KEYS` (JWKS or `kid=base64,...`), else `LICENSE_PUBLIC_KEY`.
    #[napi(factory, ts_args_type = "options?: VerifierOptions | undefined | null")]
    pub fn from_env(env: Env, options: Option<Object<'_>>) -> napi::Result<Self> {
        let keyring = core::Verifier::from_env().or_throw(&env)?.keyring().clone();
        build(&env, keyring, options)
    }

    /// Verifies `token` at `now` (Unix seconds; default `Math.floor(Date.now() / 1000)`).
    /// Throws `LicenseError` with a §1.4 code, or returns the license with its status.
    #[napi]
    pub fn verify(&self, env: Env, token: String, now: Option<f64>) -> napi::Result<License> {
        let now = crate::now_or_clock(&env, now)?;
        Ok(License {
            inner: self.inner.verify(&token, now).or_throw(&env)?,
        })
    }

    /// The expected issuer.
    #[napi(getter)]
    pub fn issuer(&self) -> String {
        self.inner.issuer().to_owned()
    }

    /// The leeway in seconds.
    #[napi(getter)]
    pub fn leeway(&self) -> i64 {
        self.inner.leeway()
    }

    /// The trusted key ids.
    #[napi]
    pub fn kids(&self) -> Vec<String> {
        self.inner
            .keyring()
            .entries()
            .iter()
            .map(|e| e.kid.clone())
            .collect()
    }
}

/// The license token from the environment (SPEC §1.3): `DEV_HEALTH_LICENSE`, then `LICENSE_KEY`,
/// then the file named by `DEV_HEALTH_LICENSE_FILE`; `null` when none is set.
#[napi]
pub fn license_token_from_env(env: Env) -> napi::Result<Option<String>> {
    core::license_token_from_env().or_throw(&env)
}

/// A license whose signature and claims verified, with its status at the time of verification.
#[napi]
pub struct License {
    pub(crate) inner: core::License,
}

#[napi]
impl License {
    /// `active`, `grace` or `expired` at the moment of verification.
    #[napi(getter, ts_return_type = "LicenseStatus")]
    pub fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }

    /// The licensed tier.
    #[napi(getter, ts_return_type = "Tier")]
    pub fn tier(&self) -> &'static str {
        self.inner.tier().as_str()
    }

    /// The org id the license is for (`sub`).
    #[napi(getter)]
    pub fn sub(&self) -> String {
        self.inner.sub().to_owned()
    }

    /// The license id (`jti`, or v1 `license_id`).
    #[napi(getter)]
    pub fn license_id(&self) -> String {
        self.inner.license_id().to_owned()
    }

    /// The id of the key that verified it.
    #[napi(getter)]
    pub fn kid(&self) -> String {
        self.inner.kid.clone()
    }

    /// `v1` (legacy) or `v2` (EdDSA JWT).
    #[napi(getter, ts_return_type = "'v1' | 'v2'")]
    pub fn format(&self) -> &'static str {
        self.inner.format.as_str()
    }

    /// `saas`, `self_hosted`, `trial` or `evaluation`.
    #[napi(getter, ts_return_type = "LicenseType")]
    pub fn license_type(&self) -> &'static str {
        self.inner.claims.license_type.as_str()
    }

    /// `exp`, Unix seconds.
    #[napi(getter)]
    pub fn expires_at(&self) -> i64 {
        self.inner.expires_at()
    }

    /// The last second of the grace period: `exp + graceDays·86400`.
    #[napi(getter)]
    pub fn grace_ends_at(&self) -> i64 {
        self.inner.grace_ends_at()
    }

    /// Grace days in force (the claim, or the catalog's default for the tier).
    #[napi(getter)]
    pub fn grace_days(&self) -> u32 {
        self.inner.grace_days
    }

    /// Whole days of grace left at the moment of verification, or `null` when not in grace.
    #[napi(getter)]
    pub fn grace_days_left(&self) -> Option<u32> {
        self.inner.grace_days_left(self.inner.verified_at)
    }

    /// The `now` the license was verified at.
    #[napi(getter)]
    pub fn verified_at(&self) -> i64 {
        self.inner.verified_at
    }

    /// Whether the license grants its tier (`active` or `grace`).
    #[napi(getter)]
    pub fn is_valid(&self) -> bool {
        self.inner.status.is_valid()
    }

    /// The verified claims as the token carries them (unknown claims included).
    #[napi(getter, ts_return_type = "Record<string, unknown>")]
    pub fn claims(&self) -> Value {
        self.inner.claims.to_json()
    }

    /// The status at another moment (default: now).
    #[napi(ts_return_type = "LicenseStatus")]
    pub fn status_at(&self, env: Env, now: Option<f64>) -> napi::Result<&'static str> {
        Ok(self
            .inner
            .status_at(crate::now_or_clock(&env, now)?)
            .as_str())
    }

    /// `{valid, status, format, kid, license_id, tier, sub, claims, expires_at, grace_ends_at,
    /// grace_days_left}`, the shape of `dev-health-license verify --json`.
    #[napi(js_name = "toJSON", ts_return_type = "LicenseJSON")]
    pub fn to_json(&self) -> Value {
        self.inner.to_json()
    }
}
