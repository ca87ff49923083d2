//! `SessionVerifier`: user session tokens `{sub, email, org_id, role, is_superuser?}`.

use dev_health_entitlements as core;
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::convert::{now_or_clock, to_js, Options};
use crate::error::{IntoJs, JsResult};
use crate::keys::Keyring;

/// Verifies user session tokens (EdDSA; HS256 only with a configured shared secret).
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct SessionVerifier {
    inner: core::SessionVerifier,
}

const SESSION_OPTIONS: &[&str] = &["hs256Secret", "leeway", "issuer"];

#[wasm_bindgen]
impl SessionVerifier {
    /// A verifier of session tokens signed by `keyring`, with options
    /// `{hs256Secret?: string (UTF-8, at least 32 bytes), leeway = 60, issuer?}`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        keyring: &Keyring,
        #[wasm_bindgen(unchecked_optional_param_type = "SessionVerifierOptions | null")]
        options: JsValue,
    ) -> JsResult<SessionVerifier> {
        let options = Options::read(&options, "SessionVerifier options", SESSION_OPTIONS)?;
        let mut inner = core::SessionVerifier::new(keyring.inner.clone())
            .with_issuer(options.string("issuer")?);
        if let Some(leeway) = options.int("leeway")? {
            inner = inner.with_leeway(leeway);
        }
        let secret = options.string("hs256Secret")?;
        inner = inner
            .with_hs256_secret(secret.as_deref().map(str::as_bytes))
            .js()?;
        Ok(SessionVerifier { inner })
    }

    /// Verifies a session token at `now` (the JS clock when left out):
    /// `{sub, email, orgId, role, isSuperuser, expiresAt}`.
    #[wasm_bindgen(unchecked_return_type = "Session")]
    pub fn verify(&self, token: &str, now: Option<f64>) -> JsResult<JsValue> {
        let s = self.inner.verify(token, now_or_clock(now)?).js()?;
        to_js(&json!({
            "sub": s.sub,
            "email": s.email,
            "orgId": s.org_id,
            "role": s.role,
            "isSuperuser": s.is_superuser,
            "expiresAt": s.exp,
        }))
    }
}
