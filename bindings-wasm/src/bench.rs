//! Bench-only export (feature `bench`): bare ed25519-dalek `verify_strict`, the baseline that
//! `make bench-wasm` compares the full license verification against.

use ed25519_dalek::{Signature, VerifyingKey};
use wasm_bindgen::prelude::*;

/// A parsed Ed25519 public key that verifies raw signatures with `verify_strict` and nothing else.
#[wasm_bindgen]
#[derive(Debug)]
pub struct BenchStrictVerifier {
    key: VerifyingKey,
}

#[wasm_bindgen]
impl BenchStrictVerifier {
    /// Parses the 32 raw bytes of a public key.
    #[wasm_bindgen(constructor)]
    pub fn new(public_key: &[u8]) -> Result<BenchStrictVerifier, JsError> {
        let bytes: &[u8; 32] = public_key
            .try_into()
            .map_err(|_| JsError::new("a public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(bytes)
            .map_err(|_| JsError::new("not a valid Ed25519 public key"))?;
        Ok(BenchStrictVerifier { key })
    }

    /// `verify_strict(message, signature)`: whether the 64-byte signature verifies.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        Signature::from_slice(signature)
            .map(|sig| self.key.verify_strict(message, &sig).is_ok())
            .unwrap_or(false)
    }
}
