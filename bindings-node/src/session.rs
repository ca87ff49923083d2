//! `SessionVerifier`: user session tokens (`{sub, email, org_id, role, is_superuser?}`).

use dev_health_entitlements as core;
use napi::bindgen_prelude::{Either, Null, Object};
use napi::Env;
use napi_derive::napi;

use crate::errors::{nullable, strict_options, OrThrow};
use crate::keys::Keyring;

/// Options of a [`SessionVerifier`].
#[napi(object, object_to_js = false)]
pub struct SessionVerifierOptions {
    /// Also accept HS256 tokens made with this shared secret (at least 32 bytes, UTF-8).
    #[napi(ts_type = "string | null")]
    pub hs256_secret: Option<Either<String, Null>>,
    /// Seconds of clock skew tolerated on `exp` and `nbf` (default 60).
    pub leeway: Option<i64>,
    /// Required `iss`, when set.
    #[napi(ts_type = "string | null")]
    pub issuer: Option<Either<String, Null>>,
}

/// A verified user session.
#[napi(object)]
pub struct Session {
    /// The user id.
    pub sub: String,
    /// The user's email.
    pub email: String,
    /// The org the session is for.
    pub org_id: String,
    /// The user's role in that org.
    pub role: String,
    /// Superusers reach every org.
    pub is_superuser: bool,
    /// Expiry (Unix seconds).
    pub exp: i64,
}

/// Verifies session tokens (EdDSA with these keys; HS256 only with a configured secret).
#[napi]
pub struct SessionVerifier {
    inner: core::SessionVerifier,
}

#[napi]
impl SessionVerifier {
    /// A verifier of session tokens signed by `keyring`'s keys.
    #[napi(
        constructor,
        ts_args_type = "keyring: Keyring, options?: SessionVerifierOptions | undefined | null"
    )]
    pub fn new(env: Env, keyring: &Keyring, options: Option<Object<'_>>) -> napi::Result<Self> {
        let options: Option<SessionVerifierOptions> = strict_options(
            &env,
            options,
            "SessionVerifier options",
            &["hs256Secret", "leeway", "issuer"],
        )?;
        let mut inner = core::SessionVerifier::new(keyring.inner.clone());
        if let Some(o) = options {
            inner = inner
                .with_hs256_secret(nullable(o.hs256_secret).as_deref().map(str::as_bytes))
                .or_throw(&env)?
                .with_issuer(nullable(o.issuer));
            if let Some(leeway) = o.leeway {
                inner = inner.with_leeway(leeway);
            }
        }
        Ok(SessionVerifier { inner })
    }

    /// Verifies a session token at `now` (default now); throws `LicenseError` on failure.
    #[napi]
    pub fn verify(&self, env: Env, token: String, now: Option<f64>) -> napi::Result<Session> {
        let s = self
            .inner
            .verify(&token, crate::now_or_clock(&env, now)?)
            .or_throw(&env)?;
        Ok(Session {
            sub: s.sub,
            email: s.email,
            org_id: s.org_id,
            role: s.role,
            is_superuser: s.is_superuser,
            exp: s.exp,
        })
    }
}
