//! User session tokens (SPEC §5): `SessionVerifier::verify`, as the server runs it on every
//! bearer token that is not the admin token.
//!
//! Input: a raw token, or `#sign eddsa` / `#sign hs256` on the first line and JSON claims after
//! it, which the target signs with the vectors' session key (seed `[3; 32]`, kid `session-1`) or
//! the HS256 secret, so that mutations reach the claim checks.
//!
//! Invariants: errors carry a session code and do not echo the token; an accepted session
//! verifies again to the same session, has its non-empty fields and an `exp` not past; HS256 is
//! refused where no secret is configured; one changed character stops a token verifying.

#![no_main]

use std::sync::LazyLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dev_health_entitlements::issue::sign_raw_jwt;
use dev_health_entitlements::{ErrorCode, KeyEntry, Keyring, Session, SessionVerifier};
use dev_health_fuzz::{check_error, directive, signing_key, text, NOW, SESSION_KID};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sha2::Sha256;

const HS256_SECRET: &[u8] = b"fuzz-session-secret-at-least-32-bytes";
const LEEWAY: i64 = dev_health_entitlements::DEFAULT_LEEWAY_SECS;

const SESSION_CODES: [ErrorCode; 10] = [
    ErrorCode::TokenTooLarge,
    ErrorCode::MalformedToken,
    ErrorCode::UnsupportedAlgorithm,
    ErrorCode::UnknownKeyId,
    ErrorCode::KeyNotValidNow,
    ErrorCode::InvalidSignature,
    ErrorCode::InvalidClaims,
    ErrorCode::IssuerMismatch,
    ErrorCode::NotYetValid,
    ErrorCode::SessionExpired,
];

fn session_keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(KeyEntry {
        kid: SESSION_KID.to_owned(),
        key: signing_key(3).public_key(),
        not_before: Some(NOW - 86_400),
        not_after: None,
    });
    keys
}

/// EdDSA only, any issuer: the server with `SESSION_PUBLIC_KEYS` alone.
static EDDSA: LazyLock<SessionVerifier> = LazyLock::new(|| SessionVerifier::new(session_keys()));

/// EdDSA and HS256, issuer required.
static BOTH: LazyLock<SessionVerifier> = LazyLock::new(|| {
    match SessionVerifier::new(session_keys()).with_hs256_secret(Some(HS256_SECRET)) {
        Ok(v) => v.with_issuer(Some("dev-health".to_owned())),
        Err(e) => unreachable!("the secret is long enough: {}", e.message()),
    }
});

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    let (token, hs256) = match directive(&input) {
        (Some("sign eddsa"), claims) => match object(claims) {
            Some(claims) => match sign_raw_jwt(claims, &signing_key(3), SESSION_KID) {
                Ok(token) => (token, false),
                Err(_) => return,
            },
            None => return,
        },
        (Some("sign hs256"), claims) => match object(claims) {
            Some(claims) => (sign_hs256(&claims), true),
            None => return,
        },
        (Some(_), _) => return,
        (None, token) => (token.to_owned(), false),
    };

    let eddsa = EDDSA.verify(&token, NOW);
    let both = BOTH.verify(&token, NOW);
    for (verifier, result, what) in [
        (&*EDDSA, &eddsa, "EdDSA-only verifier"),
        (&*BOTH, &both, "EdDSA and HS256 verifier"),
    ] {
        match result {
            Err(e) => check_error(e, &SESSION_CODES, &token, what),
            Ok(session) => check_session(verifier, &token, session),
        }
    }
    if hs256 {
        // Refused for its algorithm, unless it was too large to be read at all.
        let code = eddsa.as_ref().err().map(|e| e.code());
        assert!(
            matches!(
                code,
                Some(ErrorCode::UnsupportedAlgorithm | ErrorCode::TokenTooLarge)
            ),
            "an HS256 session was not refused for its algorithm by a verifier without a secret: \
             {code:?}"
        );
    }
});

fn object(claims: &str) -> Option<serde_json::Map<String, Value>> {
    match dev_health_entitlements::json::parse(claims.as_bytes()) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// An HS256 JWT, signed the way a backend sharing the secret signs its sessions.
fn sign_hs256(claims: &serde_json::Map<String, Value>) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signed = format!("{header}.{claims}");
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(HS256_SECRET) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(signed.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signed}.{signature}")
}

fn check_session(verifier: &SessionVerifier, token: &str, session: &Session) {
    let again = verifier.verify(token, NOW);
    assert_eq!(
        again.as_ref().ok(),
        Some(session),
        "the same session verified again gave another answer"
    );
    for (name, value) in [
        ("sub", &session.sub),
        ("email", &session.email),
        ("org_id", &session.org_id),
        ("role", &session.role),
    ] {
        assert!(!value.is_empty(), "a session with an empty {name}");
    }
    assert!(
        NOW <= session.exp.saturating_add(LEEWAY),
        "an expired session verified"
    );
    let mut chars: Vec<char> = token.trim().chars().collect();
    let middle = chars.len() / 2;
    if let Some(c) = chars.get_mut(middle) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    let tampered: String = chars.into_iter().collect();
    if let Ok(s) = verifier.verify(&tampered, NOW) {
        panic!(
            "a session token with one character changed verified ({:?})",
            s.sub
        );
    }
}
