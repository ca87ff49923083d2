//! An operator's tier change (`PATCH /api/v1/admin/orgs/{id}` with `tier`) wins over the org's
//! SaaS or trial license at once, on SQLite and on PostgreSQL: the license is revoked, a paid
//! org gets a `saas` license for the new tier (the Stripe path's claims and expiry), the audit
//! says which license went and which came, and the PATCH answers the new `updated_at`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use dev_health_entitlements::resolve::parse_rfc3339;
use dev_health_entitlements::{LicenseStatus, Tier};
use serde_json::{json, Value};
use server_support::scenarios::{jwks_verifier, revocation_list};
use server_support::*;

const DAY: i64 = 86_400;

fn sqlite_server() -> (TempDir, Server) {
    let dir = TempDir::new("tier-sqlite");
    let server = Server::start(&dir.0, base_env(&sqlite_url(&dir.0)));
    (dir, server)
}

fn postgres_server() -> (TempDir, Server) {
    static PG: OnceLock<Pg> = OnceLock::new();
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "tier{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let url = PG.get_or_init(Pg::shared).database(&name);
    let dir = TempDir::new("tier-pg");
    let server = Server::start(&dir.0, base_env(&url));
    (dir, server)
}

fn ok(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.text());
}

fn org_license(s: &Server, org: &str) -> Value {
    let r = s.admin_get(&format!("/api/v1/licensing/license/{org}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn patch_tier(s: &Server, org: &str, tier: &str) -> Value {
    let r = s.admin(
        "PATCH",
        &format!("/api/v1/admin/orgs/{org}"),
        &json!({ "tier": tier }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The admin's audit rows of `action` for `org`, oldest first.
fn admin_rows(s: &Server, org: &str, action: &str) -> Vec<Value> {
    let mut rows: Vec<Value> = s
        .audit(org)
        .into_iter()
        .filter(|a| a["action"] == action && a["actor"] == "admin")
        .collect();
    rows.reverse();
    rows
}

fn revoked_at(s: &Server, id: &str) -> Option<i64> {
    db_i64s(
        &database_url(&s.env),
        &format!("SELECT revoked_at FROM licenses WHERE id = '{id}'"),
    )[0]
}

/// A Stripe-paid enterprise org moved to team, to community, and back to enterprise by the
/// operator: each change answers at once, with the license that goes with it.
fn operator_tier_change_wins_over_a_paid_license(s: &Server) {
    let org = "org_op";
    s.create_org(org, "stripe");
    let period_end = now() + 30 * DAY;
    ok(&s.webhook(&subscription_event(
        "evt_op1",
        "customer.subscription.created",
        now() - 10,
        "sub_op",
        "cus_op",
        Some(org),
        "active",
        PRICE_ENTERPRISE,
        period_end,
    )));
    assert_eq!(s.tier(org), "enterprise");
    let enterprise = org_license(s, org)["license_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A self-hosted license of the same org: a deliverable for its own deployment.
    let r = s.admin(
        "POST",
        "/api/v1/admin/licenses",
        &json!({"org_id": org, "tier": "enterprise", "days": 365}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let self_hosted = r.json()["license_id"].as_str().unwrap().to_owned();
    // The org row was last changed long ago.
    db_exec(
        &database_url(&s.env),
        &format!("UPDATE organizations SET updated_at = 1000000000 WHERE id = '{org}'"),
    );

    // Down to team.
    let before_patch = now();
    let body = patch_tier(s, org, "team");
    assert_eq!(body["tier"], "team");
    let updated_at = parse_rfc3339(body["updated_at"].as_str().unwrap()).unwrap();
    assert!(updated_at >= before_patch, "{body}");
    assert_eq!(
        body["updated_at"],
        s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json()["updated_at"]
    );
    let ent = s.entitlements(org);
    assert_eq!(ent["tier"], "team", "{ent}");
    assert_eq!(ent["features"]["sso_saml"], false);
    assert_eq!(ent["features"]["capacity_forecast"], true);
    let team = body["license_id"].as_str().unwrap().to_owned();
    assert_ne!(team, enterprise);
    assert_eq!(ent["license_id"], team.as_str());
    // The new license is what a Stripe event would sign for team: saas, grace inside exp.
    let current = org_license(s, org);
    assert_eq!(current["license_id"], team.as_str());
    let (verifier, _) = jwks_verifier(s);
    let lic = verifier
        .verify(current["license"].as_str().unwrap(), now())
        .unwrap();
    assert_eq!(lic.tier(), Tier::Team);
    assert_eq!(lic.sub(), org);
    assert_eq!(lic.claims.license_type.as_str(), "saas");
    assert_eq!(lic.claims.grace_days, Some(0));
    assert_eq!(lic.claims.org_name.as_deref(), Some("Org org_op"));
    assert_eq!(lic.expires_at(), period_end + 14 * DAY);
    assert_eq!(lic.status_at(now()), LicenseStatus::Active);
    // The enterprise license is on the revocation list now.
    let list = revocation_list(s);
    assert!(list.contains(&enterprise));
    assert!(!list.contains(&team) && !list.contains(&self_hosted));
    // The audit says what went and what came.
    let change = admin_rows(s, org, "org.tier_change");
    assert_eq!(
        (change[0]["before"].clone(), change[0]["after"].clone()),
        (json!("enterprise"), json!("team"))
    );
    let revoked = admin_rows(s, org, "license.revoke");
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["after"]["license_id"], enterprise.as_str());
    assert_eq!(revoked[0]["after"]["reason"], "org.tier_change");
    let signed = admin_rows(s, org, "license.sign");
    assert_eq!(signed.len(), 1, "{signed:?}");
    assert_eq!(signed[0]["after"]["license_id"], team.as_str());
    assert_eq!(signed[0]["after"]["tier"], "team");
    assert_eq!(signed[0]["after"]["expires_at"], period_end + 14 * DAY);
    assert_eq!(signed[0]["after"]["replaces"], json!([enterprise]));

    // Down to community: revoked, nothing signed.
    let body = patch_tier(s, org, "community");
    assert_eq!(body["license_id"], Value::Null);
    let ent = s.entitlements(org);
    assert_eq!(ent["tier"], "community", "{ent}");
    assert_eq!(ent["license_id"], Value::Null);
    assert!(revocation_list(s).contains(&team));
    assert_eq!(admin_rows(s, org, "license.revoke").len(), 2);
    assert_eq!(admin_rows(s, org, "license.sign").len(), 1);

    // Back up to enterprise while the subscription is paid: signed anew, with enterprise's grace.
    let body = patch_tier(s, org, "enterprise");
    let ent = s.entitlements(org);
    assert_eq!(ent["tier"], "enterprise", "{ent}");
    assert_eq!(ent["license_id"], body["license_id"]);
    let lic = verifier
        .verify(org_license(s, org)["license"].as_str().unwrap(), now())
        .unwrap();
    assert_eq!(lic.tier(), Tier::Enterprise);
    assert_eq!(lic.expires_at(), period_end + 30 * DAY);

    // The self-hosted license was never touched.
    assert_eq!(revoked_at(s, &self_hosted), None);
    assert!(!revocation_list(s).contains(&self_hosted));
}

/// An org nobody pays for, holding an admin-issued trial license: the operator's tier answers at
/// once, and no license replaces the trial.
fn operator_tier_change_ends_a_trial(s: &Server) {
    let org = "org_trial";
    s.create_org(org, "manual");
    let r = s.admin(
        "POST",
        "/api/v1/admin/licenses",
        &json!({"org_id": org, "tier": "enterprise", "days": 30, "license_type": "trial"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let trial = r.json()["license_id"].as_str().unwrap().to_owned();
    assert_eq!(s.tier(org), "enterprise");

    let body = patch_tier(s, org, "team");
    assert_eq!(body["license_id"], Value::Null);
    let ent = s.entitlements(org);
    assert_eq!(ent["tier"], "team", "{ent}");
    assert_eq!(ent["license_id"], Value::Null);
    assert!(revoked_at(s, &trial).is_some());
    assert!(revocation_list(s).contains(&trial));
    let revoked = admin_rows(s, org, "license.revoke");
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["after"]["license_id"], trial.as_str());
    assert!(admin_rows(s, org, "license.sign").is_empty());

    // A PATCH that keeps the tier changes no license.
    let r = s.admin(
        "PATCH",
        &format!("/api/v1/admin/orgs/{org}"),
        &json!({"tier": "team", "name": "Renamed"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(admin_rows(s, org, "license.revoke").len(), 1);
}

#[test]
fn an_operator_tier_change_wins_over_a_paid_license_sqlite() {
    let (_d, s) = sqlite_server();
    operator_tier_change_wins_over_a_paid_license(&s);
}

#[test]
fn an_operator_tier_change_wins_over_a_paid_license_postgres() {
    let (_d, s) = postgres_server();
    operator_tier_change_wins_over_a_paid_license(&s);
}

#[test]
fn an_operator_tier_change_ends_a_trial_sqlite() {
    let (_d, s) = sqlite_server();
    operator_tier_change_ends_a_trial(&s);
}

#[test]
fn an_operator_tier_change_ends_a_trial_postgres() {
    let (_d, s) = postgres_server();
    operator_tier_change_ends_a_trial(&s);
}
