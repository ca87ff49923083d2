//! User session tokens: `{sub, email, org_id, role, is_superuser?}` signed with EdDSA, or with
//! HS256 only where a shared secret is configured. `exp` is required.

use jwt_compact::alg::{Hs256, Hs256Key, Hs256Signature};
use jwt_compact::{Algorithm, AlgorithmSignature, UntrustedToken};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{describe, unknown_kid, Keyring};
use crate::token::eddsa::EdDSA;
use crate::token::v2::decode_claims;
use crate::token::MAX_TOKEN_BYTES;

/// A verified user session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The user id.
    pub sub: String,
    /// The user's email.
    pub email: String,
    /// The org the session is for.
    pub org_id: String,
    /// The user's role in that org (see the catalog's roles).
    pub role: String,
    /// Superusers reach every org.
    pub is_superuser: bool,
    /// Expiry (Unix seconds).
    pub exp: i64,
}

/// Verifies session tokens.
#[derive(Clone)]
pub struct SessionVerifier {
    keyring: Keyring,
    hs256: Option<Hs256Key>,
    leeway: i64,
    issuer: Option<String>,
}

impl std::fmt::Debug for SessionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionVerifier")
            .field("keys", &self.keyring.len())
            .field("hs256", &self.hs256.is_some())
            .field("leeway", &self.leeway)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl SessionVerifier {
    /// A verifier of EdDSA session tokens signed by these keys (60 s leeway, any issuer).
    pub fn new(keyring: Keyring) -> SessionVerifier {
        SessionVerifier {
            keyring,
            hs256: None,
            leeway: crate::verify::DEFAULT_LEEWAY_SECS,
            issuer: None,
        }
    }

    /// Also accepts HS256 tokens made with this shared secret (and only with it).
    pub fn with_hs256_secret(mut self, secret: Option<&[u8]>) -> Result<SessionVerifier> {
        if let Some(secret) = secret {
            if secret.len() < 32 {
                return Err(Error::key(
                    "the HS256 session secret must be at least 32 bytes",
                ));
            }
        }
        self.hs256 = secret.map(Hs256Key::new);
        Ok(self)
    }

    /// Tolerates this much clock skew on `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: i64) -> SessionVerifier {
        self.leeway = seconds.max(0);
        self
    }

    /// Requires this `iss`, when set.
    pub fn with_issuer(mut self, issuer: Option<String>) -> SessionVerifier {
        self.issuer = issuer;
        self
    }

    /// Verifies a session token at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Session> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::new(
                ErrorCode::TokenTooLarge,
                "the session token is larger than 16 KiB",
            ));
        }
        let untrusted = UntrustedToken::new(token)
            .map_err(|e| Error::malformed(format!("the session token is not a JWS: {e}")))?;
        let (signed_data, _) = token
            .rsplit_once('.')
            .ok_or_else(|| Error::malformed("the session token has no signature"))?;
        let verified = match (untrusted.algorithm(), &self.hs256) {
            ("EdDSA", _) => {
                let entry = match untrusted.header().key_id.as_deref() {
                    Some(kid) => self.keyring.get(kid).ok_or_else(|| unknown_kid(kid))?,
                    // Without a kid, a keyring of exactly one key is unambiguous.
                    None => match self.keyring.entries() {
                        [only] => only,
                        _ => return Err(Error::malformed("the session token has no `kid`")),
                    },
                };
                ed25519_dalek::Signature::from_slice(untrusted.signature_bytes())
                    .map(|sig| {
                        EdDSA.verify_signature(
                            &sig,
                            entry.key.verifying_key(),
                            signed_data.as_bytes(),
                        )
                    })
                    .unwrap_or(false)
            }
            ("HS256", Some(key)) => Hs256Signature::try_from_slice(untrusted.signature_bytes())
                .map(|sig| Hs256.verify_signature(&sig, key, signed_data.as_bytes()))
                .unwrap_or(false),
            (alg, _) => {
                let shown = crate::error::shown(alg, 20, "(a long name)");
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    format!("session tokens signed with {shown:?} are not accepted here"),
                ));
            }
        };
        if !verified {
            return Err(Error::new(
                ErrorCode::InvalidSignature,
                "the session token's signature does not verify",
            ));
        }
        self.check_claims(decode_claims(signed_data)?, now)
    }

    fn check_claims(&self, mut claims: Map<String, Value>, now: i64) -> Result<Session> {
        let mut string = |name: &str| match claims.remove(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            other => Err(Error::claims(format!(
                "session claim `{name}` must be a non-empty string, found {}",
                describe(other.as_ref())
            ))),
        };
        let sub = string("sub")?;
        let email = string("email")?;
        let org_id = string("org_id")?;
        let role = string("role")?;
        if let Some(expected) = &self.issuer {
            let iss = string("iss").ok();
            if iss.as_deref() != Some(expected.as_str()) {
                return Err(Error::new(
                    ErrorCode::IssuerMismatch,
                    format!("the session token is not issued by {expected:?}"),
                ));
            }
        }
        let is_superuser = match claims.remove("is_superuser") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(other) => {
                return Err(Error::claims(format!(
                    "session claim `is_superuser` must be true or false, found {}",
                    describe(Some(&other))
                )))
            }
        };
        let int = |v: Option<&Value>, name: &str| {
            v.and_then(Value::as_i64).ok_or_else(|| {
                Error::claims(format!(
                    "session claim `{name}` must be an integer (Unix seconds), found {}",
                    describe(v)
                ))
            })
        };
        let exp = int(claims.get("exp"), "exp")?;
        if let Some(nbf) = claims.get("nbf").filter(|v| !v.is_null()) {
            if now.saturating_add(self.leeway) < int(Some(nbf), "nbf")? {
                return Err(Error::new(
                    ErrorCode::NotYetValid,
                    "the session token is not valid yet",
                ));
            }
        }
        if now > exp.saturating_add(self.leeway) {
            return Err(Error::new(
                ErrorCode::SessionExpired,
                format!("the session expired at {exp} (now {now})"),
            ));
        }
        Ok(Session {
            sub,
            email,
            org_id,
            role,
            is_superuser,
            exp,
        })
    }
}
