//! Invariants checked on generated inputs (proptest): any one-byte change of a v1 or v2 token is
//! rejected; sign → verify round-trips arbitrary claims; a higher tier never has fewer features
//! under the same overrides and kill switches, in both shipped catalogs; the engine's JSON reader
//! reads what serde_json reads, and refuses a member repeated anywhere.
#![cfg(feature = "issue")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use dev_health_entitlements::issue::{sign_v1, sign_v2, SigningKey};
use dev_health_entitlements::{
    Catalog, Entitlements, Keyring, License, LicenseClaims, LicenseStatus, LicenseType, Override,
    ResolveInput, Tier, TokenFormat, Verifier,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

const NOW: i64 = 1_800_000_000;

fn key() -> SigningKey {
    SigningKey::from_seed(&[1; 32]).unwrap()
}

fn verifier() -> Verifier {
    let mut ring = Keyring::new();
    ring.add("k1", key().public_key());
    Verifier::new(ring)
}

fn base_claims() -> LicenseClaims {
    LicenseClaims {
        iss: "fullchaos.studio".into(),
        sub: "org_acme".into(),
        aud: Vec::new(),
        iat: NOW - 86_400,
        nbf: None,
        exp: NOW + 86_400 * 30,
        license_id: "lic_prop".into(),
        tier: Tier::Team,
        features: BTreeMap::from([("sso_saml".to_owned(), true)]),
        limits: BTreeMap::from([("max_users".to_owned(), Some(25.0))]),
        grace_days: Some(7),
        org_name: Some("Acme".into()),
        contact_email: None,
        license_type: LicenseType::SelfHosted,
        extra: Map::new(),
    }
}

/// One genuine token of each format, signed once.
fn tokens() -> &'static (String, String) {
    static TOKENS: OnceLock<(String, String)> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let claims = base_claims();
        let v2 = sign_v2(&claims, &key(), "k1").unwrap();
        let v1 = sign_v1(&claims, &key()).unwrap();
        assert!(verifier().verify(&v2, NOW).is_ok());
        assert!(verifier().verify(&v1, NOW).is_ok());
        (v2, v1)
    })
}

/// The token with the byte at `index` (modulo its length) replaced by another ASCII byte.
fn change_one_byte(token: &str, index: usize, replacement: u8) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = index % bytes.len();
    let mut new = replacement % 128;
    if new == bytes[i] {
        new = (new + 1) % 128;
    }
    bytes[i] = new;
    String::from_utf8(bytes).unwrap()
}

fn tier() -> impl Strategy<Value = Tier> {
    prop::sample::select(Tier::ALL.to_vec())
}

fn limit_name() -> impl Strategy<Value = String> {
    // Token names users/repos/api_rate are mapped to catalog names on reading: leave them to the
    // vectors, so that what is signed is what comes back.
    "[a-z][a-z_]{0,15}".prop_filter("a token-only limit name", |n| {
        !matches!(n.as_str(), "users" | "repos" | "api_rate")
    })
}

fn limit_value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (0u32..1_000_000).prop_map(|n| Some(f64::from(n))),
        (0u32..4000).prop_map(|n| Some(f64::from(n) / 4.0)),
    ]
}

fn extra_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        prop::collection::vec(any::<u8>(), 0..4).prop_map(Value::from),
    ]
}

prop_compose! {
    fn arbitrary_claims()(
        sub in "[^\u{0}]{1,40}",
        tier in tier(),
        iat in (NOW - 400 * 86_400)..NOW,
        lifetime in 0i64..(800 * 86_400),
        nbf_before in prop::option::of(0i64..86_400),
        license_id in "[A-Za-z0-9_-]{1,40}",
        features in prop::collection::btree_map("[a-z][a-z0-9_]{0,20}", any::<bool>(), 0..8),
        limits in prop::collection::btree_map(limit_name(), limit_value(), 0..6),
        grace_days in prop::option::of(0u32..=3650),
        aud in prop::collection::vec("[a-z0-9-]{1,12}", 0..3),
        org_name in prop::option::of(".{0,30}"),
        contact_email in prop::option::of("[a-z]{1,8}@[a-z]{1,8}\\.example"),
        license_type in prop::sample::select(vec![
            LicenseType::Saas, LicenseType::SelfHosted, LicenseType::Trial, LicenseType::Evaluation,
        ]),
        extra in prop::collection::btree_map("x_[a-z_]{1,10}", extra_value(), 0..4),
    ) -> LicenseClaims {
        LicenseClaims {
            iss: "fullchaos.studio".into(),
            sub,
            aud,
            iat,
            nbf: nbf_before.map(|d| iat - d),
            exp: iat + lifetime,
            license_id,
            tier,
            features,
            limits,
            grace_days,
            org_name,
            contact_email,
            license_type,
            extra: extra.into_iter().collect(),
        }
    }
}

fn overrides(catalog: &Catalog) -> impl Strategy<Value = Vec<Override>> {
    let keys: Vec<String> = catalog
        .features()
        .iter()
        .map(|f| f.key.clone())
        .chain(["not_a_feature".to_owned()])
        .collect();
    prop::collection::vec(
        (
            prop::sample::select(keys),
            any::<bool>(),
            prop::option::of((NOW - 2)..(NOW + 2)),
        )
            .prop_map(|(feature, enabled, expires_at)| Override {
                feature,
                enabled,
                expires_at,
            }),
        0..12,
    )
}

fn grants(catalog: &Catalog) -> impl Strategy<Value = BTreeMap<String, bool>> {
    let keys: Vec<String> = catalog.features().iter().map(|f| f.key.clone()).collect();
    prop::collection::btree_map(prop::sample::select(keys), any::<bool>(), 0..8)
}

fn kill_switches(catalog: &Catalog) -> impl Strategy<Value = BTreeMap<String, bool>> {
    let keys: Vec<String> = catalog.features().iter().map(|f| f.key.clone()).collect();
    prop::collection::btree_map(prop::sample::select(keys), any::<bool>(), 0..6)
}

fn features_at(
    catalog: &std::sync::Arc<Catalog>,
    tier: Tier,
    overrides: &[Override],
    kill: &BTreeMap<String, bool>,
) -> Vec<bool> {
    let ent = Entitlements::resolve(
        catalog.clone(),
        &ResolveInput {
            org_tier: Some(tier),
            overrides,
            kill_switches: Some(kill),
            now: NOW,
            ..Default::default()
        },
    );
    catalog.features().iter().map(|f| ent.has(&f.key)).collect()
}

/// The features allowed by a valid license of `tier` whose `features` claim is `grants`.
fn features_with_license(
    catalog: &std::sync::Arc<Catalog>,
    tier: Tier,
    grants: &BTreeMap<String, bool>,
    overrides: &[Override],
    kill: &BTreeMap<String, bool>,
) -> Vec<bool> {
    let mut claims = base_claims();
    claims.tier = tier;
    claims.features = grants.clone();
    let license = License {
        format: TokenFormat::V2,
        kid: "k1".into(),
        claims,
        grace_days: 0,
        status: LicenseStatus::Active,
        verified_at: NOW,
    };
    let ent = Entitlements::resolve(
        catalog.clone(),
        &ResolveInput {
            license: Some(&license),
            org_id: Some("org_acme"),
            overrides,
            kill_switches: Some(kill),
            now: NOW,
            ..Default::default()
        },
    );
    assert_eq!(ent.tier(), tier);
    catalog.features().iter().map(|f| ent.has(&f.key)).collect()
}

fn check_monotonic(
    catalog: &std::sync::Arc<Catalog>,
    overrides: &[Override],
    kill: &BTreeMap<String, bool>,
    grants: Option<&BTreeMap<String, bool>>,
) -> Result<(), TestCaseError> {
    let by_tier: Vec<Vec<bool>> = Tier::ALL
        .iter()
        .map(|t| match grants {
            None => features_at(catalog, *t, overrides, kill),
            Some(g) => features_with_license(catalog, *t, g, overrides, kill),
        })
        .collect();
    for (lower, higher) in [(0, 1), (1, 2), (0, 2)] {
        for (i, f) in catalog.features().iter().enumerate() {
            prop_assert!(
                !by_tier[lower][i] || by_tier[higher][i],
                "{}: {} has {} but {} lacks it",
                catalog.name(),
                Tier::ALL[lower],
                f.key,
                Tier::ALL[higher]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_one_byte_change_of_a_v2_token_is_rejected(index in any::<usize>(), byte in any::<u8>()) {
        let changed = change_one_byte(&tokens().0, index, byte);
        let result = verifier().verify(&changed, NOW);
        prop_assert!(result.is_err(), "accepted {changed:?}");
    }

    #[test]
    fn any_one_byte_change_of_a_v1_token_is_rejected(index in any::<usize>(), byte in any::<u8>()) {
        let changed = change_one_byte(&tokens().1, index, byte);
        let result = verifier().verify(&changed, NOW);
        prop_assert!(result.is_err(), "accepted {changed:?}");
    }

    #[test]
    fn sign_then_verify_round_trips_arbitrary_v2_claims(claims in arbitrary_claims()) {
        let token = sign_v2(&claims, &key(), "k1").unwrap();
        let license = verifier().verify(&token, claims.iat).unwrap();
        prop_assert_eq!(&license.claims, &claims);
        prop_assert_eq!(license.status.as_str(), "active");
        let days = claims.grace_days.unwrap_or(match claims.tier {
            Tier::Community => 0,
            Tier::Team => 14,
            Tier::Enterprise => 30,
        });
        prop_assert_eq!(license.grace_ends_at(), claims.exp + i64::from(days) * 86_400);
    }

    #[test]
    fn sign_then_verify_round_trips_arbitrary_v1_claims(
        claims in arbitrary_claims(),
        users in prop::option::of(0u32..10_000),
    ) {
        // v1 carries no aud, nbf, license_type or unknown claims, and always writes its limits.
        let mut claims = claims;
        claims.aud.clear();
        claims.nbf = None;
        claims.license_type = LicenseType::SelfHosted;
        claims.extra.clear();
        claims.limits = BTreeMap::from([("max_users".to_owned(), users.map(f64::from))]);
        let token = sign_v1(&claims, &key()).unwrap();
        let license = verifier().verify(&token, claims.iat).unwrap();
        prop_assert_eq!(&license.claims.sub, &claims.sub);
        prop_assert_eq!(license.tier(), claims.tier);
        prop_assert_eq!(&license.claims.features, &claims.features);
        prop_assert_eq!(license.license_id(), claims.license_id.as_str());
        prop_assert_eq!((license.claims.iat, license.claims.exp), (claims.iat, claims.exp));
        prop_assert_eq!(license.claims.limits.get("max_users"), Some(&users.map(f64::from)));
        if let Some(days) = claims.grace_days {
            prop_assert_eq!(license.grace_days, days);
        }
    }

    #[test]
    fn a_higher_tier_never_has_fewer_features_default_catalog(
        (overrides, kill) in {
            let c = Catalog::default_catalog().unwrap();
            (overrides(&c), kill_switches(&c))
        }
    ) {
        check_monotonic(&Catalog::default_catalog().unwrap(), &overrides, &kill, None)?;
    }

    #[test]
    fn a_higher_licensed_tier_never_has_fewer_features_with_the_same_grants(
        (overrides, kill, grants, ops) in any::<bool>().prop_flat_map(|ops| {
            let c = if ops { Catalog::dev_health_ops() } else { Catalog::default_catalog() }.unwrap();
            (overrides(&c), kill_switches(&c), grants(&c), Just(ops))
        })
    ) {
        let catalog = if ops { Catalog::dev_health_ops() } else { Catalog::default_catalog() }.unwrap();
        check_monotonic(&catalog, &overrides, &kill, Some(&grants))?;
    }

    #[test]
    fn a_higher_tier_never_has_fewer_features_dev_health_ops_catalog(
        (overrides, kill) in {
            let c = Catalog::dev_health_ops().unwrap();
            (overrides(&c), kill_switches(&c))
        }
    ) {
        check_monotonic(&Catalog::dev_health_ops().unwrap(), &overrides, &kill, None)?;
    }
}

/// The characters next to padding carry unused bits; a lenient base64 decoder would ignore a change
/// there and accept a second spelling of the same token. Try every alphabet character in each
/// such position.
#[test]
fn no_second_base64_spelling_of_a_token_is_accepted() {
    let (v2, v1) = tokens();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/";
    let v1_payload_end = v1.find('.').unwrap() - 1;
    let v1_payload_end = v1[..=v1_payload_end].trim_end_matches('=').len() - 1;
    let v1_sig_end = v1.trim_end_matches('=').len() - 1;
    let v2_claims_end = v2.rfind('.').unwrap() - 1;
    let v2_header_end = v2.find('.').unwrap() - 1;
    for (token, position) in [
        (v2, v2.len() - 1),
        (v2, v2_claims_end),
        (v2, v2_header_end),
        (v1, v1_sig_end),
        (v1, v1_payload_end),
    ] {
        for c in alphabet
            .bytes()
            .filter(|&c| c != token.as_bytes()[position])
        {
            let changed = change_one_byte(token, position, c);
            assert!(
                verifier().verify(&changed, NOW).is_err(),
                "accepted {changed:?}"
            );
        }
    }
}

/// Any JSON value: nested arrays and objects of strings (escapes included), numbers and literals.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "[a-z\"\\\\\u{0}-\u{1f}é€😀]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z\"é]{0,4}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    /// The engine's JSON reader reads what serde_json reads, for any document without a repeated
    /// member, compact or pretty.
    #[test]
    fn the_json_reader_agrees_with_serde_json(value in json_value()) {
        for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            let ours = dev_health_entitlements::json::parse(text.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&ours, &theirs);
        }
    }

    /// Repeating any member of any object, anywhere in a document, makes it unreadable.
    #[test]
    fn a_repeated_member_anywhere_is_refused(value in json_value(), pick in any::<prop::sample::Index>()) {
        let text = serde_json::to_string(&value).unwrap();
        // The members of every object, as (start, end) of `"name":value` in the text.
        let mut members = Vec::new();
        collect_members(&value, &text, &mut members);
        prop_assume!(!members.is_empty());
        let (start, end) = members[pick.index(members.len())];
        // `…"name":value…` becomes `…"name":value,"name":value…`.
        let repeated = format!("{},{}{}", &text[..end], &text[start..end], &text[end..]);
        let err = dev_health_entitlements::json::parse(repeated.as_bytes()).unwrap_err();
        prop_assert!(err.to_string().contains("appears twice"), "{}: {}", repeated, err);
    }
}

/// Finds each object member's `"name":value` span in `text` (the compact serialisation of
/// `value`), by re-serialising: serde_json writes members in the map's order.
fn collect_members(value: &Value, text: &str, out: &mut Vec<(usize, usize)>) {
    fn walk(value: &Value, at: &mut usize, out: &mut Vec<(usize, usize)>) {
        match value {
            Value::Object(map) => {
                *at += 1; // {
                for (i, (name, member)) in map.iter().enumerate() {
                    if i > 0 {
                        *at += 1; // ,
                    }
                    let start = *at;
                    *at += serde_json::to_string(name).unwrap().len() + 1; // "name":
                    walk(member, at, out);
                    out.push((start, *at));
                }
                *at += 1; // }
            }
            Value::Array(items) => {
                *at += 1;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        *at += 1;
                    }
                    walk(item, at, out);
                }
                *at += 1;
            }
            leaf => *at += serde_json::to_string(leaf).unwrap().len(),
        }
    }
    let mut at = 0;
    walk(value, &mut at, out);
    assert_eq!(at, text.len(), "{text}");
}
