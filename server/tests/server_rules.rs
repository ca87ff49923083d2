//! SPEC rules checked through the running server (SQLite) that the engine's own tests cover but
//! no server test did: §3 rule 2 before rule 3 (a kill switch beats an active override), §7.10's
//! `customer_conflict`, and §5's `serve` default address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use server_support::{
    base_env, checkout_event, now, sqlite_url, subscription_event, Server, TempDir, PRICE_TEAM,
};

fn server() -> (TempDir, Server) {
    let dir = TempDir::new("rules");
    let server = Server::start(&dir.0, base_env(&sqlite_url(&dir.0)));
    (dir, server)
}

fn ok(r: &server_support::Resp) {
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_kill_switch_beats_an_active_org_override() {
    let (_d, s) = server();
    let org = "org_killed";
    s.create_org(org, "stripe");
    let overrides = format!("/api/v1/admin/orgs/{org}/feature-overrides");
    let r = s.admin(
        "POST",
        &overrides,
        &json!({"feature_key": "sso_saml", "enabled": true, "expires_at": now() + 3600}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let e = s.entitlements(org);
    assert_eq!(
        (&e["features"]["sso_saml"], &e["reasons"]["sso_saml"]),
        (&json!(true), &json!("enabled_by_org_override"))
    );

    let flag = "/api/v1/admin/feature-flags/sso_saml";
    ok(&s.admin("PATCH", flag, &json!({"enabled": false})));
    let e = s.entitlements(org);
    assert_eq!(
        (&e["features"]["sso_saml"], &e["reasons"]["sso_saml"]),
        (&json!(false), &json!("global_disabled"))
    );
    // The override is still there and in force; the switch alone decided.
    let listed = s.admin_get(&overrides).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["enabled"], true);
    assert_eq!(e["features_override"]["sso_saml"], true);

    ok(&s.admin("PATCH", flag, &json!({"enabled": true})));
    let e = s.entitlements(org);
    assert_eq!(
        (&e["features"]["sso_saml"], &e["reasons"]["sso_saml"]),
        (&json!(true), &json!("enabled_by_org_override"))
    );
}

#[test]
fn a_checkout_for_an_org_linked_to_another_customer_is_customer_conflict() {
    let (_d, s) = server();
    let org = "org_linked";
    s.create_org(org, "stripe");
    let t = now() - 60;
    // A subscription naming the org links its customer and moves it to team.
    ok(&s.webhook(&subscription_event(
        "evt_sub",
        "customer.subscription.created",
        t,
        "sub_1",
        "cus_owner",
        Some(org),
        "active",
        PRICE_TEAM,
        now() + 30 * 86_400,
    )));
    assert_eq!(s.tier(org), "team");
    let before = s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json();
    assert_eq!(before["stripe_customer_id"], "cus_owner", "{before}");

    // Another customer's checkout naming the org cannot take over its billing...
    ok(&s.webhook(&checkout_event("evt_takeover", t + 10, "cus_evil", org)));
    assert_eq!(
        s.event_outcome("evt_takeover").as_deref(),
        Some("customer_conflict")
    );
    let after = s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json();
    assert_eq!(after["stripe_customer_id"], "cus_owner", "{after}");
    // ...so that customer's cancellation finds no org and changes nothing.
    ok(&s.webhook(&subscription_event(
        "evt_evil_cancel",
        "customer.subscription.updated",
        t + 20,
        "sub_evil",
        "cus_evil",
        None,
        "canceled",
        PRICE_TEAM,
        now() + 30 * 86_400,
    )));
    assert_eq!(
        s.event_outcome("evt_evil_cancel").as_deref(),
        Some("unknown_org")
    );
    assert_eq!(s.tier(org), "team");
}

/// `serve` with no configuration at all listens on 127.0.0.1:8080 (SPEC §5) with SQLite under
/// `./data/`. Port 8080 may be taken on a shared machine: then the server must fail naming that
/// address, which shows the default just as well.
#[test]
fn serve_without_configuration_uses_127_0_0_1_8080_and_data_sqlite() {
    let dir = TempDir::new("default-addr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .arg("serve")
        .current_dir(&dir.0)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let tx_err = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx_err.send(line);
        }
    });
    let mut seen = Vec::new();
    let outcome = loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.starts_with("listening on http://") => break Ok(line),
            Ok(line) if line.contains("cannot listen on") => break Err(line),
            Ok(line) => seen.push(line),
            Err(_) => break Err(format!("no listening line within 120 s: {seen:?}")),
        }
    };
    match outcome {
        Ok(line) => {
            assert_eq!(line, "listening on http://127.0.0.1:8080");
            let r =
                server_support::http("127.0.0.1:8080", "GET", "/healthz", None, None, &[]).unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
            assert!(dir.0.join("data").join("dev-health.db").exists());
        }
        Err(line) => {
            assert!(
                line.contains("cannot listen on 127.0.0.1:8080"),
                "{line}\n{seen:?}"
            );
            // The address is taken, but the database was still created where SPEC says.
            assert!(dir.0.join("data").join("dev-health.db").exists());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
