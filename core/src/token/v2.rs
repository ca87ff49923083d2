//! v2: a compact JWS signed with Ed25519 (`EdDSA`, RFC 8037), with a `kid` naming a trusted key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::Signature;
use jwt_compact::{Algorithm, ParseError, UntrustedToken};
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
    let (key, claims_json) = verify_signature(token, keyring)?;
    let claims = claims_object(&claims_json)?;
    Ok(VerifiedJws { key, claims })
}

/// Header members beyond those jwt-compact reads.
#[derive(Debug, Clone, serde::Deserialize)]
struct HeaderExtensions {
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// The usual header, `{"alg","kid","typ"}` with string values (`kid` and `typ` may be absent or
/// `null`), read directly: jwt-compact reads exactly the same `alg` and `kid` from it, with no
/// `cty` and no `crit`. Any other header (more members, a duplicate, another type) is parsed by
/// jwt-compact, which words every error.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainHeader {
    alg: String,
    kid: Option<String>,
    /// Read only so that a `typ` that is not a string is left to jwt-compact.
    #[allow(dead_code)]
    typ: Option<String>,
}

impl PlainHeader {
    fn parse(json: &[u8]) -> Option<PlainHeader> {
        // serde would also read a struct from a JSON array: only an object takes this path.
        let is_object = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        is_object
            .then(|| serde_json::from_slice(json).ok())
            .flatten()
    }
}

fn not_well_formed(e: ParseError) -> Error {
    Error::malformed(format!("the token is not a well-formed JWS: {e}"))
}

/// [`verify_jws`] up to the signature: the keyring entry that verified it and the decoded (not
/// yet parsed) claims JSON.
///
/// The three parts are decoded once, here, with the same strict unpadded base64url that
/// jwt-compact's parser applies (a property test holds the two decoders to the same inputs); the
/// usual header is read directly ([`PlainHeader`]), any other by jwt-compact (`header..`). Every
/// structural error is `malformed_token` before the `alg` is looked at, as when jwt-compact
/// parsed the whole token.
pub(crate) fn verify_signature<'k>(
    token: &str,
    keyring: &'k Keyring,
) -> Result<(&'k KeyEntry, Vec<u8>)> {
    let mut parts = token.splitn(4, '.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_well_formed(ParseError::InvalidTokenStructure));
    };
    let invalid_base64 = |_| not_well_formed(ParseError::InvalidBase64Encoding);
    let claims_json = URL_SAFE_NO_PAD.decode(claims).map_err(invalid_base64)?;
    let raw_signature = URL_SAFE_NO_PAD.decode(signature).map_err(invalid_base64)?;
    let header_json = URL_SAFE_NO_PAD.decode(header).map_err(invalid_base64)?;
    let (alg, kid, has_crit) = match PlainHeader::parse(&header_json) {
        Some(plain) => (plain.alg, plain.kid, false),
        None => {
            let mut header_only = String::with_capacity(header.len() + 2);
            header_only.push_str(header);
            header_only.push_str("..");
            let untrusted = UntrustedToken::<HeaderExtensions>::try_from(header_only.as_str())
                .map_err(not_well_formed)?;
            let parsed = untrusted.header();
            (
                untrusted.algorithm().to_owned(),
                parsed.key_id.clone(),
                parsed.other_fields.crit.is_some(),
            )
        }
    };
    let alg = alg.as_str();
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
    if has_crit {
        // RFC 7515 §4.1.11: critical extensions this verifier does not implement must be refused.
        return Err(Error::malformed(
            "the header lists critical extensions (`crit`), which this verifier does not support",
        ));
    }
    let kid = kid
        .as_deref()
        .ok_or_else(|| Error::malformed("the header has no `kid`"))?;
    let entry = keyring.get(kid).ok_or_else(|| unknown_kid(kid))?;
    let signature = Signature::from_slice(&raw_signature).map_err(|_| {
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
    Ok((entry, claims_json))
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
    claims_object(&bytes)
}

/// Parses decoded claims JSON into an object.
pub(crate) fn claims_object(json: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::claims("the claims are not a JSON object")),
        Err(e) => Err(Error::claims(format!("the claims are not valid JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0";
    const SIGNATURE: &str =
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    proptest! {
        /// The claims and signature segments are decoded with the `base64` crate instead of
        /// jwt-compact's `base64ct`: both must accept exactly the same segments, in either place.
        #[test]
        fn the_segment_decoder_accepts_what_jwt_compact_accepts(
            segment in "[A-Za-z0-9_=+/ -]{0,13}"
        ) {
            let ours = URL_SAFE_NO_PAD.decode(&segment).is_ok();
            let as_claims = format!("{HEADER}.{segment}.{SIGNATURE}");
            prop_assert_eq!(UntrustedToken::new(&as_claims).is_ok(), ours, "claims {:?}", segment);
            let as_signature = format!("{HEADER}.e30.{segment}");
            prop_assert_eq!(
                UntrustedToken::new(&as_signature).is_ok(), ours, "signature {:?}", segment
            );
        }

        #[test]
        fn canonical_encodings_of_any_bytes_are_accepted_by_both(
            bytes in proptest::collection::vec(any::<u8>(), 0..40)
        ) {
            let segment = URL_SAFE_NO_PAD.encode(&bytes);
            let token = format!("{HEADER}.{segment}.{segment}");
            prop_assert!(UntrustedToken::new(&token).is_ok());
        }
    }

    /// What the direct header reader gives, against jwt-compact: `None` when it leaves the
    /// header to jwt-compact; otherwise jwt-compact must accept it with the same `alg` and `kid`
    /// and no `crit`.
    fn same_header_as_jwt_compact(json: &str) -> bool {
        let Some(plain) = PlainHeader::parse(json.as_bytes()) else {
            return false;
        };
        let token = format!("{}..", URL_SAFE_NO_PAD.encode(json));
        let untrusted = UntrustedToken::<HeaderExtensions>::try_from(token.as_str())
            .unwrap_or_else(|e| panic!("jwt-compact refuses {json}: {e}"));
        assert_eq!(untrusted.algorithm(), plain.alg, "{json}");
        assert_eq!(untrusted.header().key_id, plain.kid, "{json}");
        assert!(untrusted.header().other_fields.crit.is_none(), "{json}");
        true
    }

    #[test]
    fn the_direct_header_reader_takes_only_plain_headers() {
        for json in [
            r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#,
            r#"{"typ":"JWT","kid":"k1","alg":"EdDSA"}"#,
            r#" {"alg":"HS256"} "#,
            r#"{"alg":"EdDSA","kid":null,"typ":null}"#,
            r#"{"alg":"EdDS\u0041","kid":"k\"1"}"#,
        ] {
            assert!(same_header_as_jwt_compact(json), "{json}");
        }
        for json in [
            r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#,
            r#"{"alg":"EdDSA","kid":"k1","cty":"json"}"#,
            r#"{"alg":"EdDSA","kid":"k1","kid":"k2"}"#,
            r#"{"alg":"EdDSA","kid":1}"#,
            r#"{"alg":"EdDSA","typ":1}"#,
            r#"{"alg":null,"kid":"k1"}"#,
            r#"{"kid":"k1"}"#,
            r#"["EdDSA","k1","JWT"]"#,
            r#"{"alg":"EdDSA"} x"#,
            "\u{c}{\"alg\":\"EdDSA\"}",
        ] {
            assert!(!same_header_as_jwt_compact(json), "{json}");
        }
    }

    proptest! {
        #[test]
        fn the_direct_header_reader_agrees_with_jwt_compact(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["alg", "kid", "typ", "cty", "crit", "jku", "x"]),
                    proptest::sample::select(vec![
                        "\"EdDSA\"", "\"k1\"", "\"JWT\"", "\"json\"", "null", "1", "[\"exp\"]", "{}",
                    ]),
                ),
                0..5,
            )
        ) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            same_header_as_jwt_compact(&format!("{{{}}}", body.join(",")));
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_refused_by_both() {
        for segment in ["QR", "QUF", "QUJDRB", "eyJhIjoxfQ", "eyJhIjoxfR"] {
            for token in [
                format!("{HEADER}.{segment}.{SIGNATURE}"),
                format!("{HEADER}.e30.{segment}"),
            ] {
                assert_eq!(
                    UntrustedToken::new(&token).is_ok(),
                    URL_SAFE_NO_PAD.decode(segment).is_ok(),
                    "{token}"
                );
            }
        }
    }
}
