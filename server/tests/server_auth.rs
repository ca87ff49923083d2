//! The auth matrix of SPEC §5 over HTTP: sessions (EdDSA, HS256 where configured), roles, orgs,
//! superusers, licenses presented as bearers, and the admin token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use dev_health_entitlements::issue::SigningKey;
use serde_json::json;
use server_support::*;

const HS_SECRET: &str = "an-hs256-session-secret-of-at-least-32-bytes!";

fn server() -> (TempDir, Server) {
    let dir = TempDir::new("auth");
    let mut env = base_env(&sqlite_url(&dir.0));
    env.push(("SESSION_HS256_SECRET".into(), HS_SECRET.into()));
    let s = Server::start(&dir.0, env);
    s.create_org("org_a", "stripe");
    s.create_org("org_b", "stripe");
    (dir, s)
}

fn hs256_session(org: &str, role: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({"sub": "u2", "email": "u2@example.com", "org_id": org, "role": role,
                        "exp": now() + 600});
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HS_SECRET.as_bytes()).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{sig}")
}

#[test]
fn entitlements_need_a_valid_session_of_the_org() {
    let (_d, s) = server();
    let path = "/api/v1/licensing/entitlements/org_a";
    let status = |token: Option<&str>| s.get(path, token).status;

    assert_eq!(status(None), 401);
    let r = s.get(path, None);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(status(Some("not-a-jwt")), 401);
    assert_eq!(
        status(Some(&session("org_a", "viewer", -3600, false))),
        401,
        "expired"
    );
    let stranger = SigningKey::generate();
    assert_eq!(
        status(Some(&session_with(
            &stranger,
            SESSION_KID,
            "org_a",
            "owner",
            600,
            false
        ))),
        401,
        "signed by a key the server does not trust"
    );
    assert_eq!(
        status(Some(&session_with(
            &stranger,
            "other-kid",
            "org_a",
            "owner",
            600,
            true
        ))),
        401
    );
    // A license is not a session, even signed by the server's own license key.
    let license = s
        .admin(
            "POST",
            "/api/v1/admin/licenses",
            &json!({"org_id": "org_a", "tier": "team", "days": 30}),
        )
        .json()["license"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(status(Some(&license)), 401, "license as bearer");
    assert_eq!(status(Some(ADMIN_TOKEN)), 200);
    assert_eq!(status(Some(&format!("{ADMIN_TOKEN}x"))), 401);

    assert_eq!(status(Some(&session("org_a", "viewer", 600, false))), 200);
    assert_eq!(
        status(Some(&session("org_b", "owner", 600, false))),
        403,
        "another org"
    );
    assert_eq!(
        status(Some(&session("org_b", "viewer", 600, true))),
        200,
        "superuser"
    );
    assert_eq!(
        status(Some(&session("org_a", "janitor", 600, false))),
        403,
        "unknown role"
    );
    assert_eq!(
        status(Some(&hs256_session("org_a", "viewer"))),
        200,
        "HS256 with the shared secret"
    );
    assert_eq!(status(Some(&hs256_session("org_b", "viewer"))), 403);

    let missing = "/api/v1/licensing/entitlements/org_missing";
    assert_eq!(
        s.get(missing, Some(&session("org_missing", "viewer", 600, false)))
            .status,
        404
    );
    assert_eq!(
        s.get(missing, Some(&session("org_a", "viewer", 600, false)))
            .status,
        403
    );
    assert_eq!(s.get(missing, None).status, 401);
}

#[test]
fn the_org_license_needs_owner_or_admin() {
    let (_d, s) = server();
    let license = "/api/v1/licensing/license/org_a";
    assert_eq!(
        s.get(license, Some(&session("org_a", "viewer", 600, false)))
            .status,
        403
    );
    assert_eq!(
        s.get(license, Some(&session("org_a", "editor", 600, false)))
            .status,
        403
    );
    // Allowed, but org_a has no license yet.
    assert_eq!(
        s.get(license, Some(&session("org_a", "admin", 600, false)))
            .status,
        404
    );
    assert_eq!(
        s.get(license, Some(&session("org_a", "owner", 600, false)))
            .status,
        404
    );
    assert_eq!(s.get(license, None).status, 401);
}

/// Overrides grant features (SPEC §5 puts them under /admin/, `ADMIN_TOKEN` their bearer): a
/// session of the org, even its owner or admin or a superuser, may read them but not create,
/// change or delete one (403); the admin token can.
#[test]
fn feature_overrides_are_changed_with_the_admin_token_only() {
    let (_d, s) = server();
    // org_a is a team org: sso_saml is an enterprise feature it does not have.
    let r = s.admin(
        "PATCH",
        "/api/v1/admin/orgs/org_a",
        &json!({"tier": "team", "managed_by": "manual"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(s.entitlements("org_a")["features"]["sso_saml"], false);

    let overrides = "/api/v1/admin/orgs/org_a/feature-overrides";
    let grant = json!({"feature_key": "sso_saml", "enabled": true});
    let sessions = [
        session("org_a", "admin", 600, false),
        session("org_a", "owner", 600, false),
        session("org_a", "viewer", 600, false),
        session("org_b", "owner", 600, false),
        session("org_b", "owner", 600, true),
        hs256_session("org_a", "owner"),
    ];
    for token in &sessions {
        let r = s.send("POST", overrides, Some(token), &grant);
        assert_eq!(r.status, 403, "POST: {}", r.text());
        assert!(r.json()["detail"].as_str().unwrap().contains("admin token"));
    }
    for token in [None, Some("not-a-token"), Some("wrong-admin-token")] {
        assert_eq!(s.send("POST", overrides, token, &grant).status, 401);
    }
    // Nothing was granted.
    assert_eq!(s.entitlements("org_a")["features"]["sso_saml"], false);
    assert!(s
        .get(overrides, Some(ADMIN_TOKEN))
        .json()
        .as_array()
        .unwrap()
        .is_empty());

    // The admin token creates one; sessions can neither change nor delete it.
    let r = s.admin(
        "POST",
        overrides,
        &json!({"feature_key": "sso_saml", "enabled": false}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let one = format!("{overrides}/{id}");
    for token in &sessions {
        let r = s.send("PATCH", &one, Some(token), &json!({"enabled": true}));
        assert_eq!(r.status, 403, "PATCH: {}", r.text());
        let r = s.send("DELETE", &one, Some(token), &json!(null));
        assert_eq!(r.status, 403, "DELETE: {}", r.text());
    }
    assert_eq!(
        s.send("PATCH", &one, None, &json!({"enabled": true}))
            .status,
        401
    );
    assert_eq!(s.send("DELETE", &one, None, &json!(null)).status, 401);
    assert_eq!(s.admin_get(&one).json()["enabled"], false);
    assert_eq!(s.entitlements("org_a")["features"]["sso_saml"], false);

    // Reading stays open to the org's sessions with settings:read.
    let admin_session = session("org_a", "admin", 600, false);
    let r = s.get(overrides, Some(&admin_session));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    assert_eq!(s.get(&one, Some(&admin_session)).status, 200);
    assert_eq!(
        s.get(overrides, Some(&session("org_b", "owner", 600, false)))
            .status,
        403
    );

    // The admin token changes and deletes it.
    let r = s.admin("PATCH", &one, &json!({"enabled": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    let ent = s.entitlements("org_a");
    assert_eq!(ent["features"]["sso_saml"], true);
    assert_eq!(s.admin("DELETE", &one, &json!(null)).status, 204);
    assert_eq!(s.entitlements("org_a")["features"]["sso_saml"], false);
    let audit = s.audit("org_a");
    for action in ["override.create", "override.update", "override.delete"] {
        assert!(audit
            .iter()
            .any(|a| a["action"] == action && a["actor"] == "admin"));
    }
    assert!(!audit.iter().any(|a| a["actor"] == "user:user_1"));
}

#[test]
fn admin_endpoints_need_the_admin_token() {
    let (_d, s) = server();
    let superuser = session("org_a", "owner", 600, true);
    let cases = [
        ("POST", "/api/v1/admin/orgs", json!({"name": "X"})),
        ("GET", "/api/v1/admin/orgs/org_a", json!(null)),
        (
            "PATCH",
            "/api/v1/admin/orgs/org_a",
            json!({"tier": "enterprise"}),
        ),
        (
            "POST",
            "/api/v1/admin/licenses",
            json!({"org_id": "x", "tier": "team", "days": 1}),
        ),
        ("POST", "/api/v1/admin/licenses/lic_x/revoke", json!({})),
        ("GET", "/api/v1/admin/feature-flags", json!(null)),
        (
            "PATCH",
            "/api/v1/admin/feature-flags/git_sync",
            json!({"enabled": false}),
        ),
        ("GET", "/api/v1/admin/audit", json!(null)),
    ];
    for (method, path, body) in &cases {
        for token in [None, Some("wrong-token"), Some(superuser.as_str())] {
            let r = if method == &"GET" {
                s.get(path, token)
            } else {
                s.send(method, path, token, body)
            };
            assert_eq!(
                r.status,
                401,
                "{method} {path} with {token:?}: {}",
                r.text()
            );
        }
    }
    // Nothing changed.
    assert_eq!(s.entitlements("org_a")["features"]["git_sync"], true);
    assert_eq!(s.tier("org_a"), "community");
    // Public endpoints need nothing.
    assert_eq!(s.get("/healthz", None).status, 200);
    assert_eq!(s.get("/.well-known/jwks.json", None).status, 200);
    assert_eq!(s.get("/api/v1/licensing/revocations", None).status, 200);
}

#[test]
fn without_admin_token_configured_admin_endpoints_refuse_everyone() {
    let dir = TempDir::new("noadmin");
    let env: Vec<(String, String)> = base_env(&sqlite_url(&dir.0))
        .into_iter()
        .filter(|(k, _)| k != "ADMIN_TOKEN")
        .collect();
    let s = Server::start(&dir.0, env);
    for token in [None, Some(""), Some(ADMIN_TOKEN)] {
        let r = s.send("POST", "/api/v1/admin/orgs", token, &json!({"name": "X"}));
        assert_eq!(r.status, 401);
    }
    assert!(s.logs().contains("ADMIN_TOKEN is not set"));
}
