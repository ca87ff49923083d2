//! v1, the dev-health-ops legacy format: `base64(payload_json) + "." + base64(signature)`, standard
//! alphabet with `=` padding, the signature raw Ed25519 over the exact payload bytes. There is no
//! header and no `kid`: the token is tried against every trusted key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::Signature;
use jwt_compact::Algorithm;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{KeyEntry, Keyring};
use crate::token::eddsa::EdDSA;

/// The payload of a v1 token whose signature verified under `key`.
#[derive(Debug)]
pub struct VerifiedV1<'k> {
    /// The first keyring entry whose key verified the signature.
    pub key: &'k KeyEntry,
    /// The decoded payload object (not yet checked against any schema).
    pub claims: Map<String, Value>,
}

/// Decodes a v1 token and finds the trusted key that signed it.
pub fn verify_v1<'k>(token: &str, keyring: &'k Keyring) -> Result<VerifiedV1<'k>> {
    let (payload_b64, signature_b64) = token
        .split_once('.')
        .ok_or_else(|| Error::malformed("a v1 token is payload.signature"))?;
    let payload = STANDARD
        .decode(payload_b64)
        .map_err(|_| Error::malformed("the v1 payload is not padded standard base64"))?;
    let signature = STANDARD
        .decode(signature_b64)
        .map_err(|_| Error::malformed("the v1 signature is not padded standard base64"))?;
    // Key id before signature (the documented order, as for v2): a v1 token names no key, so
    // "no key to try" is the empty keyring, whatever the signature holds.
    if keyring.is_empty() {
        return Err(Error::new(
            ErrorCode::UnknownKeyId,
            "no trusted key is configured to verify a v1 token",
        ));
    }
    let signature = Signature::from_slice(&signature).map_err(|_| {
        Error::new(
            ErrorCode::InvalidSignature,
            format!(
                "the signature is {} bytes; an Ed25519 signature is 64",
                signature.len()
            ),
        )
    })?;
    let key = keyring
        .entries()
        .iter()
        .find(|entry| EdDSA.verify_signature(&signature, entry.key.verifying_key(), &payload))
        .ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidSignature,
                format!(
                    "the v1 signature does not verify under any of the {} trusted keys",
                    keyring.len()
                ),
            )
        })?;
    let claims = match crate::json::parse(&payload) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(Error::claims("the v1 payload is not a JSON object")),
        Err(e) => {
            return Err(Error::claims(format!(
                "the v1 payload is not valid JSON: {e}"
            )))
        }
    };
    Ok(VerifiedV1 { key, claims })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A v1 token whose signature decodes to `signature_len` bytes.
    fn token_with_signature_of(signature_len: usize) -> String {
        let payload = STANDARD.encode(br#"{"tier":"team"}"#);
        let signature = STANDARD.encode(vec![7u8; signature_len]);
        format!("{payload}.{signature}")
    }

    #[test]
    fn with_no_trusted_key_the_key_is_reported_before_the_signature() {
        // The documented order is key id, then signature: with an empty keyring the answer is
        // `unknown_key_id` whatever the signature's length.
        for len in [0, 63, 64, 65] {
            let err = verify_v1(&token_with_signature_of(len), &Keyring::new()).unwrap_err();
            assert_eq!(err.code(), ErrorCode::UnknownKeyId, "{len} bytes: {err}");
        }
    }

    #[test]
    fn with_trusted_keys_a_signature_of_the_wrong_length_is_invalid_signature() {
        let ring = Keyring::parse("k1=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
        let err = verify_v1(&token_with_signature_of(63), &ring).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidSignature);
        assert!(err.message().contains("63 bytes"), "{err}");
    }
}
