//! SPEC §3: "checks on an already-resolved `Entitlements` must not allocate or re-verify: they are
//! lookups". A global allocator that counts this thread's allocations shows it for `has`,
//! `check`, `check_limit`, `can` and `tier`, over every feature, limit and role of both catalogs
//! and unknown names, with a license, overrides and kill switches in play. This file holds one
//! test, so that no other test allocates while it counts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]

use std::alloc::System;
use std::collections::BTreeMap;
use std::hint::black_box;

use dev_health_entitlements::issue::{sign_v2, SigningKey};
use dev_health_entitlements::{
    Catalog, Entitlements, Keyring, LicenseClaims, LicenseType, Override, ResolveInput, Tier,
    Verifier,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (and reallocations) made while `f` runs, the fewest of three runs: the counter is
/// process-wide, and the test harness's own thread may allocate now and then, but never on every
/// run, while an allocating check allocates every time.
fn allocations_during(mut f: impl FnMut()) -> usize {
    (0..3)
        .map(|_| {
            let region = Region::new(GLOBAL);
            f();
            let change = region.change();
            change.allocations + change.reallocations
        })
        .min()
        .unwrap_or(usize::MAX)
}

const NOW: i64 = 1_800_000_000;

fn resolved(catalog_name: &str) -> Entitlements {
    let key = SigningKey::from_seed(&[5u8; 32]).unwrap();
    let mut ring = Keyring::new();
    ring.add("k", key.public_key());
    let mut features = BTreeMap::new();
    features.insert("sso_saml".to_owned(), true);
    features.insert("webhooks".to_owned(), false);
    let mut limits = BTreeMap::new();
    limits.insert("max_users".to_owned(), Some(25.0));
    let claims = LicenseClaims {
        iss: "fullchaos.studio".into(),
        sub: "org_a".into(),
        aud: vec![],
        iat: NOW - 86_400,
        nbf: None,
        exp: NOW + 86_400,
        license_id: "lic_alloc".into(),
        tier: Tier::Team,
        features,
        limits,
        grace_days: None,
        org_name: None,
        contact_email: None,
        license_type: LicenseType::SelfHosted,
        extra: Default::default(),
    };
    let token = sign_v2(&claims, &key, "k").unwrap();
    let license = Verifier::new(ring).verify(&token, NOW).unwrap();
    let overrides = vec![
        Override {
            feature: "audit_log".into(),
            enabled: true,
            expires_at: Some(NOW + 60),
        },
        Override {
            feature: "multi_org".into(),
            enabled: false,
            expires_at: None,
        },
    ];
    let mut kill = BTreeMap::new();
    kill.insert("api_access".to_owned(), false);
    Entitlements::resolve(
        Catalog::builtin(catalog_name).unwrap(),
        &ResolveInput {
            license: Some(&license),
            org_id: Some("org_a"),
            org_tier: Some(Tier::Community),
            overrides: &overrides,
            kill_switches: Some(&kill),
            now: NOW,
        },
    )
}

#[test]
fn checks_on_resolved_entitlements_do_not_allocate() {
    for catalog_name in ["default", "dev-health-ops"] {
        let ent = resolved(catalog_name);
        let catalog = Catalog::builtin(catalog_name).unwrap();
        // Names owned before counting starts: building them allocates, the checks must not.
        let mut features: Vec<String> = catalog.features().iter().map(|f| f.key.clone()).collect();
        features.push("not_a_feature".into());
        let mut limits: Vec<String> = catalog.limits().iter().map(|l| l.key.clone()).collect();
        limits.push("max_widgets".into());
        let roles = ["viewer", "editor", "admin", "owner", "intern"];
        let permissions = ["org:read", "org:write", "billing:manage", "no:such"];
        let mut allowed = 0usize;
        let n = allocations_during(|| {
            for f in &features {
                allowed += usize::from(black_box(ent.has(f)));
                let d = black_box(ent.check(f));
                allowed += usize::from(d.allowed);
            }
            for l in &limits {
                for current in [0.0, 3.0, 1e9] {
                    allowed += usize::from(black_box(ent.check_limit(l, current)).allowed);
                }
            }
            for role in roles {
                for p in permissions {
                    allowed += usize::from(black_box(ent.can(role, p)));
                }
            }
            black_box(ent.tier());
        });
        assert_eq!(n, 0, "{catalog_name}: {n} allocations during checks");
        // The checks did answer (a counter that never ran would also read 0).
        assert!(allowed > 0, "{catalog_name}: nothing allowed");
        assert!(ent.has("sso_saml"), "{catalog_name}: the license grant");
        // And the counter does count: resolving again allocates.
        let again = allocations_during(|| {
            black_box(resolved(catalog_name));
        });
        assert!(again > 0, "{catalog_name}: the counter saw no allocation");
    }
}
