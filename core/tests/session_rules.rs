//! Session-token rules the vectors do not reach, each pinned (found missing by `make mutants`):
//! the HS256 secret's minimum length, empty claims, a required issuer, and a `Debug` that never
//! shows the secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]

use dev_health_entitlements::issue::{sign_raw_jwt, SigningKey};
use dev_health_entitlements::{ErrorCode, Keyring, SessionVerifier};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;

fn key() -> SigningKey {
    SigningKey::from_seed(&[6u8; 32]).unwrap()
}

fn verifier() -> SessionVerifier {
    let mut ring = Keyring::new();
    ring.add("s", key().public_key());
    SessionVerifier::new(ring)
}

fn token(edit: impl FnOnce(&mut Map<String, Value>)) -> String {
    let Value::Object(mut claims) = json!({
        "sub": "user_1", "email": "ada@acme.example", "org_id": "org_a", "role": "admin",
        "iat": NOW - 60, "exp": NOW + 3600,
    }) else {
        unreachable!()
    };
    edit(&mut claims);
    sign_raw_jwt(claims, &key(), "s").unwrap()
}

#[test]
fn an_hs256_secret_needs_32_bytes() {
    assert!(SessionVerifier::new(Keyring::new())
        .with_hs256_secret(Some(&[1u8; 32]))
        .is_ok());
    let err = SessionVerifier::new(Keyring::new())
        .with_hs256_secret(Some(&[1u8; 31]))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey, "{err}");
}

#[test]
fn empty_identity_claims_are_invalid_claims() {
    assert_eq!(
        verifier().verify(&token(|_| {}), NOW).unwrap().sub,
        "user_1"
    );
    for claim in ["sub", "email", "org_id", "role"] {
        let t = token(|c| {
            c.insert(claim.into(), json!(""));
        });
        let err = verifier().verify(&t, NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidClaims, "{claim}: {err}");
        assert!(err.message().contains(claim), "{err}");
    }
}

#[test]
fn a_required_issuer_must_match() {
    let v = verifier().with_issuer(Some("app.example".into()));
    let from = |iss: &str| {
        token(|c| {
            c.insert("iss".into(), json!(iss));
        })
    };
    assert!(v.verify(&from("app.example"), NOW).is_ok());
    let err = v.verify(&from("evil.example"), NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::IssuerMismatch, "{err}");
    let err = v.verify(&token(|_| {}), NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::IssuerMismatch, "{err}");
}

#[test]
fn debug_shows_the_settings_but_never_the_secret() {
    let secret = b"a-shared-session-secret-of-40-bytes-long";
    let v = verifier()
        .with_hs256_secret(Some(secret))
        .unwrap()
        .with_leeway(7);
    let shown = format!("{v:?}");
    assert!(shown.starts_with("SessionVerifier"), "{shown}");
    assert!(
        shown.contains("hs256: true") && shown.contains("leeway: 7"),
        "{shown}"
    );
    assert!(!shown.contains("a-shared-session-secret"), "{shown}");
}

#[test]
fn nbf_within_the_leeway_is_accepted_and_beyond_it_is_not_yet_valid() {
    let at = |nbf: i64| {
        token(|c| {
            c.insert("nbf".into(), json!(nbf));
        })
    };
    assert!(verifier().verify(&at(NOW + 60), NOW).is_ok());
    let err = verifier().verify(&at(NOW + 61), NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotYetValid, "{err}");
}
