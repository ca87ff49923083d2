//! v2: a compact JWS signed with Ed25519 (`EdDSA`, RFC 8037), with a `kid` naming a trusted key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::Signature;
use jwt_compact::{Algorithm, UntrustedToken};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{unknown_kid, KeyEntry, Keyring};
use crate::token::eddsa::EdDSA;

/// The header and the claims object of a v2 token whose signature verified under `key`.
#[derive(Debug)]
pub struct VerifiedJws<'k> {
    /// The keyring entry whose key verified the signature.
    pub key: &'k KeyEntry,
    /// The decoded claims object (not yet checked against any schema).
    pub claims: Map<String, Value>,
}

/// Parses a compact EdDSA JWS and verifies its signature. The `alg` is checked before any key is
/// looked up; only then the `kid`, the signature, and finally the claims' JSON.
pub fn verify_jws<'k>(token: &str, keyring: &'k Keyring) -> Result<VerifiedJws<'k>> {
    let untrusted = UntrustedToken::new(token)
        .map_err(|e| Error::malformed(format!("the token is not a well-formed JWS: {e}")))?;
    let alg = untrusted.algorithm();
    if alg != "EdDSA" {
        let shown = if alg.len() <= 20 {
            alg
        } else {
            "(a long name)"
        };
        return Err(Error::new(
            ErrorCode::UnsupportedAlgorithm,
            format!("the header's alg is {shown:?}; only \"EdDSA\" is accepted"),
        ));
    }
    let kid = untrusted
        .header()
        .key_id
        .as_deref()
        .ok_or_else(|| Error::malformed("the header has no `kid`"))?;
    let entry = keyring.get(kid).ok_or_else(|| unknown_kid(kid))?;
    let raw_signature = untrusted.signature_bytes();
    let signature = Signature::from_slice(raw_signature).map_err(|_| {
        Error::new(
            ErrorCode::InvalidSignature,
            format!(
                "the signature is {} bytes; an Ed25519 signature is 64",
                raw_signature.len()
            ),
        )
    })?;
    let (signed_data, _) = token
        .rsplit_once('.')
        .ok_or_else(|| Error::malformed("the token has no signature part"))?;
    if !EdDSA.verify_signature(
        &signature,
        entry.key.verifying_key(),
        signed_data.as_bytes(),
    ) {
        return Err(Error::new(
            ErrorCode::InvalidSignature,
            format!("the signature does not verify under the key {kid:?}"),
        ));
    }
    let claims = decode_claims(signed_data)?;
    Ok(VerifiedJws { key: entry, claims })
}

/// Decodes the claims segment of `header.claims` (the signed data of a JWS) into a JSON object.
pub(crate) fn decode_claims(signed_data: &str) -> Result<Map<String, Value>> {
    let payload = signed_data
        .split_once('.')
        .map(|(_, claims)| claims)
        .ok_or_else(|| Error::malformed("the token has no claims part"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Error::malformed("the claims are not unpadded base64url"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::claims("the claims are not a JSON object")),
        Err(e) => Err(Error::claims(format!("the claims are not valid JSON: {e}"))),
    }
}
