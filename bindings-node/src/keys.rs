//! `Keyring` and `RevocationList`.

use std::collections::HashMap;

use dev_health_entitlements as core;
use napi::bindgen_prelude::Object;
use napi::Env;
use napi_derive::napi;

use crate::errors::{json_text, strict_options, OrThrow};

/// The trusted public keys, by key id (`kid`).
#[napi]
pub struct Keyring {
    pub(crate) inner: core::Keyring,
}

#[napi]
impl Keyring {
    /// A keyring from `{kid: "<base64 of the 32-byte public key>"}` (empty without an argument).
    #[napi(constructor)]
    pub fn new(env: Env, keys: Option<HashMap<String, String>>) -> napi::Result<Self> {
        let mut inner = core::Keyring::new();
        let mut keys: Vec<(String, String)> = keys.unwrap_or_default().into_iter().collect();
        keys.sort();
        for (kid, key) in keys {
            inner.add(kid, core::PublicKey::from_base64(&key).or_throw(&env)?);
        }
        Ok(Keyring { inner })
    }

    /// A keyring from a JWKS document `{"keys":[{"kty":"OKP","crv":"Ed25519","x","kid"}]}`, given
    /// as JSON text or as an object. `not_before` / `not_after` set a key's validity window.
    #[napi(factory, ts_args_type = "jwks: string | { keys: object[] }")]
    pub fn from_jwks(env: Env, jwks: serde_json::Value) -> napi::Result<Self> {
        Ok(Keyring {
            inner: core::Keyring::from_jwks(&json_text(jwks)).or_throw(&env)?,
        })
    }

    /// A keyring from either a JWKS document or `kid=base64,kid=base64` (the forms of
    /// `DEV_HEALTH_LICENSE_PUBLIC_KEYS`).
    #[napi(factory)]
    pub fn parse(env: Env, text: String) -> napi::Result<Self> {
        Ok(Keyring {
            inner: core::Keyring::parse(&text).or_throw(&env)?,
        })
    }

    /// The keys compiled into the engine at build time (`DEV_HEALTH_EMBEDDED_JWKS`).
    #[napi(factory)]
    pub fn embedded(env: Env) -> napi::Result<Self> {
        Ok(Keyring {
            inner: core::Keyring::embedded().or_throw(&env)?,
        })
    }

    /// Number of keys.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// The key ids, in insertion order.
    #[napi]
    pub fn kids(&self) -> Vec<String> {
        self.inner.entries().iter().map(|e| e.kid.clone()).collect()
    }

    /// The keyring as a JWKS document.
    #[napi(ts_return_type = "{ keys: Array<Record<string, unknown>> }")]
    pub fn to_jwks(&self) -> serde_json::Value {
        self.inner.to_jwks()
    }
}

/// Options of [`RevocationList::verify`].
#[napi(object)]
pub struct RevocationListOptions {
    /// The expected issuer (default `fullchaos.studio`).
    pub issuer: Option<String>,
    /// The moment of verification, Unix seconds (default: now).
    pub now: Option<f64>,
}

/// A verified, signed list of revoked license ids (SPEC §1.5).
#[napi]
pub struct RevocationList {
    pub(crate) inner: core::RevocationList,
}

#[napi]
impl RevocationList {
    /// Verifies a signed revocation list `{"iss","iat","exp","revoked":[...]}` with these keys.
    #[napi(
        factory,
        ts_args_type = "token: string, keyring: Keyring, options?: RevocationListOptions | undefined | null"
    )]
    pub fn verify(
        env: Env,
        token: String,
        keyring: &Keyring,
        options: Option<Object<'_>>,
    ) -> napi::Result<Self> {
        let options: Option<RevocationListOptions> =
            strict_options(&env, options, "RevocationList options", &["issuer", "now"])?;
        let options = options.unwrap_or(RevocationListOptions {
            issuer: None,
            now: None,
        });
        let issuer = options
            .issuer
            .unwrap_or_else(|| core::DEFAULT_ISSUER.to_owned());
        let now = crate::now_or_clock(&env, options.now)?;
        Ok(RevocationList {
            inner: core::RevocationList::verify(&token, &keyring.inner, &issuer, now)
                .or_throw(&env)?,
        })
    }

    /// A list from ids the host keeps itself (no signature).
    #[napi(factory)]
    pub fn from_ids(ids: Vec<String>) -> Self {
        RevocationList {
            inner: core::RevocationList::from_ids(ids),
        }
    }

    /// Whether the license id is revoked.
    #[napi]
    pub fn contains(&self, license_id: String) -> bool {
        self.inner.contains(&license_id)
    }

    /// How many ids the list holds.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }

    /// When the list was signed (Unix seconds; 0 for a list built from ids).
    #[napi(getter)]
    pub fn issued_at(&self) -> i64 {
        self.inner.issued_at
    }

    /// When the issuer expects it to be replaced (Unix seconds; 0 for a list built from ids).
    #[napi(getter)]
    pub fn expires_at(&self) -> i64 {
        self.inner.expires_at
    }
}
