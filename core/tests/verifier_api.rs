//! The verifier's smaller public surface, each answer pinned: `License::to_json` (the CLI's
//! `verify --json`), the revocation list built from ids, the verifier's settings, and the
//! messages that tell an empty token from one without dots. Found missing by `make mutants`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]

use std::collections::BTreeMap;

use dev_health_entitlements::issue::{sign_v2, SigningKey};
use dev_health_entitlements::{
    ErrorCode, Keyring, LicenseClaims, LicenseType, RevocationList, Tier, Verifier, DEFAULT_ISSUER,
    DEFAULT_LEEWAY_SECS,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn keyring() -> Keyring {
    let mut ring = Keyring::new();
    ring.add("k", SigningKey::from_seed(&[4u8; 32]).unwrap().public_key());
    ring
}

#[test]
fn license_to_json_reports_the_verification() {
    let claims = LicenseClaims {
        iss: DEFAULT_ISSUER.into(),
        sub: "org_a".into(),
        aud: vec![],
        iat: NOW - DAY,
        nbf: None,
        exp: NOW - DAY / 2,
        license_id: "lic_json".into(),
        tier: Tier::Team,
        features: BTreeMap::new(),
        limits: BTreeMap::new(),
        grace_days: Some(2),
        org_name: None,
        contact_email: None,
        license_type: LicenseType::SelfHosted,
        extra: Default::default(),
    };
    let key = SigningKey::from_seed(&[4u8; 32]).unwrap();
    let token = sign_v2(&claims, &key, "k").unwrap();
    let json = Verifier::new(keyring())
        .verify(&token, NOW)
        .unwrap()
        .to_json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["status"], "grace");
    assert_eq!(json["format"], "v2");
    assert_eq!(json["kid"], "k");
    assert_eq!(json["license_id"], "lic_json");
    assert_eq!(json["tier"], "team");
    assert_eq!(json["sub"], "org_a");
    assert_eq!(json["expires_at"], json!(NOW - DAY / 2));
    assert_eq!(json["grace_ends_at"], json!(NOW - DAY / 2 + 2 * DAY));
    assert_eq!(json["grace_days_left"], 2);
    assert_eq!(json["claims"]["jti"], "lic_json");
}

#[test]
fn a_revocation_list_from_ids_holds_exactly_them() {
    let list = RevocationList::from_ids(["lic_a".to_owned(), "lic_b".to_owned()]);
    assert!(list.contains("lic_a") && list.contains("lic_b"));
    assert!(!list.contains("lic_c"));
    assert_eq!(list.len(), 2);
    assert!(!list.is_empty());
    let empty = RevocationList::from_ids(Vec::<String>::new());
    assert_eq!(empty.len(), 0);
    assert!(empty.is_empty());
}

#[test]
fn a_revocation_list_is_expired_only_after_its_exp() {
    let mut list = RevocationList::from_ids(["lic_a".to_owned()]);
    list.expires_at = NOW;
    assert!(!list.is_expired(NOW - 1));
    assert!(!list.is_expired(NOW));
    assert!(list.is_expired(NOW + 1));
}

#[test]
fn the_verifier_reports_its_issuer_and_leeway() {
    let v = Verifier::new(keyring());
    assert_eq!(v.issuer(), "fullchaos.studio");
    assert_eq!(v.leeway(), DEFAULT_LEEWAY_SECS);
    assert_eq!(DEFAULT_LEEWAY_SECS, 60);
    let v = v.with_issuer("licenses.example").with_leeway(5);
    assert_eq!((v.issuer(), v.leeway()), ("licenses.example", 5));
}

#[test]
fn an_empty_token_and_a_token_without_dots_are_told_apart() {
    let v = Verifier::new(keyring());
    for empty in ["", "  \n"] {
        let err = v.verify(empty, NOW).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedToken);
        assert!(err.message().contains("empty"), "{err}");
    }
    let err = v.verify("abc", NOW).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedToken);
    assert!(err.message().contains("has 0"), "{err}");
}
