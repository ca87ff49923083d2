//! Billing from the product against the Stripe API double, on both databases
//! (`server_sqlite.rs`, `server_postgres.rs`): checkout, portal, refusals, the hijack replay.

use dev_health_entitlements::Tier;
use serde_json::{json, Value};

use super::scenarios::jwks_verifier;
use super::stripe_double::{Order, StripeDouble};
use super::*;

/// The web app's origin the tests configure.
pub const APP: &str = "https://app.example.test";
/// A yearly enterprise price besides the monthly one, so that `interval` chooses.
pub const PRICE_ENTERPRISE_YEARLY: &str = "price_enterprise_yearly";

/// The double selling the tests' prices.
pub fn double() -> StripeDouble {
    StripeDouble::start(&[
        (PRICE_TEAM, "month"),
        (PRICE_ENTERPRISE, "month"),
        (PRICE_ENTERPRISE_YEARLY, "year"),
    ])
}

/// `base` with the Stripe API pointed at `double`, `PUBLIC_APP_URL` and the yearly price.
pub fn billing_env(base: Vec<(String, String)>, double: &StripeDouble) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = base
        .into_iter()
        .filter(|(k, _)| k != "STRIPE_PRICE_TIERS")
        .collect();
    env.extend(double.env());
    env.push(("PUBLIC_APP_URL".into(), APP.into()));
    env.push((
        "STRIPE_PRICE_TIERS".into(),
        format!(
            "{PRICE_TEAM}=team,{PRICE_ENTERPRISE}=enterprise,{PRICE_ENTERPRISE_YEARLY}=enterprise"
        ),
    ));
    env
}

fn owner(org: &str) -> String {
    session(org, "owner", 3600, false)
}

fn checkout(s: &Server, token: Option<&str>, body: &Value) -> Resp {
    s.send("POST", "/api/v1/billing/checkout", token, body)
}

fn org_row(s: &Server, org: &str) -> Value {
    s.admin_get(&format!("/api/v1/admin/orgs/{org}")).json()
}

/// The org's current license, verified against the server's JWKS.
fn verified_license(s: &Server, org: &str) -> dev_health_entitlements::License {
    let r = s.admin_get(&format!("/api/v1/licensing/license/{org}"));
    assert_eq!(r.status, 200, "{}", r.text());
    let (verifier, _) = jwks_verifier(s);
    verifier
        .verify(r.json()["license"].as_str().unwrap(), now())
        .unwrap()
}

/// Checkout as the org's owner → paid (webhooks reversed) → enterprise with a license; the
/// customer is created once and reused; the portal opens for it.
pub fn checkout_to_paid(s: &Server, double: &StripeDouble) {
    let org = "org_buyer";
    s.create_org(org, "stripe");
    let token = owner(org);
    let r = checkout(
        s,
        Some(&token),
        &json!({"tier": "enterprise", "interval": "year"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let first = r.json();
    let session_id = first["id"].as_str().unwrap().to_owned();
    assert!(session_id.starts_with("cs_test_"), "{first}");
    assert_eq!(
        first["url"],
        format!("https://checkout.stripe.com/c/pay/{session_id}")
    );

    // The customer: created once, for the org, and linked to it at once.
    let customers = double.calls_to("/v1/customers");
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].param("metadata[org_id]"), Some(org));
    assert_eq!(customers[0].param("name"), Some("Org org_buyer"));
    let customer = org_row(s, org)["stripe_customer_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The session: subscription mode, for that customer, naming the org three ways, the yearly
    // price, and the settings page as return URLs.
    let sessions = double.calls_to("/v1/checkout/sessions");
    let call = &sessions[0];
    for (param, value) in [
        ("mode", "subscription"),
        ("customer", customer.as_str()),
        ("client_reference_id", org),
        ("metadata[org_id]", org),
        ("subscription_data[metadata][org_id]", org),
        ("line_items[0][price]", PRICE_ENTERPRISE_YEARLY),
        ("line_items[0][quantity]", "1"),
    ] {
        assert_eq!(call.param(param), Some(value), "{param}");
    }
    assert_eq!(
        call.param("success_url"),
        Some("https://app.example.test/org/admin/settings?checkout=success&session_id={CHECKOUT_SESSION_ID}")
    );
    assert_eq!(
        call.param("cancel_url"),
        Some("https://app.example.test/org/admin/settings?checkout=canceled")
    );
    assert!(double
        .calls()
        .iter()
        .filter(|c| c.method == "POST")
        .all(|c| c.idempotency_key.is_some()));
    // The interval was read from Stripe, once per price.
    assert_eq!(
        double
            .calls_to(&format!("/v1/prices/{PRICE_ENTERPRISE_YEARLY}"))
            .len(),
        1
    );

    // A second checkout reuses the customer; without interval, enterprise defaults to monthly.
    let r = checkout(s, Some(&token), &json!({"tier": "enterprise"}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        double.calls_to("/v1/customers").len(),
        1,
        "the customer is reused"
    );
    let sessions = double.calls_to("/v1/checkout/sessions");
    assert_eq!(sessions[1].param("customer"), Some(customer.as_str()));
    assert_eq!(
        sessions[1].param("line_items[0][price]"),
        Some(PRICE_ENTERPRISE)
    );
    assert_ne!(sessions[0].idempotency_key, sessions[1].idempotency_key);

    // Paid: Stripe's webhooks, last one first.
    let paid = double.complete_checkout(&session_id, &s.addr, Order::Reversed);
    assert_eq!(paid.customer, customer);
    assert_eq!(s.tier(org), "enterprise");
    let license = verified_license(s, org);
    assert_eq!(license.tier(), Tier::Enterprise);
    assert_eq!(license.sub(), org);
    let period_end = double.subscription(&paid.subscription)["items"]["data"][0]
        ["current_period_end"]
        .as_i64()
        .unwrap();
    assert_eq!(license.expires_at(), period_end + 30 * DAY);
    let checkout_event = paid
        .events
        .iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .unwrap();
    assert_eq!(
        s.event_outcome(checkout_event["id"].as_str().unwrap())
            .as_deref(),
        Some("no_change"),
        "the server-made checkout of the already linked customer"
    );
    let audit = s.audit(org);
    let actions: Vec<&str> = audit
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"billing.checkout"), "{actions:?}");
    assert!(actions.contains(&"org.link_customer"), "{actions:?}");
    assert!(
        audit
            .iter()
            .any(|a| a["action"] == "billing.checkout" && a["actor"] == "user:user_1"),
        "{audit:?}"
    );

    // The tier it has is refused.
    let r = checkout(s, Some(&token), &json!({"tier": "enterprise"}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("already on the enterprise plan"),
        "{}",
        r.text()
    );

    // The portal, for the org's customer, back to the settings page.
    let r = s.send("POST", "/api/v1/billing/portal", Some(&token), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["url"]
        .as_str()
        .unwrap()
        .starts_with("https://billing.stripe.com/p/session/"));
    let portal = double.calls_to("/v1/billing_portal/sessions");
    assert_eq!(portal[0].param("customer"), Some(customer.as_str()));
    assert_eq!(
        portal[0].param("return_url"),
        Some("https://app.example.test/org/admin/settings")
    );

    // Canceled in the portal: Stripe's deletion webhook moves the org to community and revokes.
    double.change_subscription(&paid.subscription, "canceled", None, &s.addr, true);
    assert_eq!(s.tier(org), "community");
    let r = s.admin_get(&format!("/api/v1/licensing/license/{org}"));
    assert_eq!(r.status, 404, "the license is revoked: {}", r.text());
    let revoked = super::scenarios::revocation_list(s);
    assert!(revoked.contains(license.license_id()));
}

/// Who may start a checkout, and what is refused before Stripe is called.
pub fn refusals(s: &Server, double: &StripeDouble) {
    let org = "org_refusals";
    s.create_org(org, "stripe");
    let calls_before = double.calls().len();
    let token = owner(org);
    let cases: Vec<(Option<String>, Value, u16, &str)> = vec![
        (None, json!({"tier": "team"}), 401, "Missing bearer token"),
        (
            Some(session(org, "admin", 3600, false)),
            json!({"tier": "team"}),
            403,
            "lacks the permission billing:manage",
        ),
        (
            Some(session("org_other", "owner", 3600, false)),
            json!({"tier": "team", "org_id": org}),
            403,
            "another organization",
        ),
        (
            Some(ADMIN_TOKEN.to_owned()),
            json!({"tier": "team"}),
            422,
            "org_id is required",
        ),
        (
            Some(token.clone()),
            json!({"tier": "community"}),
            422,
            "tier must be team or enterprise",
        ),
        (
            Some(token.clone()),
            json!({"tier": "gold"}),
            422,
            "tier must be team or enterprise",
        ),
        (
            Some(token.clone()),
            json!({"tier": "team", "interval": "fortnight"}),
            422,
            "interval must be",
        ),
        (
            Some(token.clone()),
            json!({"tier": "team", "success_url": "https://evil.example/x"}),
            422,
            "PUBLIC_APP_URL's origin",
        ),
        (
            Some(token.clone()),
            json!({"tier": "team", "cancel_url": "javascript:alert(1)"}),
            422,
            "absolute http(s) URL",
        ),
        (
            Some(token.clone()),
            json!({"tier": "team", "coupon": "FREE"}),
            422,
            "unknown field",
        ),
        (
            Some(ADMIN_TOKEN.to_owned()),
            json!({"tier": "team", "org_id": "org_missing"}),
            404,
            "Organization not found",
        ),
    ];
    for (token, body, status, needle) in cases {
        let r = checkout(s, token.as_deref(), &body);
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert!(r.text().contains(needle), "{body}: {}", r.text());
    }
    // The tier has a price but not per year.
    let r = checkout(
        s,
        Some(&token),
        &json!({"tier": "team", "interval": "year"}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.text().contains("not sold per year; it is sold per month"),
        "{}",
        r.text()
    );
    // A manual org is not sold through Stripe.
    let r = s.admin(
        "POST",
        "/api/v1/admin/orgs",
        &json!({"id": "org_by_hand", "name": "By hand", "managed_by": "manual"}),
    );
    assert_eq!(r.status, 201);
    let r = checkout(
        s,
        Some(ADMIN_TOKEN),
        &json!({"tier": "team", "org_id": "org_by_hand"}),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("managed by hand"), "{}", r.text());
    // The portal needs a customer.
    let r = s.send("POST", "/api/v1/billing/portal", Some(&token), &json!({}));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("no Stripe customer yet"), "{}", r.text());
    // No refusal created anything in Stripe (only the team price's interval was read).
    assert!(
        double.calls()[calls_before..]
            .iter()
            .all(|c| c.method == "GET"),
        "{:?}",
        &double.calls()[calls_before..]
    );
    assert_eq!(org_row(s, org)["stripe_customer_id"], Value::Null);

    // Stripe failing: retried with the same Idempotency-Key, then 502 saying what Stripe said.
    double.fail_next(&[500]);
    let r = checkout(
        s,
        Some(ADMIN_TOKEN),
        &json!({"tier": "team", "org_id": org}),
    );
    assert_eq!(r.status, 200, "one 500 is retried: {}", r.text());
    let customers = double.calls_to("/v1/customers");
    let last_two = &customers[customers.len() - 2..];
    assert_eq!(last_two[0].status, 500);
    assert_eq!(last_two[1].status, 200);
    assert_eq!(last_two[0].idempotency_key, last_two[1].idempotency_key);
    let audit = s.audit(org);
    assert!(audit
        .iter()
        .any(|a| a["action"] == "billing.checkout" && a["actor"] == "admin"));
    double.fail_next(&[503, 503, 503]);
    let r = checkout(
        s,
        Some(ADMIN_TOKEN),
        &json!({"tier": "enterprise", "org_id": org}),
    );
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(
        r.json()["detail"],
        "Stripe answered 503 (api_error): An error occurred with our connection to Stripe."
    );
}

/// A key Stripe refuses: 502, and the key is nowhere in the answer or the log.
pub fn refused_key(s: &Server) {
    s.create_org("org_key", "stripe");
    let r = checkout(
        s,
        Some(ADMIN_TOKEN),
        &json!({"tier": "team", "org_id": "org_key"}),
    );
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.text().contains("Stripe answered 401"), "{}", r.text());
    assert!(
        r.text().contains("Invalid API Key provided"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains("sk_test_"), "{}", r.text());
    assert!(!s.logs().contains("sk_test_"), "the key is not logged");
}

/// The attack of issue 14, replayed: a stranger completes a checkout (a Payment Link) naming the
/// org before and after the owner's own; the stranger's trial subscription is created and
/// deleted. The owner ends on enterprise with the license of its own subscription.
pub fn hijack_replay(s: &Server, double: &StripeDouble) {
    let org = "org_victim";
    s.create_org(org, "stripe");
    let t = now() - 100;
    let end = now() + 14 * DAY;
    // The stranger first: a Payment Link session naming the org.
    ok(&s.webhook(&checkout_event("evt_hijack_1", t, "cus_stranger", org)));
    assert_eq!(
        s.event_outcome("evt_hijack_1").as_deref(),
        Some("untrusted_checkout")
    );
    assert_eq!(org_row(s, org)["stripe_customer_id"], Value::Null);
    let attempt = s
        .audit(org)
        .into_iter()
        .find(|a| a["action"] == "stripe.untrusted_checkout")
        .unwrap();
    assert_eq!(attempt["after"]["customer"], "cus_stranger");
    assert_eq!(attempt["after"]["checkout_session"], "cs_evt_hijack_1");

    // The owner buys enterprise through the server; Stripe's webhooks in order.
    let r = checkout(s, Some(&owner(org)), &json!({"tier": "enterprise"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let paid = double.complete_checkout(r.json()["id"].as_str().unwrap(), &s.addr, Order::AsStripe);
    assert_eq!(s.tier(org), "enterprise");
    assert_eq!(
        org_row(s, org)["stripe_customer_id"],
        paid.customer.as_str()
    );
    let license = verified_license(s, org);

    // The stranger again: another checkout, then a trial subscription naming the org in its
    // metadata, then its deletion.
    ok(&s.webhook(&checkout_event("evt_hijack_2", t + 10, "cus_stranger", org)));
    assert_eq!(
        s.event_outcome("evt_hijack_2").as_deref(),
        Some("untrusted_checkout")
    );
    for (id, kind, status) in [
        ("evt_hijack_3", "customer.subscription.created", "trialing"),
        ("evt_hijack_4", "customer.subscription.deleted", "canceled"),
    ] {
        ok(&s.webhook(&subscription_event(
            id,
            kind,
            now(),
            "sub_stranger",
            "cus_stranger",
            Some(org),
            status,
            PRICE_TEAM,
            end,
        )));
        assert_eq!(
            s.event_outcome(id).as_deref(),
            Some("other_customer"),
            "{id}"
        );
    }
    // Without metadata (a Payment Link's subscription) it finds no org at all.
    ok(&s.webhook(&subscription_event(
        "evt_hijack_5",
        "customer.subscription.updated",
        now(),
        "sub_stranger",
        "cus_stranger",
        None,
        "active",
        PRICE_TEAM,
        end,
    )));
    assert_eq!(
        s.event_outcome("evt_hijack_5").as_deref(),
        Some("unknown_org")
    );

    assert_eq!(s.tier(org), "enterprise");
    assert_eq!(
        org_row(s, org)["stripe_customer_id"],
        paid.customer.as_str()
    );
    assert_eq!(
        org_row(s, org)["subscription_id"],
        paid.subscription.as_str()
    );
    assert_eq!(verified_license(s, org).license_id(), license.license_id());
}

fn ok(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Without `STRIPE_SECRET_KEY` the billing endpoints answer 503 (after checking the caller).
pub fn not_configured(s: &Server) {
    s.create_org("org_nobilling", "stripe");
    let token = owner("org_nobilling");
    for (path, body) in [
        ("/api/v1/billing/checkout", json!({"tier": "team"})),
        ("/api/v1/billing/portal", json!({})),
    ] {
        let r = s.send("POST", path, None, &body);
        assert_eq!(r.status, 401, "{path}");
        let r = s.send("POST", path, Some(&token), &body);
        assert_eq!(r.status, 503, "{path}: {}", r.text());
        assert_eq!(
            r.json()["detail"],
            "Billing is not configured on this server: STRIPE_SECRET_KEY is not set"
        );
    }
}

/// `dev-health-license stripe sync --json ARGS` with the server's configuration: exit code and
/// the JSON report.
pub fn stripe_sync(s: &Server, args: &[&str]) -> (i32, Value) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .args(["stripe", "sync", "--json"])
        .args(args)
        .current_dir(&s.dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(s.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stripe sync printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// Waits (with a deadline) until the org's tier, as the server answers it, is `tier`: another
/// process changed the database, and the server caches an org's inputs for a second.
fn wait_for_tier(s: &Server, org: &str, tier: &str) {
    let seen = wait_until(std::time::Duration::from_secs(10), || s.tier(org) == tier);
    assert!(seen, "{org} never became {tier}: {}", s.tier(org));
}

/// Webhooks lost (an endpoint deleted), then repaired by `stripe sync`: a paid checkout, a
/// renewal, a cancellation. A dry run changes nothing; a failed API call changes nothing; a
/// webhook newer than what the sync read is never undone.
pub fn lost_webhooks_repaired_by_sync(s: &Server, double: &StripeDouble) {
    let org = "org_lost";
    s.create_org(org, "stripe");
    let r = checkout(s, Some(&owner(org)), &json!({"tier": "team"}));
    assert_eq!(r.status, 200, "{}", r.text());
    let paid = double.complete_checkout(r.json()["id"].as_str().unwrap(), &s.addr, Order::Lost);
    assert_eq!(s.tier(org), "community", "no webhook arrived");

    // A dry run says what it would do and does nothing.
    let (code, report) = stripe_sync(s, &["--org", org, "--dry-run"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["dry_run"], true);
    let sub = &report["orgs"][0]["subscriptions"][0];
    assert_eq!(sub["id"], paid.subscription.as_str());
    assert_eq!(sub["applied"], true, "{report}");
    assert!(
        sub["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "change_tier" && a["to"] == "team"),
        "{report}"
    );
    assert_eq!(s.tier(org), "community");
    assert!(s.audit(org).iter().all(|a| a["actor"] != "stripe:sync"));

    // A failed API call changes nothing, and says so with exit 1.
    double.fail_next(&[500, 500, 500]);
    let (code, report) = stripe_sync(s, &["--org", org]);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["orgs"][0]["error"]
            .as_str()
            .unwrap()
            .contains("Stripe answered 500"),
        "{report}"
    );
    assert_eq!(s.tier(org), "community");

    // The sync: team, with a license that verifies, audited as stripe:sync.
    let (code, report) = stripe_sync(s, &["--org", org]);
    assert_eq!(code, 0, "{report}");
    wait_for_tier(s, org, "team");
    let license = verified_license(s, org);
    assert_eq!(license.tier(), Tier::Team);
    let period_end = now() + 30 * DAY;
    assert!((license.expires_at() - (period_end + 14 * DAY)).abs() < 120);
    let audit = s.audit(org);
    assert!(
        audit
            .iter()
            .any(|a| a["actor"] == "stripe:sync" && a["action"] == "org.tier_change"),
        "{audit:?}"
    );
    // Again: only the moment of the read is recorded (so an older webhook arriving late stays
    // stale), or nothing when the read falls in the same second as the last one; no tier or
    // license change either way.
    let (_, report) = stripe_sync(s, &["--org", org]);
    let sub = &report["orgs"][0]["subscriptions"][0];
    let actions = sub["actions"].as_array().cloned().unwrap_or_default();
    assert!(
        actions.iter().all(|a| a["action"] == "update_subscription"),
        "{report}"
    );
    if actions.is_empty() {
        assert_eq!(sub["reason"], "no_change", "{report}");
    }
    assert_eq!(verified_license(s, org).license_id(), license.license_id());

    // A renewal whose webhooks are lost: the sync re-signs the license for the new period.
    let renewed_end = now() + 60 * DAY;
    double.change_subscription(
        &paid.subscription,
        "active",
        Some(renewed_end),
        &s.addr,
        false,
    );
    stripe_sync(s, &["--org", org]);
    let renewed = verified_license(s, org);
    assert_ne!(renewed.license_id(), license.license_id());
    assert_eq!(renewed.expires_at(), renewed_end + 14 * DAY);

    // A webhook newer than the sync's read wins: Stripe says canceled, but an (invented) update
    // created after the sync's moment says active, and is applied first.
    double.change_subscription(&paid.subscription, "canceled", None, &s.addr, false);
    let newer = subscription_event(
        "evt_newer_than_sync",
        "customer.subscription.updated",
        now() + 300,
        &paid.subscription,
        &paid.customer,
        Some(org),
        "active",
        PRICE_TEAM,
        renewed_end,
    );
    ok(&s.webhook(&newer));
    let (_, report) = stripe_sync(s, &["--org", org]);
    assert_eq!(
        report["orgs"][0]["subscriptions"][0]["reason"], "stale_event",
        "{report}"
    );
    assert_eq!(s.tier(org), "team");
}

/// The cancellation whose webhook is lost: the sync moves the org to community and revokes.
pub fn lost_cancellation_repaired_by_sync(s: &Server, double: &StripeDouble) {
    let org = "org_lost_cancel";
    s.create_org(org, "stripe");
    let r = checkout(s, Some(&owner(org)), &json!({"tier": "enterprise"}));
    let paid = double.complete_checkout(r.json()["id"].as_str().unwrap(), &s.addr, Order::AsStripe);
    assert_eq!(s.tier(org), "enterprise");
    double.change_subscription(&paid.subscription, "canceled", None, &s.addr, false);
    // The text report, as an operator reads it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .args(["stripe", "sync"])
        .current_dir(&s.dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(s.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = format!(
        "{org} {} canceled: applied update_subscription, change_tier, revoke_license",
        paid.subscription
    );
    assert!(text.contains(&line), "{text}");
    assert!(text.contains("changed\n"), "{text}");
    wait_for_tier(s, org, "community");
    let r = s.admin_get(&format!("/api/v1/licensing/license/{org}"));
    assert_eq!(r.status, 404, "the license is revoked: {}", r.text());
}

/// `dev-health-license verify --json` of `token` against the server's JWKS for `deployment`.
fn cli_verify(s: &Server, token: &str, deployment: &str) -> Value {
    let jwks = s.dir.join("jwks.json");
    std::fs::write(&jwks, s.get("/.well-known/jwks.json", None).text()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .args(["verify", "--json", "--keys"])
        .arg(&jwks)
        .args(["--deployment-id", deployment, token])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The org's licenses as its owner lists them.
fn listed_licenses(s: &Server, org: &str) -> Vec<Value> {
    let r = s.get(
        &format!("/api/v1/licensing/licenses/{org}"),
        Some(&owner(org)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["licenses"].as_array().unwrap().clone()
}

/// A self-hosted purchase: paid → a `self_hosted` license for the deployment, listed for the
/// owner and verified by the CLI against the JWKS; each renewal re-signs and revokes the one it
/// replaces; the org's own plan never changes.
pub fn self_hosted_purchase(s: &Server, double: &StripeDouble) {
    let org = "org_self_hosted";
    s.create_org(org, "stripe");
    let token = owner(org);
    for (body, needle) in [
        (
            json!({"tier": "enterprise", "license_type": "self_hosted"}),
            "needs a deployment_id",
        ),
        (
            json!({"tier": "enterprise", "license_type": "self_hosted", "deployment_id": "a b"}),
            "needs a deployment_id",
        ),
        (
            json!({"tier": "enterprise", "deployment_id": "dep-1"}),
            "self_hosted only",
        ),
        (
            json!({"tier": "enterprise", "license_type": "trial"}),
            "license_type must be",
        ),
    ] {
        let r = checkout(s, Some(&token), &body);
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        assert!(r.text().contains(needle), "{body}: {}", r.text());
    }
    let deployment = "dep-prod-1";
    let r = checkout(
        s,
        Some(&token),
        &json!({"tier": "enterprise", "license_type": "self_hosted", "deployment_id": deployment}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let call = double.calls_to("/v1/checkout/sessions").pop().unwrap();
    assert_eq!(
        call.param("subscription_data[metadata][license_type]"),
        Some("self_hosted")
    );
    assert_eq!(
        call.param("subscription_data[metadata][deployment_id]"),
        Some(deployment)
    );
    let paid = double.complete_checkout(r.json()["id"].as_str().unwrap(), &s.addr, Order::Reversed);
    let subscription_event = paid
        .events
        .iter()
        .find(|e| e["type"] == "customer.subscription.created")
        .unwrap();
    assert_eq!(
        s.event_outcome(subscription_event["id"].as_str().unwrap())
            .as_deref(),
        Some("self_hosted_subscription")
    );
    assert_eq!(
        s.tier(org),
        "community",
        "a self-hosted purchase never changes the org's plan"
    );

    let licenses = listed_licenses(s, org);
    assert_eq!(licenses.len(), 1, "{licenses:?}");
    let first = &licenses[0];
    assert_eq!(first["license_type"], "self_hosted");
    assert_eq!(first["deployment_id"], deployment);
    assert_eq!(first["tier"], "enterprise");
    let verified = cli_verify(s, first["license"].as_str().unwrap(), deployment);
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["tier"], "enterprise", "{verified}");
    let period_end = double.subscription(&paid.subscription)["items"]["data"][0]
        ["current_period_end"]
        .as_i64()
        .unwrap();
    assert_eq!(
        verified["claims"]["exp"],
        period_end + 30 * DAY,
        "{verified}"
    );
    assert_eq!(verified["claims"]["aud"], json!([deployment]), "{verified}");
    // Another deployment's verifier refuses it.
    let elsewhere = cli_verify(s, first["license"].as_str().unwrap(), "dep-other");
    assert_eq!(
        elsewhere["error"]["code"], "audience_mismatch",
        "{elsewhere}"
    );
    // Only the owner or an admin of the org lists them.
    let r = s.get(
        &format!("/api/v1/licensing/licenses/{org}"),
        Some(&session(org, "viewer", 3600, false)),
    );
    assert_eq!(r.status, 403, "{}", r.text());

    // A renewal: a new license for the new period, the old one revoked.
    let renewed_end = period_end + 365 * DAY;
    double.change_subscription(
        &paid.subscription,
        "active",
        Some(renewed_end),
        &s.addr,
        true,
    );
    let licenses = listed_licenses(s, org);
    assert_eq!(licenses.len(), 2, "{licenses:?}");
    // Both may be issued within one second: told apart by id, not by position.
    let (old, new): (Vec<&Value>, Vec<&Value>) = licenses
        .iter()
        .partition(|l| l["license_id"] == first["license_id"]);
    let (old, new) = (old[0], new[0]);
    assert_eq!(new["revoked_at"], Value::Null);
    assert_eq!(new["deployment_id"], deployment);
    assert_eq!(
        new["expires_at"],
        dev_health_entitlements::resolve::rfc3339(renewed_end + 30 * DAY)
    );
    assert_ne!(
        old["revoked_at"],
        Value::Null,
        "the replaced license is revoked"
    );
    let revoked = super::scenarios::revocation_list(s);
    assert!(revoked.contains(first["license_id"].as_str().unwrap()));
    assert_eq!(s.tier(org), "community");
}

/// `serve`'s periodic sync (here every second) repairs lost webhooks by itself.
pub fn periodic_sync(s: &Server, double: &StripeDouble) {
    let org = "org_periodic";
    s.create_org(org, "stripe");
    let r = checkout(s, Some(&owner(org)), &json!({"tier": "team"}));
    assert_eq!(r.status, 200, "{}", r.text());
    double.complete_checkout(r.json()["id"].as_str().unwrap(), &s.addr, Order::Lost);
    wait_for_tier(s, org, "team");
    assert!(s
        .audit(org)
        .iter()
        .any(|a| a["actor"] == "stripe:sync" && a["action"] == "license.sign"));
}
