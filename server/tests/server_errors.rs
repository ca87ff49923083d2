//! Error answers over HTTP: every one is `{"detail": ...}` JSON, whatever refused the request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use server_support::*;

/// Every error is `{"detail": ...}` JSON: an unknown path (404), a method the path does not take
/// (405, with `Allow`), a path segment or query string that does not decode (400).
#[test]
fn every_error_is_json_detail() {
    let dir = TempDir::new("errors");
    let s = Server::start(&dir.0, base_env(&sqlite_url(&dir.0)));
    let detail = |r: &Resp| -> String {
        assert_eq!(
            r.header("content-type"),
            Some("application/json"),
            "{} {}",
            r.status,
            r.text()
        );
        r.json()["detail"].as_str().unwrap().to_owned()
    };
    let r = s.get("/no/such/path", None);
    assert_eq!(r.status, 404);
    detail(&r);

    let r = http(&s.addr, "DELETE", "/healthz", None, None, &[]).unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(detail(&r), "Method Not Allowed");
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
    let r = s.admin(
        "PUT",
        "/api/v1/admin/orgs/org_x/feature-overrides",
        &serde_json::json!({}),
    );
    assert_eq!(r.status, 405);
    detail(&r);
    let r = s.get("/api/v1/billing/webhooks/stripe", None);
    assert_eq!(r.status, 405);
    detail(&r);

    let r = s.admin_get("/api/v1/admin/audit?limit=abc");
    assert_eq!(r.status, 400);
    assert!(detail(&r).contains("limit"));
    let r = s.admin_get("/api/v1/admin/orgs/%FF%FE");
    assert_eq!(r.status, 400);
    detail(&r);
    let r = s.get("/api/v1/licensing/entitlements/%FF", None);
    assert_eq!(r.status, 400);
    detail(&r);
    // A well-formed request to the same endpoints still works.
    assert_eq!(s.admin_get("/api/v1/admin/audit?limit=5").status, 200);
    assert_eq!(s.admin_get("/api/v1/admin/orgs/missing").status, 404);
}
