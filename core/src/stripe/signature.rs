//! The `Stripe-Signature` header: verification (SPEC §5) and, for tests and tools, generation.
//!
//! Stripe signs `"{t}.{body}"` with HMAC-SHA256 under the endpoint's webhook secret and sends
//! `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`. Several `v1` entries appear
//! while Stripe rolls a secret; several secrets on our side let us roll ours. The checks run in the
//! order of Stripe's own libraries: parse the header, then compare signatures, then check the
//! timestamp, so that a stale but authentic delivery is reported as stale, and a forged one as
//! forged, whatever its timestamp.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::{Choice, ConstantTimeEq};

use crate::error::{Error, ErrorCode, Result};

/// Stripe's default tolerance between the signed timestamp and `now`, in seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// The longest `Stripe-Signature` header we parse. Real headers are well under 1 KiB; the limit
/// keeps a hostile header from costing more than a bounded amount of work.
const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Length of an HMAC-SHA256 digest in bytes.
const DIGEST_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// Verifies a Stripe webhook delivery and returns its signed timestamp (Unix seconds).
///
/// * `payload`: the raw request body, exactly as received (not re-serialized JSON).
/// * `header`: the value of the `Stripe-Signature` header.
/// * `secrets`: the endpoint's webhook secrets (`whsec_...`); several during a rotation. Empty
///   strings are skipped, since an empty HMAC key is one anybody can sign with.
/// * `now`: the current time in Unix seconds; `tolerance_secs`: how far `t` may lie from `now` in
///   either direction (a difference of exactly `tolerance_secs` is accepted). Stripe's default is
///   [`DEFAULT_TOLERANCE_SECS`]. A tolerance of 0 demands `t == now`; it never turns the check off.
///
/// Errors, checked in this order:
/// * [`ErrorCode::InvalidInput`]: `tolerance_secs` is negative.
/// * [`ErrorCode::StripeSignatureMalformed`]: the header is empty or over 8 KiB, has no `t`, more
///   than one `t`, a `t` that is not a non-negative integer, no `v1`, or no `v1` that is 64 hex
///   characters (the message says which). A malformed `v1` beside a well-formed one is skipped,
///   as Stripe's own libraries do.
/// * [`ErrorCode::StripeSignatureMismatch`]: no well-formed `v1` matches any secret, or no secret
///   is configured.
/// * [`ErrorCode::StripeTimestampOutOfTolerance`]: `|now - t| > tolerance_secs`.
///
/// Messages never contain secrets or signatures.
///
/// ```
/// use dev_health_entitlements::stripe::{signature_header, verify_signature, DEFAULT_TOLERANCE_SECS};
///
/// let body = br#"{"id":"evt_1","type":"ping"}"#;
/// let header = signature_header(body, "whsec_test", 1_700_000_000);
/// let t = verify_signature(body, &header, &["whsec_test"], 1_700_000_060, DEFAULT_TOLERANCE_SECS)?;
/// assert_eq!(t, 1_700_000_000);
/// # Ok::<(), dev_health_entitlements::Error>(())
/// ```
pub fn verify_signature(
    payload: &[u8],
    header: &str,
    secrets: &[&str],
    now: i64,
    tolerance_secs: i64,
) -> Result<i64> {
    let tolerance = u64::try_from(tolerance_secs).map_err(|_| {
        Error::new(
            ErrorCode::InvalidInput,
            format!("the signature tolerance must be zero or more seconds, got {tolerance_secs}"),
        )
    })?;
    let parsed = ParsedHeader::parse(header)?;

    let mut configured = false;
    let mut matched = Choice::from(0);
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        configured = true;
        let expected = sign(payload, secret, parsed.timestamp);
        for candidate in &parsed.v1 {
            matched |= expected.as_slice().ct_eq(candidate.as_slice());
        }
    }
    if !configured {
        return Err(Error::new(
            ErrorCode::StripeSignatureMismatch,
            "no webhook secret is configured",
        ));
    }
    if !bool::from(matched) {
        return Err(Error::new(
            ErrorCode::StripeSignatureMismatch,
            "no v1 signature in the Stripe-Signature header matches a configured webhook secret",
        ));
    }

    let drift = now.abs_diff(parsed.timestamp);
    if drift > tolerance {
        let direction = if parsed.timestamp < now {
            "older than now"
        } else {
            "in the future"
        };
        return Err(Error::new(
            ErrorCode::StripeTimestampOutOfTolerance,
            format!(
                "the Stripe-Signature timestamp is {drift} s {direction}, over the {tolerance} s tolerance"
            ),
        ));
    }
    Ok(parsed.timestamp)
}

/// Builds the `Stripe-Signature` header Stripe would send for `payload` signed with `secret` at
/// `timestamp`: `t=<timestamp>,v1=<lower-case hex>`.
///
/// Used by tests, the CLI and the conformance-vector generator to produce genuine deliveries.
pub fn signature_header(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let digest = sign(payload, secret, timestamp);
    format!("t={timestamp},v1={}", to_hex(&digest))
}

/// HMAC-SHA256 of `"{timestamp}.{payload}"`, the string Stripe signs.
fn sign(payload: &[u8], secret: &str, timestamp: i64) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    // HMAC accepts keys of any length, so this never fails; the fallback keeps the code panic-free.
    if let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(secret.as_bytes()) {
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        out.copy_from_slice(mac.finalize().into_bytes().as_slice());
    }
    out
}

/// The parts of a `Stripe-Signature` header that matter: the timestamp and the `v1` digests.
struct ParsedHeader {
    timestamp: i64,
    v1: Vec<[u8; DIGEST_LEN]>,
}

impl ParsedHeader {
    fn parse(header: &str) -> Result<ParsedHeader> {
        let malformed = |message: String| Error::new(ErrorCode::StripeSignatureMalformed, message);
        if header.trim().is_empty() {
            return Err(malformed("the Stripe-Signature header is empty".into()));
        }
        if header.len() > MAX_HEADER_BYTES {
            return Err(malformed(format!(
                "the Stripe-Signature header is {} bytes, over the {MAX_HEADER_BYTES}-byte limit",
                header.len()
            )));
        }

        let mut timestamp = None;
        let mut v1 = Vec::new();
        let mut v1_entries = 0usize;
        // Like Stripe's libraries, items without `=` and keys we do not know (v0, future schemes)
        // are skipped; only `t` and `v1` are interpreted.
        for (key, value) in header
            .split(',')
            .filter_map(|item| item.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
        {
            match key {
                "t" => {
                    if timestamp.is_some() {
                        // Two timestamps make it ambiguous which one was signed.
                        return Err(malformed(
                            "the Stripe-Signature header has more than one `t` timestamp".into(),
                        ));
                    }
                    timestamp = Some(parse_timestamp(value).ok_or_else(|| {
                        malformed(
                            "the Stripe-Signature `t` is not a non-negative integer of seconds"
                                .into(),
                        )
                    })?);
                }
                "v1" => {
                    // Like Stripe's libraries, an entry that is not a digest is skipped: it
                    // could match nothing, and another `v1` may still verify.
                    v1_entries += 1;
                    if let Some(digest) = decode_hex_digest(value) {
                        v1.push(digest);
                    }
                }
                _ => {}
            }
        }

        let timestamp = timestamp
            .ok_or_else(|| malformed("the Stripe-Signature header has no `t` timestamp".into()))?;
        match (v1_entries, v1.is_empty()) {
            (0, _) => {
                return Err(malformed(
                    "the Stripe-Signature header has no v1 signature".into(),
                ))
            }
            (1, true) => {
                return Err(malformed(
                    "the v1 signature in the Stripe-Signature header is not 64 hex characters"
                        .into(),
                ))
            }
            (n, true) => {
                return Err(malformed(format!(
                    "none of the {n} v1 signatures in the Stripe-Signature header is 64 hex \
                     characters"
                )))
            }
            (_, false) => {}
        }
        Ok(ParsedHeader { timestamp, v1 })
    }
}

/// Digits only: no sign, no spaces, no fraction. `i64::from_str` alone would accept `+5`.
fn parse_timestamp(value: &str) -> Option<i64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Decodes exactly 64 hex characters (either case) into a 32-byte digest.
fn decode_hex_digest(value: &str) -> Option<[u8; DIGEST_LEN]> {
    if value.len() != DIGEST_LEN * 2 {
        return None;
    }
    let mut out = [0u8; DIGEST_LEN];
    for (byte, pair) in out.iter_mut().zip(value.as_bytes().chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (hex_value(*hi)?, hex_value(*lo)?),
            _ => return None,
        };
        *byte = (hi << 4) | lo;
    }
    Some(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_test","object":"event"}"#;
    /// Computed independently with Python:
    /// `hmac.new(b"whsec_test_secret", b'1700000000.{"id":"evt_test","object":"event"}', hashlib.sha256).hexdigest()`
    const KNOWN_V1: &str = "8042376f6ca064adbe037642a718227dfd59047137eb49497a54c49eb0cfb724";
    /// The same payload and timestamp under the secret `whsec_rotated`, also computed with Python.
    const KNOWN_V1_ROTATED: &str =
        "a266bb7202b24f898e7fc3e3deb48fd925d582c0b56f5f4c90b3d64bbec2472d";

    fn verify(header: &str, secrets: &[&str], now: i64) -> Result<i64> {
        verify_signature(BODY, header, secrets, now, DEFAULT_TOLERANCE_SECS)
    }

    fn code(result: Result<i64>) -> ErrorCode {
        result.expect_err("expected an error").code()
    }

    #[test]
    fn signature_header_matches_an_independently_computed_hmac() {
        assert_eq!(
            signature_header(BODY, SECRET, T),
            format!("t={T},v1={KNOWN_V1}")
        );
    }

    #[test]
    fn a_valid_signature_returns_the_timestamp() {
        let header = format!("t={T},v1={KNOWN_V1}");
        assert_eq!(verify(&header, &[SECRET], T).unwrap(), T);
    }

    #[test]
    fn upper_case_hex_is_accepted() {
        let header = format!("t={T},v1={}", KNOWN_V1.to_uppercase());
        assert_eq!(verify(&header, &[SECRET], T).unwrap(), T);
    }

    #[test]
    fn a_wrong_secret_is_a_mismatch() {
        let header = signature_header(BODY, SECRET, T);
        assert_eq!(
            code(verify(&header, &["whsec_other"], T)),
            ErrorCode::StripeSignatureMismatch
        );
    }

    #[test]
    fn a_changed_body_is_a_mismatch() {
        let header = signature_header(BODY, SECRET, T);
        let result = verify_signature(
            br#"{"id":"evt_test","object":"evenT"}"#,
            &header,
            &[SECRET],
            T,
            300,
        );
        assert_eq!(code(result), ErrorCode::StripeSignatureMismatch);
    }

    #[test]
    fn a_changed_timestamp_is_a_mismatch() {
        let header = format!("t={},v1={KNOWN_V1}", T + 1);
        assert_eq!(
            code(verify(&header, &[SECRET], T)),
            ErrorCode::StripeSignatureMismatch
        );
    }

    #[test]
    fn no_configured_secret_is_a_mismatch_that_says_so() {
        let header = signature_header(BODY, SECRET, T);
        for secrets in [&[][..], &[""][..]] {
            let err = verify(&header, secrets, T).unwrap_err();
            assert_eq!(err.code(), ErrorCode::StripeSignatureMismatch);
            assert_eq!(err.message(), "no webhook secret is configured");
        }
    }

    #[test]
    fn an_empty_secret_never_verifies_a_signature_made_with_an_empty_key() {
        let header = signature_header(BODY, "", T);
        assert_eq!(
            code(verify(&header, &["", SECRET], T)),
            ErrorCode::StripeSignatureMismatch
        );
    }

    #[test]
    fn a_stale_timestamp_is_out_of_tolerance() {
        let header = signature_header(BODY, SECRET, T);
        let err = verify(&header, &[SECRET], T + 301).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StripeTimestampOutOfTolerance);
        assert!(err.message().contains("301 s older"));
    }

    #[test]
    fn a_future_timestamp_is_out_of_tolerance() {
        let header = signature_header(BODY, SECRET, T);
        let err = verify(&header, &[SECRET], T - 301).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StripeTimestampOutOfTolerance);
        assert!(err.message().contains("in the future"));
    }

    #[test]
    fn a_difference_of_exactly_the_tolerance_is_accepted_both_ways() {
        let header = signature_header(BODY, SECRET, T);
        assert_eq!(verify(&header, &[SECRET], T + 300).unwrap(), T);
        assert_eq!(verify(&header, &[SECRET], T - 300).unwrap(), T);
    }

    #[test]
    fn a_zero_tolerance_demands_the_exact_second() {
        let header = signature_header(BODY, SECRET, T);
        assert_eq!(verify_signature(BODY, &header, &[SECRET], T, 0).unwrap(), T);
        let result = verify_signature(BODY, &header, &[SECRET], T + 1, 0);
        assert_eq!(code(result), ErrorCode::StripeTimestampOutOfTolerance);
    }

    #[test]
    fn a_negative_tolerance_is_invalid_input() {
        let header = signature_header(BODY, SECRET, T);
        let result = verify_signature(BODY, &header, &[SECRET], T, -1);
        assert_eq!(code(result), ErrorCode::InvalidInput);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let header = signature_header(BODY, SECRET, i64::MAX);
        let result = verify_signature(BODY, &header, &[SECRET], i64::MIN, i64::MAX);
        assert_eq!(code(result), ErrorCode::StripeTimestampOutOfTolerance);
    }

    #[test]
    fn the_signature_is_checked_before_the_timestamp() {
        let header = signature_header(BODY, "whsec_other", T);
        assert_eq!(
            code(verify(&header, &[SECRET], T + 10_000)),
            ErrorCode::StripeSignatureMismatch
        );
    }

    #[test]
    fn several_v1_with_one_matching_is_accepted() {
        let wrong = "0".repeat(64);
        for header in [
            format!("t={T},v1={wrong},v1={KNOWN_V1}"),
            format!("t={T},v1={KNOWN_V1},v1={wrong}"),
        ] {
            assert_eq!(verify(&header, &[SECRET], T).unwrap(), T);
        }
    }

    #[test]
    fn a_malformed_v1_beside_a_matching_one_is_skipped() {
        // As in Stripe's own libraries: an entry that is not a digest matches nothing, and any
        // one matching v1 is enough.
        for header in [
            format!("t={T},v1=zz,v1={KNOWN_V1}"),
            format!("t={T},v1={KNOWN_V1},v1=abc"),
            format!("t={T},v1=,v1={},v1={KNOWN_V1}", "g".repeat(64)),
        ] {
            assert_eq!(verify(&header, &[SECRET], T).unwrap(), T, "{header}");
        }
    }

    #[test]
    fn a_malformed_v1_beside_a_well_formed_one_that_does_not_match_is_a_mismatch() {
        let header = format!("t={T},v1=zz,v1={}", "0".repeat(64));
        assert_eq!(
            code(verify(&header, &[SECRET], T)),
            ErrorCode::StripeSignatureMismatch
        );
    }

    #[test]
    fn rotated_secrets_accept_either_secret() {
        let secrets = ["whsec_rotated", SECRET];
        assert_eq!(
            verify(&format!("t={T},v1={KNOWN_V1}"), &secrets, T).unwrap(),
            T
        );
        assert_eq!(
            verify(&format!("t={T},v1={KNOWN_V1_ROTATED}"), &secrets, T).unwrap(),
            T
        );
    }

    #[test]
    fn unknown_keys_and_v0_are_ignored() {
        let header = format!("t={T}, v0={}, scheme=x, v1={KNOWN_V1},", "f".repeat(64));
        assert_eq!(verify(&header, &[SECRET], T).unwrap(), T);
    }

    #[test]
    fn a_v0_signature_alone_is_not_enough() {
        let header = format!("t={T},v0={KNOWN_V1}");
        let err = verify(&header, &[SECRET], T).unwrap_err();
        assert_eq!(err.code(), ErrorCode::StripeSignatureMalformed);
        assert!(err.message().contains("no v1"));
    }

    #[test]
    fn malformed_headers_are_rejected_with_what_is_wrong() {
        let long = format!("t={T},v1={KNOWN_V1},x={}", "a".repeat(MAX_HEADER_BYTES));
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            ("   ".into(), "empty"),
            (long, "8192-byte limit"),
            (format!("v1={KNOWN_V1}"), "no `t`"),
            (format!("t=abc,v1={KNOWN_V1}"), "`t` is not"),
            (format!("t=-5,v1={KNOWN_V1}"), "`t` is not"),
            (format!("t=+5,v1={KNOWN_V1}"), "`t` is not"),
            (format!("t=1.5,v1={KNOWN_V1}"), "`t` is not"),
            (format!("t=,v1={KNOWN_V1}"), "`t` is not"),
            (
                format!("t=99999999999999999999,v1={KNOWN_V1}"),
                "`t` is not",
            ),
            (format!("t={T},t={T},v1={KNOWN_V1}"), "more than one `t`"),
            (format!("t={T}"), "no v1"),
            (format!("t={T},v1="), "the v1 signature in the"),
            (
                format!("t={T},v1=abc,v1={}", "z".repeat(64)),
                "none of the 2",
            ),
            (format!("t={T},v1={}", "g".repeat(64)), "64 hex"),
            (format!("t={T},v1={KNOWN_V1}00"), "64 hex"),
            ("garbage".into(), "no `t`"),
        ];
        for (header, needle) in cases {
            let err = verify(&header, &[SECRET], T).unwrap_err();
            assert_eq!(
                err.code(),
                ErrorCode::StripeSignatureMalformed,
                "header {header:?}"
            );
            assert!(
                err.message().contains(needle),
                "{header:?}: {:?} lacks {needle:?}",
                err.message()
            );
        }
    }

    #[test]
    fn messages_never_echo_secrets_or_signatures() {
        let header = signature_header(BODY, "whsec_other", T);
        let wrong_v1 = header.split("v1=").nth(1).unwrap().to_owned();
        let errors = [
            verify(&header, &[SECRET], T).unwrap_err(),
            verify(&signature_header(BODY, SECRET, T), &[SECRET], T + 999).unwrap_err(),
            verify(&format!("t={T},v1={wrong_v1}0"), &[SECRET], T).unwrap_err(),
        ];
        for err in errors {
            let text = err.to_string();
            for forbidden in [SECRET, "whsec_other", wrong_v1.as_str(), KNOWN_V1] {
                assert!(!text.contains(forbidden), "{text}");
            }
        }
    }
}
