//! The server over HTTP, on SQLite: the §5 scenarios shared with `server_postgres.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

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
