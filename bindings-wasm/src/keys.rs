//! `Keyring`: the trusted public keys, by `kid` (SPEC §1.3).

use dev_health_entitlements as core;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, json_text, to_js};
use crate::error::{invalid_input, IntoJs, JsResult};

/// The trusted public keys, by `kid`, with optional validity windows.
#[wasm_bindgen]
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    pub(crate) inner: core::Keyring,
}

#[wasm_bindgen]
impl Keyring {
    /// A keyring from `{kid: "<base64 of the 32-byte public key>"}` (empty when left out).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "Record<string, string> | null")]
        keys: JsValue,
    ) -> JsResult<Keyring> {
        let mut inner = core::Keyring::new();
        match from_js(&keys, "keys")? {
            Value::Null => {}
            Value::Object(map) => {
                for (kid, key) in map {
                    let Value::String(key) = key else {
                        return Err(invalid_input(format!(
                            "key {kid:?} must be a base64 string"
                        )));
                    };
                    let key = core::PublicKey::from_base64(&key)
                        .map_err(|e| {
                            core::Error::new(e.code(), format!("key {kid:?}: {}", e.message()))
                        })
                        .js()?;
                    inner.add(kid, key);
                }
            }
            _ => return Err(invalid_input("keys must be an object {kid: base64}")),
        }
        Ok(Keyring { inner })
    }

    /// Reads a JWKS document (`{"keys":[{"kty":"OKP","crv":"Ed25519","x":..,"kid":..}]}`), as
    /// JSON text or as an object. Keys may carry `not_before` / `not_after` (Unix seconds).
    #[wasm_bindgen(js_name = fromJwks)]
    pub fn from_jwks(
        #[wasm_bindgen(unchecked_param_type = "string | Jwks")] jwks: JsValue,
    ) -> JsResult<Keyring> {
        let text = json_text(&jwks, "the JWKS document")?;
        Ok(Keyring {
            inner: core::Keyring::from_jwks(&text).js()?,
        })
    }

    /// Reads a JWKS document or a `kid=base64,kid=base64` list (a bare base64 key gets the kid
    /// `default`), the forms of `DEV_HEALTH_LICENSE_PUBLIC_KEYS`.
    pub fn parse(text: &str) -> JsResult<Keyring> {
        Ok(Keyring {
            inner: core::Keyring::parse(text).js()?,
        })
    }

    /// Adds a key (base64 of its 32 raw bytes), replacing any key with the same `kid`.
    pub fn add(
        &mut self,
        kid: &str,
        #[wasm_bindgen(js_name = publicKey)] public_key: &str,
    ) -> JsResult<()> {
        let key = core::PublicKey::from_base64(public_key).js()?;
        self.inner.add(kid, key);
        Ok(())
    }

    /// The key ids, in insertion order.
    #[wasm_bindgen(getter)]
    pub fn kids(&self) -> Vec<String> {
        self.inner.entries().iter().map(|e| e.kid.clone()).collect()
    }

    /// The number of keys.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// The keyring as a JWKS document.
    #[wasm_bindgen(js_name = toJwks, unchecked_return_type = "Jwks")]
    pub fn to_jwks(&self) -> JsResult<JsValue> {
        to_js(&self.inner.to_jwks())
    }
}
