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
use server_support::stripe_double::Order;
use server_support::{base_env, billing, now, session, sqlite_url, Server, TempDir};

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

/// SPEC §7.10: a checkout naming an org already linked to another customer is refused. Since
/// only checkouts the server made count (anyone else's is `untrusted_checkout`), the conflict is a
/// session the server created for the org whose completion carries a customer other than the
/// org's linked one.
#[test]
fn a_checkout_for_an_org_linked_to_another_customer_is_customer_conflict() {
    let dir = TempDir::new("rules-conflict");
    let double = billing::double();
    let s = Server::start(
        &dir.0,
        billing::billing_env(base_env(&sqlite_url(&dir.0)), &double),
    );
    let org = "org_linked";
    s.create_org(org, "stripe");
    let owner = session(org, "owner", 3600, false);
    let start_checkout = |tier: &str| {
        let r = s.send(
            "POST",
            "/api/v1/billing/checkout",
            Some(&owner),
            &json!({"tier": tier}),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    };
    // The owner buys team through the server and pays: the org is linked to its customer.
    let paid = double.complete_checkout(&start_checkout("team"), &s.addr, Order::AsStripe);
    assert_eq!(s.tier(org), "team");
    let org_row = || s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json();
    assert_eq!(org_row()["stripe_customer_id"], paid.customer.as_str());
    // A second checkout the server made for the org...
    let session_id = start_checkout("enterprise");
    let t = now();

    // ...whose completion names another customer: refused, the link stays, nothing changes.
    let completed = json!({
        "id": "evt_conflict", "object": "event", "type": "checkout.session.completed",
        "created": t + 10,
        "data": {"object": {"id": session_id, "object": "checkout.session",
            "customer": "cus_other", "client_reference_id": org, "metadata": {"org_id": org}}}
    });
    ok(&s.webhook(&completed.to_string()));
    assert_eq!(
        s.event_outcome("evt_conflict").as_deref(),
        Some("customer_conflict")
    );
    assert_eq!(org_row()["stripe_customer_id"], paid.customer.as_str());
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
