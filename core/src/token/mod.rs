//! The two token formats: v2 (EdDSA JWT, `header.claims.signature`) and v1 (dev-health-ops
//! legacy, `payload.signature`), and the one signature primitive both use.

pub mod eddsa;
pub mod unverified;
pub mod v1;
pub mod v2;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, ErrorDetail, Result};

/// Tokens longer than this are refused before any decoding (SPEC §1.1).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Which format a token was written in.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// dev-health-ops legacy: `base64(payload).base64(signature)`.
    V1,
    /// EdDSA JWT.
    V2,
}

impl TokenFormat {
    /// `"v1"` or `"v2"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenFormat::V1 => "v1",
            TokenFormat::V2 => "v2",
        }
    }
}

/// Checks the size limit and tells the format apart by the number of dots (1: v1, 2: v2).
pub fn detect_format(token: &str) -> Result<TokenFormat> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::new(
            ErrorCode::TokenTooLarge,
            format!(
                "the token is {} bytes; the limit is {MAX_TOKEN_BYTES}",
                token.len()
            ),
        ));
    }
    // Counted 64 bytes at a time into a `u8`, which vectorizes (a byte-wise count does not and
    // cost a tenth of a microsecond on every license).
    let dots: usize = token
        .as_bytes()
        .chunks(64)
        .map(|chunk| usize::from(chunk.iter().map(|&b| u8::from(b == b'.')).sum::<u8>()))
        .sum();
    match dots {
        1 => Ok(TokenFormat::V1),
        2 => Ok(TokenFormat::V2),
        0 if token.trim().is_empty() => {
            Err(Error::malformed("the token is empty").with_detail(ErrorDetail::Empty))
        }
        n => Err(Error::malformed(format!(
            "a license token has 1 dot (v1) or 2 dots (v2); this one has {n}"
        ))
        .with_detail(ErrorDetail::WrongPartCount)),
    }
}
