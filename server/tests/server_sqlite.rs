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
