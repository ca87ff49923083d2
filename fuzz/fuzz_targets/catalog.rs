//! The catalog reader (SPEC §2): `Catalog::from_json`, what a host that replaces the catalog at
//! run time hands over.
//!
//! Invariants: a refused catalog is `invalid_catalog`; an accepted one finds every feature and
//! limit it lists, gives each role its inherited permissions and nothing to an unknown role,
//! decides features by SPEC §3 (rule 6 and rule 3's tier-bound exception), never gives a higher
//! tier fewer features, and its entitlements JSON round-trips.

#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use dev_health_entitlements::{
    Catalog, Entitlements, ErrorCode, Override, Reason, ResolveInput, Tier, Verifier,
};
use dev_health_fuzz::{check_error, check_json_round_trip, license_keyring, text, NOW};
use libfuzzer_sys::fuzz_target;

const TIERS: [Tier; 3] = [Tier::Community, Tier::Team, Tier::Enterprise];

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    let catalog = match Catalog::from_json(&input) {
        Ok(catalog) => Arc::new(catalog),
        Err(e) => {
            check_error(&e, &[ErrorCode::InvalidCatalog], "", "Catalog::from_json");
            return;
        }
    };
    check_lookups(&catalog);
    check_roles(&catalog);
    check_decisions(&catalog);
    // A verifier takes its grace days from any catalog that loads.
    let _ = Verifier::new(license_keyring()).with_catalog(&catalog);
});

fn check_lookups(catalog: &Catalog) {
    for feature in catalog.features() {
        assert_eq!(catalog.feature(&feature.key), Some(feature));
    }
    for limit in catalog.limits() {
        assert_eq!(catalog.limit(&limit.key).map(|l| &l.key), Some(&limit.key));
    }
    for tier in TIERS {
        let _ = catalog.tier_name(tier);
    }
}

fn check_roles(catalog: &Catalog) {
    for role in catalog.roles() {
        let granted = catalog.permissions_of(&role.name);
        for permission in &role.permissions {
            assert!(
                catalog.can(&role.name, permission),
                "the role {:?} lacks its own permission {permission:?}",
                role.name
            );
        }
        for permission in &granted {
            assert!(catalog.can(&role.name, permission));
        }
        if let Some(parent) = &role.inherits {
            for permission in catalog.permissions_of(parent) {
                assert!(
                    catalog.can(&role.name, permission),
                    "the role {:?} does not inherit {permission:?} from {parent:?}",
                    role.name
                );
            }
        }
        assert!(!catalog.can(&role.name, "not:a_permission"));
    }
    let unknown = "role that no catalog names";
    assert!(catalog.permissions_of(unknown).is_empty());
    assert!(catalog
        .permissions()
        .iter()
        .all(|p| !catalog.can(unknown, p)));
}

fn resolve(catalog: &Arc<Catalog>, tier: Tier, overrides: &[Override]) -> Entitlements {
    let no_switches = BTreeMap::new();
    Entitlements::resolve(
        Arc::clone(catalog),
        &ResolveInput {
            license: None,
            org_id: Some("org_fuzz"),
            org_tier: Some(tier),
            overrides,
            kill_switches: Some(&no_switches),
            now: NOW,
        },
    )
}

fn check_decisions(catalog: &Arc<Catalog>) {
    let all_on: Vec<Override> = catalog
        .features()
        .iter()
        .map(|f| Override {
            feature: f.key.clone(),
            enabled: true,
            expires_at: None,
        })
        .collect();
    let mut previous: Option<Entitlements> = None;
    for tier in TIERS {
        let by_tier = resolve(catalog, tier, &[]);
        assert_eq!(by_tier.tier(), tier);
        for feature in catalog.features() {
            // Rules 5 and 6.
            let expected = !feature.explicit_purchase && tier >= feature.min_tier;
            assert_eq!(
                by_tier.has(&feature.key),
                expected,
                "{:?} on {} without overrides",
                feature.key,
                tier.as_str()
            );
            if let Some(lower) = &previous {
                assert!(
                    !lower.has(&feature.key) || by_tier.has(&feature.key),
                    "a higher tier lost {:?}",
                    feature.key
                );
            }
        }
        check_json_round_trip(&by_tier);

        // Rule 3: an override turns anything on, except a tier-bound feature below its tier.
        let overridden = resolve(catalog, tier, &all_on);
        for feature in catalog.features() {
            let decision = overridden.check(&feature.key);
            if feature.tier_bound && tier < feature.min_tier {
                assert_eq!(decision.reason, Reason::TierRequired);
            } else {
                assert_eq!(decision.reason, Reason::EnabledByOrgOverride);
            }
        }
        check_json_round_trip(&overridden);
        previous = Some(by_tier);
    }
}
