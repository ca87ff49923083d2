//! `stripe_events.json`: Stripe event sequences replayed through core's `BillingLedger`, with the
//! final state of every org stated by hand from contract §5.

use dev_health_entitlements::stripe::{
    BillingConfig, BillingLedger, BillingState, ManagedBy, PriceTiers, StripeEvent,
};
use dev_health_entitlements::Tier;
use serde_json::{json, Value};

use crate::common::*;
use crate::oracle;
use crate::spec;

const TEAM: &str = "price_team_monthly";
const ENT: &str = "price_enterprise_monthly";
const PERIOD_END: i64 = T + 30 * DAY;

/// A `customer.subscription.*` event as Stripe sends it.
#[allow(clippy::too_many_arguments)]
fn sub(
    id: &str,
    kind: &str,
    created: i64,
    sub_id: &str,
    customer: &str,
    status: &str,
    price: &str,
    period_end: i64,
    org: Option<&str>,
) -> Value {
    let metadata = match org {
        Some(org) => json!({"org_id": org}),
        None => json!({}),
    };
    json!({
        "id": id,
        "object": "event",
        "type": format!("customer.subscription.{kind}"),
        "created": created,
        "livemode": false,
        "data": {"object": {
            "id": sub_id,
            "object": "subscription",
            "customer": customer,
            "status": status,
            "current_period_end": period_end,
            "metadata": metadata,
            "items": {"object": "list", "data": [{"id": format!("si_{sub_id}"), "object": "subscription_item", "price": {"id": price, "object": "price"}}]},
        }},
    })
}

fn checkout(id: &str, created: i64, org: &str, customer: &str) -> Value {
    json!({
        "id": id,
        "object": "event",
        "type": "checkout.session.completed",
        "created": created,
        "data": {"object": {"id": format!("cs_{id}"), "object": "checkout.session", "mode": "subscription", "client_reference_id": org, "customer": customer, "subscription": "sub_1"}},
    })
}

/// An `invoice.paid` of a self-hosted subscription for deployment `dep-1`, as API 2025-03-31
/// shapes it (the subscription's metadata under `parent.subscription_details`).
fn deployment_invoice(
    id: &str,
    created: i64,
    customer: &str,
    price: &str,
    period_end: i64,
) -> Value {
    json!({
        "id": id,
        "object": "event",
        "type": "invoice.paid",
        "created": created,
        "data": {"object": {
            "id": format!("in_{id}"), "object": "invoice", "customer": customer, "status": "paid",
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_dep",
                "metadata": {"org_id": ORG, "license_type": "self_hosted", "deployment_id": "dep-1"}}},
            "lines": {"object": "list", "data": [{"object": "line_item", "period": {"start": created, "end": period_end},
                "pricing": {"type": "price_details", "price_details": {"price": price, "product": "prod_1"}}}]},
        }},
    })
}

struct Seq {
    name: &'static str,
    description: &'static str,
    orgs: Vec<BillingState>,
    events: Vec<Value>,
    /// By hand: each event's ignore reason (`None`: applied).
    ignored: Vec<Option<&'static str>>,
    /// By hand: each org's final tier and license id.
    finals: Vec<(&'static str, Tier, Option<&'static str>)>,
    /// By hand: the licenses revoked, in order.
    revoked: Vec<&'static str>,
}

fn acme() -> BillingState {
    BillingState::new(ORG, Tier::Community)
}

/// [`acme`] for which the server created the checkout sessions of `events` (`cs_<event id>`).
fn acme_checkout(events: &[&str]) -> BillingState {
    BillingState {
        server_checkout_sessions: events.iter().map(|e| format!("cs_{e}")).collect(),
        ..acme()
    }
}

/// Every Stripe event sequence.
pub fn cases() -> Res<Vec<Case>> {
    let mut prices = PriceTiers::new();
    prices.insert(TEAM, Tier::Team);
    prices.insert(ENT, Tier::Enterprise);
    let config = BillingConfig::new(prices);
    let mut manual = BillingState::new("org_manual", Tier::Enterprise);
    manual.managed_by = ManagedBy::Manual;
    let a = Some(ORG);
    let team_created = sub(
        "evt_1", "created", T, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a,
    );

    let order = order_seqs(&manual)?;
    let acme_linked = BillingState {
        stripe_customer_id: Some("cus_1".into()),
        ..acme()
    };
    let mut seqs = vec![
        Seq { name: "self_hosted_invoices_sign_deployment_licenses", description: "Each paid invoice of a self-hosted subscription (metadata license_type self_hosted, deployment_id dep-1) from the org's customer signs a license for the deployment (lic_1, then lic_2 revoking lic_1 at the renewal); the org's own tier never changes; the same invoice from another customer signs nothing (other_customer).", orgs: vec![acme_linked], events: vec![deployment_invoice("evt_1", T, "cus_1", ENT, PERIOD_END), deployment_invoice("evt_2", T + 30 * DAY, "cus_1", ENT, PERIOD_END + 30 * DAY), deployment_invoice("evt_3", T + 30 * DAY, "cus_evil", ENT, PERIOD_END + 60 * DAY)], ignored: vec![None, None, Some("other_customer")], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "subscription_created_active_team", description: "An active team subscription moves a community org to team and signs license lic_1.", orgs: vec![acme()], events: vec![team_created.clone()], ignored: vec![None], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "trialing_grants_tier", description: "A trialing subscription grants the tier of its price.", orgs: vec![acme()], events: vec![sub("evt_1", "created", T, "sub_1", "cus_1", "trialing", ENT, PERIOD_END, a)], ignored: vec![None], finals: vec![(ORG, Tier::Enterprise, Some("lic_1"))], revoked: vec![] },
        Seq { name: "duplicate_event_applied_once", description: "The same event id delivered twice is applied once; the second is a duplicate.", orgs: vec![acme()], events: vec![team_created.clone(), team_created.clone()], ignored: vec![None, Some("duplicate")], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "out_of_order_older_event_ignored", description: "An update created before the last one applied to the subscription changes nothing (stale_event).", orgs: vec![acme()], events: vec![sub("evt_2", "updated", T + 200, "sub_1", "cus_1", "active", ENT, PERIOD_END, a), sub("evt_1", "updated", T + 100, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a)], ignored: vec![None, Some("stale_event")], finals: vec![(ORG, Tier::Enterprise, Some("lic_1"))], revoked: vec![] },
        Seq { name: "same_second_update_applied", description: "An update with the same created second as the last one is applied.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T, "sub_1", "cus_1", "active", ENT, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Enterprise, Some("lic_2"))], revoked: vec!["lic_1"] },
        Seq { name: "unknown_price_changes_nothing", description: "An active subscription on a price with no tier mapping changes nothing (fail closed).", orgs: vec![acme()], events: vec![sub("evt_1", "created", T, "sub_1", "cus_1", "active", "price_mystery", PERIOD_END, a)], ignored: vec![Some("unknown_price")], finals: vec![(ORG, Tier::Community, None)], revoked: vec![] },
        Seq { name: "unknown_price_never_downgrades", description: "A team org whose subscription moves to an unmapped price keeps team.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "active", "price_mystery", PERIOD_END, a)], ignored: vec![None, Some("unknown_price")], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "past_due_keeps_tier", description: "past_due keeps the paid tier and its license.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "past_due", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "canceled_downgrades_and_revokes", description: "A canceled subscription moves the org to community and revokes its license.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "unpaid_downgrades", description: "unpaid moves the org to community and revokes its license.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "unpaid", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "past_due_then_unpaid", description: "past_due keeps team, then unpaid downgrades to community.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "past_due", TEAM, PERIOD_END, a), sub("evt_3", "updated", T + 120, "sub_1", "cus_1", "unpaid", TEAM, PERIOD_END, a)], ignored: vec![None, None, None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "incomplete_stays_community", description: "An incomplete subscription grants nothing; the org stays community with no license.", orgs: vec![acme()], events: vec![sub("evt_1", "created", T, "sub_1", "cus_1", "incomplete", TEAM, PERIOD_END, a)], ignored: vec![None], finals: vec![(ORG, Tier::Community, None)], revoked: vec![] },
        Seq { name: "paused_downgrades", description: "A paused subscription moves the org to community and revokes its license.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "paused", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "incomplete_expired_downgrades", description: "incomplete_expired moves the org to community and revokes its license.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "incomplete_expired", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "unknown_status_changes_nothing", description: "A status Stripe does not document changes nothing: neither an upgrade nor a downgrade on a guess.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "suspended_maybe", TEAM, PERIOD_END, a)], ignored: vec![None, Some("unknown_status")], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "deleted_downgrades_and_revokes", description: "customer.subscription.deleted moves the org to community and revokes its license.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "deleted", T + 60, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "canceled_subscription_not_revived", description: "After deletion, a later active update of the same subscription is stale: a canceled subscription never comes back.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "deleted", T + 60, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, a), sub("evt_3", "updated", T + 120, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a)], ignored: vec![None, None, Some("stale_event")], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1"] },
        Seq { name: "manual_org_never_changed", description: "An org managed by hand is never changed by Stripe events.", orgs: vec![manual.clone()], events: vec![sub("evt_1", "updated", T, "sub_9", "cus_9", "canceled", TEAM, PERIOD_END, Some("org_manual")), sub("evt_2", "deleted", T + 1, "sub_9", "cus_9", "canceled", TEAM, PERIOD_END, Some("org_manual"))], ignored: vec![Some("manual_org"), Some("manual_org")], finals: vec![("org_manual", Tier::Enterprise, None)], revoked: vec![] },
        Seq { name: "unknown_org_changes_nothing", description: "An event for an org the host does not know changes nothing and is recorded as unknown_org.", orgs: vec![acme()], events: vec![sub("evt_1", "created", T, "sub_x", "cus_ghost", "active", ENT, PERIOD_END, Some("org_ghost"))], ignored: vec![Some("unknown_org")], finals: vec![(ORG, Tier::Community, None)], revoked: vec![] },
        Seq { name: "checkout_then_subscription_via_customer", description: "Checkout links the customer to the org; a later subscription event without metadata finds the org through that link.", orgs: vec![acme_checkout(&["evt_1"])], events: vec![checkout("evt_1", T, ORG, "cus_42"), sub("evt_2", "created", T + 5, "sub_1", "cus_42", "active", TEAM, PERIOD_END, None)], ignored: vec![None, None], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "subscription_before_checkout", description: "A subscription event that arrives before checkout (no metadata, unlinked customer) is unknown_org; after checkout links the customer, the next update applies.", orgs: vec![acme_checkout(&["evt_2"])], events: vec![sub("evt_1", "created", T, "sub_1", "cus_42", "active", TEAM, PERIOD_END, None), checkout("evt_2", T + 1, ORG, "cus_42"), sub("evt_3", "updated", T + 2, "sub_1", "cus_42", "active", TEAM, PERIOD_END, None)], ignored: vec![Some("unknown_org"), None, None], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "checkout_repeated_no_change", description: "A second checkout for an already linked customer changes nothing (no_change).", orgs: vec![acme_checkout(&["evt_1", "evt_2"])], events: vec![checkout("evt_1", T, ORG, "cus_42"), checkout("evt_2", T + 10, ORG, "cus_42")], ignored: vec![None, Some("no_change")], finals: vec![(ORG, Tier::Community, None)], revoked: vec![] },
        Seq { name: "checkout_for_org_linked_to_another_customer", description: "A checkout the server created for an org already linked to another customer is refused (customer_conflict): the link is never moved.", orgs: vec![acme_checkout(&["evt_2"])], events: vec![team_created.clone(), checkout("evt_2", T + 10, ORG, "cus_evil"), sub("evt_3", "updated", T + 20, "sub_evil", "cus_evil", "canceled", TEAM, PERIOD_END, None)], ignored: vec![None, Some("customer_conflict"), Some("unknown_org")], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "untrusted_checkout_links_nothing", description: "A checkout the server did not create (a Payment Link naming the org in client_reference_id) is untrusted_checkout and links no customer, so that customer's later subscription finds no org.", orgs: vec![acme()], events: vec![checkout("evt_1", T, ORG, "cus_stranger"), sub("evt_2", "created", T + 5, "sub_stranger", "cus_stranger", "trialing", ENT, PERIOD_END, None)], ignored: vec![Some("untrusted_checkout"), Some("unknown_org")], finals: vec![(ORG, Tier::Community, None)], revoked: vec![] },
        Seq { name: "hijack_replay_owner_stays_on_enterprise", description: "The owner pays enterprise through customer cus_1. A stranger's checkout naming the org is untrusted_checkout; the stranger's subscription, even naming the org in its metadata, is other_customer when created and when deleted: the owner stays on enterprise with lic_1.", orgs: vec![acme()], events: vec![sub("evt_1", "created", T, "sub_1", "cus_1", "active", ENT, PERIOD_END, a), checkout("evt_2", T + 10, ORG, "cus_evil"), sub("evt_3", "created", T + 20, "sub_evil", "cus_evil", "trialing", TEAM, PERIOD_END, a), sub("evt_4", "deleted", T + 30, "sub_evil", "cus_evil", "canceled", TEAM, PERIOD_END, a)], ignored: vec![None, Some("untrusted_checkout"), Some("other_customer"), Some("other_customer")], finals: vec![(ORG, Tier::Enterprise, Some("lic_1"))], revoked: vec![] },
        Seq { name: "unknown_org_id_fails_closed", description: "An event whose metadata names an unknown org finds no org, even when its customer is linked to a known one.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, Some("org_ghost"))], ignored: vec![None, Some("unknown_org")], finals: vec![(ORG, Tier::Team, Some("lic_1"))], revoked: vec![] },
        Seq { name: "upgrade_team_to_enterprise_revokes_old_license", description: "Moving team to enterprise signs lic_2 and revokes lic_1.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "active", ENT, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Enterprise, Some("lic_2"))], revoked: vec!["lic_1"] },
        Seq { name: "downgrade_enterprise_to_team", description: "Moving enterprise to team signs a team license and revokes the enterprise one.", orgs: vec![acme()], events: vec![sub("evt_1", "created", T, "sub_1", "cus_1", "active", ENT, PERIOD_END, a), sub("evt_2", "updated", T + 60, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Team, Some("lic_2"))], revoked: vec!["lic_1"] },
        Seq { name: "renewal_re_signs_license", description: "A renewal (new period end) re-signs the license so it follows the paid period, revoking the old one.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "updated", T + 30 * DAY, "sub_1", "cus_1", "active", TEAM, PERIOD_END + 30 * DAY, a)], ignored: vec![None, None], finals: vec![(ORG, Tier::Team, Some("lic_2"))], revoked: vec!["lic_1"] },
        Seq { name: "ended_subscription_not_revived_after_move", description: "A team subscription is deleted, the org moves to a new enterprise one, and a late retry of an active event about the deleted subscription (created before its deletion) changes nothing (stale_event): when the new one is deleted too, the org is community.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "deleted", T + 10, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, a), sub("evt_3", "created", T + 20, "sub_2", "cus_1", "active", ENT, PERIOD_END, a), sub("evt_4", "updated", T + 5, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a), sub("evt_5", "deleted", T + 30, "sub_2", "cus_1", "canceled", ENT, PERIOD_END, a)], ignored: vec![None, None, None, Some("stale_event"), None], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1", "lic_2"] },
        Seq { name: "old_subscription_deleted_while_not_current_stays_ended", description: "The deletion of an old subscription after a move is not_current_subscription but is recorded: a late retry of an active event about it (created before the deletion) is stale_event, so once the new subscription is deleted the org stays community.", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "created", T + 20, "sub_2", "cus_1", "active", ENT, PERIOD_END, a), sub("evt_3", "deleted", T + 30, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a), sub("evt_4", "deleted", T + 40, "sub_2", "cus_1", "canceled", ENT, PERIOD_END, a), sub("evt_5", "updated", T + 10, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a)], ignored: vec![None, None, Some("not_current_subscription"), None, Some("stale_event")], finals: vec![(ORG, Tier::Community, None)], revoked: vec!["lic_1", "lic_2"] },
        Seq { name: "old_subscription_deleted_after_move", description: "After moving to a new enterprise subscription, deleting the old team one does not downgrade the org (not_current_subscription).", orgs: vec![acme()], events: vec![team_created.clone(), sub("evt_2", "created", T + 60, "sub_2", "cus_1", "active", ENT, PERIOD_END, a), sub("evt_3", "deleted", T + 120, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, a)], ignored: vec![None, None, Some("not_current_subscription")], finals: vec![(ORG, Tier::Enterprise, Some("lic_2"))], revoked: vec!["lic_1"] },
        Seq { name: "unhandled_event_type", description: "An event type the engine does not act on (invoice.paid) is recorded and changes nothing.", orgs: vec![acme()], events: vec![json!({"id": "evt_1", "object": "event", "type": "invoice.paid", "created": T, "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1"}}})], ignored: vec![Some("unhandled_event_type")], finals: vec![(ORG, Tier::Community, None)], revoked: vec![] },
        Seq { name: "two_orgs_independent", description: "Events for two orgs change each org alone; license ids are numbered in order of signing.", orgs: vec![acme(), BillingState::new("org_beta", Tier::Community), manual], events: vec![team_created.clone(), sub("evt_2", "created", T + 1, "sub_2", "cus_2", "active", ENT, PERIOD_END, Some("org_beta")), sub("evt_3", "deleted", T + 2, "sub_1", "cus_1", "canceled", TEAM, PERIOD_END, a)], ignored: vec![None, None, None], finals: vec![(ORG, Tier::Community, None), ("org_beta", Tier::Enterprise, Some("lic_2")), ("org_manual", Tier::Enterprise, None)], revoked: vec!["lic_1"] },
    ];

    seqs.extend(order);

    let mut out = Vec::new();
    for s in seqs {
        let events = s
            .events
            .iter()
            .map(|e| StripeEvent::from_value(e.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (ledger, outcomes) = BillingLedger::replay(s.orgs.clone(), &events, &config);
        let reasons: Vec<Option<&str>> = outcomes
            .iter()
            .map(|o| o.ignored.as_ref().map(|r| r.as_str()))
            .collect();
        agree(s.name, "ignore reasons", reasons, s.ignored.clone())?;
        agree(s.name, "number of orgs", ledger.orgs.len(), s.finals.len())?;
        for (org, tier, license) in &s.finals {
            let state = ledger
                .org(org)
                .ok_or_else(|| format!("vector {}: org {org} missing", s.name))?;
            agree(s.name, &format!("{org} tier"), state.tier, *tier)?;
            agree(
                s.name,
                &format!("{org} license"),
                state.license_id.as_deref(),
                *license,
            )?;
        }
        agree(
            s.name,
            "revoked",
            ledger
                .revoked_license_ids
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            s.revoked.clone(),
        )?;
        check_signed_licenses(s.name, &s.events, &serde_json::to_value(&outcomes)?)?;
        let orgs: serde_json::Map<String, Value> = ledger
            .orgs
            .iter()
            .map(|(id, st)| Ok((id.clone(), serde_json::to_value(st)?)))
            .collect::<Res<_>>()?;
        out.push(Case::new(
            format!("stripe_events_{}", s.name),
            s.description,
            json!({
                "config": serde_json::to_value(&config)?,
                "orgs": serde_json::to_value(&s.orgs)?,
                "events": s.events,
                "expect": {
                    "outcomes": serde_json::to_value(&outcomes)?,
                    "orgs": orgs,
                    "revoked_license_ids": ledger.revoked_license_ids,
                },
            }),
        )?);
    }
    Ok(out)
}

fn invoice(id: &str, created: i64, customer: &str, org: &str) -> Value {
    json!({"id": id, "object": "event", "type": "invoice.paid", "created": created, "data": {"object": {"id": format!("in_{id}"), "object": "invoice", "customer": customer, "metadata": {"org_id": org}}}})
}

/// The Stripe rule order pinned: for each adjacent pair of [`spec::STRIPE_ORDER`] that one event
/// can break together, a sequence whose last event breaks both; it is refused with the earlier
/// rule's reason, read from that list. Two pairs cannot meet in one event (an org is either
/// unknown or managed by hand; `not_current_subscription` needs a status that grants no tier,
/// `unknown_price` one that does), so the rules on either side of them are set against each other
/// instead (`unhandled_event_type` with `manual_org`, `unknown_org` and `stale_event` with
/// `unknown_price`).
fn order_seqs(manual: &BillingState) -> Res<Vec<Seq>> {
    let a = Some(ORG);
    let team_created = sub(
        "evt_1", "created", T, "sub_1", "cus_1", "active", TEAM, PERIOD_END, a,
    );
    let first = |faults: &[&str]| spec::first_stripe_rule(faults);
    let seq = |name, description, orgs, events, ignored, finals, revoked| Seq {
        name,
        description,
        orgs,
        events,
        ignored,
        finals,
        revoked,
    };
    Ok(vec![
        seq("order_duplicate_before_unhandled_event_type", "An invoice.paid event delivered twice: the repeat is duplicate before its type is looked at.", vec![acme()], vec![invoice("evt_1", T, "cus_1", ORG), invoice("evt_1", T, "cus_1", ORG)], vec![Some(first(&["unhandled_event_type"])?), Some(first(&["duplicate", "unhandled_event_type"])?)], vec![(ORG, Tier::Community, None)], vec![]),
        seq("order_unhandled_event_type_before_unknown_org", "An invoice.paid event naming an org the host does not know is unhandled_event_type: the type is looked at before the org.", vec![acme()], vec![invoice("evt_1", T, "cus_ghost", "org_ghost")], vec![Some(first(&["unhandled_event_type", "unknown_org"])?)], vec![(ORG, Tier::Community, None)], vec![]),
        seq("order_unhandled_event_type_before_manual_org", "An invoice.paid event for an org managed by hand is unhandled_event_type: the type is looked at before the org.", vec![manual.clone()], vec![invoice("evt_1", T, "cus_9", "org_manual")], vec![Some(first(&["unhandled_event_type", "manual_org"])?)], vec![("org_manual", Tier::Enterprise, None)], vec![]),
        seq("order_unknown_org_before_unknown_price", "A subscription event for an unknown org on an unmapped price is unknown_org.", vec![acme()], vec![sub("evt_1", "created", T, "sub_x", "cus_ghost", "active", "price_mystery", PERIOD_END, Some("org_ghost"))], vec![Some(first(&["unknown_org", "unknown_price"])?)], vec![(ORG, Tier::Community, None)], vec![]),
        seq("order_manual_org_before_unknown_status", "An undocumented status for an org managed by hand is manual_org: the org is looked at before the event's content.", vec![manual.clone()], vec![sub("evt_1", "updated", T, "sub_9", "cus_9", "suspended_maybe", TEAM, PERIOD_END, Some("org_manual"))], vec![Some(first(&["manual_org", "unknown_status"])?)], vec![("org_manual", Tier::Enterprise, None)], vec![]),
        seq("order_unknown_status_before_stale_event", "An update older than the last one applied, with a status Stripe does not document, is unknown_status.", vec![acme()], vec![team_created.clone(), sub("evt_2", "updated", T - 60, "sub_1", "cus_1", "suspended_maybe", TEAM, PERIOD_END, a)], vec![None, Some(first(&["unknown_status", "stale_event"])?)], vec![(ORG, Tier::Team, Some("lic_1"))], vec![]),
        seq("order_stale_event_before_not_current_subscription", "After a move to a new subscription, an unpaid update of the old one created before its last applied event is stale_event, not not_current_subscription.", vec![acme()], vec![team_created.clone(), sub("evt_2", "created", T + 20, "sub_2", "cus_1", "active", ENT, PERIOD_END, a), sub("evt_3", "updated", T - 10, "sub_1", "cus_1", "unpaid", TEAM, PERIOD_END, a)], vec![None, None, Some(first(&["stale_event", "not_current_subscription"])?)], vec![(ORG, Tier::Enterprise, Some("lic_2"))], vec!["lic_1"]),
        seq("order_stale_event_before_unknown_price", "An active update older than the last one applied, on an unmapped price, is stale_event.", vec![acme()], vec![team_created.clone(), sub("evt_2", "updated", T - 10, "sub_1", "cus_1", "active", "price_mystery", PERIOD_END, a)], vec![None, Some(first(&["stale_event", "unknown_price"])?)], vec![(ORG, Tier::Team, Some("lic_1"))], vec![]),
    ])
}

/// contract §5 by hand for every license an event signs: `tier` is the tier of the event's first
/// price that maps to one (here `TEAM` and `ENT`), and `exp` is the subscription's period end plus
/// that tier's grace days (contract §2: 14 and 30; §7.10 puts the grace inside `exp`).
fn check_signed_licenses(name: &str, events: &[Value], outcomes: &Value) -> Res<()> {
    let outcomes = outcomes.as_array().ok_or("outcomes are a list")?;
    for (event, outcome) in events.iter().zip(outcomes) {
        let object = event
            .pointer("/data/object")
            .ok_or("an event has data.object")?;
        let signed = outcome
            .get("actions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|a| a.get("action").and_then(Value::as_str) == Some("sign_license"));
        let each = |kind: &'static str| {
            outcome
                .get("actions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(move |a| a.get("action").and_then(Value::as_str) == Some(kind))
        };
        // The subscription record is the event's own: its id, status (a deletion records
        // `canceled` unless Stripe sent another final status), the price that decided (the
        // first mapped one, else the first listed), its period end and `created`.
        for action in each("update_subscription") {
            let deleted =
                event.get("type").and_then(Value::as_str) == Some("customer.subscription.deleted");
            let status = match object.get("status").and_then(Value::as_str) {
                Some(s @ ("canceled" | "incomplete_expired")) => s,
                _ if deleted => "canceled",
                Some(s) => s,
                None => return Err(format!("vector {name}: a subscription without status").into()),
            };
            let prices: Vec<&str> = object
                .pointer("/items/data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|item| item.pointer("/price/id").and_then(Value::as_str))
                .collect();
            let price = prices
                .iter()
                .find(|p| [TEAM, ENT].contains(*p))
                .or(prices.first());
            agree_json(
                name,
                "subscription record (contract §5 by hand)",
                action,
                &json!({
                    "action": "update_subscription",
                    "subscription": {
                        "id": object.get("id"),
                        "status": status,
                        "price_id": price,
                        "current_period_end": object.get("current_period_end"),
                        "last_event_created": event.get("created"),
                    },
                }),
            )?;
        }
        for action in each("link_customer") {
            agree_json(
                name,
                "customer link (contract §5 by hand)",
                action,
                &json!({"action": "link_customer", "customer_id": object.get("customer")}),
            )?;
        }
        for action in signed {
            let tier = object
                .pointer("/items/data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(
                    |item| match item.pointer("/price/id").and_then(Value::as_str) {
                        Some(TEAM) => Some(Tier::Team),
                        Some(ENT) => Some(Tier::Enterprise),
                        _ => None,
                    },
                )
                .ok_or_else(|| format!("vector {name}: a license signed without a mapped price"))?;
            let period_end = object
                .get("current_period_end")
                .and_then(Value::as_i64)
                .ok_or_else(|| format!("vector {name}: a license signed without a period end"))?;
            agree_json(
                name,
                "signed license (contract §5 by hand)",
                action,
                &json!({
                    "action": "sign_license",
                    "tier": tier.as_str(),
                    "expires_at": period_end + oracle::default_grace_days(tier) * DAY,
                }),
            )?;
        }
    }
    Ok(())
}
