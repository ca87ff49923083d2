//! `testing.*`: signing helpers (core feature `issue`) for tests, examples and tools: keys,
//! licenses, revocation lists. Production licenses come from the license server.

use dev_health_entitlements::issue;
use dev_health_entitlements::token::TokenFormat;
use dev_health_entitlements::LicenseClaims;
use napi::Env;
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::errors::{invalid_input, OrThrow};

/// A fresh Ed25519 key pair: the private key as base64 of its 32-byte seed, the public key as
/// base64 of its 32 raw bytes.
#[napi(object)]
pub struct GeneratedKey {
    /// Base64 of the 32-byte seed (secret).
    pub seed: String,
    /// Base64 of the 32-byte public key.
    pub public_key: String,
}

/// Generates a signing key.
#[napi(namespace = "testing")]
pub fn generate_key() -> GeneratedKey {
    let key = issue::SigningKey::generate();
    GeneratedKey {
        seed: key.seed_base64().to_string(),
        public_key: key.public_key().to_base64(),
    }
}

/// The public key (base64) of a private key (base64 seed or PKCS#8 PEM).
#[napi(namespace = "testing")]
pub fn public_key_of(env: Env, private_key: String) -> napi::Result<String> {
    Ok(issue::SigningKey::parse(&private_key)
        .or_throw(&env)?
        .public_key()
        .to_base64())
}

/// The public key of a private key as an OKP JWK with this `kid`.
#[napi(namespace = "testing", ts_return_type = "Record<string, string>")]
pub fn public_jwk_of(env: Env, private_key: String, kid: String) -> napi::Result<Value> {
    Ok(issue::SigningKey::parse(&private_key)
        .or_throw(&env)?
        .public_key()
        .to_jwk(&kid))
}

fn claims_map(env: &Env, claims: Value) -> napi::Result<Map<String, Value>> {
    match claims {
        Value::Object(map) => Ok(map),
        _ => Err(invalid_input(env, "claims must be an object")),
    }
}

/// Signs claims as an EdDSA JWT (a v2 license when the claims are a license's), as they are:
/// nothing is checked or added.
#[napi(
    namespace = "testing",
    ts_args_type = "claims: Record<string, unknown>, privateKey: string, kid: string"
)]
pub fn sign_jwt(env: Env, claims: Value, private_key: String, kid: String) -> napi::Result<String> {
    let key = issue::SigningKey::parse(&private_key).or_throw(&env)?;
    issue::sign_raw_jwt(claims_map(&env, claims)?, &key, &kid).or_throw(&env)
}

/// Signs a v1 legacy license the dev-health-ops way from v1 claims
/// (`iss, sub, iat, exp, tier, features?, limits?, grace_days?, org_name?, contact_email?,
/// license_id`).
#[napi(
    namespace = "testing",
    ts_args_type = "claims: Record<string, unknown>, privateKey: string"
)]
pub fn sign_v1(env: Env, claims: Value, private_key: String) -> napi::Result<String> {
    let key = issue::SigningKey::parse(&private_key).or_throw(&env)?;
    let claims =
        LicenseClaims::from_json(claims_map(&env, claims)?, TokenFormat::V1).or_throw(&env)?;
    issue::sign_v1(&claims, &key).or_throw(&env)
}

/// Signs a revocation list `{iss, iat, exp, revoked}`.
#[napi(namespace = "testing")]
pub fn sign_revocation_list(
    env: Env,
    revoked: Vec<String>,
    issuer: String,
    issued_at: i64,
    expires_at: i64,
    private_key: String,
    kid: String,
) -> napi::Result<String> {
    let key = issue::SigningKey::parse(&private_key).or_throw(&env)?;
    issue::sign_revocation_list(&revoked, &issuer, issued_at, expires_at, &key, &kid).or_throw(&env)
}

/// A random license id: `lic_` and 24 hex digits.
#[napi(namespace = "testing")]
pub fn new_license_id() -> String {
    issue::new_license_id()
}
