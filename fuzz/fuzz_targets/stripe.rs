//! Stripe webhooks (SPEC §5): the `Stripe-Signature` check, the event reader and the event
//! engine, as the server runs them on a delivery.
//!
//! Input: the header on the first line, the body after it. A first line `#sign` asks for a
//! genuine signature of the body (at now, so that it verifies), `#sign-stale` for one 301 s old.
//!
//! Invariants: errors carry the code of their step (`stripe_signature_*` and
//! `stripe_timestamp_out_of_tolerance`, `invalid_stripe_event`) and never echo the header; a
//! genuine signature verifies and a timestamp outside the tolerance never does; a parsed event
//! reads back from its own JSON; the engine never changes a manual org, never raises a tier that
//! no price of the event grants, says why when it changes nothing, and applies an event id once.

#![no_main]

use dev_health_entitlements::stripe::{
    apply_event, signature_header, verify_signature, Action, BillingConfig, BillingLedger,
    BillingState, ManagedBy, PriceTiers, StripeEvent, SubscriptionState, DEFAULT_TOLERANCE_SECS,
};
use dev_health_entitlements::{ErrorCode, Tier};
use dev_health_fuzz::{check_error, text, NOW};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

/// The webhook secrets of the conformance vectors, so that their signed deliveries verify.
const SECRETS: [&str; 2] = [
    "whsec_test_primary_0123456789",
    "whsec_test_previous_9876543210",
];

const SIGNATURE_CODES: [ErrorCode; 3] = [
    ErrorCode::StripeSignatureMalformed,
    ErrorCode::StripeSignatureMismatch,
    ErrorCode::StripeTimestampOutOfTolerance,
];

/// The prices that grant a tier; every other price grants none.
static CONFIG: LazyLock<BillingConfig> = LazyLock::new(|| {
    match PriceTiers::parse("price_team_monthly=team,price_enterprise_monthly=enterprise") {
        Ok(prices) => BillingConfig::new(prices),
        Err(e) => unreachable!("the price list parses: {}", e.message()),
    }
});

fuzz_target!(|data: &[u8]| {
    let (first, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => data.split_at(i),
        None => (data, &[][..]),
    };
    let body = body.get(1..).unwrap_or_default();
    let first = text(first);
    let (header, genuine) = match first.trim() {
        "#sign" => (signature_header(body, SECRETS[0], NOW), true),
        "#sign-stale" => (
            signature_header(body, SECRETS[1], NOW - DEFAULT_TOLERANCE_SECS - 1),
            false,
        ),
        _ => (first.into_owned(), false),
    };
    check_signature(body, &header, genuine);
    check_event(body);
});

fn check_signature(body: &[u8], header: &str, genuine: bool) {
    match verify_signature(body, header, &SECRETS, NOW, DEFAULT_TOLERANCE_SECS) {
        Ok(t) => {
            assert!(
                t.abs_diff(NOW) <= DEFAULT_TOLERANCE_SECS.unsigned_abs(),
                "a signature {t} outside the tolerance verified"
            );
            // The fuzzer cannot forge HMAC-SHA256: what verifies carries a genuine `v1` (hex is
            // read in either case).
            let header = header.to_ascii_lowercase();
            let signed = SECRETS.iter().any(|secret| {
                let expected = signature_header(body, secret, t);
                let v1 = expected.split_once(",v1=").map(|(_, v1)| v1);
                v1.is_some_and(|v1| header.contains(v1))
            });
            assert!(signed, "a header without a genuine v1 signature verified");
        }
        Err(e) => {
            assert!(!genuine, "a genuine signature failed: {}", e.message());
            check_error(&e, &SIGNATURE_CODES, header, "verify_signature");
        }
    }
    match verify_signature(body, header, &[], NOW, DEFAULT_TOLERANCE_SECS) {
        Ok(_) => panic!("a delivery verified with no webhook secret configured"),
        Err(e) => check_error(&e, &SIGNATURE_CODES, header, "verify_signature, no secret"),
    }
    match verify_signature(body, header, &SECRETS, NOW, -1) {
        Ok(_) => panic!("a negative tolerance was accepted"),
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidInput),
    }
}

fn check_event(body: &[u8]) {
    let event = match StripeEvent::parse(body) {
        Ok(event) => event,
        Err(e) => {
            check_error(
                &e,
                &[ErrorCode::InvalidStripeEvent],
                "",
                "StripeEvent::parse",
            );
            return;
        }
    };
    // The event's own JSON (the shape conformance vectors and bindings hand over) reads back.
    let json = match serde_json::to_value(&event) {
        Ok(json) => json,
        Err(e) => panic!("a parsed event does not serialize: {e}"),
    };
    match StripeEvent::from_value(json) {
        Ok(again) => assert_eq!(again, event, "an event does not read back from its JSON"),
        Err(e) => panic!("an event does not read back from its JSON: {}", e.message()),
    }

    let org_id = event
        .org_ref()
        .org_id
        .unwrap_or_else(|| "org_fuzz".to_owned());
    for org in states(&org_id) {
        check_outcome(&event, &org);
    }
    let outcome = apply_event(&event, None, &CONFIG);
    assert!(outcome.state.is_none() && outcome.actions.is_empty() && outcome.ignored.is_some());

    // Applied through the in-memory host, the same id a second time changes nothing.
    let mut ledger = BillingLedger::new();
    let [new, paying, _] = states(&org_id);
    let _ = ledger.add_org(BillingState {
        org_id: "org_paying".to_owned(),
        ..paying
    });
    let _ = ledger.add_org(new);
    let _ = ledger.apply(&event, &CONFIG);
    let second = ledger.apply(&event, &CONFIG);
    assert!(
        second.actions.is_empty(),
        "an event id applied twice acted twice: {:?}",
        second.actions
    );
}

/// The org states an event is tried on: new on community, paying for team, managed by hand.
fn states(org_id: &str) -> [BillingState; 3] {
    let new = BillingState::new(org_id, Tier::Community);
    let paying = BillingState {
        tier: Tier::Team,
        stripe_customer_id: Some("cus_fuzz".to_owned()),
        subscription: Some(SubscriptionState {
            id: "sub_fuzz".to_owned(),
            status: "active".to_owned(),
            price_id: Some("price_team_monthly".to_owned()),
            current_period_end: Some(NOW + 30 * 86_400),
            last_event_created: NOW - 86_400,
        }),
        license_id: Some("lic_fuzz".to_owned()),
        ..BillingState::new(org_id, Tier::Team)
    };
    let manual = BillingState {
        managed_by: ManagedBy::Manual,
        ..paying.clone()
    };
    [new, paying, manual]
}

fn check_outcome(event: &StripeEvent, org: &BillingState) {
    let outcome = apply_event(event, Some(org), &CONFIG);
    assert_eq!(
        outcome.ignored.is_some(),
        outcome.actions.is_empty(),
        "an outcome must either act or say why it did not: {outcome:?}"
    );
    let Some(state) = &outcome.state else {
        panic!("a known org has no state after an event: {outcome:?}");
    };
    assert_eq!(state.org_id, org.org_id);
    assert!(state.event_subscription.is_none());
    if outcome.ignored.is_some() || org.managed_by == ManagedBy::Manual {
        assert!(
            outcome.actions.is_empty(),
            "a manual org or an ignored event changed something"
        );
        assert_eq!(state.tier, org.tier);
        assert_eq!(state.stripe_customer_id, org.stripe_customer_id);
        assert_eq!(state.license_id, org.license_id);
    }
    // Fail closed: a tier above the org's own comes only from a price that grants it.
    if state.tier > org.tier {
        let object = event.object.to_string();
        let granted = CONFIG
            .price_tiers
            .iter()
            .any(|(price, tier)| tier == state.tier && object.contains(price));
        assert!(
            granted,
            "{} became {} without a price granting it",
            org.tier.as_str(),
            state.tier.as_str()
        );
    }
    let mut tier = org.tier;
    for action in &outcome.actions {
        match action {
            Action::ChangeTier { from, to } => {
                assert_eq!(*from, tier, "a tier change starts from another tier");
                assert_ne!(from, to, "a tier change to the same tier");
                tier = *to;
            }
            Action::SignLicense { tier: licensed, .. } => {
                assert_ne!(*licensed, Tier::Community, "a community license was signed");
            }
            Action::SignDeploymentLicense {
                deployment_id,
                tier: licensed,
                ..
            } => {
                assert_ne!(*licensed, Tier::Community, "a community license was signed");
                assert!(!deployment_id.is_empty(), "a license for no deployment");
                assert_eq!(
                    org.stripe_customer_id.as_deref(),
                    event.org_ref().customer_id.as_deref(),
                    "a deployment license paid by another customer"
                );
            }
            Action::RevokeLicense { license_id } => assert!(!license_id.is_empty()),
            Action::LinkCustomer { customer_id } => assert!(!customer_id.is_empty()),
            Action::UpdateSubscription { subscription } => assert!(!subscription.id.is_empty()),
        }
    }
    assert_eq!(
        tier, state.tier,
        "the tier changes do not end at the new tier"
    );
}
