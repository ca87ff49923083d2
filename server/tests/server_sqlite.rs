//! The server over HTTP, on SQLite: the §5 scenarios shared with `server_postgres.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use server_support::billing;
use server_support::scenarios;
use server_support::{base_env, sqlite_url, Server, TempDir};

fn server() -> (TempDir, Server) {
    let dir = TempDir::new("sqlite");
    let server = Server::start(&dir.0, base_env(&sqlite_url(&dir.0)));
    (dir, server)
}

#[test]
fn health_and_jwks() {
    let (_d, s) = server();
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
    let dir = TempDir::new("sqlite-backfill");
    scenarios::grace_end_backfill(&dir.0, base_env(&sqlite_url(&dir.0)));
}

#[test]
fn overrides_and_kill_switches() {
    let (_d, s) = server();
    scenarios::overrides_and_flags(&s);
}

#[test]
fn sigkill_during_a_burst_loses_nothing_and_applies_once() {
    let dir = TempDir::new("sqlite-kill");
    scenarios::kill_during_burst(&dir.0, base_env(&sqlite_url(&dir.0)));
}

/// No configuration: SQLite under ./data and a development key created once, said loudly.
#[test]
fn starts_without_configuration() {
    let dir = TempDir::new("devmode");
    let env = vec![("RUST_LOG".to_owned(), "info".to_owned())];
    let first = Server::start(&dir.0, env.clone());
    assert!(dir.0.join("data/dev-health.db").is_file());
    assert!(dir.0.join("data/dev-signing-key").is_file());
    let kid = first.get("/.well-known/jwks.json", None).json()["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(kid.starts_with("dev-"), "{kid}");
    assert!(first.logs().contains("CREATED a development signing key"));
    drop(first);
    let second = Server::start(&dir.0, env);
    let again = second.get("/.well-known/jwks.json", None).json();
    assert_eq!(again["keys"].as_array().unwrap().len(), 1);
    assert_eq!(again["keys"][0]["kid"], kid.as_str());
    assert!(second
        .logs()
        .contains("is using the development signing key"));
    // Webhooks are refused without a secret; admin endpoints without a token.
    assert_eq!(
        second
            .webhook(r#"{"id":"evt_1","type":"x","created":1,"data":{"object":{}}}"#)
            .status,
        400
    );
    assert_eq!(second.admin_get("/api/v1/admin/feature-flags").status, 401);
}

/// A bad configuration stops the start with a message naming the variable, never its value.
#[test]
fn bad_configuration_is_refused_without_echoing_secrets() {
    let dir = TempDir::new("badcfg");
    let mut env = base_env(&sqlite_url(&dir.0));
    env.retain(|(k, _)| k != "LICENSE_SIGNING_KEY");
    env.push((
        "LICENSE_SIGNING_KEY".into(),
        "c2VjcmV0LXZhbHVlLXRoYXQtaXMtd3Jvbmc=".into(),
    ));
    let log = Server::try_start(&dir.0, env, "127.0.0.1:0").err().unwrap();
    assert!(log.contains("LICENSE_SIGNING_KEY"), "{log}");
    assert!(
        !log.contains("c2VjcmV0LXZhbHVlLXRoYXQtaXMtd3Jvbmc="),
        "{log}"
    );
    let mut env = base_env(&sqlite_url(&dir.0));
    env.push(("STRIPE_PRICE_TIERS".into(), "price_x=gold".into()));
    env.retain(|(k, v)| k != "STRIPE_PRICE_TIERS" || v == "price_x=gold");
    let log = Server::try_start(&dir.0, env, "127.0.0.1:0").err().unwrap();
    assert!(log.contains("STRIPE_PRICE_TIERS"), "{log}");
    let log = Server::try_start(&dir.0, base_env(&sqlite_url(&dir.0)), "not-an-address")
        .err()
        .unwrap();
    assert!(log.contains("--listen"), "{log}");
}

/// Rotating the signing key: the JWKS keeps every key the server signed with, so licenses signed
/// before the rotation keep verifying; a kid reused for another key is refused; an old key is
/// retired through LICENSE_PUBLISH_KEYS (its JWK with `not_after`).
#[test]
fn signing_key_rotation() {
    use dev_health_entitlements::issue::SigningKey;
    use dev_health_entitlements::Keyring;
    use serde_json::json;
    use server_support::*;

    let dir = TempDir::new("rotate");
    let url = sqlite_url(&dir.0);
    let first = Server::start(&dir.0, base_env(&url));
    let old = first
        .admin(
            "POST",
            "/api/v1/admin/licenses",
            &json!({"org_id": "c1", "tier": "team", "days": 30}),
        )
        .json()["license"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(first);

    let next = SigningKey::generate();
    let with_key = |seed: &str, kid: &str| -> Vec<(String, String)> {
        let mut env = base_env(&url);
        env.retain(|(k, _)| k != "LICENSE_SIGNING_KEY" && k != "LICENSE_KEY_ID");
        env.push(("LICENSE_SIGNING_KEY".into(), seed.into()));
        env.push(("LICENSE_KEY_ID".into(), kid.into()));
        env
    };
    let reused = Server::try_start(
        &dir.0,
        with_key(next.seed_base64().as_str(), LICENSE_KID),
        "127.0.0.1:0",
    );
    assert!(reused
        .err()
        .unwrap()
        .contains("was used before with another key"));

    let second = Server::start(
        &dir.0,
        with_key(next.seed_base64().as_str(), "test-license-key-2"),
    );
    let jwks = second.get("/.well-known/jwks.json", None).text();
    let keyring = Keyring::from_jwks(&jwks).unwrap();
    assert_eq!(keyring.len(), 2);
    let verifier = dev_health_entitlements::Verifier::new(keyring);
    assert_eq!(verifier.verify(&old, now()).unwrap().kid, LICENSE_KID);
    let new = second
        .admin(
            "POST",
            "/api/v1/admin/licenses",
            &json!({"org_id": "c1", "tier": "team", "days": 30}),
        )
        .json()["license"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        verifier.verify(&new, now()).unwrap().kid,
        "test-license-key-2"
    );
    drop(second);

    // Retire the old key: tokens it signs after `not_after` are refused by verifiers.
    let retired = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": LICENSE_KID,
        "x": license_key().public_key().to_jwk(LICENSE_KID)["x"], "not_after": now() - 3600}]});
    let mut env = with_key(next.seed_base64().as_str(), "test-license-key-2");
    env.push(("LICENSE_PUBLISH_KEYS".into(), retired.to_string()));
    let third = Server::start(&dir.0, env);
    let keyring = Keyring::from_jwks(&third.get("/.well-known/jwks.json", None).text()).unwrap();
    assert!(keyring.get(LICENSE_KID).unwrap().not_after.is_some());
    let err = dev_health_entitlements::Verifier::new(keyring)
        .verify(&old, now())
        .unwrap_err();
    assert_eq!(err.code().as_str(), "key_not_valid_now");
}

/// Each request carries an id (the caller's `X-Request-Id`, or a fresh one) into the logs and
/// back in the response; tokens, secrets and bodies never reach the logs.
#[test]
fn request_ids_in_logs_and_no_secrets() {
    use server_support::*;

    let (_d, s) = server();
    s.create_org("org_log", "stripe");
    let body = subscription_event(
        "evt_log",
        "customer.subscription.created",
        now() - 5,
        "sub_log",
        "cus_log",
        Some("org_log"),
        "active",
        PRICE_TEAM,
        now() + 86_400 * 30,
    );
    let header =
        dev_health_entitlements::stripe::signature_header(body.as_bytes(), WEBHOOK_SECRET, now());
    let r = http(
        &s.addr,
        "POST",
        "/api/v1/billing/webhooks/stripe",
        None,
        Some(body.as_bytes()),
        &[
            ("Stripe-Signature", &header),
            ("X-Request-Id", "trace-abc-123"),
        ],
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-request-id"), Some("trace-abc-123"));
    let fresh = s.get("/healthz", None);
    let id = fresh.header("x-request-id").unwrap().to_owned();
    assert!(id.starts_with("req-"), "{id}");
    let session = session("org_log", "owner", 600, false);
    let license = s.get("/api/v1/licensing/license/org_log", Some(&session));
    assert_eq!(license.status, 200);
    let logs = s.logs();
    assert!(
        logs.contains("request_id=trace-abc-123") && logs.contains("event applied"),
        "{logs}"
    );
    for secret in [
        WEBHOOK_SECRET,
        ADMIN_TOKEN,
        LICENSE_SEED,
        session.as_str(),
        license.json()["license"].as_str().unwrap(),
        header.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}

/// The SQLite writer applies waiting webhooks in one transaction. When one of them fails (here an
/// event the database refuses, through a trigger the test installs), the whole batch is rolled
/// back and each event is applied again on its own: the failing one answers 500 (Stripe retries
/// it), every other one is applied exactly once and answered 200, and the retry succeeds once the
/// database accepts it.
#[test]
fn one_failing_event_in_a_batch_fails_alone() {
    use server_support::{now, post_webhook, sqlite_options, subscription_event, wait_until};
    use server_support::{PRICE_TEAM, TEST_LOCK_WAIT};
    use sqlx::{ConnectOptions, SqliteConnection};
    use std::sync::{Arc, Barrier};

    const EVENTS: usize = 24;
    const POISON: usize = 17;
    let dir = TempDir::new("sqlite");
    let mut env = base_env(&sqlite_url(&dir.0));
    // The writer's debug lines say when it has taken a batch and when a delivery waits for it.
    for (name, value) in &mut env {
        if name == "RUST_LOG" {
            *value = "info,dev_health_license_server::serve::stripe=debug".to_owned();
        }
    }
    let s = Server::start(&dir.0, env);
    for i in 0..EVENTS {
        s.create_org(&format!("org_b{i}"), "stripe");
    }
    let body = |i: usize| {
        subscription_event(
            &format!("evt_b{i}"),
            "customer.subscription.created",
            now() - 10,
            &format!("sub_b{i}"),
            &format!("cus_b{i}"),
            Some(&format!("org_b{i}")),
            "active",
            PRICE_TEAM,
            now() + 30 * 86_400,
        )
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut db: SqliteConnection = rt
        .block_on(sqlite_options(&sqlite_url(&dir.0)).connect())
        .unwrap();
    let sql = |db: &mut SqliteConnection, sql: &str| {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        rt.block_on(sqlx::raw_sql(sql).execute(&mut *db)).unwrap();
    };
    sql(
        &mut db,
        &format!(
            "CREATE TRIGGER poison BEFORE INSERT ON stripe_events WHEN NEW.id = 'evt_b{POISON}' \
             BEGIN SELECT RAISE(ABORT, 'the test refuses this event'); END"
        ),
    );
    let logged = |line: &str| s.logs().matches(line).count();
    let addr = Arc::new(s.addr.clone());
    // The other deliveries start together once the writer holds event 0 (their threads and
    // bodies are ready before: the writer waits at most 5 s for the lock).
    let go = Arc::new(Barrier::new(EVENTS));
    let send = |i: usize, go: Option<Arc<Barrier>>| {
        let (addr, body) = (Arc::clone(&addr), body(i));
        std::thread::spawn(move || {
            if let Some(go) = go {
                go.wait();
            }
            (i, post_webhook(&addr, &body).status)
        })
    };
    let mut senders: Vec<_> = (1..EVENTS)
        .map(|i| send(i, Some(Arc::clone(&go))))
        .collect();
    // Hold SQLite's write lock: the writer takes event 0 alone and waits for the lock; the other
    // deliveries queue up behind it and make one batch once the lock is released.
    sql(&mut db, "BEGIN IMMEDIATE");
    senders.push(send(0, None));
    assert!(
        wait_until(TEST_LOCK_WAIT, || logged("applying a webhook batch") == 1),
        "the writer never took event 0: {}",
        s.logs()
    );
    go.wait();
    assert!(
        wait_until(TEST_LOCK_WAIT, || logged(
            "webhook queued for the SQLite writer"
        ) == EVENTS),
        "not every delivery reached the writer's queue: {}",
        s.logs()
    );
    sql(&mut db, "COMMIT");
    let mut statuses: Vec<(usize, u16)> = senders.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort();

    for (i, status) in &statuses {
        let expected = if *i == POISON { 500 } else { 200 };
        assert_eq!(*status, expected, "event {i}: {statuses:?}");
    }
    assert!(
        s.logs()
            .contains("a webhook batch failed and was rolled back; applying its events one by one"),
        "the refused event did not fail inside a batch: {}",
        s.logs()
    );
    for i in (0..EVENTS).filter(|&i| i != POISON) {
        let org = format!("org_b{i}");
        assert_eq!(s.tier(&org), "team", "{org}");
        let signs = s
            .audit(&org)
            .iter()
            .filter(|a| a["action"] == "license.sign")
            .count();
        assert_eq!(
            signs, 1,
            "{org}: one license, however many transactions ran"
        );
        assert_eq!(
            s.event_outcome(&format!("evt_b{i}")).as_deref(),
            Some("applied")
        );
    }
    let poisoned = format!("org_b{POISON}");
    assert_eq!(
        s.tier(&poisoned),
        "community",
        "the refused event changed nothing"
    );
    assert_eq!(s.event_outcome(&format!("evt_b{POISON}")), None);

    // Stripe's retry, once the database accepts the event: applied once.
    sql(&mut db, "DROP TRIGGER poison");
    assert_eq!(post_webhook(&s.addr, &body(POISON)).status, 200);
    assert_eq!(s.tier(&poisoned), "team");
    assert_eq!(
        s.event_outcome(&format!("evt_b{POISON}")).as_deref(),
        Some("applied")
    );
}

/// A webhook the database refuses is rolled back before it is answered, so SQLite's write lock is
/// free for the next writer (an operator's `sqlite3`, a backup, a test). The writer left the
/// failed transaction open until its own next write, and when the refused event was the last
/// one a batch applied again one by one, `one_failing_event_in_a_batch_fails_alone` met
/// `database is locked` on its next statement.
#[test]
fn a_refused_webhook_leaves_the_database_unlocked() {
    use server_support::{db_exec, db_try_exec, now, subscription_event, PRICE_TEAM};

    let (dir, s) = server();
    let url = sqlite_url(&dir.0);
    s.create_org("org_refused", "stripe");
    db_exec(
        &url,
        "CREATE TRIGGER refuse BEFORE INSERT ON stripe_events \
         BEGIN SELECT RAISE(ABORT, 'the test refuses every event'); END",
    );
    let event = subscription_event(
        "evt_refused",
        "customer.subscription.created",
        now() - 10,
        "sub_refused",
        "cus_refused",
        Some("org_refused"),
        "active",
        PRICE_TEAM,
        now() + 30 * 86_400,
    );
    assert_eq!(s.webhook(&event).status, 500);
    // The server writes nothing more: a lock it still held would outlast any busy timeout.
    assert_eq!(
        db_try_exec(&url, "BEGIN IMMEDIATE; DROP TRIGGER refuse; COMMIT"),
        Ok(())
    );
    assert_eq!(s.webhook(&event).status, 200);
    assert_eq!(s.tier("org_refused"), "team");
}

/// An admin request refused after its transaction began (an unknown org, a bad tier) releases
/// SQLite's write lock at once: it used to stay held until the server's next write.
#[test]
fn a_refused_admin_request_leaves_the_database_unlocked() {
    use server_support::{db_try_exec, http, ADMIN_TOKEN};

    let (dir, s) = server();
    let url = sqlite_url(&dir.0);
    s.create_org("org_locked", "manual");
    for (path, body) in [
        ("/api/v1/admin/orgs/org_missing", "{\"tier\":\"team\"}"),
        ("/api/v1/admin/orgs/org_locked", "{\"tier\":\"platinum\"}"),
    ] {
        let r = http(
            &s.addr,
            "PATCH",
            path,
            Some(ADMIN_TOKEN),
            Some(body.as_bytes()),
            &[],
        )
        .unwrap();
        assert!(r.status == 404 || r.status == 422, "{}", r.text());
        assert_eq!(
            db_try_exec(
                &url,
                "BEGIN IMMEDIATE; UPDATE organizations SET name = name; COMMIT"
            ),
            Ok(()),
            "after {path}"
        );
    }
}

/// On SQLite one pooled connection is kept for writing, so a pool of one left nothing to read
/// with and the start failed after 3 s with "pool timed out". One connection is now refused as a
/// configuration error naming the variable; two are enough to serve.
#[test]
fn one_sqlite_connection_is_a_configuration_error() {
    use server_support::*;

    let dir = TempDir::new("sqlite-conns");
    let with = |n: &str| {
        let mut env = base_env(&sqlite_url(&dir.0));
        env.push(("DATABASE_MAX_CONNECTIONS".into(), n.into()));
        env
    };
    let log = Server::try_start(&dir.0, with("1"), "127.0.0.1:0")
        .err()
        .unwrap();
    assert!(
        log.contains("DATABASE_MAX_CONNECTIONS must be at least 2 with SQLite"),
        "{log}"
    );
    assert!(!log.contains("pool timed out"), "{log}");
    let s = Server::start(&dir.0, with("2"));
    s.create_org("org_two", "stripe");
    assert_eq!(s.tier("org_two"), "community");
    assert_eq!(s.get("/api/v1/licensing/revocations", None).status, 200);
}

/// The SQLite database holds every license and the audit log: the server creates its file (and
/// SQLite its `-wal` and `-shm` files, which take the database's mode) readable by the owner
/// only, like the development key. A file that already exists keeps the mode it has.
#[cfg(unix)]
#[test]
fn the_sqlite_database_is_created_private() {
    use server_support::*;
    use std::os::unix::fs::PermissionsExt;

    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = TempDir::new("sqlite-mode");
    let s = Server::start(&dir.0, base_env(&sqlite_url(&dir.0)));
    s.create_org("org_mode", "stripe");
    for name in ["server.db", "server.db-wal", "server.db-shm"] {
        let path = dir.0.join(name);
        assert!(path.is_file(), "{name} missing");
        assert_eq!(mode(&path), 0o600, "{name}");
    }
    drop(s);

    // Without configuration: ./data/dev-health.db, next to the 0600 development key.
    let dev = TempDir::new("sqlite-mode-dev");
    let s = Server::start(&dev.0, vec![("RUST_LOG".into(), "info".into())]);
    assert_eq!(mode(&dev.0.join("data/dev-health.db")), 0o600);
    assert_eq!(mode(&dev.0.join("data/dev-signing-key")), 0o600);
    drop(s);

    let existing = TempDir::new("sqlite-mode-existing");
    let path = existing.0.join("server.db");
    std::fs::write(&path, b"").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let s = Server::start(&existing.0, base_env(&sqlite_url(&existing.0)));
    s.create_org("org_mode", "stripe");
    assert_eq!(mode(&path), 0o640);
}

fn billing_server() -> (TempDir, Server, server_support::stripe_double::StripeDouble) {
    let dir = TempDir::new("sqlite-billing");
    let double = billing::double();
    let env = billing::billing_env(base_env(&sqlite_url(&dir.0)), &double);
    let server = Server::start(&dir.0, env);
    (dir, server, double)
}

#[test]
fn billing_checkout_to_paid_then_portal() {
    let (_d, s, double) = billing_server();
    billing::checkout_to_paid(&s, &double);
}

#[test]
fn billing_refusals_and_stripe_failures() {
    let (_d, s, double) = billing_server();
    billing::refusals(&s, &double);
}

#[test]
fn billing_hijack_replay_leaves_the_owner_on_enterprise() {
    let (_d, s, double) = billing_server();
    billing::hijack_replay(&s, &double);
}

#[test]
fn billing_without_a_secret_key_answers_503_and_a_refused_key_is_never_shown() {
    let (_d, s) = server();
    billing::not_configured(&s);
    let dir = TempDir::new("sqlite-badkey");
    let double = billing::double();
    let mut env = billing::billing_env(base_env(&sqlite_url(&dir.0)), &double);
    for (k, v) in env.iter_mut() {
        if k == "STRIPE_SECRET_KEY" {
            *v = "sk_test_not_the_right_key_0123456789".into();
        }
    }
    let s = Server::start(&dir.0, env);
    billing::refused_key(&s);
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

#[test]
fn billing_periodic_sync_in_serve_repairs_lost_webhooks() {
    let dir = TempDir::new("sqlite-periodic");
    let double = billing::double();
    let mut env = billing::billing_env(base_env(&sqlite_url(&dir.0)), &double);
    env.push(("STRIPE_SYNC_INTERVAL".into(), "1".into()));
    let s = Server::start(&dir.0, env);
    billing::periodic_sync(&s, &double);
}
