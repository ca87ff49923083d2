//! The one error type of the engine, with the stable codes of SPEC §1.4 and a few more.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable, snake_case error code. The same strings appear in every language binding.
///
/// The first thirteen are the license-verification codes of SPEC §1.4; the rest name failures of
/// the other inputs the engine accepts (keys, catalogs, session tokens, Stripe webhooks).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The token is longer than the 16 KiB limit; it was not decoded.
    TokenTooLarge,
    /// The token is not a well-formed v1 or v2 token (structure, base64, JSON header).
    MalformedToken,
    /// The header names an algorithm other than `EdDSA`, or v1 tokens are turned off.
    UnsupportedAlgorithm,
    /// The `kid` names no trusted key (or, for v1, the keyring is empty).
    UnknownKeyId,
    /// The key that signed the token was not valid when the token was issued.
    KeyNotValidNow,
    /// The signature does not verify under the trusted key.
    InvalidSignature,
    /// A claim is missing or has the wrong type or value; the message names it.
    InvalidClaims,
    /// `iss` is not the verifier's issuer.
    IssuerMismatch,
    /// The verifier's deployment id is not among the token's `aud`.
    AudienceMismatch,
    /// `iat` lies more than the leeway in the future.
    IssuedInFuture,
    /// `nbf` lies more than the leeway in the future.
    NotYetValid,
    /// The license id is on the revocation list.
    Revoked,
    /// `now` lies more than the leeway before the latest time seen.
    ClockRollback,
    /// A public or private key could not be read.
    InvalidKey,
    /// A catalog document is not valid; the message names the offending entry.
    InvalidCatalog,
    /// An argument of the API is out of its domain (for example, an unknown tier name).
    InvalidInput,
    /// No license was found where one was looked for (the environment, a file).
    LicenseNotFound,
    /// A session token's `exp` has passed.
    SessionExpired,
    /// The `Stripe-Signature` header cannot be parsed.
    StripeSignatureMalformed,
    /// No `v1` signature in the header matches any configured webhook secret.
    StripeSignatureMismatch,
    /// The `Stripe-Signature` timestamp is outside the tolerance (either way).
    StripeTimestampOutOfTolerance,
    /// A Stripe event body is not a well-formed event.
    InvalidStripeEvent,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::TokenTooLarge,
        ErrorCode::MalformedToken,
        ErrorCode::UnsupportedAlgorithm,
        ErrorCode::UnknownKeyId,
        ErrorCode::KeyNotValidNow,
        ErrorCode::InvalidSignature,
        ErrorCode::InvalidClaims,
        ErrorCode::IssuerMismatch,
        ErrorCode::AudienceMismatch,
        ErrorCode::IssuedInFuture,
        ErrorCode::NotYetValid,
        ErrorCode::Revoked,
        ErrorCode::ClockRollback,
        ErrorCode::InvalidKey,
        ErrorCode::InvalidCatalog,
        ErrorCode::InvalidInput,
        ErrorCode::LicenseNotFound,
        ErrorCode::SessionExpired,
        ErrorCode::StripeSignatureMalformed,
        ErrorCode::StripeSignatureMismatch,
        ErrorCode::StripeTimestampOutOfTolerance,
        ErrorCode::InvalidStripeEvent,
    ];

    /// The code as its stable string, e.g. `"invalid_signature"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::TokenTooLarge => "token_too_large",
            ErrorCode::MalformedToken => "malformed_token",
            ErrorCode::UnsupportedAlgorithm => "unsupported_algorithm",
            ErrorCode::UnknownKeyId => "unknown_key_id",
            ErrorCode::KeyNotValidNow => "key_not_valid_now",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::InvalidClaims => "invalid_claims",
            ErrorCode::IssuerMismatch => "issuer_mismatch",
            ErrorCode::AudienceMismatch => "audience_mismatch",
            ErrorCode::IssuedInFuture => "issued_in_future",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::Revoked => "revoked",
            ErrorCode::ClockRollback => "clock_rollback",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::InvalidCatalog => "invalid_catalog",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::LicenseNotFound => "license_not_found",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::StripeSignatureMalformed => "stripe_signature_malformed",
            ErrorCode::StripeSignatureMismatch => "stripe_signature_mismatch",
            ErrorCode::StripeTimestampOutOfTolerance => "stripe_timestamp_out_of_tolerance",
            ErrorCode::InvalidStripeEvent => "invalid_stripe_event",
        }
    }

    /// Parses a code from its stable string.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A machine-readable refinement of an [`ErrorCode`]: which kind of `malformed_token`,
/// `invalid_claims` or `invalid_signature` it is, for hosts that word each differently (the
/// dev-health-ops compatibility layer says "Invalid base64 encoding" for one and "Invalid license
/// format" for another). The codes stay the stable contract; a detail only refines one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorDetail {
    /// `malformed_token`: the token is empty.
    Empty,
    /// `malformed_token`: the token has the wrong number of dot-separated parts.
    WrongPartCount,
    /// `malformed_token`: a part is not base64 of the format's alphabet and padding.
    InvalidBase64,
    /// `malformed_token`: the v2 header is not a JSON object with the members a JWS needs.
    InvalidHeader,
    /// `invalid_claims`: the signed payload is not JSON.
    InvalidJson,
    /// `invalid_claims`: the signed payload is JSON but not an object.
    NotAnObject,
    /// `invalid_claims`: a required claim is absent (the message names it).
    MissingClaim,
    /// `invalid_claims`: a claim has the wrong type or value (the message names it).
    InvalidClaim,
    /// `invalid_signature`: the signature is not 64 bytes.
    SignatureLength,
    /// `invalid_signature`: the signature does not verify under the trusted key(s).
    SignatureMismatch,
}

impl ErrorDetail {
    /// The detail as its stable string, e.g. `"invalid_base64"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorDetail::Empty => "empty",
            ErrorDetail::WrongPartCount => "wrong_part_count",
            ErrorDetail::InvalidBase64 => "invalid_base64",
            ErrorDetail::InvalidHeader => "invalid_header",
            ErrorDetail::InvalidJson => "invalid_json",
            ErrorDetail::NotAnObject => "not_an_object",
            ErrorDetail::MissingClaim => "missing_claim",
            ErrorDetail::InvalidClaim => "invalid_claim",
            ErrorDetail::SignatureLength => "signature_length",
            ErrorDetail::SignatureMismatch => "signature_mismatch",
        }
    }
}

/// An engine error: a stable [`ErrorCode`], a human message that says what was wrong, and for
/// some codes a machine-readable [`ErrorDetail`].
///
/// Messages never contain key material or whole tokens. Shown as `code: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    code: ErrorCode,
    message: String,
    detail: Option<ErrorDetail>,
}

impl Error {
    /// Creates an error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// The same error with this detail (cargo feature `ops-compat`, on by default; without it
    /// errors carry no detail).
    #[inline]
    pub fn with_detail(mut self, detail: ErrorDetail) -> Self {
        if cfg!(feature = "ops-compat") {
            self.detail = Some(detail);
        }
        self
    }

    /// The machine-readable detail, where the engine gives one.
    pub fn detail(&self) -> Option<ErrorDetail> {
        self.detail
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn malformed(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::MalformedToken, message)
    }

    pub(crate) fn claims(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidClaims, message).with_detail(ErrorDetail::InvalidClaim)
    }

    pub(crate) fn key(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidKey, message)
    }

    /// An `invalid_input` error: an argument of an API (the engine's or a binding's) is out of its
    /// domain.
    pub fn input(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidInput, message)
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `value` as an error message may quote it: itself when at most `max` bytes, otherwise the
/// placeholder `long` (token fields are untrusted; a message must not carry kilobytes of them).
pub(crate) fn shown<'a>(value: &'a str, max: usize, long: &'a str) -> &'a str {
    if value.len() <= max {
        value
    } else {
        long
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_shows_its_code_then_its_message() {
        let err = Error::new(
            ErrorCode::Revoked,
            "license lic_1 is on the revocation list",
        );
        assert_eq!(
            err.to_string(),
            "revoked: license lic_1 is on the revocation list"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(err);
        assert!(boxed.source().is_none());
    }

    #[test]
    fn every_code_round_trips_through_its_string() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
