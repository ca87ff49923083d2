//! Strict Ed25519: the one signature primitive of every token the engine verifies.
//!
//! jwt-compact 0.8's own `Ed25519` calls dalek's permissive `verify`; this algorithm calls
//! `verify_strict`, which rejects non-canonical `S`, small-order keys and malleable encodings
//! (the Wycheproof suite in `tests/` runs through [`verify_strict`]).

use std::borrow::Cow;

use ed25519_dalek::{Signature, VerifyingKey};
use jwt_compact::Algorithm;

/// The `EdDSA` JWS algorithm (RFC 8037) with strict verification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdDSA;

impl Algorithm for EdDSA {
    type SigningKey = ed25519_dalek::SigningKey;
    type VerifyingKey = VerifyingKey;
    type Signature = Signature;

    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("EdDSA")
    }

    fn sign(&self, signing_key: &Self::SigningKey, message: &[u8]) -> Signature {
        use ed25519_dalek::Signer;
        signing_key.sign(message)
    }

    fn verify_signature(&self, signature: &Signature, key: &VerifyingKey, message: &[u8]) -> bool {
        key.verify_strict(message, signature).is_ok()
    }
}

/// Verifies `signature` over `message` under the raw 32-byte `public_key`, strictly.
/// Any malformed input is simply "does not verify".
pub fn verify_strict(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(key_bytes) = <&[u8; 32]>::try_from(public_key) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(key_bytes) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(signature) else {
        return false;
    };
    EdDSA.verify_signature(&signature, &key, message)
}
