//! v1, the dev-health-ops legacy format: `base64(payload_json) + "." + base64(signature)`, standard
//! alphabet with `=` padding, the signature raw Ed25519 over the exact payload bytes. There is no
//! header and no `kid`: the token is tried against every trusted key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::Signature;
use jwt_compact::Algorithm;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::keys::{KeyEntry, Keyring};
use crate::token::eddsa::EdDSA;

/// Prefix of the license id the verifier derives for a v1 token without `license_id`.
pub const DERIVED_ID_PREFIX: &str = "v1-sha512-";

/// The stable license id of a v1 token whose payload has no `license_id` (dev-health-ops' model
/// makes it optional): `v1-sha512-` and the first 16 bytes of SHA-512 of the token (trimmed), in
/// hex. The same token always gets the same id, so a revocation list can name it; two tokens
/// differ in their signatures, so they never share one. SHA-512 because Ed25519 already brings it:
/// the size-budgeted web module gains no second hash.
pub fn derived_license_id(token: &str) -> String {
    use sha2::{Digest, Sha512};
    let digest = Sha512::digest(token.trim().as_bytes());
    let mut id = String::with_capacity(DERIVED_ID_PREFIX.len() + 32);
    id.push_str(DERIVED_ID_PREFIX);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in digest.iter().take(16) {
        for nibble in [byte >> 4, byte & 0x0f] {
            id.push(char::from(
                HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    id
}

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
    let (payload_b64, signature_b64) = token.split_once('.').ok_or_else(|| {
        Error::malformed("a v1 token is payload.signature").with_detail(ErrorDetail::WrongPartCount)
    })?;
    let payload = STANDARD.decode(payload_b64).map_err(|_| {
        Error::malformed("the v1 payload is not padded standard base64")
            .with_detail(ErrorDetail::InvalidBase64)
    })?;
    let signature = STANDARD.decode(signature_b64).map_err(|_| {
        Error::malformed("the v1 signature is not padded standard base64")
            .with_detail(ErrorDetail::InvalidBase64)
    })?;
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
        .with_detail(ErrorDetail::SignatureLength)
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
            .with_detail(ErrorDetail::SignatureMismatch)
        })?;
    let claims = match crate::json::parse(&payload) {
        Ok(Value::Object(map)) => map,
        Ok(_) => {
            return Err(Error::claims("the v1 payload is not a JSON object")
                .with_detail(ErrorDetail::NotAnObject))
        }
        Err(e) => {
            return Err(
                Error::claims(format!("the v1 payload is not valid JSON: {e}"))
                    .with_detail(ErrorDetail::InvalidJson),
            )
        }
    };
    Ok(VerifiedV1 { key, claims })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_id_is_stable_per_token_and_ignores_surrounding_whitespace() {
        let a = derived_license_id("cGF5bG9hZA==.c2ln");
        assert_eq!(a, derived_license_id("  cGF5bG9hZA==.c2ln\n"));
        assert_ne!(a, derived_license_id("cGF5bG9hZA==.c2lo"));
        assert!(a.starts_with(DERIVED_ID_PREFIX));
        assert_eq!(a.len(), DERIVED_ID_PREFIX.len() + 32);
        assert!(a[DERIVED_ID_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit()));
    }

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
