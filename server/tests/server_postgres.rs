//! The server over HTTP, on a real PostgreSQL server on loopback: the one `make test-server`
//! starts (`DEV_HEALTH_TEST_PG_PORT`), else one these tests start (its own data dir in a temp
//! folder, stopped afterwards): the §5 scenarios shared with
//! `server_sqlite.rs`, several instances on one database, and the database going away.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::Duration;

use serde_json::json;
use server_support::*;
use server_support::{billing, scenarios};

/// How long an instance serves an org's entitlement inputs from its cache (SPEC §7.11).
const ORG_CACHE_LIFETIME: Duration = Duration::from_secs(1);

/// One cluster for this test binary (the Makefile's, or our own); each test gets its own database.
fn cluster() -> &'static Pg {
    static PG: OnceLock<Pg> = OnceLock::new();
    PG.get_or_init(Pg::shared)
}

fn database() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    cluster().database(&name)
}

fn server() -> (TempDir, Server) {
    let dir = TempDir::new("pg");
    let server = Server::start(&dir.0, base_env(&database()));
    (dir, server)
}

#[test]
fn health_and_jwks() {
    let (_d, s) = server();
    assert_eq!(s.get("/healthz", None).json()["database"], "postgres");
    scenarios::health_and_jwks(&s);
}

#[test]
fn stripe_lifecycle() {
    let (_d, s) = server();
    scenarios::stripe_lifecycle(&s);
}

#[test]
fn concurrent_duplicates_apply_once() {
    let (_d, s) = server();
    scenarios::concurrent_duplicates(&s);
}

#[test]
fn reverse_order_ends_in_newest_state() {
    let (_d, s) = server();
    scenarios::reverse_order(&s);
}

#[test]
fn ended_subscriptions_are_never_revived() {
    let (_d, s) = server();
    scenarios::ended_subscriptions_stay_ended(&s);
}

#[test]
fn unknown_prices_orgs_and_manual_orgs_change_nothing() {
    let (_d, s) = server();
    scenarios::ignored_events(&s);
}

#[test]
fn bad_signatures_write_nothing() {
    let (_d, s) = server();
    scenarios::bad_signatures(&s);
}

#[test]
fn offline_licenses_and_revocation_list() {
    let (_d, s) = server();
    scenarios::offline_licenses(&s);
}

#[test]
fn revocation_list_leaves_out_dead_licenses_and_is_cached() {
    let (_d, s) = server();
    scenarios::revocation_list_drops_dead_licenses(&s);
}

#[test]
fn grace_ends_of_older_rows_are_filled_at_start() {
    let dir = TempDir::new("pg-backfill");
    scenarios::grace_end_backfill(&dir.0, base_env(&database()));
}

#[test]
fn overrides_and_kill_switches() {
    let (_d, s) = server();
    scenarios::overrides_and_flags(&s);
}

/// Two server instances on one database (the production set-up): the migrations run once, and
/// one event delivered 10 times to each instance at once is applied once.
#[test]
fn two_instances_share_one_database() {
    let url = database();
    let (d1, d2) = (TempDir::new("pg-a"), TempDir::new("pg-b"));
    let a = Server::start(&d1.0, base_env(&url));
    let b = Server::start(&d2.0, base_env(&url));
    a.create_org("org_shared", "stripe");
    // b reads (and caches) the org before a changes it.
    assert_eq!(b.tier("org_shared"), "community");
    let body = subscription_event(
        "evt_shared",
        "customer.subscription.created",
        now() - 5,
        "sub_shared",
        "cus_shared",
        Some("org_shared"),
        "active",
        PRICE_ENTERPRISE,
        now() + 86_400 * 30,
    );
    let barrier = Arc::new(Barrier::new(20));
    let handles: Vec<_> = (0..20)
        .map(|i| {
            let addr = if i % 2 == 0 {
                a.addr.clone()
            } else {
                b.addr.clone()
            };
            let (body, barrier) = (body.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                post_webhook(&addr, &body).status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    // Another instance's change shows once b's cached copy, read before the change committed,
    // has lived its 1 s (SPEC §7.11). The deadline is far beyond that lifetime, so how fast the
    // machine is decides nothing.
    assert!(wait_until(ORG_CACHE_LIFETIME * 30, || b.tier("org_shared")
        == "enterprise"));
    assert_eq!(a.tier("org_shared"), "enterprise");
    let audit = a.audit("org_shared");
    assert_eq!(
        audit
            .iter()
            .filter(|r| r["action"] == "license.sign")
            .count(),
        1
    );
}

/// The database goes away: webhooks answer 500 (so Stripe retries) and write nothing; once it is
/// back, the retry succeeds.
#[test]
fn database_unavailable_answers_500_then_retry_succeeds() {
    let pg = Pg::start();
    let url = pg.database("outage");
    let dir = TempDir::new("pg-outage");
    let s = Server::start(&dir.0, base_env(&url));
    s.create_org("org_outage", "stripe");
    let body = subscription_event(
        "evt_outage",
        "customer.subscription.created",
        now() - 5,
        "sub_outage",
        "cus_outage",
        Some("org_outage"),
        "active",
        PRICE_TEAM,
        now() + 86_400 * 30,
    );
    pg.stop_server();
    let r = s.webhook(&body);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"detail": "Storage unavailable, retry later"})
    );
    assert_eq!(s.get("/healthz", None).status, 503);
    let r = s.admin_get("/api/v1/licensing/entitlements/org_outage");
    assert_eq!(r.status, 500);

    pg.start_server();
    assert!(wait_until(Duration::from_secs(20), || s
        .get("/healthz", None)
        .status
        == 200));
    let r = s.webhook(&body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.tier("org_outage"), "team");
    assert_eq!(s.event_outcome("evt_outage").as_deref(), Some("applied"));
    // The logs name the failure without leaking the database password or the secrets.
    let logs = s.logs();
    assert!(logs.contains("webhook not stored"), "{logs}");
    assert!(!logs.contains(WEBHOOK_SECRET));
    assert!(!logs.contains(ADMIN_TOKEN));
}

#[test]
fn sigkill_during_a_burst_loses_nothing_and_applies_once() {
    let dir = TempDir::new("pg-kill");
    scenarios::kill_during_burst(&dir.0, base_env(&database()));
}

/// Deliveries that wait on an org's row lock see what the holder committed, subscription
/// included: the later-sent, older `active` event is stale after the deletion it waited behind.
/// (Reading the org and its subscription in one joined `SELECT … FOR UPDATE OF o` paired the
/// org row as committed with the subscription row as it was before the wait, and revived it.)
#[test]
fn deliveries_waiting_on_an_org_lock_see_the_subscription_it_protected() {
    let dir = TempDir::new("pg-lock");
    let url = database();
    let s = Server::start(&dir.0, base_env(&url));
    let org = "org_lock";
    s.create_org(org, "stripe");
    let (t, period_end) = (now() - 100, now() + 30 * 86_400);
    let event = |id: &str, ty: &str, created: i64, status: &str| {
        subscription_event(
            id,
            &format!("customer.subscription.{ty}"),
            created,
            "sub_lock",
            "cus_lock",
            Some(org),
            status,
            PRICE_TEAM,
            period_end,
        )
    };
    assert_eq!(
        s.webhook(&event("evt_l1", "created", t, "active")).status,
        200
    );
    assert_eq!(s.tier(org), "team");

    // Another transaction holds the org's row while the two deliveries arrive.
    let lock = OrgRowLock::hold(&url, org);
    let send = |body: String| {
        let addr = s.addr.clone();
        std::thread::spawn(move || post_webhook(&addr, &body).status)
    };
    let waiting = || sessions_waiting_for_a_lock(&url);
    let deleted = send(event("evt_l2", "deleted", t + 20, "canceled"));
    assert!(wait_until(Duration::from_secs(20), || waiting() == "1"));
    let late = send(event("evt_l3", "updated", t + 10, "active"));
    assert!(wait_until(Duration::from_secs(20), || waiting() == "2"));
    assert!(lock.finish("COMMIT;").status.success());

    assert_eq!((deleted.join().unwrap(), late.join().unwrap()), (200, 200));
    assert_eq!(s.event_outcome("evt_l2").as_deref(), Some("applied"));
    assert_eq!(s.event_outcome("evt_l3").as_deref(), Some("stale_event"));
    assert_eq!(s.tier(org), "community");
}

/// An admin revoke takes the org's row lock before the license's, in the order a Stripe webhook
/// takes them (org, then its license rows). It locked the license first and then the org, so a
/// revoke and a webhook for the same org could each hold one lock and wait for the other
/// (PostgreSQL then aborts one of them as a deadlock). Deterministic check: while another
/// transaction holds the org's row, as a webhook does, the waiting revoke must not hold the
/// license's row: that transaction can still lock it with NOWAIT.
#[test]
fn admin_revoke_locks_the_org_before_the_license() {
    let dir = TempDir::new("pg-revoke-lock");
    let url = database();
    let s = Server::start(&dir.0, base_env(&url));
    let org = "org_revoke_lock";
    s.create_org(org, "stripe");
    let r = s.admin(
        "POST",
        "/api/v1/admin/licenses",
        &json!({"org_id": org, "tier": "team", "days": 30, "license_type": "saas"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["license_id"].as_str().unwrap().to_owned();

    let lock = OrgRowLock::hold(&url, org);
    let revoke = {
        let addr = s.addr.clone();
        let path = format!("/api/v1/admin/licenses/{id}/revoke");
        std::thread::spawn(move || {
            http(&addr, "POST", &path, Some(ADMIN_TOKEN), Some(b"{}"), &[])
                .unwrap()
                .status
        })
    };
    assert!(wait_until(Duration::from_secs(20), || {
        sessions_waiting_for_a_lock(&url) == "1"
    }));
    // What the webhook does next: change the org's license row. NOWAIT fails at once if the
    // waiting revoke holds that row.
    let out = lock.finish(&format!(
        "SELECT id FROM licenses WHERE id = '{id}' FOR UPDATE NOWAIT; COMMIT;"
    ));
    assert!(
        out.status.success(),
        "the revoke held the license row while waiting for the org: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(revoke.join().unwrap(), 200);
    let list = scenarios::revocation_list(&s);
    assert!(list.contains(&id));
}

fn billing_server() -> (TempDir, Server, server_support::stripe_double::StripeDouble) {
    let dir = TempDir::new("pg-billing");
    let double = billing::double();
    let server = Server::start(&dir.0, billing::billing_env(base_env(&database()), &double));
    (dir, server, double)
}

#[test]
fn billing_checkout_to_paid_then_portal() {
    let (_d, s, double) = billing_server();
    billing::checkout_to_paid(&s, &double);
}

#[test]
fn billing_hijack_replay_leaves_the_owner_on_enterprise() {
    let (_d, s, double) = billing_server();
    billing::hijack_replay(&s, &double);
}

#[test]
fn billing_lost_webhooks_repaired_by_stripe_sync() {
    let (_d, s, double) = billing_server();
    billing::lost_webhooks_repaired_by_sync(&s, &double);
    billing::lost_cancellation_repaired_by_sync(&s, &double);
}

#[test]
fn billing_self_hosted_purchase_and_renewal() {
    let (_d, s, double) = billing_server();
    billing::self_hosted_purchase(&s, &double);
}
