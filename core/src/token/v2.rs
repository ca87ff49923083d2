//! v2: a compact JWS signed with Ed25519 (`EdDSA`, RFC 8037), with a `kid` naming a trusted key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::Signature;
use jwt_compact::Algorithm;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::json::{MembersError, MAX_MEMBERS};
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

/// The usual header, `{"alg","kid","typ"}` with string values (`kid` and `typ` may be absent or
/// `null`), read straight into its fields: the same `alg` and `kid` as [`read_header`], which
/// reads every other header (more members, a duplicate, another type). A speed path only, built
/// with the `fast-json` feature (the size-budgeted wasm build leaves it out).
#[cfg(feature = "fast-json")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainHeader {
    alg: String,
    kid: Option<String>,
    /// Read only so that a `typ` that is not a string is left to [`read_header`].
    #[allow(dead_code)]
    typ: Option<String>,
}

#[cfg(feature = "fast-json")]
impl PlainHeader {
    fn parse(json: &[u8]) -> Option<PlainHeader> {
        // serde would also read a struct from a JSON array: only an object takes this path.
        let is_object = json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        is_object
            .then(|| serde_json::from_slice(json).ok())
            .flatten()
    }
}

/// What the verifier acts on in a JWS header.
#[derive(Debug, PartialEq, Eq)]
struct JwsHeader {
    alg: String,
    kid: Option<String>,
    /// Whether the header lists critical extensions (a non-null `crit`).
    crit: bool,
}

/// Reads a JWS header object with jwt-compact's rules for the members it reads (a property test
/// holds the two together): `alg` is a required string; `kid`, `typ`, `jku`, `x5u`, `x5t` and
/// `x5t#S256` are strings when present (`null` is absent; the certificate members are not used,
/// so unlike jwt-compact their content is not checked); a `cty` other than `json` is refused; a
/// non-null `crit` is reported; other members are ignored. A member named twice is refused (no
/// reading of an ambiguous header is trusted; RFC 7515 §4 allows refusing or taking the last),
/// and so is a header of more than [`MAX_MEMBERS`] members (a real one has a handful).
fn read_header(json: &[u8]) -> Result<JwsHeader> {
    let members = crate::json::members(json).map_err(|problem| match problem {
        MembersError::Syntax(e) => {
            Error::malformed(format!("the token's header is not valid JSON: {e}"))
        }
        MembersError::NotAnObject => Error::malformed("the token's header is not a JSON object"),
        MembersError::TooMany => Error::malformed(format!(
            "the token's header has more than {MAX_MEMBERS} members"
        )),
    })?;
    let mut alg = None;
    let mut kid = None;
    let mut crit = false;
    for (name, value) in members {
        if name == "crit" {
            crit = !value.is_null();
            continue;
        }
        let string = match value {
            Value::Null => None,
            Value::String(s) => Some(s),
            _ if matches!(
                &*name,
                "alg" | "kid" | "typ" | "cty" | "jku" | "x5u" | "x5t" | "x5t#S256"
            ) =>
            {
                return Err(Error::malformed(format!(
                    "the header's `{name}` is not a string"
                )))
            }
            _ => continue,
        };
        match &*name {
            "alg" => alg = string,
            "kid" => kid = string,
            "cty" if string.is_some_and(|cty| !cty.eq_ignore_ascii_case("json")) => {
                return Err(Error::malformed(
                    "the header's `cty` names a content type other than JSON",
                ))
            }
            _ => {}
        }
    }
    let alg = alg.ok_or_else(|| Error::malformed("the header has no `alg`"))?;
    Ok(JwsHeader { alg, kid, crit })
}

fn not_well_formed(what: &str, detail: ErrorDetail) -> Error {
    Error::malformed(format!("the token is not a well-formed JWS: {what}")).with_detail(detail)
}

/// [`verify_jws`] up to the signature: the keyring entry that verified it and the decoded (not
/// yet parsed) claims JSON.
///
/// The three parts are decoded once, here, with the same strict unpadded base64url that
/// jwt-compact's parser applies (a property test holds the two decoders to the same inputs); the
/// header by [`read_header`] (or, with `fast-json`, the usual one by `PlainHeader`). Every
/// structural error is `malformed_token` before the `alg` is looked at.
pub(crate) fn verify_signature<'k>(
    token: &str,
    keyring: &'k Keyring,
) -> Result<(&'k KeyEntry, Vec<u8>)> {
    let mut parts = token.splitn(4, '.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(not_well_formed(
            "it needs three parts separated by dots",
            ErrorDetail::WrongPartCount,
        ));
    };
    let invalid_base64 = |_| {
        not_well_formed(
            "a part is not unpadded base64url",
            ErrorDetail::InvalidBase64,
        )
    };
    let claims_json = URL_SAFE_NO_PAD.decode(claims).map_err(invalid_base64)?;
    let raw_signature = URL_SAFE_NO_PAD.decode(signature).map_err(invalid_base64)?;
    let header_json = URL_SAFE_NO_PAD.decode(header).map_err(invalid_base64)?;
    #[cfg(feature = "fast-json")]
    let plain = PlainHeader::parse(&header_json).map(|h| JwsHeader {
        alg: h.alg,
        kid: h.kid,
        crit: false,
    });
    #[cfg(not(feature = "fast-json"))]
    let plain = None;
    let JwsHeader {
        alg,
        kid,
        crit: has_crit,
    } = match plain {
        Some(header) => header,
        None => read_header(&header_json).map_err(|e| e.with_detail(ErrorDetail::InvalidHeader))?,
    };
    let alg = alg.as_str();
    if alg != "EdDSA" {
        let shown = crate::error::shown(alg, 20, "(a long name)");
        return Err(Error::new(
            ErrorCode::UnsupportedAlgorithm,
            format!("the header's alg is {shown:?}; only \"EdDSA\" is accepted"),
        ));
    }
    if has_crit {
        // RFC 7515 §4.1.11: critical extensions this verifier does not implement must be refused.
        return Err(Error::malformed(
            "the header lists critical extensions (`crit`), which this verifier does not support",
        )
        .with_detail(ErrorDetail::InvalidHeader));
    }
    let kid = kid.as_deref().ok_or_else(|| {
        Error::malformed("the header has no `kid`").with_detail(ErrorDetail::InvalidHeader)
    })?;
    let entry = keyring.get(kid).ok_or_else(|| unknown_kid(kid))?;
    let signature = Signature::from_slice(&raw_signature).map_err(|_| {
        Error::new(
            ErrorCode::InvalidSignature,
            format!(
                "the signature is {} bytes; an Ed25519 signature is 64",
                raw_signature.len()
            ),
        )
        .with_detail(ErrorDetail::SignatureLength)
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
        )
        .with_detail(ErrorDetail::SignatureMismatch));
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

fn claims_not_json(e: &serde_json::Error) -> Error {
    Error::claims(format!("the claims are not valid JSON: {e}"))
        .with_detail(ErrorDetail::InvalidJson)
}

/// Parses decoded claims JSON into an object (a member named twice is refused, at any depth).
pub(crate) fn claims_object(json: &[u8]) -> Result<Map<String, Value>> {
    match crate::json::parse(json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => {
            Err(Error::claims("the claims are not a JSON object")
                .with_detail(ErrorDetail::NotAnObject))
        }
        Err(e) => Err(claims_not_json(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwt_compact::UntrustedToken;
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

    /// Header members beyond those jwt-compact reads: the oracle's view of `crit`.
    #[derive(Debug, Clone, serde::Deserialize)]
    struct HeaderExtensions {
        #[serde(default)]
        crit: Option<serde::de::IgnoredAny>,
    }

    /// jwt-compact's reading of a header (the oracle): `alg`, `kid` and whether `crit` is set.
    fn jwt_compact_header(json: &str) -> Option<JwsHeader> {
        let token = format!("{}..", URL_SAFE_NO_PAD.encode(json));
        let untrusted = UntrustedToken::<HeaderExtensions>::try_from(token.as_str()).ok()?;
        Some(JwsHeader {
            alg: untrusted.algorithm().to_owned(),
            kid: untrusted.header().key_id.clone(),
            crit: untrusted.header().other_fields.crit.is_some(),
        })
    }

    /// The general reader agrees with jwt-compact: both refuse, or both read the same members.
    fn same_as_jwt_compact(json: &str) {
        let ours = read_header(json.as_bytes());
        match (&ours, jwt_compact_header(json)) {
            (Ok(ours), Some(theirs)) => assert_eq!(ours, &theirs, "{json}"),
            (Err(e), None) => assert_eq!(e.code(), ErrorCode::MalformedToken, "{json}"),
            (ours, theirs) => panic!("{json}: ours {ours:?}, jwt-compact {theirs:?}"),
        }
    }

    /// What the direct header reader gives, against the general one: `false` when it leaves the
    /// header to [`read_header`]; otherwise the general reader gives the same `alg` and `kid`
    /// and no `crit`.
    #[cfg(feature = "fast-json")]
    fn plain_reads_as_general(json: &str) -> bool {
        let Some(plain) = PlainHeader::parse(json.as_bytes()) else {
            return false;
        };
        let general = read_header(json.as_bytes())
            .unwrap_or_else(|e| panic!("the general reader refuses {json}: {e}"));
        assert_eq!(general.alg, plain.alg, "{json}");
        assert_eq!(general.kid, plain.kid, "{json}");
        assert!(!general.crit, "{json}");
        true
    }

    const PLAIN: [&str; 5] = [
        r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#,
        r#"{"typ":"JWT","kid":"k1","alg":"EdDSA"}"#,
        r#" {"alg":"HS256"} "#,
        r#"{"alg":"EdDSA","kid":null,"typ":null}"#,
        r#"{"alg":"EdDS\u0041","kid":"k\"1"}"#,
    ];
    const NOT_PLAIN: [&str; 13] = [
        r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#,
        r#"{"alg":"EdDSA","kid":"k1","crit":null}"#,
        r#"{"alg":"EdDSA","kid":"k1","cty":"json"}"#,
        r#"{"alg":"EdDSA","kid":"k1","cty":"JWT"}"#,
        r#"{"alg":"EdDSA","kid":"k1","jku":7}"#,
        r#"{"alg":"EdDSA","kid":1}"#,
        r#"{"alg":"EdDSA","typ":1}"#,
        r#"{"alg":null,"kid":"k1"}"#,
        r#"{"kid":"k1"}"#,
        r#"["EdDSA","k1","JWT"]"#,
        r#"{"alg":"EdDSA"} x"#,
        "\u{c}{\"alg\":\"EdDSA\"}",
        r#"{"alg":"EdDSA","kid":"k1","x":{"y":[1,2]}}"#,
    ];

    #[test]
    fn the_header_reader_agrees_with_jwt_compact() {
        for json in PLAIN.iter().chain(NOT_PLAIN.iter()) {
            same_as_jwt_compact(json);
        }
    }

    #[test]
    fn a_member_named_twice_is_refused() {
        for json in [
            r#"{"alg":"EdDSA","kid":"k1","kid":"k2"}"#,
            r#"{"alg":"none","alg":"EdDSA","kid":"k1"}"#,
            r#"{"alg":"EdDSA","kid":"k1","x":1,"x":1}"#,
        ] {
            let err = read_header(json.as_bytes()).unwrap_err();
            assert_eq!(err.code(), ErrorCode::MalformedToken, "{json}");
            assert!(err.message().contains("twice"), "{json}: {err}");
        }
    }

    #[cfg(feature = "fast-json")]
    #[test]
    fn the_direct_header_reader_takes_only_plain_headers() {
        for json in PLAIN {
            assert!(plain_reads_as_general(json), "{json}");
        }
        for json in NOT_PLAIN {
            assert!(!plain_reads_as_general(json), "{json}");
        }
        assert!(!plain_reads_as_general(
            r#"{"alg":"EdDSA","kid":"k1","kid":"k2"}"#
        ));
    }

    proptest! {
        #[test]
        fn the_header_readers_agree(
            members in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "alg", "kid", "typ", "cty", "crit", "jku", "x5u", "x",
                    ]),
                    proptest::sample::select(vec![
                        "\"EdDSA\"", "\"k1\"", "\"JWT\"", "\"json\"", "null", "1", "[\"exp\"]", "{}",
                    ]),
                ),
                0..6,
            )
        ) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let json = format!("{{{}}}", body.join(","));
            let mut names: Vec<&str> = members.iter().map(|(k, _)| *k).collect();
            names.sort_unstable();
            names.dedup();
            if names.len() == members.len() {
                // No member named twice: the same reading as jwt-compact's.
                same_as_jwt_compact(&json);
            } else {
                let err = read_header(json.as_bytes()).unwrap_err();
                prop_assert_eq!(err.code(), ErrorCode::MalformedToken);
                prop_assert!(err.message().contains("twice"), "{}: {}", json, err);
            }
            #[cfg(feature = "fast-json")]
            plain_reads_as_general(&json);
        }
    }

    #[test]
    fn the_certificate_members_need_only_be_strings() {
        // Not used by the verifier, so their content is not checked (jwt-compact decoded them).
        for json in [
            r#"{"alg":"EdDSA","kid":"k1","x5t":"abc"}"#,
            r#"{"alg":"EdDSA","kid":"k1","x5t#S256":"!!"}"#,
        ] {
            assert_eq!(
                read_header(json.as_bytes()).unwrap().kid.as_deref(),
                Some("k1")
            );
        }
        let err = read_header(br#"{"alg":"EdDSA","kid":"k1","x5t":7}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedToken);
    }

    #[test]
    fn a_header_of_too_many_members_is_refused() {
        let body: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("\"m{i}\":0")).collect();
        let json = format!("{{\"alg\":\"EdDSA\",{}}}", body.join(","));
        let err = read_header(json.as_bytes()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedToken);
        assert!(err.message().contains("more than"), "{err}");
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
