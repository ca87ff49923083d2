//! The license server's request handlers (SPEC §5): the real router and state, started once on a
//! temporary SQLite database, driven in-process (`tower::ServiceExt::oneshot`, no socket).
//!
//! Input: one or more requests separated by a line `###`, each written as
//!
//! ```text
//! POST /api/v1/admin/orgs
//! content-type: application/json
//! auth: admin
//!
//! {"id":"org_fuzz","name":"Fuzz"}
//! ```
//!
//! Three header lines are the target's own: `auth: admin` sends the admin token,
//! `auth: session <org_id> <role> [superuser] [expired]` a session signed with the configured
//! session key, and `stripe: sign` a genuine `Stripe-Signature` for the body. The database lives
//! as long as the process, so a sequence in one input (create an org, then change it, then read
//! its entitlements) reaches the handlers behind the lookups.
//!
//! Invariants: no 5xx (the database is healthy, so a 5xx is a handler failing on its input);
//! every error is a JSON `{"detail": ...}`; every answer has an `X-Request-Id`; nothing under
//! `/api/v1/admin/` answers 2xx without the admin token; no webhook is accepted without a genuine
//! signature; an entitlements answer reads back (`Entitlements::from_json`) and round-trips.

#![no_main]

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dev_health_entitlements::issue::sign_raw_jwt;
use dev_health_entitlements::stripe::signature_header;
use dev_health_entitlements::{Catalog, Entitlements};
use dev_health_fuzz::{check_json_round_trip, signing_key, SESSION_KID};
use dev_health_license_server::serve::{app, Config};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const ADMIN_TOKEN: &str = "fuzz-admin-token-0123456789abcdef-0123456789";
const WEBHOOK_SECRET: &str = "whsec_fuzz";
/// Largest answer body read back (the revocation list is the largest).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

struct Server {
    runtime: Runtime,
    router: Router,
    catalog: Arc<Catalog>,
}

static SERVER: LazyLock<Server> = LazyLock::new(start);

/// Starts the server on a fresh database in a directory of its own under the temporary
/// directory (`make fuzz` points TMPDIR at one it removes afterwards).
fn start() -> Server {
    let dir = std::env::temp_dir().join(format!("dev-health-fuzz-server-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    let session_key = STANDARD.encode(signing_key(3).public_key().to_bytes());
    let env: HashMap<&str, String> = HashMap::from([
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("fuzz.db").display()),
        ),
        ("LICENSE_SIGNING_KEY", STANDARD.encode([7u8; 32])),
        ("LICENSE_KEY_ID", "fuzz-key".to_owned()),
        ("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()),
        ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        (
            "STRIPE_PRICE_TIERS",
            "price_team_monthly=team,price_enterprise_monthly=enterprise".to_owned(),
        ),
        (
            "SESSION_PUBLIC_KEYS",
            format!("{SESSION_KID}={session_key}"),
        ),
        (
            "SESSION_HS256_SECRET",
            "fuzz-session-secret-at-least-32-bytes".to_owned(),
        ),
    ]);
    let config = match Config::from_lookup(|name| env.get(name).cloned()) {
        Ok(config) => config,
        Err(e) => panic!("the fuzz configuration is refused: {e}"),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("cannot start a Tokio runtime: {e}"),
    };
    let router = match runtime.block_on(app::start(config)) {
        Ok(router) => router,
        Err(e) => panic!("the server does not start: {e}"),
    };
    let catalog = match Catalog::default_catalog() {
        Ok(catalog) => catalog,
        Err(e) => panic!("the default catalog does not load: {}", e.message()),
    };
    Server {
        runtime,
        router,
        catalog,
    }
}

fuzz_target!(|data: &[u8]| {
    let server = &*SERVER;
    for part in split(data, b"\n###\n") {
        if let Some(request) = FuzzRequest::parse(part) {
            server.runtime.block_on(send(server, request));
        }
    }
});

/// One request as the input writes it, with what the target added to it.
struct FuzzRequest {
    request: Request<Body>,
    admin: bool,
    signed_webhook: bool,
}

impl FuzzRequest {
    /// Reads `METHOD PATH`, header lines and the body; `None` when the method, path or a header
    /// line cannot be part of an HTTP request at all.
    fn parse(data: &[u8]) -> Option<FuzzRequest> {
        let (head, body) = match find(data, b"\n\n") {
            Some(i) => (data.get(..i)?, data.get(i + 2..)?),
            None => (data, &[][..]),
        };
        let mut lines = head.split(|&b| b == b'\n');
        let first = lines.next()?;
        let space = first.iter().position(|&b| b == b' ')?;
        let method = Method::from_bytes(first.get(..space)?).ok()?;
        let path = std::str::from_utf8(first.get(space + 1..)?).ok()?;
        let mut builder = Request::builder().method(method).uri(path);
        let (mut admin, mut signed_webhook) = (false, false);
        for line in lines {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = line.get(..colon)?;
            let value = line.get(colon + 1..)?.trim_ascii();
            match name {
                b"auth" if value == b"admin" => {
                    admin = true;
                    builder =
                        builder.header(header::AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"));
                }
                // An `auth` line that asks for nothing the target knows adds no header.
                b"auth" => {
                    let words = std::str::from_utf8(value).ok();
                    if let Some(token) = words.and_then(session) {
                        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
                    }
                }
                b"stripe" if value == b"sign" => {
                    signed_webhook = true;
                    let now = now();
                    builder = builder.header(
                        "stripe-signature",
                        signature_header(body, WEBHOOK_SECRET, now),
                    );
                }
                _ => {
                    let name = HeaderName::from_bytes(name).ok()?;
                    let value = HeaderValue::from_bytes(value).ok()?;
                    builder = builder.header(name, value);
                }
            }
        }
        let request = builder.body(Body::from(body.to_vec())).ok()?;
        Some(FuzzRequest {
            request,
            admin,
            signed_webhook,
        })
    }
}

/// `<org_id> <role> [superuser] [expired]`: a session signed with the configured session key.
fn session(words: &str) -> Option<String> {
    let mut words = words.split_whitespace();
    let (kind, org_id, role) = (words.next()?, words.next()?, words.next()?);
    if kind != "session" {
        return None;
    }
    let flags: Vec<&str> = words.collect();
    let now = now();
    let exp = if flags.contains(&"expired") {
        now - 3_600
    } else {
        now + 3_600
    };
    let claims = json!({
        "sub": "user_fuzz",
        "email": "fuzz@example.invalid",
        "org_id": org_id,
        "role": role,
        "is_superuser": flags.contains(&"superuser"),
        "iat": now,
        "exp": exp,
    });
    let Value::Object(claims) = claims else {
        return None;
    };
    sign_raw_jwt(claims, &signing_key(3), SESSION_KID).ok()
}

/// The server's clock (Unix seconds): signatures and sessions are made for the moment it checks.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

async fn send(server: &Server, fuzz: FuzzRequest) {
    let method = fuzz.request.method().clone();
    let path = fuzz.request.uri().path().to_owned();
    let response = match server.router.clone().oneshot(fuzz.request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let request_id = response.headers().contains_key("x-request-id");
    let json_answer = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let body = match axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES).await {
        Ok(body) => body,
        Err(e) => panic!("{method} {path}: the answer body cannot be read: {e}"),
    };
    let shown = String::from_utf8_lossy(&body);
    let what = format!("{method} {path} answered {status}: {shown}");

    assert!(!status.is_server_error(), "{what}");
    assert!(request_id, "{what}: no X-Request-Id");
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    if status.is_client_error() {
        let detail = parsed.as_ref().and_then(|v| v.get("detail"));
        assert!(
            detail.is_some_and(|d| d.is_string() || d.is_object()),
            "{what}: an error without a JSON detail"
        );
    }
    if status.is_success() {
        if json_answer {
            assert!(parsed.is_some(), "{what}: the JSON answer is not JSON");
        }
        assert!(
            fuzz.admin || !path.starts_with("/api/v1/admin/"),
            "{what}: an admin endpoint answered without the admin token"
        );
        assert!(
            fuzz.signed_webhook || path != "/api/v1/billing/webhooks/stripe",
            "{what}: a webhook without a genuine signature was accepted"
        );
    }
    if status == StatusCode::OK && path.starts_with("/api/v1/licensing/entitlements/") {
        let Some(json) = &parsed else {
            panic!("{what}: entitlements that are not JSON");
        };
        match Entitlements::from_json(Arc::clone(&server.catalog), json) {
            Ok(entitlements) => {
                assert_eq!(&entitlements.to_json(), json, "{what}: JSON not as written");
                check_json_round_trip(&entitlements);
            }
            Err(e) => panic!("{what}: the entitlements do not read back: {}", e.message()),
        }
    }
}

/// The parts of `data` between separators.
fn split<'a>(mut data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(i) = find(data, separator) {
        parts.extend(data.get(..i));
        data = data.get(i + separator.len()..).unwrap_or_default();
    }
    parts.push(data);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
