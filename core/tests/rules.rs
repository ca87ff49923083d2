//! One test per rule of SPEC §1 and §3, named after it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]

use std::collections::BTreeMap;
use std::sync::Arc;

use dev_health_entitlements::issue::{sign_v1, sign_v2, SigningKey};
use dev_health_entitlements::{
    Catalog, Entitlements, ErrorCode, GateState, Keyring, License, LicenseClaims, LicenseStatus,
    LicenseType, Override, Reason, ResolveInput, Tier, Verifier,
};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn key() -> SigningKey {
    SigningKey::from_seed(&[7u8; 32]).unwrap()
}

fn keyring() -> Keyring {
    let mut ring = Keyring::new();
    ring.add("k1", key().public_key());
    ring
}

fn claims(tier: Tier) -> LicenseClaims {
    LicenseClaims {
        iss: "fullchaos.studio".into(),
        sub: "org_a".into(),
        aud: vec![],
        iat: NOW - DAY,
        nbf: None,
        exp: NOW + 30 * DAY,
        license_id: "lic_rules".into(),
        tier,
        features: BTreeMap::new(),
        limits: BTreeMap::new(),
        grace_days: None,
        org_name: None,
        contact_email: None,
        license_type: LicenseType::SelfHosted,
        extra: Default::default(),
    }
}

fn verify(c: &LicenseClaims, now: i64) -> License {
    let token = sign_v2(c, &key(), "k1").unwrap();
    Verifier::new(keyring()).verify(&token, now).unwrap()
}

fn catalog() -> Arc<Catalog> {
    Catalog::default_catalog().unwrap()
}

fn resolve(license: Option<&License>, input: ResolveInput<'_>) -> Entitlements {
    Entitlements::resolve(
        catalog(),
        &ResolveInput {
            license,
            now: NOW,
            ..input
        },
    )
}

#[test]
fn status_is_active_through_exp_then_grace_through_grace_end_then_expired() {
    let c = claims(Tier::Team);
    let lic = verify(&c, NOW);
    assert_eq!(lic.status_at(c.exp), LicenseStatus::Active);
    assert_eq!(lic.status_at(c.exp + 1), LicenseStatus::Grace);
    assert_eq!(lic.status_at(c.exp + 14 * DAY), LicenseStatus::Grace);
    assert_eq!(lic.status_at(c.exp + 14 * DAY + 1), LicenseStatus::Expired);
    assert_eq!(lic.grace_days_left(c.exp + 1), Some(14));
}

#[test]
fn grace_days_in_the_license_override_the_catalog_default() {
    let mut c = claims(Tier::Enterprise);
    c.grace_days = Some(2);
    let lic = verify(&c, NOW);
    assert_eq!(lic.grace_ends_at(), c.exp + 2 * DAY);
}

#[test]
fn a_v1_token_signed_the_dev_health_ops_way_verifies() {
    let zero = SigningKey::from_seed(&[0u8; 32]).unwrap();
    assert_eq!(
        zero.public_key().to_base64(),
        "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
    );
    let token = sign_v1(&claims(Tier::Team), &zero).unwrap();
    let keys = Keyring::parse("O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
    let lic = Verifier::new(keys.clone()).verify(&token, NOW).unwrap();
    assert_eq!(lic.tier(), Tier::Team);
    assert_eq!(lic.license_id(), "lic_rules");
    let off = Verifier::new(keys)
        .with_accept_v1(false)
        .verify(&token, NOW);
    assert_eq!(off.unwrap_err().code(), ErrorCode::UnsupportedAlgorithm);
}

#[test]
fn the_all_zero_test_key_is_never_trusted_by_default() {
    let embedded = Keyring::embedded().unwrap();
    let zero = SigningKey::from_seed(&[0u8; 32]).unwrap().public_key();
    assert!(embedded.entries().iter().all(|e| e.key != zero));
    let env = Verifier::from_env_with(|_| None).unwrap();
    assert!(env.keyring().entries().iter().all(|e| e.key != zero));
}

#[test]
fn a_64_byte_seed_is_refused_with_a_message_saying_so() {
    let err = SigningKey::from_seed(&[1u8; 64]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(err.message().contains("64-byte"), "{}", err.message());
}

#[test]
fn a_pkcs8_pem_key_round_trips() {
    let pem = key().to_pkcs8_pem().unwrap();
    let back = SigningKey::parse(&pem).unwrap();
    assert_eq!(back.public_key(), key().public_key());
}

#[test]
fn tier_is_the_valid_licenses_then_the_orgs_then_community() {
    let lic = verify(&claims(Tier::Enterprise), NOW);
    let ent = resolve(
        Some(&lic),
        ResolveInput {
            org_tier: Some(Tier::Team),
            ..Default::default()
        },
    );
    assert_eq!(ent.tier(), Tier::Enterprise);
    let expired = verify(&claims(Tier::Enterprise), NOW + 400 * DAY);
    let ent = resolve(
        Some(&expired),
        ResolveInput {
            org_tier: Some(Tier::Team),
            ..Default::default()
        },
    );
    // `expired` was verified at a later now; resolution at NOW sees it active again.
    assert_eq!(ent.tier(), Tier::Enterprise);
    let ent = Entitlements::resolve(
        catalog(),
        &ResolveInput {
            license: Some(&expired),
            org_tier: Some(Tier::Team),
            now: NOW + 400 * DAY,
            ..Default::default()
        },
    );
    assert_eq!(ent.tier(), Tier::Team);
    assert!(!ent.to_json()["is_valid"].as_bool().unwrap());
    assert_eq!(
        resolve(None, ResolveInput::default()).tier(),
        Tier::Community
    );
}

#[test]
fn a_saas_license_applies_only_to_its_own_org() {
    let mut c = claims(Tier::Enterprise);
    c.license_type = LicenseType::Saas;
    let lic = verify(&c, NOW);
    let own = resolve(
        Some(&lic),
        ResolveInput {
            org_id: Some("org_a"),
            ..Default::default()
        },
    );
    let other = resolve(
        Some(&lic),
        ResolveInput {
            org_id: Some("org_b"),
            ..Default::default()
        },
    );
    assert_eq!(own.tier(), Tier::Enterprise);
    assert_eq!(other.tier(), Tier::Community);
}

#[test]
fn a_self_hosted_license_covers_every_org() {
    let lic = verify(&claims(Tier::Team), NOW);
    let other = resolve(
        Some(&lic),
        ResolveInput {
            org_id: Some("org_z"),
            ..Default::default()
        },
    );
    assert_eq!(other.tier(), Tier::Team);
}

#[test]
fn rule_1_an_unknown_feature_is_not_registered() {
    let ent = resolve(None, ResolveInput::default());
    assert_eq!(ent.check("teleport").reason, Reason::FeatureNotRegistered);
    assert!(!ent.has("teleport"));
}

#[test]
fn rule_2_a_kill_switch_beats_everything_after_it() {
    let kill = BTreeMap::from([("basic_analytics".to_owned(), false)]);
    let overrides = [Override {
        feature: "basic_analytics".into(),
        enabled: true,
        expires_at: None,
    }];
    let ent = resolve(
        None,
        ResolveInput {
            kill_switches: Some(&kill),
            overrides: &overrides,
            ..Default::default()
        },
    );
    assert_eq!(ent.check("basic_analytics").reason, Reason::GlobalDisabled);
}

#[test]
fn rule_3_an_org_override_decides_until_it_expires() {
    let overrides = [
        Override {
            feature: "sso_saml".into(),
            enabled: true,
            expires_at: Some(NOW + 1),
        },
        Override {
            feature: "git_sync".into(),
            enabled: false,
            expires_at: None,
        },
        Override {
            feature: "audit_log".into(),
            enabled: true,
            expires_at: Some(NOW),
        },
    ];
    let ent = resolve(
        None,
        ResolveInput {
            overrides: &overrides,
            ..Default::default()
        },
    );
    let sso = ent.check("sso_saml");
    assert_eq!(
        (sso.allowed, sso.reason, sso.expires_at),
        (true, Reason::EnabledByOrgOverride, Some(NOW + 1))
    );
    assert_eq!(ent.check("git_sync").reason, Reason::OrgOverrideDisabled);
    // expires_at == now is expired: the tier decides.
    assert_eq!(ent.check("audit_log").reason, Reason::TierRequired);
    assert_eq!(ent.stale_at(), Some(NOW + 1));
}

#[test]
fn rule_3_and_4_a_tier_bound_feature_keeps_its_floor() {
    let ops = Catalog::dev_health_ops().unwrap();
    let overrides = [Override {
        feature: "byo_llm".into(),
        enabled: true,
        expires_at: None,
    }];
    let ent = Entitlements::resolve(
        ops.clone(),
        &ResolveInput {
            overrides: &overrides,
            now: NOW,
            ..Default::default()
        },
    );
    assert_eq!(ent.check("byo_llm").reason, Reason::TierRequired);
    let mut c = claims(Tier::Community);
    c.features.insert("customer_push_ingest".into(), true);
    let lic = verify(&c, NOW);
    let ent = Entitlements::resolve(
        ops,
        &ResolveInput {
            license: Some(&lic),
            now: NOW,
            ..Default::default()
        },
    );
    assert_eq!(
        ent.check("customer_push_ingest").reason,
        Reason::TierRequired
    );
}

#[test]
fn rule_4_license_features_grant_and_remove() {
    let mut c = claims(Tier::Team);
    c.features.insert("audit_log".into(), true);
    c.features.insert("webhooks".into(), false);
    let lic = verify(&c, NOW);
    let ent = resolve(Some(&lic), ResolveInput::default());
    assert_eq!(
        ent.check("audit_log").reason,
        Reason::EnabledByLicenseOverride
    );
    assert_eq!(
        ent.check("webhooks").reason,
        Reason::LicenseOverrideDisabled
    );
}

#[test]
fn rule_5_explicit_purchase_features_are_off_on_every_tier() {
    let ops = Catalog::dev_health_ops().unwrap();
    let ent = Entitlements::resolve(
        ops,
        &ResolveInput {
            org_tier: Some(Tier::Enterprise),
            now: NOW,
            ..Default::default()
        },
    );
    assert_eq!(
        ent.check("ask_dev").reason,
        Reason::ExplicitPurchaseRequired
    );
}

#[test]
fn rule_6_the_tier_decides_the_rest() {
    let ent = resolve(
        None,
        ResolveInput {
            org_tier: Some(Tier::Team),
            ..Default::default()
        },
    );
    assert_eq!(ent.check("capacity_forecast").reason, Reason::EnabledByTier);
    let d = ent.check("audit_log");
    assert_eq!(
        (d.reason, d.required_tier),
        (Reason::TierRequired, Some(Tier::Enterprise))
    );
}

#[test]
fn limits_are_inclusive_and_license_limits_replace_the_tiers() {
    let ent = resolve(None, ResolveInput::default());
    assert!(ent.check_limit("max_users", 3.0).allowed);
    assert!(!ent.check_limit("max_users", 4.0).allowed);
    assert!(!ent.check_limit("max_seats", 1.0).allowed);
    let mut c = claims(Tier::Community);
    c.limits.insert("max_users".into(), Some(10.0));
    c.limits.insert("max_orgs".into(), None);
    let lic = verify(&c, NOW);
    let ent = resolve(Some(&lic), ResolveInput::default());
    assert!(ent.check_limit("max_users", 10.0).allowed);
    assert!(ent.check_limit("max_orgs", 1e9).allowed);
}

#[test]
fn a_min_limit_is_a_floor() {
    let ops = Catalog::dev_health_ops().unwrap();
    let ent = Entitlements::resolve(
        ops,
        &ResolveInput {
            org_tier: Some(Tier::Team),
            now: NOW,
            ..Default::default()
        },
    );
    assert!(ent.check_limit("min_sync_interval_hours", 6.0).allowed);
    assert!(!ent.check_limit("min_sync_interval_hours", 5.0).allowed);
}

#[test]
fn the_upgrade_gate_offers_an_upgrade_only_when_a_tier_would_unlock() {
    let kill = BTreeMap::from([("webhooks".to_owned(), false)]);
    let ent = resolve(
        None,
        ResolveInput {
            org_tier: Some(Tier::Team),
            kill_switches: Some(&kill),
            ..Default::default()
        },
    );
    assert_eq!(
        ent.upgrade_gate("capacity_forecast", None, None).state,
        GateState::Allowed
    );
    let up = ent.upgrade_gate("audit_log", None, None);
    assert_eq!(up.state, GateState::Upgrade);
    assert_eq!(up.upgrade_href.as_deref(), Some("/org/admin/settings"));
    let off = ent.upgrade_gate("webhooks", None, None);
    assert_eq!(
        (off.state, off.upgrade_href),
        (GateState::Unavailable, None)
    );
}

#[test]
fn the_web_json_has_the_dev_health_web_shape() {
    let lic = verify(&claims(Tier::Team), NOW);
    let json = resolve(
        Some(&lic),
        ResolveInput {
            org_id: Some("org_a"),
            ..Default::default()
        },
    )
    .to_json();
    for key in [
        "org_id",
        "tier",
        "licensed_users",
        "licensed_repos",
        "features",
        "features_override",
        "limits_override",
        "expires_at",
        "is_valid",
        "limits",
        "status",
        "in_grace_period",
        "grace_ends_at",
        "license_id",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["tier"], "team");
    assert_eq!(json["features"]["capacity_forecast"], true);
    assert_eq!(json["limits"]["max_users"], serde_json::Value::Null);
    assert_eq!(json["expires_at"], "2027-02-14T08:00:00Z");
    let back = Entitlements::from_json(catalog(), &json).unwrap();
    assert_eq!(back.tier(), Tier::Team);
    assert!(back.has("capacity_forecast") && !back.has("audit_log"));
}

#[test]
fn a_header_with_critical_extensions_is_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"k1","crit":["exp"]}"#);
    let claims = URL_SAFE_NO_PAD.encode(claims(Tier::Team).to_json().to_string());
    let input = format!("{header}.{claims}");
    let signature = URL_SAFE_NO_PAD.encode(key().sign_bytes(input.as_bytes()));
    let err = Verifier::new(keyring())
        .verify(&format!("{input}.{signature}"), NOW)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedToken);
    assert!(err.message().contains("crit"));
}

#[test]
fn a_v1_token_verifies_under_any_kid_of_its_key_whose_window_holds_iat() {
    use dev_health_entitlements::KeyEntry;
    let mut ring = Keyring::new();
    for (kid, not_after) in [("retired", Some(NOW - 10 * DAY)), ("current", None)] {
        ring.insert(KeyEntry {
            kid: kid.into(),
            key: key().public_key(),
            not_before: None,
            not_after,
        });
    }
    let token = sign_v1(&claims(Tier::Team), &key()).unwrap();
    let lic = Verifier::new(ring).verify(&token, NOW).unwrap();
    assert_eq!(lic.kid, "current");
}

#[test]
fn entitlements_rebuilt_from_their_json_decide_the_same() {
    let mut c = claims(Tier::Team);
    c.features.insert("webhooks".into(), false);
    c.limits.insert("max_repos".into(), Some(10.0));
    let lic = verify(&c, NOW);
    let kill = BTreeMap::from([("api_access".to_owned(), false)]);
    let overrides = [Override {
        feature: "audit_log".into(),
        enabled: true,
        expires_at: None,
    }];
    let ent = resolve(
        Some(&lic),
        ResolveInput {
            kill_switches: Some(&kill),
            overrides: &overrides,
            ..Default::default()
        },
    );
    let json = ent.to_json();
    assert_eq!(json["licensed_repos"], 10);
    let back = Entitlements::from_json(catalog(), &json).unwrap();
    for f in catalog().features() {
        let (a, b) = (ent.check(&f.key), back.check(&f.key));
        assert_eq!(
            (a.allowed, a.reason, a.required_tier),
            (b.allowed, b.reason, b.required_tier),
            "{}",
            f.key
        );
    }
    assert_eq!(
        back.check("webhooks").reason,
        Reason::LicenseOverrideDisabled
    );
    assert_eq!(back.to_json(), json);
    // They go stale when the license's status next changes, as on the resolving side (no
    // override in the JSON lapses).
    assert_eq!(back.stale_at(), Some(lic.expires_at() + 1));
    assert_eq!(back.stale_at(), ent.stale_at());
    assert!(!back.is_stale(lic.expires_at()) && back.is_stale(lic.expires_at() + 1));
    // In grace, at the grace end; expired, never.
    let at = |now: i64| {
        let input = ResolveInput {
            license: Some(&lic),
            now,
            ..Default::default()
        };
        Entitlements::resolve(catalog(), &input)
    };
    let in_grace = at(lic.expires_at() + 1);
    let back = Entitlements::from_json(catalog(), &in_grace.to_json()).unwrap();
    assert_eq!(back.stale_at(), Some(lic.grace_ends_at() + 1));
    let expired = at(lic.grace_ends_at() + 1);
    let back = Entitlements::from_json(catalog(), &expired.to_json()).unwrap();
    assert_eq!(back.stale_at(), None);
}

#[test]
fn dates_outside_rfc_3339_years_are_written_as_the_nearest_inside() {
    use dev_health_entitlements::resolve::rfc3339;
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    for far in [253_402_300_800, 10_i64.pow(15), i64::MAX] {
        assert_eq!(rfc3339(far), "9999-12-31T23:59:59Z", "{far}");
    }
    for early in [-62_167_219_201, i64::MIN] {
        assert_eq!(rfc3339(early), "0000-01-01T00:00:00Z", "{early}");
    }
    // A "perpetual" license (exp in year 10000) keeps its summary through the JSON round trip.
    let mut c = claims(Tier::Team);
    c.exp = 253_402_300_800;
    let lic = verify(&c, NOW);
    let json = resolve(Some(&lic), ResolveInput::default()).to_json();
    assert_eq!(json["expires_at"], "9999-12-31T23:59:59Z");
    let back = Entitlements::from_json(catalog(), &json).unwrap();
    assert_eq!(back.to_json()["license_id"], json["license_id"]);
    assert_eq!(back.to_json()["status"], "active");
}
