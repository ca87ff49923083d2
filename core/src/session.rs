//! User session tokens: `{sub, email, org_id, role, is_superuser?}` signed with EdDSA, or with
//! HS256 only where a shared secret is configured. `exp` is required.

use jwt_compact::alg::{Hs256, Hs256Key, Hs256Signature};
use jwt_compact::{Algorithm, AlgorithmSignature, UntrustedToken};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};
use crate::keys::{describe, unknown_kid, KeyEntry, Keyring};
use crate::token::eddsa::EdDSA;
use crate::token::v2::decode_claims;
use crate::token::MAX_TOKEN_BYTES;

/// The length of an HS256 signature: one HMAC-SHA256 digest.
const HS256_SIGNATURE_BYTES: usize = 32;

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
        let untrusted = UntrustedToken::<HeaderExtensions>::try_from(token)
            .map_err(|e| Error::malformed(format!("the session token is not a JWS: {e}")))?;
        let (signed_data, _) = token
            .rsplit_once('.')
            .ok_or_else(|| Error::malformed("the session token has no signature"))?;
        // As for licenses: the algorithm first, then `crit`, then the key.
        let hs256_key = match (untrusted.algorithm(), &self.hs256) {
            ("EdDSA", _) => None,
            ("HS256", Some(key)) => Some(key),
            (alg, _) => {
                let shown = crate::error::shown(alg, 20, "(a long name)");
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    format!("session tokens signed with {shown:?} are not accepted here"),
                ));
            }
        };
        if untrusted.header().other_fields.crit.is_some() {
            // RFC 7515 §4.1.11: critical extensions the verifier does not implement are refused.
            return Err(Error::malformed(
                "the session token's header lists critical extensions (`crit`), which this \
                 verifier does not support",
            ));
        }
        let (verified, entry) = match hs256_key {
            None => {
                let entry = match untrusted.header().key_id.as_deref() {
                    Some(kid) => self.keyring.get(kid).ok_or_else(|| unknown_kid(kid))?,
                    // Without a kid, a keyring of exactly one key is unambiguous.
                    None => match self.keyring.entries() {
                        [only] => only,
                        _ => return Err(Error::malformed("the session token has no `kid`")),
                    },
                };
                let verified = ed25519_dalek::Signature::from_slice(untrusted.signature_bytes())
                    .map(|sig| {
                        EdDSA.verify_signature(
                            &sig,
                            entry.key.verifying_key(),
                            signed_data.as_bytes(),
                        )
                    })
                    .unwrap_or(false);
                (verified, Some(entry))
            }
            Some(key) => {
                // jwt-compact's `try_from_slice` panics on a slice that is not exactly one
                // digest long (0.8.0), so the length is checked first.
                let signature = untrusted.signature_bytes();
                let verified = signature.len() == HS256_SIGNATURE_BYTES
                    && Hs256Signature::try_from_slice(signature)
                        .map(|sig| Hs256.verify_signature(&sig, key, signed_data.as_bytes()))
                        .unwrap_or(false);
                (verified, None)
            }
        };
        if !verified {
            return Err(Error::new(
                ErrorCode::InvalidSignature,
                "the session token's signature does not verify",
            ));
        }
        self.check_claims(decode_claims(signed_data)?, entry, now)
    }

    /// The claims' schema, then the window of the EdDSA key that signed them (`key`), then
    /// issuer, `nbf` and `exp`: the order of the license checks.
    fn check_claims(
        &self,
        mut claims: Map<String, Value>,
        key: Option<&KeyEntry>,
        now: i64,
    ) -> Result<Session> {
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
        let iss = string("iss").ok();
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
        let optional_int = |name: &str| match claims.get(name).filter(|v| !v.is_null()) {
            None => Ok(None),
            v => int(v, name).map(Some),
        };
        let exp = int(claims.get("exp"), "exp")?;
        let iat = optional_int("iat")?;
        let nbf = optional_int("nbf")?;
        if let Some(entry) = key {
            entry.check_window(iat, now)?;
        }
        if let Some(expected) = &self.issuer {
            if iss.as_deref() != Some(expected.as_str()) {
                return Err(Error::new(
                    ErrorCode::IssuerMismatch,
                    format!("the session token is not issued by {expected:?}"),
                ));
            }
        }
        if nbf.is_some_and(|nbf| now.saturating_add(self.leeway) < nbf) {
            return Err(Error::new(
                ErrorCode::NotYetValid,
                "the session token is not valid yet",
            ));
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

/// Header members beyond those jwt-compact reads: only whether `crit` is set (`null` is not).
#[derive(Debug, Clone, Deserialize)]
struct HeaderExtensions {
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use ed25519_dalek::Signer;
    use serde_json::json;

    use super::*;
    use crate::keys::KeyEntry;

    const NOW: i64 = 1_800_000_000;
    const HOUR: i64 = 3_600;
    const SECRET: &[u8] = b"a-shared-session-secret-of-32-bytes!";

    fn signing_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[9u8; 32])
    }

    /// A keyring of the session key under `k1`, with this window.
    fn ring(not_before: Option<i64>, not_after: Option<i64>) -> Keyring {
        let mut ring = Keyring::new();
        ring.insert(KeyEntry {
            kid: "k1".into(),
            key: signing_key().verifying_key().into(),
            not_before,
            not_after,
        });
        ring
    }

    fn claims(iat: Option<Value>) -> Value {
        let mut c = json!({
            "sub": "user_1", "email": "ada@acme.example", "org_id": "org_a", "role": "admin",
            "exp": NOW + HOUR,
        });
        if let (Some(iat), Some(o)) = (iat, c.as_object_mut()) {
            o.insert("iat".into(), iat);
        }
        c
    }

    fn signed_input(header: &str, claims: &Value) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn eddsa(header: &str, claims: &Value) -> String {
        let input = signed_input(header, claims);
        let signature = signing_key().sign(input.as_bytes()).to_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn hs256(header: &str, claims: &Value) -> String {
        use hmac::{Hmac, Mac};
        let input = signed_input(header, claims);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
        mac.update(input.as_bytes());
        let signature = mac.finalize().into_bytes();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    const HEADER: &str = r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#;

    fn code(result: Result<Session>) -> ErrorCode {
        result.unwrap_err().code()
    }

    #[test]
    fn a_session_is_checked_against_its_keys_window_at_iat() {
        let retired = SessionVerifier::new(ring(None, Some(NOW - HOUR)));
        let issued_after_retirement = eddsa(HEADER, &claims(Some(json!(NOW - 60))));
        let err = retired.verify(&issued_after_retirement, NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::KeyNotValidNow, "{err}");
        assert!(err.message().contains("\"k1\""), "{err}");
        // Issued while the key was in use: still verifies (as a license would).
        let issued_before = eddsa(HEADER, &claims(Some(json!(NOW - 2 * HOUR))));
        assert_eq!(retired.verify(&issued_before, NOW).unwrap().role, "admin");

        let not_yet = SessionVerifier::new(ring(Some(NOW + HOUR), None));
        let token = eddsa(HEADER, &claims(Some(json!(NOW))));
        assert_eq!(code(not_yet.verify(&token, NOW)), ErrorCode::KeyNotValidNow);
    }

    #[test]
    fn a_session_without_iat_is_checked_against_the_window_at_now() {
        let token = eddsa(HEADER, &claims(None));
        let retired = SessionVerifier::new(ring(None, Some(NOW - HOUR)));
        assert_eq!(code(retired.verify(&token, NOW)), ErrorCode::KeyNotValidNow);
        assert!(retired.verify(&token, NOW - 2 * HOUR).is_ok());
        // `iat: null` is no iat.
        let token = eddsa(HEADER, &claims(Some(json!(null))));
        let err = retired.verify(&token, NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::KeyNotValidNow);
        assert!(err.message().contains("no iat"), "{err}");
    }

    #[test]
    fn a_kidless_session_is_checked_against_the_only_keys_window() {
        let token = eddsa(r#"{"alg":"EdDSA"}"#, &claims(Some(json!(NOW))));
        let retired = SessionVerifier::new(ring(None, Some(NOW - HOUR)));
        assert_eq!(code(retired.verify(&token, NOW)), ErrorCode::KeyNotValidNow);
        assert!(SessionVerifier::new(ring(None, None))
            .verify(&token, NOW)
            .is_ok());
    }

    #[test]
    fn an_iat_that_is_not_an_integer_is_invalid_claims() {
        let verifier = SessionVerifier::new(ring(None, None));
        for iat in [json!("yesterday"), json!(1.5), json!(true)] {
            let token = eddsa(HEADER, &claims(Some(iat.clone())));
            let err = verifier.verify(&token, NOW).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidClaims, "{iat}: {err}");
            assert!(err.message().contains("`iat`"), "{iat}: {err}");
        }
    }

    #[test]
    fn a_header_with_critical_extensions_is_refused() {
        let verifier = SessionVerifier::new(ring(None, None))
            .with_hs256_secret(Some(SECRET))
            .unwrap();
        for token in [
            eddsa(
                r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#,
                &claims(None),
            ),
            eddsa(r#"{"alg":"EdDSA","kid":"k1","crit":[]}"#, &claims(None)),
            hs256(r#"{"alg":"HS256","crit":["exp"]}"#, &claims(None)),
        ] {
            let err = verifier.verify(&token, NOW).unwrap_err();
            assert_eq!(err.code(), ErrorCode::MalformedToken, "{err}");
            assert!(err.message().contains("crit"), "{err}");
        }
        // `crit: null` lists nothing, as for licenses.
        let token = eddsa(r#"{"alg":"EdDSA","kid":"k1","crit":null}"#, &claims(None));
        assert!(verifier.verify(&token, NOW).is_ok());
        let token = hs256(r#"{"alg":"HS256"}"#, &claims(None));
        assert!(verifier.verify(&token, NOW).is_ok());
    }

    #[test]
    fn an_hs256_signature_of_the_wrong_length_is_an_invalid_signature() {
        // Found by the `session` fuzz target: such a token made the verifier panic.
        let verifier = SessionVerifier::new(ring(None, None))
            .with_hs256_secret(Some(SECRET))
            .unwrap();
        let token = hs256(r#"{"alg":"HS256"}"#, &claims(None));
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let digest = URL_SAFE_NO_PAD.decode(signature).unwrap();
        for length in [0, 1, 16, 31, 33, 64] {
            let mut wrong = digest.clone();
            wrong.resize(length, 7);
            let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&wrong));
            let err = verifier.verify(&token, NOW).unwrap_err();
            assert_eq!(
                err.code(),
                ErrorCode::InvalidSignature,
                "{length} bytes: {err}"
            );
        }
        assert!(verifier.verify(&token, NOW).is_ok());
    }

    #[test]
    fn the_algorithm_is_refused_before_crit_is_looked_at() {
        let token = hs256(r#"{"alg":"HS256","crit":["exp"]}"#, &claims(None));
        let verifier = SessionVerifier::new(ring(None, None));
        assert_eq!(
            code(verifier.verify(&token, NOW)),
            ErrorCode::UnsupportedAlgorithm
        );
    }
}
