//! SPEC §1.5 and §7.5: the signed revocation list, one test per rule, run natively (the vectors
//! only hand verifiers lists that verify).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]

use std::collections::BTreeMap;

use dev_health_entitlements::issue::{sign_revocation_list, sign_v2, SigningKey};
use dev_health_entitlements::verify::MAX_REVOCATION_LIST_BYTES;
use dev_health_entitlements::{
    ErrorCode, Keyring, LicenseClaims, LicenseType, RevocationList, Tier, Verifier,
    DEFAULT_LEEWAY_SECS,
};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;
const ISS: &str = "fullchaos.studio";

fn key() -> SigningKey {
    SigningKey::from_seed(&[9u8; 32]).unwrap()
}

fn keyring() -> Keyring {
    let mut ring = Keyring::new();
    ring.add("rl", key().public_key());
    ring
}

fn list(ids: &[&str], issuer: &str, iat: i64, exp: i64) -> String {
    sign_revocation_list(ids, issuer, iat, exp, &key(), "rl").unwrap()
}

fn license(jti: &str) -> String {
    let claims = LicenseClaims {
        iss: ISS.into(),
        sub: "org_a".into(),
        aud: vec![],
        iat: NOW - DAY,
        nbf: None,
        exp: NOW + 30 * DAY,
        license_id: jti.into(),
        tier: Tier::Team,
        features: BTreeMap::new(),
        limits: BTreeMap::new(),
        grace_days: None,
        org_name: None,
        contact_email: None,
        license_type: LicenseType::SelfHosted,
        extra: Default::default(),
    };
    sign_v2(&claims, &key(), "rl").unwrap()
}

#[test]
fn a_list_issued_more_than_leeway_in_the_future_is_issued_in_future() {
    let late = list(&["lic_1"], ISS, NOW + DEFAULT_LEEWAY_SECS + 1, NOW + DAY);
    let err = RevocationList::verify(&late, &keyring(), ISS, NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::IssuedInFuture, "{err}");
    // At exactly the leeway it is accepted.
    let edge = list(&["lic_1"], ISS, NOW + DEFAULT_LEEWAY_SECS, NOW + DAY);
    assert!(RevocationList::verify(&edge, &keyring(), ISS, NOW)
        .unwrap()
        .contains("lic_1"));
}

#[test]
fn a_list_from_another_issuer_is_issuer_mismatch() {
    let foreign = list(&["lic_1"], "evil.example", NOW - 60, NOW + DAY);
    let err = RevocationList::verify(&foreign, &keyring(), ISS, NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::IssuerMismatch, "{err}");
    // The same list is accepted by a verifier configured with that issuer.
    assert!(RevocationList::verify(&foreign, &keyring(), "evil.example", NOW).is_ok());
}

#[test]
fn a_list_over_4_mib_is_token_too_large_and_one_at_4_mib_verifies() {
    let genuine = list(&["lic_1"], ISS, NOW - 60, NOW + DAY);
    // Whitespace around a list is trimmed, but the limit applies to the bytes handed over.
    let at_limit = format!(
        "{genuine}{}",
        " ".repeat(MAX_REVOCATION_LIST_BYTES - genuine.len())
    );
    assert_eq!(at_limit.len(), 4 * 1024 * 1024);
    assert!(RevocationList::verify(&at_limit, &keyring(), ISS, NOW)
        .unwrap()
        .contains("lic_1"));
    let over = format!("{at_limit} ");
    let err = RevocationList::verify(&over, &keyring(), ISS, NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenTooLarge, "{err}");
}

#[test]
fn a_list_of_80000_ids_under_4_mib_verifies_and_revokes_each() {
    let ids: Vec<String> = (0..80_000).map(|i| format!("lic_{i:024}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let big = list(&refs, ISS, NOW - 60, NOW + DAY);
    assert!(big.len() > 3 * 1024 * 1024, "{} bytes", big.len());
    assert!(
        big.len() <= MAX_REVOCATION_LIST_BYTES,
        "{} bytes",
        big.len()
    );
    let parsed = RevocationList::verify(&big, &keyring(), ISS, NOW).unwrap();
    assert_eq!(parsed.len(), 80_000);
    assert!(parsed.contains(&ids[0]) && parsed.contains(&ids[79_999]));
    assert!(!parsed.contains("lic_not_listed"));
}

#[test]
fn an_expired_list_still_revokes() {
    let old = list(&["lic_gone"], ISS, NOW - 30 * DAY, NOW - 20 * DAY);
    let parsed = RevocationList::verify(&old, &keyring(), ISS, NOW).unwrap();
    let err = Verifier::new(keyring())
        .with_revocations(Some(parsed))
        .verify(&license("lic_gone"), NOW)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Revoked, "{err}");
}

#[test]
fn a_list_signed_by_an_untrusted_key_is_refused() {
    let other = SigningKey::from_seed(&[8u8; 32]).unwrap();
    let forged = sign_revocation_list(&["lic_1"], ISS, NOW - 60, NOW + DAY, &other, "rl").unwrap();
    let err = RevocationList::verify(&forged, &keyring(), ISS, NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidSignature, "{err}");
}
