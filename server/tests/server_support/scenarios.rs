//! Scenarios run against both databases (`server_sqlite.rs`, `server_postgres.rs`).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Barrier};

use dev_health_entitlements::{Keyring, LicenseStatus, RevocationList, Tier, Verifier};
use serde_json::{json, Value};

use super::*;

const DAY: i64 = 86_400;

/// The verifier a customer would build from the server's JWKS.
pub fn jwks_verifier(s: &Server) -> (Verifier, Keyring) {
    let r = s.get("/.well-known/jwks.json", None);
    assert_eq!(r.status, 200);
    let keyring = Keyring::from_jwks(&r.text()).unwrap();
    (Verifier::new(keyring.clone()), keyring)
}

pub fn revocation_list(s: &Server) -> RevocationList {
    let r = s.get("/api/v1/licensing/revocations", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let (_, keyring) = jwks_verifier(s);
    RevocationList::verify(
        r.json()["revocation_list"].as_str().unwrap(),
        &keyring,
        "fullchaos.studio",
        now(),
    )
    .unwrap()
}

fn org_license(s: &Server, org: &str) -> Option<Value> {
    let r = s.admin_get(&format!("/api/v1/licensing/license/{org}"));
    match r.status {
        200 => Some(r.json()),
        404 => None,
        other => panic!("license answered {other}: {}", r.text()),
    }
}

fn ok(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"status": "ok"}));
}

/// Create org → checkout → subscription active team → updated enterprise → past_due → deleted.
pub fn stripe_lifecycle(s: &Server) {
    let org = "org_lifecycle";
    s.create_org(org, "stripe");
    assert_eq!(s.tier(org), "community");
    let t = now() - 1000;
    let period_end = now() + 30 * DAY;
    // A checkout the server did not create (a Payment Link naming the org) links nothing.
    ok(&s.webhook(&checkout_event("evt_l1", t, "cus_l", org)));
    assert_eq!(
        s.event_outcome("evt_l1").as_deref(),
        Some("untrusted_checkout")
    );
    let org_row = || s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json();
    assert_eq!(org_row()["stripe_customer_id"], Value::Null);
    // The subscription's metadata names the org: its customer is linked.
    ok(&s.webhook(&subscription_event(
        "evt_l2",
        "customer.subscription.created",
        t + 1,
        "sub_l",
        "cus_l",
        Some(org),
        "active",
        PRICE_TEAM,
        period_end,
    )));
    assert_eq!(org_row()["stripe_customer_id"], "cus_l");
    let ent = s.entitlements(org);
    assert_eq!(ent["tier"], "team");
    assert_eq!(ent["features"]["capacity_forecast"], true);
    assert_eq!(ent["features"]["sso_saml"], false);
    let team = org_license(s, org).unwrap();
    let (verifier, _) = jwks_verifier(s);
    let lic = verifier
        .verify(team["license"].as_str().unwrap(), now())
        .unwrap();
    assert_eq!(lic.tier(), Tier::Team);
    assert_eq!(lic.sub(), org);
    assert_eq!(lic.expires_at(), period_end + 14 * DAY);
    assert_eq!(lic.status_at(now()), LicenseStatus::Active);
    assert_eq!(lic.claims.license_type.as_str(), "saas");
    assert_eq!(ent["license_id"], team["license_id"]);

    ok(&s.webhook(&subscription_event(
        "evt_l3",
        "customer.subscription.updated",
        t + 2,
        "sub_l",
        "cus_l",
        Some(org),
        "active",
        PRICE_ENTERPRISE,
        period_end,
    )));
    assert_eq!(s.tier(org), "enterprise");
    let enterprise = org_license(s, org).unwrap();
    assert_ne!(enterprise["license_id"], team["license_id"]);
    let lic = verifier
        .verify(enterprise["license"].as_str().unwrap(), now())
        .unwrap();
    assert_eq!(lic.tier(), Tier::Enterprise);
    assert_eq!(lic.expires_at(), period_end + 30 * DAY);
    let revoked = revocation_list(s);
    assert!(revoked.contains(team["license_id"].as_str().unwrap()));
    assert!(!revoked.contains(enterprise["license_id"].as_str().unwrap()));

    ok(&s.webhook(&subscription_event(
        "evt_l4",
        "customer.subscription.updated",
        t + 3,
        "sub_l",
        "cus_l",
        Some(org),
        "past_due",
        PRICE_ENTERPRISE,
        period_end,
    )));
    assert_eq!(s.tier(org), "enterprise");
    assert_eq!(
        org_license(s, org).unwrap()["license_id"],
        enterprise["license_id"]
    );

    ok(&s.webhook(&subscription_event(
        "evt_l5",
        "customer.subscription.deleted",
        t + 4,
        "sub_l",
        "cus_l",
        Some(org),
        "canceled",
        PRICE_ENTERPRISE,
        period_end,
    )));
    let ent = s.entitlements(org);
    assert_eq!(ent["tier"], "community");
    assert_eq!(ent["license_id"], Value::Null);
    assert!(org_license(s, org).is_none());
    let revoked = revocation_list(s);
    assert!(revoked.contains(enterprise["license_id"].as_str().unwrap()));

    // Every change is audited, with before and after.
    let audit = s.audit(org);
    let tier_changes: Vec<(String, String)> = audit
        .iter()
        .rev()
        .filter(|a| a["action"] == "org.tier_change")
        .map(|a| {
            (
                a["before"].as_str().unwrap().to_owned(),
                a["after"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        tier_changes,
        [
            ("community".to_owned(), "team".to_owned()),
            ("team".to_owned(), "enterprise".to_owned()),
            ("enterprise".to_owned(), "community".to_owned())
        ]
    );
    let count = |action: &str| audit.iter().filter(|a| a["action"] == action).count();
    assert_eq!(count("license.sign"), 2);
    assert_eq!(count("license.revoke"), 2);
    assert_eq!(count("org.create"), 1);
    assert!(audit
        .iter()
        .filter(|a| a["action"] == "license.sign")
        .all(|a| a["actor"].as_str().unwrap().starts_with("stripe:evt_l")));
}

/// One event delivered 20 times at once is applied once; every delivery answers 200.
pub fn concurrent_duplicates(s: &Server) {
    let org = "org_dupes";
    s.create_org(org, "stripe");
    let body = subscription_event(
        "evt_dup",
        "customer.subscription.created",
        now() - 10,
        "sub_dup",
        "cus_dup",
        Some(org),
        "active",
        PRICE_TEAM,
        now() + 30 * DAY,
    );
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let (addr, body, barrier) = (s.addr.clone(), body.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                post_webhook(&addr, &body).status
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let audit = s.audit(org);
    let signs = audit
        .iter()
        .filter(|a| a["action"] == "license.sign")
        .count();
    let changes = audit
        .iter()
        .filter(|a| a["action"] == "org.tier_change")
        .count();
    assert_eq!((signs, changes), (1, 1), "{audit:#?}");
    assert_eq!(s.tier(org), "team");
    assert_eq!(s.event_outcome("evt_dup").as_deref(), Some("applied"));
}

/// A sequence delivered newest first ends in the newest state, like the same sequence in order.
pub fn reverse_order(s: &Server) {
    let t = now() - 100;
    let period_end = now() + 30 * DAY;
    let sequence = |org: &str, sub: &str| -> Vec<String> {
        let e = |n: i64, ty: &str, status: &str, price: &str| {
            subscription_event(
                &format!("evt_{org}_{n}"),
                ty,
                t + n,
                sub,
                &format!("cus_{org}"),
                Some(org),
                status,
                price,
                period_end,
            )
        };
        vec![
            e(0, "customer.subscription.created", "active", PRICE_TEAM),
            e(
                1,
                "customer.subscription.updated",
                "active",
                PRICE_ENTERPRISE,
            ),
            e(
                2,
                "customer.subscription.updated",
                "past_due",
                PRICE_ENTERPRISE,
            ),
            e(3, "customer.subscription.updated", "active", PRICE_TEAM),
        ]
    };
    s.create_org("org_fwd", "stripe");
    s.create_org("org_rev", "stripe");
    for body in sequence("org_fwd", "sub_fwd") {
        ok(&s.webhook(&body));
    }
    for body in sequence("org_rev", "sub_rev").iter().rev() {
        ok(&s.webhook(body));
    }
    assert_eq!(s.tier("org_fwd"), "team");
    assert_eq!(s.tier("org_rev"), "team");
    for n in 0..3 {
        assert_eq!(
            s.event_outcome(&format!("evt_org_rev_{n}")).as_deref(),
            Some("stale_event")
        );
    }
    let lic = |org: &str| {
        let l = org_license(s, org).unwrap();
        (l["tier"].clone(), l["expires_at"].clone())
    };
    assert_eq!(lic("org_fwd"), lic("org_rev"));
}

/// Unknown prices and orgs change nothing and are recorded; manual orgs are never touched;
/// other event types answer 200 and are recorded.
/// A late retry of an `active` event about a subscription that has since ended never brings it
/// back, whether the subscription ended while it was the org's current one or after the org had
/// moved to another (then the deletion is `not_current_subscription`, but recorded).
pub fn ended_subscriptions_stay_ended(s: &Server) {
    let t = now() - 100;
    let period_end = now() + 30 * DAY;
    // Delivers `events` for `org` in order: (created after t, type, subscription, status, price),
    // event ids `evt_{org}_{1..}`.
    let deliver = |org: &str, events: &[(i64, &str, &str, &str, &str)]| {
        s.create_org(org, "stripe");
        for (n, (created, ty, sub, status, price)) in events.iter().enumerate() {
            ok(&s.webhook(&subscription_event(
                &format!("evt_{org}_{}", n + 1),
                &format!("customer.subscription.{ty}"),
                t + created,
                sub,
                &format!("cus_{org}"),
                Some(org),
                status,
                price,
                period_end,
            )));
        }
    };
    deliver(
        "org_ended",
        &[
            (0, "created", "sub_e1", "active", PRICE_TEAM),
            (10, "deleted", "sub_e1", "canceled", PRICE_TEAM),
            (20, "created", "sub_e2", "active", PRICE_ENTERPRISE),
            (5, "updated", "sub_e1", "active", PRICE_TEAM),
            (30, "deleted", "sub_e2", "canceled", PRICE_ENTERPRISE),
        ],
    );
    assert_eq!(
        s.event_outcome("evt_org_ended_4").as_deref(),
        Some("stale_event")
    );
    assert_eq!(s.tier("org_ended"), "community");

    deliver(
        "org_moved",
        &[
            (0, "created", "sub_m1", "active", PRICE_TEAM),
            (20, "created", "sub_m2", "active", PRICE_ENTERPRISE),
            (30, "deleted", "sub_m1", "active", PRICE_TEAM),
            (40, "deleted", "sub_m2", "canceled", PRICE_ENTERPRISE),
            (10, "updated", "sub_m1", "active", PRICE_TEAM),
        ],
    );
    assert_eq!(
        s.event_outcome("evt_org_moved_3").as_deref(),
        Some("not_current_subscription")
    );
    assert_eq!(
        s.event_outcome("evt_org_moved_5").as_deref(),
        Some("stale_event")
    );
    assert_eq!(s.tier("org_moved"), "community");
    assert!(org_license(s, "org_moved").is_none(), "no license left");
}

pub fn ignored_events(s: &Server) {
    let t = now() - 50;
    let end = now() + 30 * DAY;
    s.create_org("org_price", "stripe");
    ok(&s.webhook(&subscription_event(
        "evt_price",
        "customer.subscription.created",
        t,
        "sub_price",
        "cus_price",
        Some("org_price"),
        "active",
        "price_not_mapped",
        end,
    )));
    assert_eq!(s.tier("org_price"), "community");
    assert_eq!(
        s.event_outcome("evt_price").as_deref(),
        Some("unknown_price")
    );
    assert!(org_license(s, "org_price").is_none());

    ok(&s.webhook(&subscription_event(
        "evt_noorg",
        "customer.subscription.created",
        t,
        "sub_noorg",
        "cus_noorg",
        Some("org_does_not_exist"),
        "active",
        PRICE_ENTERPRISE,
        end,
    )));
    assert_eq!(s.event_outcome("evt_noorg").as_deref(), Some("unknown_org"));
    // An org_id naming no org finds nothing, even when the customer is linked to an existing org
    // (the core's rule): no fall-through that would let the event upgrade org_price.
    ok(&s.webhook(&subscription_event(
        "evt_link_price",
        "customer.subscription.created",
        t,
        "sub_price_incomplete",
        "cus_price",
        Some("org_price"),
        "incomplete",
        PRICE_TEAM,
        end,
    )));
    ok(&s.webhook(&subscription_event(
        "evt_gone_org_linked_customer",
        "customer.subscription.created",
        t,
        "sub_gone",
        "cus_price",
        Some("org_gone"),
        "active",
        PRICE_ENTERPRISE,
        end,
    )));
    assert_eq!(
        s.event_outcome("evt_gone_org_linked_customer").as_deref(),
        Some("unknown_org")
    );
    assert_eq!(s.tier("org_price"), "community");
    assert_eq!(
        s.admin_get("/api/v1/admin/orgs/org_does_not_exist").status,
        404
    );

    let r = s.admin(
        "POST",
        "/api/v1/admin/orgs",
        &json!({"id": "org_manual", "name": "Manual", "tier": "enterprise", "managed_by": "manual"}),
    );
    assert_eq!(r.status, 201);
    ok(&s.webhook(&subscription_event(
        "evt_manual",
        "customer.subscription.deleted",
        t,
        "sub_manual",
        "cus_manual",
        Some("org_manual"),
        "canceled",
        PRICE_TEAM,
        end,
    )));
    assert_eq!(s.tier("org_manual"), "enterprise");
    assert_eq!(s.event_outcome("evt_manual").as_deref(), Some("manual_org"));
    assert_eq!(
        s.audit("org_manual")
            .iter()
            .filter(|a| a["action"] != "org.create")
            .count(),
        0
    );
    // The operator sets a manual org's tier; it is audited.
    let r = s.admin(
        "PATCH",
        "/api/v1/admin/orgs/org_manual",
        &json!({"tier": "team"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.tier("org_manual"), "team");
    let audit = s.audit("org_manual");
    assert_eq!(audit[0]["action"], "org.tier_change");
    assert_eq!(
        (audit[0]["before"].clone(), audit[0]["after"].clone()),
        (json!("enterprise"), json!("team"))
    );
    assert_eq!(audit[0]["actor"], "admin");
    let r = s.admin(
        "PATCH",
        "/api/v1/admin/orgs/org_manual",
        &json!({"tier": "gold"}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        s.admin(
            "PATCH",
            "/api/v1/admin/orgs/org_nope",
            &json!({"tier": "team"})
        )
        .status,
        404
    );
    assert_eq!(
        s.send(
            "PATCH",
            "/api/v1/admin/orgs/org_manual",
            None,
            &json!({"tier": "enterprise"})
        )
        .status,
        401
    );
    assert_eq!(s.tier("org_manual"), "team");

    let other = json!({"id": "evt_invoice", "type": "invoice.paid", "created": t,
        "data": {"object": {"id": "in_1", "customer": "cus_price"}}})
    .to_string();
    ok(&s.webhook(&other));
    assert_eq!(
        s.event_outcome("evt_invoice").as_deref(),
        Some("unhandled_event_type")
    );
}

/// Bad, stale or missing signatures answer 400 with nothing written; over 1 MiB answers 413.
pub fn bad_signatures(s: &Server) {
    s.create_org("org_sig", "stripe");
    let body = subscription_event(
        "evt_sig",
        "customer.subscription.created",
        now() - 5,
        "sub_sig",
        "cus_sig",
        Some("org_sig"),
        "active",
        PRICE_TEAM,
        now() + 30 * DAY,
    );
    let path = "/api/v1/billing/webhooks/stripe";
    let send = |header: Option<String>| {
        let extra: Vec<(&str, &str)> = header
            .as_deref()
            .map(|h| vec![("Stripe-Signature", h)])
            .unwrap_or_default();
        http(&s.addr, "POST", path, None, Some(body.as_bytes()), &extra).unwrap()
    };
    use dev_health_entitlements::stripe::signature_header;
    let cases = [
        None,
        Some(signature_header(body.as_bytes(), "whsec_wrong", now())),
        Some(signature_header(
            body.as_bytes(),
            WEBHOOK_SECRET,
            now() - 400,
        )),
        Some(signature_header(
            body.as_bytes(),
            WEBHOOK_SECRET,
            now() + 400,
        )),
        Some("t=abc,v1=zz".to_owned()),
        Some(format!("t={},v1={}", now(), "0".repeat(64))),
    ];
    for header in cases {
        let r = send(header.clone());
        assert_eq!(r.status, 400, "{header:?}: {}", r.text());
        assert_eq!(r.json(), json!({"detail": "Invalid Stripe signature"}));
    }
    // A tampered body under a genuine header.
    let header = signature_header(body.as_bytes(), WEBHOOK_SECRET, now());
    let tampered = body.replace(PRICE_TEAM, PRICE_ENTERPRISE);
    let r = http(
        &s.addr,
        "POST",
        path,
        None,
        Some(tampered.as_bytes()),
        &[("Stripe-Signature", &header)],
    )
    .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(s.event_outcome("evt_sig"), None, "nothing may be written");
    assert_eq!(s.tier("org_sig"), "community");

    let big = format!(
        "{{\"id\":\"evt_big\",\"pad\":\"{}\"}}",
        "x".repeat(1024 * 1024 + 10)
    );
    let r = post_webhook(&s.addr, &big);
    assert_eq!(r.status, 413, "{}", r.text());

    // The genuine delivery is then applied: the refused ones left no trace.
    ok(&s.webhook(&body));
    assert_eq!(s.tier("org_sig"), "team");
}

/// Offline issuance, revocation and the revocation list.
pub fn offline_licenses(s: &Server) {
    let r = s.admin(
        "POST",
        "/api/v1/admin/licenses",
        &json!({"org_id": "customer_1", "tier": "enterprise", "days": 365,
                "org_name": "Customer One", "contact_email": "it@customer.example",
                "features": {"audit_log": false}, "limits": {"users": 250},
                "deployment_id": "dep-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    let token = body["license"].as_str().unwrap();
    let id = body["license_id"].as_str().unwrap();
    let (verifier, _) = jwks_verifier(s);
    let lic = verifier
        .clone()
        .with_deployment_id(Some("dep-1".into()))
        .verify(token, now())
        .unwrap();
    assert_eq!(lic.license_id(), id);
    assert_eq!(lic.tier(), Tier::Enterprise);
    assert_eq!(lic.claims.license_type.as_str(), "self_hosted");
    assert_eq!(lic.claims.features.get("audit_log"), Some(&false));
    assert_eq!(lic.claims.limits.get("max_users"), Some(&Some(250.0)));
    assert!((lic.expires_at() - (now() + 365 * DAY)).abs() < 10);
    let other = verifier
        .clone()
        .with_deployment_id(Some("dep-2".into()))
        .verify(token, now())
        .unwrap_err();
    assert_eq!(other.code().as_str(), "audience_mismatch");

    for bad in [
        json!({"org_id": "c", "tier": "gold", "days": 30}),
        json!({"org_id": "c", "tier": "team", "days": 0}),
        json!({"org_id": "c", "tier": "team", "days": 30, "limits": {"users": "many"}}),
        json!({"org_id": "c", "tier": "team"}),
    ] {
        let r = s.admin("POST", "/api/v1/admin/licenses", &bad);
        assert_eq!(r.status, 422, "{bad}: {}", r.text());
    }

    assert!(!revocation_list(s).contains(id));
    let revoke = format!("/api/v1/admin/licenses/{id}/revoke");
    let r = s.admin("POST", &revoke, &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let again = s.admin("POST", &revoke, &json!({}));
    assert_eq!(again.json()["revoked_at"], r.json()["revoked_at"]);
    let list = revocation_list(s);
    assert!(list.contains(id));
    let err = verifier
        .with_revocations(Some(list))
        .with_deployment_id(Some("dep-1".into()))
        .verify(token, now())
        .unwrap_err();
    assert_eq!(err.code().as_str(), "revoked");
    assert_eq!(
        s.admin("POST", "/api/v1/admin/licenses/lic_nope/revoke", &json!({}))
            .status,
        404
    );
    let audit = s.audit("customer_1");
    assert_eq!(audit[0]["action"], "license.revoke");
    assert_eq!(audit[1]["action"], "license.issue");
}

/// Overrides and kill switches change the entitlements and are audited.
pub fn overrides_and_flags(s: &Server) {
    let org = "org_ovr";
    s.create_org(org, "stripe");
    // A refused write (409) leaves nothing behind and does not block the next one.
    let r = s.admin(
        "POST",
        "/api/v1/admin/orgs",
        &json!({"id": org, "name": "Again"}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(
        s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json()["name"],
        "Org org_ovr"
    );
    let base = format!("/api/v1/admin/orgs/{org}/feature-overrides");
    let r = s.admin(
        "POST",
        &base,
        &json!({"feature_key": "sso_saml", "enabled": true, "reason": "pilot"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(s.entitlements(org)["features"]["sso_saml"], true);
    let one = format!("{base}/{id}");
    assert_eq!(s.admin_get(&one).json()["enabled"], true);
    let r = s.admin("PATCH", &one, &json!({"enabled": false}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.entitlements(org)["features"]["sso_saml"], false);
    // Expired overrides do not apply.
    let r = s.admin(
        "PATCH",
        &one,
        &json!({"enabled": true, "expires_at": now() - 1}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(s.entitlements(org)["features"]["sso_saml"], false);
    let r = s.admin("DELETE", &one, &json!({}));
    assert_eq!(r.status, 204);
    assert_eq!(s.admin_get(&one).status, 404);
    assert_eq!(s.admin_get(&base).json(), json!([]));
    let r = s.admin(
        "POST",
        &base,
        &json!({"feature_key": "no_such_feature", "enabled": true}),
    );
    assert_eq!(r.status, 422);

    assert_eq!(s.entitlements(org)["features"]["git_sync"], true);
    let r = s.admin(
        "PATCH",
        "/api/v1/admin/feature-flags/git_sync",
        &json!({"enabled": false}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.entitlements(org)["features"]["git_sync"], false);
    let flags = s.admin_get("/api/v1/admin/feature-flags").json();
    let git = flags
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "git_sync")
        .unwrap();
    assert_eq!(git["enabled"], false);
    let r = s.admin(
        "PATCH",
        "/api/v1/admin/feature-flags/git_sync",
        &json!({"enabled": true}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(s.entitlements(org)["features"]["git_sync"], true);
    assert_eq!(
        s.admin(
            "PATCH",
            "/api/v1/admin/feature-flags/nope",
            &json!({"enabled": true})
        )
        .status,
        404
    );

    let audit = s.audit(org);
    let actions: Vec<&str> = audit
        .iter()
        .rev()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "org.create",
            "override.create",
            "override.update",
            "override.update",
            "override.delete"
        ]
    );
    let all = s.admin_get("/api/v1/admin/audit?limit=1000").json();
    let flag_rows: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "feature_flag.update")
        .collect();
    assert_eq!(flag_rows.len(), 2);
    assert_eq!(
        flag_rows[1]["before"],
        json!({"key": "git_sync", "enabled": true})
    );
    assert_eq!(
        flag_rows[1]["after"],
        json!({"key": "git_sync", "enabled": false})
    );
}

/// Health and JWKS.
pub fn health_and_jwks(s: &Server) {
    let r = s.get("/healthz", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    assert!(r.header("x-request-id").is_some());
    let jwks = s.get("/.well-known/jwks.json", None).json();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], LICENSE_KID);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert!(keys[0].get("d").is_none());
    assert_eq!(
        Keyring::from_jwks(&jwks.to_string())
            .unwrap()
            .get(LICENSE_KID)
            .unwrap()
            .key,
        license_key().public_key()
    );
    let r = s.get("/no/such/path", None);
    assert_eq!(r.status, 404);
}

/// The server killed with SIGKILL during a burst of 500 events, restarted on the same database,
/// and sent again every event that got no 200: each event is recorded, applied at most once,
/// none is lost, and every org ends in the state of its newest event.
pub fn kill_during_burst(dir: &std::path::Path, env: Vec<(String, String)>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    const ORGS: usize = 100;
    const PER_ORG: usize = 5;
    /// The kill comes once this many events got their 200 ...
    const KILL_AFTER: usize = 150;
    /// ... and the events from this one on are kept for after the restart, so the kill lands
    /// inside the burst however the machine schedules the senders, the server and this thread.
    const HELD_BACK: usize = 400;
    let mut server = Server::start(dir, env.clone());
    for i in 0..ORGS {
        server.create_org(&format!("org_k{i}"), "stripe");
    }
    let t0 = now() - 1000;
    let end = now() + 30 * DAY;
    // Interleaved: event j of every org, then event j + 1 of every org.
    let mut events: Vec<(String, String)> = Vec::new();
    for j in 0..PER_ORG {
        for i in 0..ORGS {
            let org = format!("org_k{i}");
            let id = format!("evt_k{i}_{j}");
            let (ty, status, price) = match j {
                0 => ("customer.subscription.created", "active", PRICE_TEAM),
                1 => ("customer.subscription.updated", "active", PRICE_ENTERPRISE),
                2 => (
                    "customer.subscription.updated",
                    "past_due",
                    PRICE_ENTERPRISE,
                ),
                3 => ("customer.subscription.updated", "active", PRICE_TEAM),
                _ if i % 2 == 0 => ("customer.subscription.updated", "active", PRICE_ENTERPRISE),
                _ => ("customer.subscription.deleted", "canceled", PRICE_TEAM),
            };
            let body = subscription_event(
                &id,
                ty,
                t0 + j as i64,
                &format!("sub_k{i}"),
                &format!("cus_k{i}"),
                Some(&org),
                status,
                price,
                end,
            );
            events.push((id, body));
        }
    }
    let events = Arc::new(events);
    let next = Arc::new(AtomicUsize::new(0));
    let delivered = Arc::new(Mutex::new(vec![false; events.len()]));
    let ok_count = Arc::new(AtomicUsize::new(0));
    let cut = Arc::new(AtomicUsize::new(0));
    let addr = server.addr.clone();
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let (events, next, delivered, ok_count, cut, addr) = (
                Arc::clone(&events),
                Arc::clone(&next),
                Arc::clone(&delivered),
                Arc::clone(&ok_count),
                Arc::clone(&cut),
                addr.clone(),
            );
            std::thread::spawn(move || loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some((_, body)) = events.get(n).filter(|_| n < HELD_BACK) else {
                    return;
                };
                let header = dev_health_entitlements::stripe::signature_header(
                    body.as_bytes(),
                    WEBHOOK_SECRET,
                    now(),
                );
                let r = http(
                    &addr,
                    "POST",
                    "/api/v1/billing/webhooks/stripe",
                    None,
                    Some(body.as_bytes()),
                    &[("Stripe-Signature", &header)],
                );
                match r {
                    Ok(r) if r.status == 200 => {
                        delivered.lock().unwrap()[n] = true;
                        ok_count.fetch_add(1, Ordering::SeqCst);
                    }
                    // Sent after the kill.
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                    Err(_) => {
                        cut.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                }
            })
        })
        .collect();
    // Kill once a good part of the burst got its 200.
    assert!(wait_until(std::time::Duration::from_secs(120), || ok_count
        .load(Ordering::SeqCst)
        >= KILL_AFTER));
    server.kill();
    for s in senders {
        s.join().unwrap();
    }
    let delivered = delivered.lock().unwrap().clone();
    let first_run = delivered.iter().filter(|d| **d).count();
    assert!(
        (KILL_AFTER..=HELD_BACK).contains(&first_run),
        "{first_run} of {} delivered before the kill",
        events.len()
    );

    let server = Server::start(dir, env);
    for (n, (_, body)) in events.iter().enumerate() {
        if !delivered[n] {
            let r = server.webhook(body);
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    for (id, _) in events.iter() {
        let outcome = server.event_outcome(id);
        assert!(
            matches!(outcome.as_deref(), Some(o) if !o.is_empty()),
            "{id} lost: {outcome:?}"
        );
    }
    for i in 0..ORGS {
        let org = format!("org_k{i}");
        let audit = server.audit(&org);
        for j in 0..PER_ORG {
            let id = format!("evt_k{i}_{j}");
            let actor = format!("stripe:{id}");
            let updates = audit
                .iter()
                .filter(|a| a["actor"] == actor.as_str() && a["action"] == "subscription.update")
                .count();
            let applied = server.event_outcome(&id).as_deref() == Some("applied");
            assert_eq!(updates, usize::from(applied), "{id}: {updates} updates");
        }
        let expected = if i % 2 == 0 {
            "enterprise"
        } else {
            "community"
        };
        assert_eq!(server.tier(&org), expected, "{org}");
    }
    eprintln!(
        "kill_during_burst: {first_run} of {} events answered 200 before SIGKILL, {} cut off by \
         it; the rest resent",
        events.len(),
        cut.load(Ordering::SeqCst)
    );
}

fn issue(s: &Server, body: Value) -> (String, i64) {
    let r = s.admin("POST", "/api/v1/admin/licenses", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["license_id"].as_str().unwrap().to_owned();
    let exp = db_i64s(
        &database_url(&s.env),
        &format!("SELECT expires_at FROM licenses WHERE id = '{id}'"),
    )[0]
    .unwrap();
    (id, exp)
}

fn revoke(s: &Server, id: &str) {
    let r = s.admin(
        "POST",
        &format!("/api/v1/admin/licenses/{id}/revoke"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

fn grace_end(url: &str, id: &str) -> Option<i64> {
    db_i64s(
        url,
        &format!("SELECT grace_ends_at FROM licenses WHERE id = '{id}'"),
    )[0]
}

/// The revocation list leaves out the licenses no verifier accepts anyway (their grace end before
/// the start of the UTC day of now minus the verifiers' 60 s leeway), so it no longer grows with
/// every renewal forever; it is built at most once a minute, and at once after a revocation.
pub fn revocation_list_drops_dead_licenses(s: &Server) {
    let url = database_url(&s.env);
    let org = "customer_rl";
    let offline = |grace: Option<u32>| {
        let mut body = json!({"org_id": org, "tier": "team", "days": 1});
        if let Some(days) = grace {
            body["grace_days"] = json!(days);
        }
        issue(s, body)
    };
    // Each license's grace end is stored from its signed claims: `exp` + grace_days, or without
    // the claim + the catalog's grace days for its tier (team: 14), as a verifier decides.
    let (gone, gone_exp) = offline(Some(0));
    let (in_margin, in_margin_exp) = offline(Some(5));
    let (unknown, unknown_exp) = offline(None);
    assert_eq!(grace_end(&url, &gone), Some(gone_exp));
    assert_eq!(grace_end(&url, &in_margin), Some(in_margin_exp + 5 * DAY));
    assert_eq!(grace_end(&url, &unknown), Some(unknown_exp + 14 * DAY));
    // A Stripe license carries grace_days 0 (its grace is inside exp).
    s.create_org("org_rl", "stripe");
    ok(&s.webhook(&subscription_event(
        "evt_rl1",
        "customer.subscription.created",
        now() - 10,
        "sub_rl",
        "cus_rl",
        Some("org_rl"),
        "active",
        PRICE_TEAM,
        now() + 30 * DAY,
    )));
    let saas = org_license(s, "org_rl").unwrap();
    let saas_id = saas["license_id"].as_str().unwrap();
    let saas_exp = db_i64s(
        &url,
        &format!("SELECT expires_at FROM licenses WHERE id = '{saas_id}'"),
    )[0]
    .unwrap();
    assert_eq!(grace_end(&url, saas_id), Some(saas_exp));

    for id in [&gone, &in_margin, &unknown] {
        revoke(s, id);
    }
    let first = s.get("/api/v1/licensing/revocations", None).json();
    let listed = revocation_list(s);
    for id in [&gone, &in_margin, &unknown] {
        assert!(listed.contains(id), "{id}");
    }
    // Served again, not signed again, while nothing is revoked.
    let again = s.get("/api/v1/licensing/revocations", None).json();
    assert_eq!(again, first);

    // Time passes (the rows are moved back): `gone` ended its grace two days ago,
    // `in_margin` 20 s ago (a verifier whose clock is a little behind may still take it in
    // grace), `unknown` has no known grace end (a row of an earlier version).
    let t = now();
    db_exec(
        &url,
        &format!(
            "UPDATE licenses SET expires_at = {e}, grace_ends_at = {e} WHERE id = '{gone}'; \
             UPDATE licenses SET expires_at = {m} - 5 * 86400, grace_ends_at = {m} \
             WHERE id = '{in_margin}'; \
             UPDATE licenses SET grace_ends_at = NULL WHERE id = '{unknown}'",
            e = t - 2 * DAY,
            m = t - 20,
        ),
    );
    // The cached list stands until the next revocation here (or a minute).
    assert_eq!(s.get("/api/v1/licensing/revocations", None).json(), first);
    let (fresh, _) = offline(Some(0));
    revoke(s, &fresh);
    let body = s.get("/api/v1/licensing/revocations", None).json();
    assert_ne!(body["revocation_list"], first["revocation_list"]);
    let listed = revocation_list(s);
    assert!(!listed.contains(&gone), "a dead license is still listed");
    for id in [&in_margin, &unknown, &fresh] {
        assert!(listed.contains(id), "{id}");
    }
    assert_eq!(listed.len(), 3);
    let ids: Vec<&str> = body["revoked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&gone.as_str()));

    // A Stripe revocation drops the cached list too.
    ok(&s.webhook(&subscription_event(
        "evt_rl2",
        "customer.subscription.deleted",
        now() - 5,
        "sub_rl",
        "cus_rl",
        Some("org_rl"),
        "canceled",
        PRICE_TEAM,
        now() + 30 * DAY,
    )));
    assert!(revocation_list(s).contains(saas_id));
}

/// Licenses stored before the grace end was recorded (migration 2), or by an earlier version,
/// get it at the next start from their signed claims (without `grace_days`, the catalog's for the
/// tier); a token that cannot be read gets the cautious `exp` + 3650 days.
pub fn grace_end_backfill(dir: &std::path::Path, env: Vec<(String, String)>) {
    let url = database_url(&env);
    let mut s = Server::start(dir, env.clone());
    let (two, two_exp) = issue(
        &s,
        json!({"org_id": "c_bf", "tier": "team", "days": 3, "grace_days": 2}),
    );
    let (zero, zero_exp) = issue(
        &s,
        json!({"org_id": "c_bf", "tier": "team", "days": 3, "grace_days": 0}),
    );
    let (none, none_exp) = issue(
        &s,
        json!({"org_id": "c_bf", "tier": "enterprise", "days": 3}),
    );
    revoke(&s, &zero);
    s.kill();
    let t = now();
    db_exec(
        &url,
        &format!(
            "UPDATE licenses SET grace_ends_at = NULL; \
             INSERT INTO licenses (id, org_id, token, tier, license_type, kid, issued_at, \
             expires_at, revoked_at) VALUES ('lic_unreadable', 'c_bf', 'not a token', 'team', \
             'self_hosted', 'k', {t}, {t}, {t})"
        ),
    );
    let s = Server::start(dir, env);
    assert_eq!(grace_end(&url, &two), Some(two_exp + 2 * DAY));
    assert_eq!(grace_end(&url, &zero), Some(zero_exp));
    assert_eq!(grace_end(&url, &none), Some(none_exp + 30 * DAY));
    assert_eq!(grace_end(&url, "lic_unreadable"), Some(t + 3650 * DAY));
    assert!(s
        .logs()
        .contains("recorded the grace end of licenses stored without one"));
    let listed = revocation_list(&s);
    assert!(listed.contains(&zero) && listed.contains("lic_unreadable"));
}
