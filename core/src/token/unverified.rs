//! Reading a token without verifying it, for display only (`dev-health-license inspect`, a license
//! viewer that shows what a rejected token claims). Nothing here is trusted: no key is used.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::token::{detect_format, TokenFormat};

/// A token's header and claims as written, with NO signature or claim check.
#[derive(Debug, Clone, PartialEq)]
pub struct UnverifiedToken {
    /// The format, told apart by the number of dots.
    pub format: TokenFormat,
    /// The JOSE header (v2 only; v1 tokens have none).
    pub header: Option<Map<String, Value>>,
    /// The claims object (v1: the payload), as written.
    pub claims: Map<String, Value>,
    /// Length of the decoded signature in bytes (64 for a well-formed Ed25519 signature).
    pub signature_len: usize,
}

impl UnverifiedToken {
    /// Decodes `token` (size limit, structure, base64, JSON) without verifying anything.
    ///
    /// ```
    /// use dev_health_entitlements::token::unverified::UnverifiedToken;
    /// let t = UnverifiedToken::decode("eyJhbGciOiJub25lIn0.e30.").unwrap();
    /// assert_eq!(t.header.unwrap()["alg"], "none");
    /// ```
    pub fn decode(token: &str) -> Result<UnverifiedToken> {
        let token = token.trim();
        let format = detect_format(token)?;
        match format {
            TokenFormat::V2 => {
                let mut parts = token.splitn(3, '.');
                let (Some(header), Some(claims), Some(signature)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(Error::malformed("a v2 token is header.claims.signature"));
                };
                let header = object(
                    &URL_SAFE_NO_PAD
                        .decode(header)
                        .map_err(|_| Error::malformed("the header is not unpadded base64url"))?,
                    "header",
                )
                .map_err(Error::malformed)?;
                let claims = object(
                    &URL_SAFE_NO_PAD
                        .decode(claims)
                        .map_err(|_| Error::malformed("the claims are not unpadded base64url"))?,
                    "claims",
                )
                .map_err(Error::claims)?;
                let signature = URL_SAFE_NO_PAD
                    .decode(signature)
                    .map_err(|_| Error::malformed("the signature is not unpadded base64url"))?;
                Ok(UnverifiedToken {
                    format,
                    header: Some(header),
                    claims,
                    signature_len: signature.len(),
                })
            }
            TokenFormat::V1 => {
                let (payload, signature) = token
                    .split_once('.')
                    .ok_or_else(|| Error::malformed("a v1 token is payload.signature"))?;
                let payload = STANDARD.decode(payload).map_err(|_| {
                    Error::malformed("the v1 payload is not padded standard base64")
                })?;
                let signature = STANDARD.decode(signature).map_err(|_| {
                    Error::malformed("the v1 signature is not padded standard base64")
                })?;
                Ok(UnverifiedToken {
                    format,
                    header: None,
                    claims: object(&payload, "v1 payload").map_err(Error::claims)?,
                    signature_len: signature.len(),
                })
            }
        }
    }

    /// `{"verified": false, "format", "header", "claims", "signature_bytes"}`: the `verified`
    /// member is always `false` so that no reader mistakes the output for a verification.
    pub fn to_json(&self) -> Value {
        crate::json::object(&mut [
            ("verified", false.into()),
            ("format", self.format.as_str().into()),
            (
                "header",
                self.header.clone().map_or(Value::Null, Value::Object),
            ),
            ("claims", Value::Object(self.claims.clone())),
            ("signature_bytes", self.signature_len.into()),
        ])
    }
}

fn object(bytes: &[u8], what: &str) -> std::result::Result<Map<String, Value>, String> {
    match crate::json::parse(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("the {what} is not a JSON object")),
        Err(e) => Err(format!("the {what} is not valid JSON: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_v2_token_shows_its_header_and_claims() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"k1"}"#);
        let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"org_1"}"#);
        let sig = URL_SAFE_NO_PAD.encode([7u8; 64]);
        let t = UnverifiedToken::decode(&format!("{header}.{claims}.{sig}")).unwrap();
        assert_eq!(t.format, TokenFormat::V2);
        assert_eq!(t.header.as_ref().unwrap()["kid"], "k1");
        assert_eq!(t.claims["sub"], "org_1");
        assert_eq!(t.to_json()["verified"], false);
        assert_eq!(t.signature_len, 64);
    }

    #[test]
    fn a_v1_token_has_no_header() {
        let payload = STANDARD.encode(br#"{"license_id":"x"}"#);
        let t =
            UnverifiedToken::decode(&format!("{payload}.{}", STANDARD.encode([1u8; 64]))).unwrap();
        assert_eq!(t.format, TokenFormat::V1);
        assert!(t.header.is_none());
        assert_eq!(t.claims["license_id"], "x");
    }

    #[test]
    fn junk_is_malformed_and_never_panics() {
        for junk in [
            "",
            "a.b.c",
            "a.b",
            "....",
            "\u{0}.\u{1}",
            "eyJ9.e30.",
            "e30.W10.",
        ] {
            let err = UnverifiedToken::decode(junk).unwrap_err();
            assert!(
                matches!(
                    err.code(),
                    ErrorCode::MalformedToken | ErrorCode::InvalidClaims
                ),
                "{junk:?}: {err}"
            );
        }
    }
}
