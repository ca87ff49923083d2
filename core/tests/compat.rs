//! The engine's answers for hosts migrating from dev-health-ops: host-side org license records,
//! the license-feature mode chosen by the caller, error details, limit names, v1 signing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]
use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dev_health_entitlements::issue::{sign_v1, sign_v1_with_features, SigningKey};
use dev_health_entitlements::{
    Catalog, Entitlements, ErrorDetail, Keyring, LicenseClaims, LicenseFeatures, LicenseType,
    OrgLicense, ResolveInput, ResolveOptions, Tier, TokenFormat, Verifier,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn zero_key() -> SigningKey {
    SigningKey::from_seed(&[0; 32]).unwrap()
}

fn verifier() -> Verifier {
    Verifier::new(Keyring::parse("k=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap())
}

fn claims(tier: Tier) -> LicenseClaims {
    LicenseClaims::from_json(
        json!({"iss": "fullchaos.studio", "sub": "org_1", "iat": NOW - DAY, "exp": NOW + 30 * DAY,
               "tier": tier.as_str(), "license_id": "lic_1"})
        .as_object()
        .cloned()
        .unwrap(),
        TokenFormat::V1,
    )
    .unwrap()
}

fn record(value: serde_json::Value) -> OrgLicense {
    OrgLicense::from_json(&value).unwrap()
}

#[test]
fn an_org_record_stands_where_a_license_would() {
    let catalog = Catalog::dev_health_ops().unwrap();
    let org = record(json!({
        "tier": "team",
        "features": {"sso_saml": true, "webhooks": false},
        "limits": {"users": 50, "repos": -1}
    }));
    let ent = Entitlements::resolve_with(
        catalog,
        &ResolveInput {
            org_id: Some("org_1"),
            org_tier: Some(Tier::Community),
            now: NOW,
            ..Default::default()
        },
        &ResolveOptions {
            org_license: Some(&org),
            ..Default::default()
        },
    );
    // Its tier beats the billing tier, as a license's would.
    assert_eq!(ent.tier(), Tier::Team);
    assert_eq!(
        ent.check("sso_saml").reason.as_str(),
        "enabled_by_license_override"
    );
    assert_eq!(
        ent.check("webhooks").reason.as_str(),
        "license_override_disabled"
    );
    assert_eq!(
        ent.check("capacity_forecast").reason.as_str(),
        "enabled_by_tier"
    );
    assert_eq!(ent.limit("max_users"), Some(Some(50.0)));
    assert_eq!(ent.limit("max_repos"), Some(None));
    // Limits it leaves out follow the tier.
    assert_eq!(ent.limit("api_rate_limit_per_min"), Some(Some(500.0)));
    assert_eq!(ent.to_json()["features_override"]["sso_saml"], json!(true));
}

#[test]
fn a_valid_signed_license_wins_over_an_org_record_and_a_lapsed_record_is_ignored() {
    let catalog = Catalog::dev_health_ops().unwrap();
    let token = sign_v1(&claims(Tier::Enterprise), &zero_key()).unwrap();
    let license = verifier().verify(&token, NOW).unwrap();
    let org = record(json!({"tier": "community", "features": {"audit_log": false}}));
    let options = ResolveOptions {
        org_license: Some(&org),
        ..Default::default()
    };
    let ent = Entitlements::resolve_with(
        catalog.clone(),
        &ResolveInput {
            license: Some(&license),
            now: NOW,
            ..Default::default()
        },
        &options,
    );
    assert_eq!(ent.tier(), Tier::Enterprise);
    assert!(ent.has("audit_log"));

    let lapsed = record(json!({"tier": "enterprise", "expires_at": NOW}));
    let ent = Entitlements::resolve_with(
        catalog,
        &ResolveInput {
            org_tier: Some(Tier::Team),
            now: NOW,
            ..Default::default()
        },
        &ResolveOptions {
            org_license: Some(&lapsed),
            ..Default::default()
        },
    );
    assert_eq!(ent.tier(), Tier::Team, "expires_at == now has lapsed");
}

#[test]
fn org_records_are_checked_and_name_what_is_wrong() {
    for (bad, named) in [
        (json!({"tier": "gold"}), "gold"),
        (json!({"features": {"a": 1}}), "features.a"),
        (json!({"limits": {"users": -2}}), "limits.users"),
        (json!({"limits": {"users": 3, "max_users": 4}}), "max_users"),
        (json!({"seats": 3}), "seats"),
        (json!([]), "object"),
    ] {
        let err = OrgLicense::from_json(&bad).unwrap_err();
        assert_eq!(err.code().as_str(), "invalid_input");
        assert!(err.message().contains(named), "{bad}: {err}");
    }
}

#[test]
fn the_caller_may_choose_the_exclusive_reading_for_any_catalog() {
    let mut c = claims(Tier::Team);
    c.features = BTreeMap::from([("sso".to_owned(), true)]);
    let license = verifier()
        .verify(&sign_v1(&c, &zero_key()).unwrap(), NOW)
        .unwrap();
    let input = ResolveInput {
        license: Some(&license),
        now: NOW,
        ..Default::default()
    };
    let catalog = Catalog::dev_health_ops().unwrap();
    assert_eq!(catalog.license_features(), LicenseFeatures::Grants);
    let grants = Entitlements::resolve(catalog.clone(), &input);
    assert!(grants.has("webhooks") && !grants.has("sso"));
    let exclusive = Entitlements::resolve_with(
        catalog,
        &input,
        &ResolveOptions {
            license_features: Some(LicenseFeatures::Exclusive),
            ..Default::default()
        },
    );
    assert!(exclusive.has("sso") && !exclusive.has("webhooks"));
    assert_eq!(
        exclusive.check("webhooks").reason.as_str(),
        "not_in_license"
    );
    assert_eq!(
        exclusive.allowed_features().collect::<Vec<_>>(),
        vec!["sso"]
    );
    // The JSON carries the license's own key, and reading it back answers the same.
    let rebuilt =
        Entitlements::from_json(Catalog::dev_health_ops().unwrap(), &exclusive.to_json()).unwrap();
    assert!(rebuilt.has("sso") && !rebuilt.has("webhooks"));
}

#[test]
fn a_catalog_document_may_name_its_license_feature_mode() {
    let doc = |mode: &str| {
        format!(
            r#"{{"name":"x","license_features":{mode},"tiers":[{{"key":"community","name":"C","grace_days":0}},{{"key":"team","name":"T","grace_days":14}},{{"key":"enterprise","name":"E","grace_days":30}}],"features":[]}}"#
        )
    };
    assert_eq!(
        Catalog::from_json(&doc("\"exclusive\""))
            .unwrap()
            .license_features(),
        LicenseFeatures::Exclusive
    );
    let err = Catalog::from_json(&doc("\"all\"")).unwrap_err();
    assert!(err.message().contains("license_features"), "{err}");
    assert_eq!(
        Catalog::builtin("dev-health-ops-exclusive")
            .unwrap()
            .license_features(),
        LicenseFeatures::Exclusive
    );
}

#[test]
fn errors_tell_bad_base64_from_bad_structure() {
    let v = verifier();
    let detail = |token: &str| v.verify(token, NOW).unwrap_err().detail();
    assert_eq!(detail("!!!.AAAA"), Some(ErrorDetail::InvalidBase64));
    assert_eq!(detail("a.b.c.d"), Some(ErrorDetail::WrongPartCount));
    assert_eq!(detail(""), Some(ErrorDetail::Empty));
    let payload = STANDARD.encode(b"not json");
    let signature = STANDARD.encode(zero_key().sign_bytes(b"not json"));
    let err = v
        .verify(&format!("{payload}.{signature}"), NOW)
        .unwrap_err();
    assert_eq!(err.code().as_str(), "invalid_claims");
    assert_eq!(err.detail(), Some(ErrorDetail::InvalidJson));
    let forged = format!("{payload}.{}", STANDARD.encode([7u8; 64]));
    assert_eq!(detail(&forged), Some(ErrorDetail::SignatureMismatch));
    let mut no_sub = claims(Tier::Team);
    no_sub.sub = String::new();
    let err = v
        .verify(&sign_v1(&no_sub, &zero_key()).unwrap(), NOW)
        .unwrap_err();
    assert_eq!(err.detail(), Some(ErrorDetail::InvalidClaim));
}

#[test]
fn limits_answer_to_the_names_tokens_use() {
    let ent = Entitlements::resolve(
        Catalog::dev_health_ops().unwrap(),
        &ResolveInput {
            org_tier: Some(Tier::Team),
            now: NOW,
            ..Default::default()
        },
    );
    assert_eq!(ent.limit("users"), ent.limit("max_users"));
    assert_eq!(ent.check_limit("api_rate", 501.0).maximum, Some(500.0));
    assert!(!ent.check_limit("repos", 11.0).allowed);
    assert_eq!(
        dev_health_entitlements::claims::UNLIMITED_MARKER,
        -1,
        "dev-health-ops writes -1 for unlimited"
    );
}

#[test]
fn v1_signing_keeps_the_feature_order_given() {
    let key = zero_key();
    let c = claims(Tier::Team);
    let order = vec![
        ("webhooks".to_owned(), true),
        ("api_access".to_owned(), false),
    ];
    let token = sign_v1_with_features(&c, &order, &key).unwrap();
    let payload =
        String::from_utf8(STANDARD.decode(token.split_once('.').unwrap().0).unwrap()).unwrap();
    assert!(
        payload.contains(r#""features":{"webhooks":true,"api_access":false}"#),
        "{payload}"
    );
    let lic = verifier().verify(&token, NOW).unwrap();
    assert_eq!(lic.claims.features.get("api_access"), Some(&false));
    let twice = vec![("a".to_owned(), true), ("a".to_owned(), false)];
    assert!(sign_v1_with_features(&c, &twice, &key).is_err());
    // A record without license_id is written with null, as dev-health-ops writes it.
    let mut no_id = c.clone();
    no_id.license_id = String::new();
    let token = sign_v1(&no_id, &key).unwrap();
    let lic = verifier().verify(&token, NOW).unwrap();
    assert!(lic.license_id().starts_with("v1-sha512-"));
    assert_eq!(lic.claims.license_type, LicenseType::SelfHosted);
}

#[test]
fn a_signing_key_gives_its_seed_back() {
    let key = SigningKey::from_seed(&[9; 32]).unwrap();
    assert_eq!(*key.seed(), [9; 32]);
    assert_eq!(
        SigningKey::from_seed(key.seed().as_ref())
            .unwrap()
            .public_key(),
        key.public_key()
    );
}
