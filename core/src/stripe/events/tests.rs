//! One test per rule of the event engine (SPEC §5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::json;

use super::*;

const T0: i64 = 1_700_000_000;
const PERIOD_END: i64 = 1_702_592_000;

fn config() -> BillingConfig {
    BillingConfig::new(PriceTiers::parse("price_team=team,price_ent=enterprise").unwrap())
}

fn event(event_type: &str, created: i64, object: Value) -> StripeEvent {
    StripeEvent {
        id: format!("evt_{created}"),
        event_type: event_type.into(),
        created,
        object,
    }
}

fn subscription(status: &str, price: &str) -> Value {
    json!({
        "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": status,
        "current_period_end": PERIOD_END, "metadata": {"org_id": "org_1"},
        "items": {"data": [{"price": {"id": price}}]}
    })
}

/// [`subscription`] under another subscription id.
fn subscription_with_id(id: &str, status: &str, price: &str) -> Value {
    let mut object = subscription(status, price);
    object["id"] = json!(id);
    object
}

/// Each outcome's ignore reason (`None`: applied).
fn reasons(outcomes: &[Outcome]) -> Vec<Option<&'static str>> {
    outcomes
        .iter()
        .map(|o| o.ignored.as_ref().map(IgnoreReason::as_str))
        .collect()
}

fn updated(created: i64, status: &str, price: &str) -> StripeEvent {
    event(
        "customer.subscription.updated",
        created,
        subscription(status, price),
    )
}

/// An org on `tier` whose subscription `sub_1` was last updated at `T0` with `status`.
fn org(tier: Tier, status: &str, license: Option<&str>) -> BillingState {
    BillingState {
        org_id: "org_1".into(),
        tier,
        managed_by: ManagedBy::Stripe,
        stripe_customer_id: Some("cus_1".into()),
        subscription: Some(SubscriptionState {
            id: "sub_1".into(),
            status: status.into(),
            price_id: Some("price_team".into()),
            current_period_end: Some(PERIOD_END),
            last_event_created: T0,
        }),
        license_id: license.map(str::to_owned),
        event_subscription: None,
        server_checkout_sessions: Vec::new(),
        server_customers: Vec::new(),
        event_deployment_license: None,
    }
}

fn fresh_org() -> BillingState {
    BillingState::new("org_1", Tier::Community)
}

fn apply(event: &StripeEvent, org: &BillingState) -> Outcome {
    let outcome = apply_event(event, Some(org), &config());
    assert_eq!(
        outcome.ignored.is_some(),
        outcome.actions.is_empty(),
        "{outcome:?}"
    );
    outcome
}

fn ignored(event: &StripeEvent, org: &BillingState) -> IgnoreReason {
    let outcome = apply(event, org);
    assert_eq!(
        outcome.state.as_ref(),
        Some(org),
        "an ignored event changes nothing"
    );
    outcome.ignored.unwrap()
}

fn tier_after(outcome: &Outcome) -> Tier {
    outcome.state.as_ref().unwrap().tier
}

const TEAM_EXPIRY: i64 = PERIOD_END + 14 * 86_400;

// --- parsing --------------------------------------------------------------------------------

#[test]
fn parse_reads_stripe_events_and_names_missing_fields() {
    let body = br#"{"id":"evt_1","object":"event","type":"ping","created":5,"livemode":false,"data":{"object":{"id":"x"}}}"#;
    let event = StripeEvent::parse(body).unwrap();
    assert_eq!(
        (event.id.as_str(), event.event_type.as_str(), event.created),
        ("evt_1", "ping", 5)
    );
    for (body, needle) in [
        (&b"not json"[..], "not JSON"),
        (b"[]", "not a JSON object"),
        (br#"{"type":"t","created":1,"data":{"object":{}}}"#, "`id`"),
        (br#"{"id":"e","created":1,"data":{"object":{}}}"#, "`type`"),
        (
            br#"{"id":"e","type":"","created":1,"data":{"object":{}}}"#,
            "`type`",
        ),
        (
            br#"{"id":"e","type":"t","data":{"object":{}}}"#,
            "`created`",
        ),
        (
            br#"{"id":"e","type":"t","created":"1","data":{"object":{}}}"#,
            "`created`",
        ),
        (br#"{"id":"e","type":"t","created":1}"#, "`data`"),
        (
            br#"{"id":"e","type":"t","created":1,"data":{}}"#,
            "`data.object`",
        ),
        (
            br#"{"id":"e","type":"t","created":1,"data":{"object":3}}"#,
            "`data.object`",
        ),
    ] {
        let err = StripeEvent::parse(body).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidStripeEvent);
        assert!(err.message().contains(needle), "{}", err.message());
    }
}

#[test]
fn events_serialize_in_stripes_shape_and_round_trip() {
    let event = updated(T0, "active", "price_team");
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["type"], "customer.subscription.updated");
    assert_eq!(json["data"]["object"]["id"], "sub_1");
    assert_eq!(serde_json::from_value::<StripeEvent>(json).unwrap(), event);
    assert!(serde_json::from_value::<StripeEvent>(json!({"id": "e"})).is_err());
}

#[test]
fn org_ref_prefers_metadata_then_client_reference_id() {
    let checkout = event(
        "checkout.session.completed",
        T0,
        json!({"id": "cs_1", "customer": "cus_1", "client_reference_id": "org_ref",
               "subscription": {"id": "sub_9"}}),
    );
    assert_eq!(
        checkout.org_ref(),
        OrgRef {
            org_id: Some("org_ref".into()),
            customer_id: Some("cus_1".into()),
            subscription_id: Some("sub_9".into()),
        }
    );
    let mut object = subscription("active", "price_team");
    object["client_reference_id"] = json!("org_other");
    object["customer"] = json!({"id": "cus_expanded"});
    let sub = event("customer.subscription.updated", T0, object).org_ref();
    assert_eq!(sub.org_id.as_deref(), Some("org_1"));
    assert_eq!(sub.customer_id.as_deref(), Some("cus_expanded"));
    assert_eq!(sub.subscription_id.as_deref(), Some("sub_1"));
    assert_eq!(
        event("invoice.paid", T0, json!({"metadata": {"org_id": ""}})).org_ref(),
        OrgRef::default()
    );
}

// --- dispatch -------------------------------------------------------------------------------

#[test]
fn other_event_types_are_ignored_as_unhandled() {
    let e = event("invoice.paid", T0, json!({"customer": "cus_1"}));
    assert_eq!(
        ignored(&e, &fresh_org()),
        IgnoreReason::UnhandledEventType {
            event_type: "invoice.paid".into()
        }
    );
    let unknown = apply_event(&e, None, &config());
    assert_eq!(unknown.state, None);
    assert_eq!(
        unknown.ignored.map(|r| r.as_str()),
        Some("unhandled_event_type")
    );
}

#[test]
fn an_unknown_org_changes_nothing() {
    let outcome = apply_event(&updated(T0, "active", "price_team"), None, &config());
    assert_eq!(
        outcome,
        Outcome {
            state: None,
            actions: vec![],
            ignored: Some(IgnoreReason::UnknownOrg)
        }
    );
}

#[test]
fn a_manual_org_is_never_changed() {
    let mut manual = fresh_org();
    manual.managed_by = ManagedBy::Manual;
    for e in [
        updated(T0, "active", "price_ent"),
        event(
            "customer.subscription.deleted",
            T0,
            subscription("canceled", "price_team"),
        ),
        event(
            "checkout.session.completed",
            T0,
            json!({"customer": "cus_1"}),
        ),
    ] {
        assert_eq!(ignored(&e, &manual), IgnoreReason::ManualOrg);
    }
}

// --- checkout -------------------------------------------------------------------------------

/// An org for which the server created checkout session `cs_1`.
fn org_with_server_checkout() -> BillingState {
    BillingState {
        server_checkout_sessions: vec!["cs_1".into()],
        ..fresh_org()
    }
}

#[test]
fn rule_3_a_checkout_the_server_created_links_the_customer() {
    let e = event(
        "checkout.session.completed",
        T0,
        json!({"id": "cs_1", "customer": "cus_1", "client_reference_id": "org_1"}),
    );
    let outcome = apply(&e, &org_with_server_checkout());
    assert_eq!(
        outcome.actions,
        vec![Action::LinkCustomer {
            customer_id: "cus_1".into()
        }]
    );
    let state = outcome.state.unwrap();
    assert_eq!(state.stripe_customer_id.as_deref(), Some("cus_1"));
    assert_eq!(state.tier, Tier::Community, "checkout alone grants no tier");
    assert_eq!(ignored(&e, &state), IgnoreReason::NoChange);
}

#[test]
fn rule_3_a_checkout_for_a_customer_the_server_created_links_it() {
    let e = event(
        "checkout.session.completed",
        T0,
        json!({"id": "cs_made_elsewhere", "customer": "cus_1", "client_reference_id": "org_1"}),
    );
    let org = BillingState {
        server_customers: vec!["cus_1".into()],
        ..fresh_org()
    };
    assert_eq!(
        apply(&e, &org).actions,
        vec![Action::LinkCustomer {
            customer_id: "cus_1".into()
        }]
    );
}

#[test]
fn rule_3_a_checkout_the_server_did_not_create_is_untrusted_and_changes_nothing() {
    // A Payment Link or pricing table: anyone can put any org in client_reference_id, and
    // metadata.org_id names the org just the same.
    for object in [
        json!({"id": "cs_stranger", "customer": "cus_stranger", "client_reference_id": "org_1"}),
        json!({"id": "cs_stranger", "customer": "cus_stranger", "metadata": {"org_id": "org_1"}}),
        json!({"customer": "cus_stranger", "client_reference_id": "org_1"}),
    ] {
        let e = event("checkout.session.completed", T0, object);
        for org in [fresh_org(), org_with_server_checkout()] {
            let outcome = apply_event(&e, Some(&org), &config());
            assert_eq!(outcome.ignored, Some(IgnoreReason::UntrustedCheckout));
            assert!(outcome.actions.is_empty());
            assert_eq!(outcome.state, Some(org));
        }
    }
    assert_eq!(
        IgnoreReason::UntrustedCheckout.as_str(),
        "untrusted_checkout"
    );
}

#[test]
fn rule_3a_another_customers_subscription_never_changes_the_org() {
    // The org pays enterprise through its own customer cus_1; a subscription of cus_other naming
    // the org neither replaces nor ends its subscription.
    let enterprise = org(Tier::Enterprise, "active", Some("lic_1"));
    for (kind, status) in [
        ("customer.subscription.created", "trialing"),
        ("customer.subscription.updated", "active"),
        ("customer.subscription.updated", "canceled"),
        ("customer.subscription.deleted", "canceled"),
    ] {
        let mut object = subscription(status, "price_team");
        object["id"] = json!("sub_other");
        object["customer"] = json!("cus_other");
        let e = event(kind, T0 + 60, object);
        let outcome = apply_event(&e, Some(&enterprise), &config());
        assert_eq!(
            outcome.ignored,
            Some(IgnoreReason::OtherCustomer {
                customer_id: "cus_other".into()
            }),
            "{kind} {status}"
        );
        assert_eq!(outcome.state, Some(enterprise.clone()));
    }
}

#[test]
fn checkout_without_a_customer_is_ignored_naming_the_field() {
    let e = event(
        "checkout.session.completed",
        T0,
        json!({"client_reference_id": "org_1"}),
    );
    assert_eq!(
        ignored(&e, &fresh_org()),
        IgnoreReason::MissingField {
            field: "customer".into()
        }
    );
}

// --- subscription status → tier -------------------------------------------------------------

#[test]
fn active_subscription_grants_the_tier_of_its_price_with_a_license() {
    let e = event(
        "customer.subscription.created",
        T0,
        subscription("active", "price_team"),
    );
    let outcome = apply(&e, &fresh_org());
    assert_eq!(
        outcome.actions,
        vec![
            Action::LinkCustomer {
                customer_id: "cus_1".into()
            },
            Action::UpdateSubscription {
                subscription: SubscriptionState {
                    id: "sub_1".into(),
                    status: "active".into(),
                    price_id: Some("price_team".into()),
                    current_period_end: Some(PERIOD_END),
                    last_event_created: T0,
                }
            },
            Action::ChangeTier {
                from: Tier::Community,
                to: Tier::Team
            },
            Action::SignLicense {
                tier: Tier::Team,
                expires_at: TEAM_EXPIRY
            },
        ]
    );
    assert_eq!(tier_after(&outcome), Tier::Team);
}

#[test]
fn trialing_grants_the_tier_like_active() {
    let outcome = apply(&updated(T0, "trialing", "price_ent"), &fresh_org());
    assert_eq!(tier_after(&outcome), Tier::Enterprise);
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Enterprise,
        expires_at: PERIOD_END + 30 * 86_400
    }));
}

#[test]
fn the_first_item_price_that_maps_decides_the_tier() {
    let mut object = subscription("active", "price_addon");
    object["items"]["data"] = json!([
        {"price": {"id": "price_addon"}}, {"price": {"id": "price_ent"}}, {"price": {"id": "price_team"}}
    ]);
    let outcome = apply(
        &event("customer.subscription.updated", T0, object),
        &fresh_org(),
    );
    assert_eq!(tier_after(&outcome), Tier::Enterprise);
    let sub = outcome.state.unwrap().subscription.unwrap();
    assert_eq!(sub.price_id.as_deref(), Some("price_ent"));
}

#[test]
fn an_unknown_price_changes_nothing_fail_closed() {
    assert_eq!(
        ignored(&updated(T0, "active", "price_gold"), &fresh_org()),
        IgnoreReason::UnknownPrice {
            price_id: "price_gold".into()
        }
    );
    // Not even a downgrade of a paying org: the price is simply not understood.
    let team = org(Tier::Team, "active", Some("lic_1"));
    assert_eq!(
        ignored(&updated(T0 + 1, "active", "price_gold"), &team),
        IgnoreReason::UnknownPrice {
            price_id: "price_gold".into()
        }
    );
}

#[test]
fn an_active_subscription_without_items_is_ignored_naming_the_field() {
    let mut object = subscription("active", "x");
    object["items"] = json!({"data": []});
    let e = event("customer.subscription.updated", T0, object);
    assert_eq!(
        ignored(&e, &fresh_org()),
        IgnoreReason::MissingField {
            field: "items.data[].price.id".into()
        }
    );
}

#[test]
fn a_subscription_without_id_or_status_is_ignored_naming_the_field() {
    for (field, object) in [
        ("id", json!({"status": "active"})),
        ("status", json!({"id": "sub_1"})),
    ] {
        let e = event("customer.subscription.updated", T0, object);
        assert_eq!(
            ignored(&e, &fresh_org()),
            IgnoreReason::MissingField {
                field: field.into()
            }
        );
    }
}

#[test]
fn past_due_keeps_the_tier_and_records_the_status() {
    let team = org(Tier::Team, "active", Some("lic_1"));
    let outcome = apply(&updated(T0 + 10, "past_due", "price_team"), &team);
    assert_eq!(tier_after(&outcome), Tier::Team);
    assert_eq!(outcome.actions.len(), 1, "{:?}", outcome.actions);
    let Action::UpdateSubscription { subscription } = &outcome.actions[0] else {
        panic!("{:?}", outcome.actions)
    };
    assert_eq!(subscription.status, "past_due");
    assert_eq!(outcome.state.unwrap().license_id.as_deref(), Some("lic_1"));
}

#[test]
fn past_due_never_upgrades() {
    let outcome = apply(&updated(T0, "past_due", "price_ent"), &fresh_org());
    assert_eq!(tier_after(&outcome), Tier::Community);
    assert!(!outcome
        .actions
        .iter()
        .any(|a| matches!(a, Action::ChangeTier { .. } | Action::SignLicense { .. })));
}

#[test]
fn unpaid_canceled_incomplete_expired_and_paused_mean_community_and_revoke_the_license() {
    for status in [
        "unpaid",
        "canceled",
        "incomplete",
        "incomplete_expired",
        "paused",
    ] {
        let team = org(Tier::Team, "active", Some("lic_1"));
        let outcome = apply(&updated(T0 + 10, status, "price_team"), &team);
        assert_eq!(tier_after(&outcome), Tier::Community, "{status}");
        assert!(outcome.actions.contains(&Action::ChangeTier {
            from: Tier::Team,
            to: Tier::Community
        }));
        assert!(outcome.actions.contains(&Action::RevokeLicense {
            license_id: "lic_1".into()
        }));
        assert_eq!(outcome.state.unwrap().license_id, None, "{status}");
    }
}

#[test]
fn an_unknown_status_neither_upgrades_nor_downgrades() {
    let team = org(Tier::Team, "active", Some("lic_1"));
    assert_eq!(
        ignored(&updated(T0 + 10, "frozen", "price_team"), &team),
        IgnoreReason::UnknownStatus {
            status: "frozen".into()
        }
    );
}

#[test]
fn subscription_deleted_means_community_and_revokes_the_license() {
    let e = event(
        "customer.subscription.deleted",
        T0 + 10,
        subscription("canceled", "price_team"),
    );
    let outcome = apply(&e, &org(Tier::Enterprise, "active", Some("lic_7")));
    assert_eq!(
        outcome.actions[1..],
        [
            Action::ChangeTier {
                from: Tier::Enterprise,
                to: Tier::Community
            },
            Action::RevokeLicense {
                license_id: "lic_7".into()
            },
        ]
    );
    let state = outcome.state.unwrap();
    assert_eq!(state.license_id, None);
    assert_eq!(state.subscription.unwrap().status, "canceled");
}

#[test]
fn subscription_deleted_is_recorded_as_canceled_whatever_its_object_says() {
    let e = event(
        "customer.subscription.deleted",
        T0 + 10,
        json!({"id": "sub_1"}),
    );
    let outcome = apply(&e, &org(Tier::Team, "active", None));
    assert_eq!(tier_after(&outcome), Tier::Community);
    assert_eq!(
        outcome.state.unwrap().subscription.unwrap().status,
        "canceled"
    );
}

// --- licenses -------------------------------------------------------------------------------

#[test]
fn an_upgrade_signs_a_new_license_and_revokes_the_previous_one() {
    let outcome = apply(
        &updated(T0 + 10, "active", "price_ent"),
        &org(Tier::Team, "active", Some("lic_1")),
    );
    let tail = &outcome.actions[1..];
    assert_eq!(
        tail,
        [
            Action::ChangeTier {
                from: Tier::Team,
                to: Tier::Enterprise
            },
            Action::SignLicense {
                tier: Tier::Enterprise,
                expires_at: PERIOD_END + 30 * 86_400
            },
            Action::RevokeLicense {
                license_id: "lic_1".into()
            },
        ]
    );
    assert_eq!(
        outcome.state.unwrap().license_id,
        None,
        "the host sets the new id"
    );
}

#[test]
fn a_downgrade_between_paid_tiers_revokes_the_enterprise_license() {
    let outcome = apply(
        &updated(T0 + 10, "active", "price_team"),
        &org(Tier::Enterprise, "active", Some("lic_ent")),
    );
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: TEAM_EXPIRY
    }));
    assert!(outcome.actions.contains(&Action::RevokeLicense {
        license_id: "lic_ent".into()
    }));
}

#[test]
fn a_renewal_re_signs_the_license_for_the_new_period() {
    let mut object = subscription("active", "price_team");
    object["current_period_end"] = json!(PERIOD_END + 30 * 86_400);
    let e = event("customer.subscription.updated", T0 + 10, object);
    let outcome = apply(&e, &org(Tier::Team, "active", Some("lic_1")));
    assert!(!outcome
        .actions
        .iter()
        .any(|a| matches!(a, Action::ChangeTier { .. })));
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: TEAM_EXPIRY + 30 * 86_400
    }));
    assert!(outcome.actions.contains(&Action::RevokeLicense {
        license_id: "lic_1".into()
    }));
}

#[test]
fn a_paid_org_without_a_license_gets_one() {
    let outcome = apply(
        &updated(T0 + 10, "active", "price_team"),
        &org(Tier::Team, "active", None),
    );
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: TEAM_EXPIRY
    }));
}

#[test]
fn an_update_that_changes_nothing_is_no_change() {
    let team = org(Tier::Team, "active", Some("lic_1"));
    assert_eq!(
        ignored(&updated(T0, "active", "price_team"), &team),
        IgnoreReason::NoChange
    );
}

#[test]
fn the_period_end_is_read_from_the_item_on_newer_api_versions() {
    let mut object = subscription("active", "price_team");
    object.as_object_mut().unwrap().remove("current_period_end");
    object["items"]["data"][0]["current_period_end"] = json!(PERIOD_END);
    let outcome = apply(
        &event("customer.subscription.created", T0, object),
        &fresh_org(),
    );
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: TEAM_EXPIRY
    }));
}

#[test]
fn a_missing_period_end_falls_back_to_31_days_after_the_event() {
    let mut object = subscription("active", "price_team");
    object.as_object_mut().unwrap().remove("current_period_end");
    let outcome = apply(
        &event("customer.subscription.created", T0, object),
        &fresh_org(),
    );
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: T0 + 31 * 86_400 + 14 * 86_400
    }));
}

#[test]
fn grace_days_come_from_the_config() {
    let mut config = config();
    config.grace_days = crate::tier::PerTier([0, 3, 5]);
    let outcome = apply_event(
        &updated(T0, "active", "price_team"),
        Some(&fresh_org()),
        &config,
    );
    assert!(outcome.actions.contains(&Action::SignLicense {
        tier: Tier::Team,
        expires_at: PERIOD_END + 3 * 86_400
    }));
}

// --- ordering -------------------------------------------------------------------------------

#[test]
fn an_event_older_than_the_last_applied_is_stale() {
    let team = org(Tier::Team, "active", Some("lic_1"));
    assert_eq!(
        ignored(&updated(T0 - 1, "canceled", "price_team"), &team),
        IgnoreReason::StaleEvent
    );
    let deleted = event(
        "customer.subscription.deleted",
        T0 - 1,
        subscription("canceled", "p"),
    );
    assert_eq!(ignored(&deleted, &team), IgnoreReason::StaleEvent);
}

#[test]
fn an_event_with_equal_created_is_applied() {
    let team = org(Tier::Team, "active", Some("lic_1"));
    let outcome = apply(&updated(T0, "canceled", "price_team"), &team);
    assert_eq!(tier_after(&outcome), Tier::Community);
}

#[test]
fn a_canceled_subscription_is_never_revived() {
    let ended = org(Tier::Community, "canceled", None);
    assert_eq!(
        ignored(&updated(T0, "active", "price_team"), &ended),
        IgnoreReason::StaleEvent
    );
    assert_eq!(
        ignored(&updated(T0 + 100, "past_due", "price_team"), &ended),
        IgnoreReason::StaleEvent
    );
}

#[test]
fn ending_another_subscription_does_not_downgrade_the_current_one() {
    let other = subscription_with_id("sub_old", "canceled", "price_team");
    let team = org(Tier::Team, "active", Some("lic_1"));
    for e in [
        event("customer.subscription.deleted", T0 + 10, other.clone()),
        event("customer.subscription.updated", T0 + 10, other),
    ] {
        assert_eq!(
            ignored(&e, &team),
            IgnoreReason::NotCurrentSubscription {
                subscription_id: "sub_old".into()
            }
        );
    }
}

#[test]
fn a_new_active_subscription_replaces_the_recorded_one() {
    let new = subscription_with_id("sub_new", "active", "price_ent");
    // Older than the recorded subscription's last event: staleness is per subscription.
    let outcome = apply(
        &event("customer.subscription.created", T0 - 100, new),
        &org(Tier::Team, "active", Some("lic_1")),
    );
    assert_eq!(tier_after(&outcome), Tier::Enterprise);
    let sub = outcome.state.unwrap().subscription.unwrap();
    assert_eq!(
        (sub.id.as_str(), sub.last_event_created),
        ("sub_new", T0 - 100)
    );
}

#[test]
fn after_the_recorded_subscription_ended_another_one_applies() {
    let other = subscription_with_id("sub_2", "incomplete", "price_team");
    let outcome = apply(
        &event("customer.subscription.created", T0 + 10, other),
        &org(Tier::Community, "canceled", None),
    );
    assert_eq!(outcome.state.unwrap().subscription.unwrap().id, "sub_2");
}

#[test]
fn a_late_event_about_an_earlier_subscription_is_checked_against_its_record() {
    // The org moved from sub_1 (canceled at T0 + 10) to sub_2 (enterprise).
    let mut enterprise = org(Tier::Enterprise, "active", Some("lic_2"));
    enterprise.subscription = Some(SubscriptionState {
        id: "sub_2".into(),
        status: "active".into(),
        price_id: Some("price_ent".into()),
        current_period_end: Some(PERIOD_END),
        last_event_created: T0 + 20,
    });
    let sub_1_ended = SubscriptionState {
        id: "sub_1".into(),
        status: "canceled".into(),
        price_id: Some("price_team".into()),
        current_period_end: Some(PERIOD_END),
        last_event_created: T0 + 10,
    };
    let with_record = BillingState {
        event_subscription: Some(sub_1_ended.clone()),
        ..enterprise.clone()
    };
    // A retried `active` from before the cancellation, and one after it (Stripe never leaves
    // `canceled`): both would bring the ended subscription back.
    for created in [T0 + 5, T0 + 30] {
        let outcome = apply(&updated(created, "active", "price_team"), &with_record);
        assert_eq!(outcome.ignored, Some(IgnoreReason::StaleEvent), "{created}");
        assert_eq!(
            outcome.state,
            Some(enterprise.clone()),
            "stored without the record"
        );
    }
    // Without a record of sub_1 the engine cannot know: an active subscription replaces the
    // current one (rule 5), as before.
    let unknown = apply(&updated(T0 + 5, "active", "price_team"), &enterprise);
    assert_eq!(unknown.ignored, None);
    // The record is about sub_1 only: an event about sub_3 is not judged by it.
    let sub_3 = subscription_with_id("sub_3", "active", "price_team");
    let other = apply(
        &event("customer.subscription.created", T0 + 5, sub_3),
        &with_record,
    );
    assert_eq!(other.ignored, None);
    assert_eq!(other.state.unwrap().event_subscription, None);
}

#[test]
fn the_ledger_keeps_a_cancelled_subscription_cancelled_after_the_org_moves_on() {
    // The review's sequence: team on sub_1, sub_1 deleted, enterprise on sub_2, a late retry of
    // an `active` sub_1 event from before its deletion, then sub_2 deleted.
    let sub_2 = |status: &str, price: &str| subscription_with_id("sub_2", status, price);
    let events = [
        updated(T0, "active", "price_team"),
        event(
            "customer.subscription.deleted",
            T0 + 10,
            subscription("canceled", "price_team"),
        ),
        event(
            "customer.subscription.created",
            T0 + 20,
            sub_2("active", "price_ent"),
        ),
        updated(T0 + 5, "active", "price_team"),
        event(
            "customer.subscription.deleted",
            T0 + 30,
            sub_2("canceled", "price_ent"),
        ),
    ];
    let (ledger, outcomes) = BillingLedger::replay([fresh_org()], &events, &config());
    assert_eq!(
        reasons(&outcomes),
        [None, None, None, Some("stale_event"), None]
    );
    let org = ledger.org("org_1").unwrap();
    assert_eq!(
        (org.tier, org.license_id.as_deref()),
        (Tier::Community, None)
    );
    assert_eq!(ledger.subscriptions["sub_1"].status, "canceled");
    assert_eq!(ledger.subscriptions["sub_2"].status, "canceled");
}

#[test]
fn an_old_subscription_deleted_while_not_current_stays_ended() {
    // Team on sub_1, enterprise on sub_2, then sub_1 is deleted (ignored: not current, but
    // recorded), sub_2 is deleted, and a retried `active` sub_1 event from before its deletion
    // arrives last. Without the record it would put the org back on team for good.
    let sub_2 = |status: &str, price: &str| subscription_with_id("sub_2", status, price);
    let events = [
        updated(T0, "active", "price_team"),
        event(
            "customer.subscription.created",
            T0 + 20,
            sub_2("active", "price_ent"),
        ),
        event(
            "customer.subscription.deleted",
            T0 + 30,
            subscription("active", "price_team"),
        ),
        event(
            "customer.subscription.deleted",
            T0 + 40,
            sub_2("canceled", "price_ent"),
        ),
        updated(T0 + 10, "active", "price_team"),
    ];
    let (ledger, outcomes) = BillingLedger::replay([fresh_org()], &events, &config());
    assert_eq!(
        reasons(&outcomes),
        [
            None,
            None,
            Some("not_current_subscription"),
            None,
            Some("stale_event")
        ]
    );
    assert_eq!(ledger.org("org_1").unwrap().tier, Tier::Community);
    let sub_1 = &ledger.subscriptions["sub_1"];
    assert_eq!(
        (sub_1.status.as_str(), sub_1.last_event_created),
        ("canceled", T0 + 30)
    );
    // What the engine asks the host to record, and only for that reason.
    let record = record_for_other_subscription(&events[2], &outcomes[2], &config()).unwrap();
    assert_eq!(&record, sub_1);
    assert_eq!(
        record_for_other_subscription(&events[0], &outcomes[0], &config()),
        None
    );
}

// --- shapes ---------------------------------------------------------------------------------

#[test]
fn actions_and_reasons_have_stable_json_names() {
    let cases = [
        (
            serde_json::to_value(Action::ChangeTier {
                from: Tier::Team,
                to: Tier::Community,
            }),
            json!({"action": "change_tier", "from": "team", "to": "community"}),
        ),
        (
            serde_json::to_value(Action::SignLicense {
                tier: Tier::Team,
                expires_at: 5,
            }),
            json!({"action": "sign_license", "tier": "team", "expires_at": 5}),
        ),
        (
            serde_json::to_value(IgnoreReason::UnknownOrg),
            json!({"reason": "unknown_org"}),
        ),
        (
            serde_json::to_value(IgnoreReason::UnknownPrice {
                price_id: "p".into(),
            }),
            json!({"reason": "unknown_price", "price_id": "p"}),
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got.unwrap(), want);
    }
    for reason in [
        IgnoreReason::Duplicate,
        IgnoreReason::UnhandledEventType {
            event_type: "x".into(),
        },
        IgnoreReason::UnknownOrg,
        IgnoreReason::ManualOrg,
        IgnoreReason::MissingField { field: "f".into() },
        IgnoreReason::UnknownStatus { status: "s".into() },
        IgnoreReason::UnknownPrice {
            price_id: "p".into(),
        },
        IgnoreReason::StaleEvent,
        IgnoreReason::NotCurrentSubscription {
            subscription_id: "s".into(),
        },
        IgnoreReason::NoChange,
    ] {
        let json = serde_json::to_value(&reason).unwrap();
        assert_eq!(json["reason"], reason.as_str());
        assert_eq!(
            serde_json::from_value::<IgnoreReason>(json).unwrap(),
            reason
        );
    }
}

#[test]
fn billing_state_and_outcome_round_trip_through_json() {
    let outcome = apply(
        &updated(T0 + 1, "active", "price_ent"),
        &org(Tier::Team, "active", Some("lic_1")),
    );
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["state"]["managed_by"], "stripe");
    assert_eq!(serde_json::from_value::<Outcome>(json).unwrap(), outcome);
    let minimal: BillingState =
        serde_json::from_value(json!({"org_id": "o", "tier": "team", "managed_by": "manual"}))
            .unwrap();
    assert_eq!(minimal.subscription, None);
}

// --- ledger ---------------------------------------------------------------------------------

#[test]
fn the_ledger_applies_each_event_id_once() {
    let mut ledger = BillingLedger::new();
    ledger.add_org(fresh_org());
    let e = updated(T0, "active", "price_team");
    let first = ledger.apply(&e, &config());
    assert_eq!(first.state.unwrap().license_id.as_deref(), Some("lic_1"));
    let before = ledger.clone();
    let again = ledger.apply(&e, &config());
    assert_eq!(again.ignored, Some(IgnoreReason::Duplicate));
    assert_eq!(ledger, before);
}

#[test]
fn the_ledger_signs_deterministic_ids_and_records_revocations() {
    let events = [
        updated(T0, "active", "price_team"),
        updated(T0 + 1, "active", "price_ent"),
        event(
            "customer.subscription.deleted",
            T0 + 2,
            subscription("canceled", "price_ent"),
        ),
    ];
    let (ledger, outcomes) = BillingLedger::replay([fresh_org()], &events, &config());
    assert!(outcomes.iter().all(|o| o.ignored.is_none()));
    assert_eq!(ledger.revoked_license_ids, ["lic_1", "lic_2"]);
    assert_eq!(ledger.next_license_number, 3);
    let org = ledger.org("org_1").unwrap();
    assert_eq!(
        (org.tier, org.license_id.as_deref()),
        (Tier::Community, None)
    );
    assert_eq!(ledger.processed_event_ids.len(), 3);
}

#[test]
fn the_ledger_finds_orgs_by_id_then_customer_then_subscription() {
    let mut ledger = BillingLedger::new();
    ledger.add_org(org(Tier::Team, "active", None));
    ledger.add_org(BillingState::new("org_2", Tier::Community));
    let find = |org_id: Option<&str>, customer: Option<&str>, sub: Option<&str>| {
        let r = OrgRef {
            org_id: org_id.map(Into::into),
            customer_id: customer.map(Into::into),
            subscription_id: sub.map(Into::into),
        };
        ledger.find_org(&r).map(|o| o.org_id.clone())
    };
    assert_eq!(
        find(Some("org_2"), Some("cus_1"), None).as_deref(),
        Some("org_2")
    );
    // An org_id naming no known org finds nothing, even when the customer is linked: fail closed.
    assert_eq!(find(Some("org_gone"), Some("cus_1"), None), None);
    assert_eq!(find(None, Some("cus_1"), None).as_deref(), Some("org_1"));
    assert_eq!(find(None, None, Some("sub_1")).as_deref(), Some("org_1"));
    assert_eq!(find(None, Some("cus_other"), Some("sub_other")), None);
}

#[test]
fn a_checkout_never_relinks_an_org_linked_to_another_customer() {
    let mut state = BillingState::new("org_1", Tier::Team);
    state.stripe_customer_id = Some("cus_victim".into());
    state.server_checkout_sessions = vec!["cs_1".into()];
    let event = StripeEvent::from_value(serde_json::json!({
        "id": "evt_checkout", "type": "checkout.session.completed", "created": T0,
        "data": {"object": {"id": "cs_1", "client_reference_id": "org_1", "customer": "cus_attacker"}}
    }))
    .unwrap();
    let outcome = apply_event(&event, Some(&state), &config());
    assert_eq!(outcome.ignored, Some(IgnoreReason::CustomerConflict));
    assert!(outcome.actions.is_empty());
}

#[test]
fn the_ledger_records_ignored_events_as_processed() {
    let (ledger, outcomes) =
        BillingLedger::replay([], &[updated(T0, "active", "price_team")], &config());
    assert_eq!(outcomes[0].ignored, Some(IgnoreReason::UnknownOrg));
    assert!(ledger.processed_event_ids.contains("evt_1700000000"));
}

#[test]
fn the_ledger_round_trips_through_json_with_optional_fields() {
    let (ledger, _) = BillingLedger::replay(
        [fresh_org()],
        &[updated(T0, "active", "price_team")],
        &config(),
    );
    let json = serde_json::to_string(&ledger).unwrap();
    assert_eq!(
        serde_json::from_str::<BillingLedger>(&json).unwrap(),
        ledger
    );
    let empty: BillingLedger = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, BillingLedger::new());
}

// --- rule 6a: self-hosted deployments -----------------------------------------------------------

/// The metadata the server's self-hosted checkout puts on the subscription.
fn self_hosted_metadata() -> serde_json::Value {
    json!({"org_id": "org_1", "license_type": "self_hosted", "deployment_id": "dep-1"})
}

/// An `invoice.paid` of the self-hosted subscription, as API 2025-03-31 shapes it.
fn deployment_invoice(customer: &str, price: &str, period_end: i64) -> StripeEvent {
    event(
        "invoice.paid",
        T0,
        json!({
            "id": "in_1", "object": "invoice", "customer": customer, "status": "paid",
            "parent": {"type": "subscription_details", "subscription_details": {
                "subscription": "sub_dep", "metadata": self_hosted_metadata()}},
            "lines": {"data": [{"period": {"start": T0, "end": period_end},
                "pricing": {"type": "price_details", "price_details": {"price": price, "product": "prod_1"}}}]}
        }),
    )
}

fn linked_org() -> BillingState {
    BillingState {
        stripe_customer_id: Some("cus_1".into()),
        ..fresh_org()
    }
}

#[test]
fn rule_6a_a_paid_deployment_invoice_signs_its_license_and_leaves_the_org_alone() {
    let e = deployment_invoice("cus_1", "price_team", PERIOD_END);
    assert_eq!(
        e.org_ref().subscription_id.as_deref(),
        Some("sub_dep"),
        "found through the invoice's parent"
    );
    assert_eq!(e.org_ref().org_id.as_deref(), Some("org_1"));
    let outcome = apply(&e, &linked_org());
    assert_eq!(
        outcome.actions,
        vec![Action::SignDeploymentLicense {
            deployment_id: "dep-1".into(),
            tier: Tier::Team,
            expires_at: TEAM_EXPIRY,
        }]
    );
    let state = outcome.state.unwrap();
    assert_eq!(
        state.tier,
        Tier::Community,
        "the org's own tier is unchanged"
    );
    assert_eq!(state.license_id, None);
}

#[test]
fn rule_6a_a_renewal_revokes_the_deployments_previous_license() {
    let org = BillingState {
        event_deployment_license: Some("lic_old".into()),
        ..linked_org()
    };
    let outcome = apply(
        &deployment_invoice("cus_1", "price_team", PERIOD_END + 30 * 86_400),
        &org,
    );
    assert_eq!(
        outcome.actions.get(1),
        Some(&Action::RevokeLicense {
            license_id: "lic_old".into()
        })
    );
    assert_eq!(
        outcome.state.unwrap().event_deployment_license,
        None,
        "never stored"
    );
    // Through the ledger: the second invoice revokes the first one's license.
    let first = deployment_invoice("cus_1", "price_team", PERIOD_END);
    let mut second = deployment_invoice("cus_1", "price_team", PERIOD_END + 30 * 86_400);
    second.id = "evt_renewal".into();
    let (ledger, _) = BillingLedger::replay([linked_org()], &[first, second], &config());
    assert_eq!(ledger.revoked_license_ids, vec!["lic_1".to_owned()]);
    assert_eq!(
        ledger
            .deployment_licenses
            .get("org_1/dep-1")
            .map(String::as_str),
        Some("lic_2")
    );
    assert_eq!(ledger.org("org_1").unwrap().tier, Tier::Community);
}

#[test]
fn rule_6a_another_customers_or_an_unmapped_deployment_invoice_signs_nothing() {
    let stranger = deployment_invoice("cus_other", "price_team", PERIOD_END);
    assert_eq!(
        ignored(&stranger, &linked_org()),
        IgnoreReason::OtherCustomer {
            customer_id: "cus_other".into()
        }
    );
    // Not linked at all: not the org's customer either.
    assert!(matches!(
        ignored(
            &deployment_invoice("cus_1", "price_team", PERIOD_END),
            &fresh_org()
        ),
        IgnoreReason::OtherCustomer { .. }
    ));
    assert_eq!(
        ignored(
            &deployment_invoice("cus_1", "price_x", PERIOD_END),
            &linked_org()
        ),
        IgnoreReason::UnknownPrice {
            price_id: "price_x".into()
        }
    );
}

#[test]
fn rule_6a_self_hosted_subscription_events_never_change_the_org() {
    let team = org(Tier::Team, "active", Some("lic_1"));
    for (kind, status) in [
        ("customer.subscription.created", "active"),
        ("customer.subscription.updated", "canceled"),
        ("customer.subscription.deleted", "canceled"),
    ] {
        let mut object = subscription_with_id("sub_dep", status, "price_enterprise");
        object["metadata"] = self_hosted_metadata();
        let e = event(kind, T0 + 60, object);
        assert_eq!(
            ignored(&e, &team),
            IgnoreReason::SelfHostedSubscription,
            "{kind}"
        );
    }
}

#[test]
fn rule_6a_an_invoice_of_a_saas_subscription_is_not_handled() {
    let mut e = deployment_invoice("cus_1", "price_team", PERIOD_END);
    e.object["parent"]["subscription_details"]["metadata"] = json!({"org_id": "org_1"});
    assert!(matches!(
        ignored(&e, &linked_org()),
        IgnoreReason::UnhandledEventType { .. }
    ));
}
