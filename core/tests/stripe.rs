//! Stripe webhooks end to end: signed bodies shaped like Stripe's, through signature verification,
//! event parsing and the in-memory ledger (SPEC §5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use dev_health_entitlements::stripe::{
    signature_header, verify_signature, Action, BillingConfig, BillingLedger, BillingState,
    IgnoreReason, ManagedBy, Outcome, PriceTiers, StripeEvent, DEFAULT_TOLERANCE_SECS,
};
use dev_health_entitlements::{ErrorCode, Tier};
use serde_json::{json, Value};

const SECRET: &str = "whsec_integration";
const T0: i64 = 1_717_200_000;
const DAY: i64 = 86_400;
const PERIOD_END: i64 = T0 + 30 * DAY;

fn config() -> BillingConfig {
    BillingConfig::new(
        PriceTiers::parse("price_team_monthly=team,price_enterprise_yearly=enterprise").unwrap(),
    )
}

fn body(id: &str, event_type: &str, created: i64, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "type": event_type,
        "data": {"object": object, "previous_attributes": {}}
    }))
    .unwrap()
}

fn subscription_object(status: &str, price: &str, org_id: Option<&str>) -> Value {
    let metadata = match org_id {
        Some(org) => json!({"org_id": org}),
        None => json!({}),
    };
    json!({
        "id": "sub_1PabcXYZ",
        "object": "subscription",
        "customer": "cus_QabcXYZ",
        "status": status,
        "cancel_at_period_end": false,
        "current_period_start": T0,
        "current_period_end": PERIOD_END,
        "metadata": metadata,
        "items": {
            "object": "list",
            "data": [{
                "id": "si_QabcXYZ",
                "object": "subscription_item",
                "price": {"id": price, "object": "price", "recurring": {"interval": "month"}},
                "quantity": 1
            }]
        }
    })
}

fn subscription_event(
    id: &str,
    event_type: &str,
    created: i64,
    status: &str,
    price: &str,
) -> StripeEvent {
    let object = subscription_object(status, price, Some("org_1"));
    StripeEvent::parse(&body(id, event_type, created, object)).unwrap()
}

fn updated(id: &str, created: i64, status: &str, price: &str) -> StripeEvent {
    subscription_event(id, "customer.subscription.updated", created, status, price)
}

fn community_org() -> BillingState {
    BillingState::new("org_1", Tier::Community)
}

/// What the server does with a delivery: verify, parse, apply once.
fn deliver(ledger: &mut BillingLedger, body: &[u8], header: &str, now: i64) -> Outcome {
    verify_signature(body, header, &[SECRET], now, DEFAULT_TOLERANCE_SECS).unwrap();
    let event = StripeEvent::parse(body).unwrap();
    ledger.apply(&event, &config())
}

fn tier(ledger: &BillingLedger) -> Tier {
    ledger.org("org_1").unwrap().tier
}

#[test]
fn a_signed_delivery_upgrades_the_org_and_signs_a_saas_license() {
    let mut ledger = BillingLedger::new();
    ledger.add_org(community_org());
    let object = subscription_object("active", "price_team_monthly", Some("org_1"));
    let body = body("evt_1", "customer.subscription.created", T0, object);
    let header = signature_header(&body, SECRET, T0 + 2);

    let outcome = deliver(&mut ledger, &body, &header, T0 + 5);

    assert_eq!(outcome.ignored, None);
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: PERIOD_END + 14 * DAY
    }));
    let org = ledger.org("org_1").unwrap();
    assert_eq!(org.tier, Tier::Team);
    assert_eq!(org.license_id.as_deref(), Some("lic_1"));
    assert_eq!(org.stripe_customer_id.as_deref(), Some("cus_QabcXYZ"));
}

#[test]
fn a_tampered_or_stale_delivery_is_rejected_before_parsing() {
    let object = subscription_object("active", "price_enterprise_yearly", Some("org_1"));
    let body = body("evt_1", "customer.subscription.created", T0, object);
    let header = signature_header(&body, SECRET, T0);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[at] = b'2';

    let check = |payload: &[u8], now: i64| {
        verify_signature(payload, &header, &[SECRET], now, DEFAULT_TOLERANCE_SECS)
            .unwrap_err()
            .code()
    };
    assert_eq!(check(&tampered, T0), ErrorCode::StripeSignatureMismatch);
    assert_eq!(
        check(&body, T0 + 301),
        ErrorCode::StripeTimestampOutOfTolerance
    );
}

#[test]
fn a_duplicate_delivery_is_applied_once() {
    let (ledger, outcomes) = BillingLedger::replay(
        [community_org()],
        &[
            updated("evt_1", T0, "active", "price_team_monthly"),
            updated("evt_1", T0, "active", "price_team_monthly"),
        ],
        &config(),
    );
    assert_eq!(outcomes[1].ignored, Some(IgnoreReason::Duplicate));
    assert_eq!(ledger.next_license_number, 2, "one license signed");
    assert_eq!(tier(&ledger), Tier::Team);
}

#[test]
fn an_out_of_order_delivery_changes_nothing() {
    // The cancellation (later) arrives before the activation (earlier).
    let (ledger, outcomes) = BillingLedger::replay(
        [community_org()],
        &[
            updated("evt_1", T0, "active", "price_team_monthly"),
            updated("evt_3", T0 + 200, "canceled", "price_team_monthly"),
            updated("evt_2", T0 + 100, "active", "price_enterprise_yearly"),
        ],
        &config(),
    );
    assert_eq!(outcomes[2].ignored, Some(IgnoreReason::StaleEvent));
    assert_eq!(tier(&ledger), Tier::Community);
    assert_eq!(ledger.org("org_1").unwrap().license_id, None);
    assert_eq!(ledger.revoked_license_ids, ["lic_1"]);
}

#[test]
fn an_unknown_price_never_grants_a_tier() {
    let (ledger, outcomes) = BillingLedger::replay(
        [community_org()],
        &[updated("evt_1", T0, "active", "price_gold_lifetime")],
        &config(),
    );
    assert_eq!(
        outcomes[0].ignored,
        Some(IgnoreReason::UnknownPrice {
            price_id: "price_gold_lifetime".into()
        })
    );
    assert_eq!(ledger.org("org_1"), Some(&community_org()));
}

#[test]
fn past_due_keeps_the_paid_tier_and_its_license() {
    let (ledger, outcomes) = BillingLedger::replay(
        [community_org()],
        &[
            updated("evt_1", T0, "active", "price_enterprise_yearly"),
            updated("evt_2", T0 + 100, "past_due", "price_enterprise_yearly"),
        ],
        &config(),
    );
    assert_eq!(outcomes[1].ignored, None, "the status is recorded");
    let org = ledger.org("org_1").unwrap();
    assert_eq!(org.tier, Tier::Enterprise);
    assert_eq!(org.license_id.as_deref(), Some("lic_1"));
    assert_eq!(org.subscription.as_ref().unwrap().status, "past_due");
    assert!(ledger.revoked_license_ids.is_empty());
}

#[test]
fn canceled_drops_to_community_and_revokes_the_license() {
    let (ledger, _) = BillingLedger::replay(
        [community_org()],
        &[
            updated("evt_1", T0, "active", "price_team_monthly"),
            updated("evt_2", T0 + 100, "canceled", "price_team_monthly"),
        ],
        &config(),
    );
    assert_eq!(tier(&ledger), Tier::Community);
    assert_eq!(ledger.revoked_license_ids, ["lic_1"]);
}

#[test]
fn deleted_drops_to_community_and_revokes_the_license() {
    let (ledger, outcomes) = BillingLedger::replay(
        [community_org()],
        &[
            updated("evt_1", T0, "active", "price_enterprise_yearly"),
            subscription_event(
                "evt_2",
                "customer.subscription.deleted",
                T0 + 100,
                "canceled",
                "price_enterprise_yearly",
            ),
        ],
        &config(),
    );
    assert!(outcomes[1].actions.contains(&Action::ChangeTier {
        from: Tier::Enterprise,
        to: Tier::Community
    }));
    assert_eq!(tier(&ledger), Tier::Community);
    assert_eq!(ledger.org("org_1").unwrap().license_id, None);
    assert_eq!(ledger.revoked_license_ids, ["lic_1"]);
}

#[test]
fn a_manual_org_is_never_changed_by_stripe() {
    let mut manual = BillingState::new("org_1", Tier::Enterprise);
    manual.managed_by = ManagedBy::Manual;
    let (ledger, outcomes) = BillingLedger::replay(
        [manual.clone()],
        &[subscription_event(
            "evt_1",
            "customer.subscription.deleted",
            T0,
            "canceled",
            "price_team_monthly",
        )],
        &config(),
    );
    assert_eq!(outcomes[0].ignored, Some(IgnoreReason::ManualOrg));
    assert_eq!(ledger.org("org_1"), Some(&manual));
}

#[test]
fn an_unknown_org_is_recorded_and_changes_nothing() {
    let (ledger, outcomes) = BillingLedger::replay(
        [BillingState::new("org_other", Tier::Community)],
        &[updated("evt_1", T0, "active", "price_team_monthly")],
        &config(),
    );
    assert_eq!(outcomes[0].ignored, Some(IgnoreReason::UnknownOrg));
    assert_eq!(outcomes[0].state, None);
    assert!(ledger.processed_event_ids.contains("evt_1"));
    assert_eq!(
        ledger.org("org_other").unwrap().tier,
        Tier::Community,
        "no other org is touched"
    );
}

#[test]
fn checkout_links_the_customer_so_later_subscription_events_find_the_org() {
    let checkout = json!({
        "id": "cs_test_a1b2",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": "org_1",
        "customer": "cus_QabcXYZ",
        "subscription": "sub_1PabcXYZ",
        "metadata": {},
        "payment_status": "paid",
        "status": "complete"
    });
    let events = [
        StripeEvent::parse(&body("evt_1", "checkout.session.completed", T0, checkout)).unwrap(),
        // No org in the subscription's metadata: only the customer link finds the org.
        StripeEvent::parse(&body(
            "evt_2",
            "customer.subscription.created",
            T0 + 1,
            subscription_object("active", "price_team_monthly", None),
        ))
        .unwrap(),
    ];
    // The server created the session (POST /api/v1/billing/checkout) and recorded it.
    let org = BillingState {
        server_checkout_sessions: vec!["cs_test_a1b2".into()],
        ..community_org()
    };
    let (ledger, outcomes) = BillingLedger::replay([org], &events, &config());
    assert_eq!(
        outcomes[0].actions,
        [Action::LinkCustomer {
            customer_id: "cus_QabcXYZ".into()
        }]
    );
    assert_eq!(outcomes[1].ignored, None);
    assert_eq!(tier(&ledger), Tier::Team);
}

#[test]
fn without_a_link_or_metadata_the_subscription_event_finds_no_org() {
    let event = StripeEvent::parse(&body(
        "evt_1",
        "customer.subscription.created",
        T0,
        subscription_object("active", "price_team_monthly", None),
    ))
    .unwrap();
    let (ledger, outcomes) = BillingLedger::replay([community_org()], &[event], &config());
    assert_eq!(outcomes[0].ignored, Some(IgnoreReason::UnknownOrg));
    assert_eq!(tier(&ledger), Tier::Community);
}

#[test]
fn moving_to_a_new_subscription_survives_the_old_ones_deletion() {
    let mut new_sub = subscription_object("active", "price_enterprise_yearly", Some("org_1"));
    new_sub["id"] = json!("sub_2NEW");
    let events = [
        updated("evt_1", T0, "active", "price_team_monthly"),
        StripeEvent::parse(&body(
            "evt_2",
            "customer.subscription.created",
            T0 + 50,
            new_sub,
        ))
        .unwrap(),
        subscription_event(
            "evt_3",
            "customer.subscription.deleted",
            T0 + 60,
            "canceled",
            "price_team_monthly",
        ),
    ];
    let (ledger, outcomes) = BillingLedger::replay([community_org()], &events, &config());
    assert_eq!(
        outcomes[2].ignored,
        Some(IgnoreReason::NotCurrentSubscription {
            subscription_id: "sub_1PabcXYZ".into()
        })
    );
    let org = ledger.org("org_1").unwrap();
    assert_eq!(org.tier, Tier::Enterprise);
    assert_eq!(org.license_id.as_deref(), Some("lic_2"));
    assert_eq!(ledger.revoked_license_ids, ["lic_1"]);
}

#[test]
fn other_event_types_are_recorded_without_change() {
    let invoice = json!({"id": "in_1", "object": "invoice", "customer": "cus_QabcXYZ"});
    let event = StripeEvent::parse(&body("evt_1", "invoice.paid", T0, invoice)).unwrap();
    let (ledger, outcomes) = BillingLedger::replay([community_org()], &[event], &config());
    assert_eq!(
        outcomes[0].ignored,
        Some(IgnoreReason::UnhandledEventType {
            event_type: "invoice.paid".into()
        })
    );
    assert!(ledger.processed_event_ids.contains("evt_1"));
}

#[test]
fn a_replay_is_deterministic_and_its_ledger_serializes() {
    let events = [
        updated("evt_1", T0, "trialing", "price_team_monthly"),
        updated("evt_2", T0 + 10, "active", "price_enterprise_yearly"),
        updated("evt_3", T0 + 20, "unpaid", "price_enterprise_yearly"),
    ];
    let first = BillingLedger::replay([community_org()], &events, &config());
    let second = BillingLedger::replay([community_org()], &events, &config());
    assert_eq!(first, second);
    let json = serde_json::to_string(&first.0).unwrap();
    assert_eq!(
        serde_json::from_str::<BillingLedger>(&json).unwrap(),
        first.0
    );
    assert_eq!(first.0.revoked_license_ids, ["lic_1", "lic_2"]);
}
