//! The signed revocation list, on SQLite and on PostgreSQL: an id stays while some verifier could
//! still accept its license (the catalog's grace when the license names none), the list carries
//! a weak ETag naming its content (`If-None-Match` → 304, the same on every instance), and at
//! 100,000 revocations it still fits the 4 MiB a verifier accepts and verifies through the CLI,
//! or, when it cannot fit, is refused with a clear error instead of being published.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use dev_health_entitlements::verify::MAX_REVOCATION_LIST_BYTES;
use serde_json::{json, Value};
use server_support::scenarios::revocation_list;
use server_support::*;

const DAY: i64 = 86_400;
const REVOCATIONS: &str = "/api/v1/licensing/revocations";

#[derive(Clone, Copy, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database of `backend`, and the directory its server runs in.
fn fresh(backend: Backend, prefix: &str) -> (TempDir, Vec<(String, String)>) {
    let dir = TempDir::new(prefix);
    let url = match backend {
        Backend::Sqlite => sqlite_url(&dir.0),
        Backend::Postgres => {
            static PG: OnceLock<Pg> = OnceLock::new();
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "rl{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            PG.get_or_init(Pg::shared).database(&name)
        }
    };
    (dir, base_env(&url))
}

/// Issues a license through the admin API: (id, token, `exp`).
fn issue(s: &Server, body: Value) -> (String, String, i64) {
    let r = s.admin("POST", "/api/v1/admin/licenses", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let b = r.json();
    let id = b["license_id"].as_str().unwrap().to_owned();
    let exp = grace_and_exp(s, &id).1;
    (id, b["license"].as_str().unwrap().to_owned(), exp)
}

fn revoke(s: &Server, id: &str) {
    let r = s.admin(
        "POST",
        &format!("/api/v1/admin/licenses/{id}/revoke"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

/// (grace end, `exp`) as stored.
fn grace_and_exp(s: &Server, id: &str) -> (Option<i64>, i64) {
    let url = database_url(&s.env);
    let grace = db_i64s(
        &url,
        &format!("SELECT grace_ends_at FROM licenses WHERE id = '{id}'"),
    )[0];
    let exp = db_i64s(
        &url,
        &format!("SELECT expires_at FROM licenses WHERE id = '{id}'"),
    )[0]
    .unwrap();
    (grace, exp)
}

fn get_list(s: &Server, if_none_match: Option<&str>) -> Resp {
    let extra: Vec<(&str, &str)> = if_none_match
        .map(|tag| vec![("If-None-Match", tag)])
        .unwrap_or_default();
    http(&s.addr, "GET", REVOCATIONS, None, None, &extra).unwrap()
}

/// The start of a long text, for messages.
fn head(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The UTC day of `now - 60 s`: the ETag names it, so it changes once a day.
fn list_day() -> i64 {
    (now() - 60).div_euclid(DAY)
}

/// The ETag names the list's content: 304 while the ids are the same, 200 with a new ETag after
/// a revocation, and the same ETag from another instance on the same database.
fn etag_names_the_content(backend: Backend) {
    let (dir, env) = fresh(backend, "rl-etag");
    let s = Server::start(&dir.0, env.clone());
    let (first, _, _) = issue(&s, json!({"org_id": "c_etag", "tier": "team", "days": 30}));
    revoke(&s, &first);
    let r = get_list(&s, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let etag = r.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    let day = list_day();

    let same = get_list(&s, Some(&etag));
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    assert_eq!(same.header("etag"), Some(etag.as_str()));
    assert_eq!(get_list(&s, Some("*")).status, 304);
    assert_eq!(get_list(&s, Some("\"other\", W/\"x\"")).status, 200);

    // A revocation changes the content: the old ETag gets the whole new list.
    let (second, _, _) = issue(&s, json!({"org_id": "c_etag", "tier": "team", "days": 30}));
    revoke(&s, &second);
    let r = get_list(&s, Some(&etag));
    assert_eq!(r.status, 200);
    let new_etag = r.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let mut ids: Vec<String> = serde_json::from_value(r.json()["revoked"].clone()).unwrap();
    ids.sort();
    let mut expected = vec![first, second.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(revocation_list(&s).contains(&second));

    // Another instance (or this one restarted) signs its own copy, under the same ETag.
    let other_dir = TempDir::new("rl-etag-other");
    let other = match backend {
        // One SQLite file has one server: restart it.
        Backend::Sqlite => {
            drop(s);
            Server::start(&dir.0, env)
        }
        Backend::Postgres => Server::start(&other_dir.0, env),
    };
    let r = get_list(&other, Some(&new_etag));
    if list_day() == day {
        assert_eq!(r.status, 304, "{}", r.text());
    }
}

/// A license without `grace_days` stays on the list until `exp` plus the catalog's grace days
/// for its tier (team 14, enterprise 30), not 3650 days; rows recorded with 3650 days before
/// migration 3 get the catalog's grace at the next start.
fn catalog_grace_bounds_the_list(backend: Backend) {
    let (dir, env) = fresh(backend, "rl-grace");
    let url = database_url(&env);
    let mut s = Server::start(&dir.0, env.clone());
    let (team, _, team_exp) = issue(&s, json!({"org_id": "c_g", "tier": "team", "days": 30}));
    let (ent, _, ent_exp) = issue(
        &s,
        json!({"org_id": "c_g", "tier": "enterprise", "days": 30}),
    );
    let (three, _, three_exp) = issue(
        &s,
        json!({"org_id": "c_g", "tier": "team", "days": 30, "grace_days": 3}),
    );
    assert_eq!(grace_and_exp(&s, &team).0, Some(team_exp + 14 * DAY));
    assert_eq!(grace_and_exp(&s, &ent).0, Some(ent_exp + 30 * DAY));
    assert_eq!(grace_and_exp(&s, &three).0, Some(three_exp + 3 * DAY));
    revoke(&s, &team);
    revoke(&s, &ent);

    // As a server before migration 3 left them: 3650 days for a license without grace_days.
    // The team license's `exp` is moved 16 days back: its catalog grace ended two days ago.
    s.kill();
    let back = now() - 16 * DAY;
    db_exec(
        &url,
        &format!(
            "UPDATE licenses SET grace_ends_at = expires_at + 3650 * 86400 \
             WHERE id IN ('{team}', '{ent}'); \
             UPDATE licenses SET expires_at = {back}, grace_ends_at = {back} + 3650 * 86400 \
             WHERE id = '{team}'; \
             DELETE FROM schema_migrations WHERE version = 3"
        ),
    );
    let listed_before = |id: &str| {
        db_i64s(
            &url,
            &format!("SELECT grace_ends_at FROM licenses WHERE id = '{id}'"),
        )[0]
    };
    assert_eq!(listed_before(&team), Some(back + 3650 * DAY));
    let s = Server::start(&dir.0, env);
    assert_eq!(grace_and_exp(&s, &team).0, Some(back + 14 * DAY));
    assert_eq!(grace_and_exp(&s, &ent).0, Some(ent_exp + 30 * DAY));
    assert_eq!(grace_and_exp(&s, &three).0, Some(three_exp + 3 * DAY));
    let list = revocation_list(&s);
    assert!(
        !list.contains(&team),
        "a license past its catalog grace is listed"
    );
    assert!(list.contains(&ent));
}

/// Inserts `n` revoked licenses straight into the database (one statement), with ids
/// `lic_` + `hex_digits` hex digits, their grace ending in 30 days.
fn insert_revoked(url: &str, backend: Backend, n: usize, hex_digits: usize) {
    let t = now();
    let id = match backend {
        Backend::Sqlite => format!("printf('lic_%0{hex_digits}x', i)"),
        Backend::Postgres => format!("'lic_' || lpad(to_hex(i), {hex_digits}, '0')"),
    };
    db_exec(
        url,
        &format!(
            "INSERT INTO licenses (id, org_id, token, tier, license_type, kid, issued_at, \
             expires_at, grace_ends_at, revoked_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             SELECT {id}, 'org_bulk', 'x', 'team', 'self_hosted', 'k', {t}, {t} + 30 * 86400, \
             {t} + 30 * 86400, {t} - i FROM n"
        ),
    );
}

/// Starts a server, issues and revokes one real license, stops it, then adds `n` revocations
/// with `hex_digits`-digit ids behind its back and starts it again.
fn server_with_revocations(
    backend: Backend,
    n: usize,
    hex_digits: usize,
) -> (TempDir, Server, String, String) {
    let (dir, env) = fresh(backend, "rl-bulk");
    let mut s = Server::start(&dir.0, env.clone());
    let (id, token, _) = issue(&s, json!({"org_id": "c_bulk", "tier": "team", "days": 30}));
    revoke(&s, &id);
    s.kill();
    let started = Instant::now();
    insert_revoked(&database_url(&env), backend, n, hex_digits);
    eprintln!(
        "inserted {n} revocations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let s = Server::start(&dir.0, env);
    (dir, s, id, token)
}

/// 100,000 revocations with the server's ids: the list is within the core's 4 MiB and a
/// verifier (the CLI) reads it and revokes.
fn hundred_thousand_revocations_verify(backend: Backend) {
    let (dir, s, id, token) = server_with_revocations(backend, 100_000, 24);
    let started = Instant::now();
    let r = get_list(&s, None);
    let built = started.elapsed();
    assert_eq!(r.status, 200, "{}", head(&r.text()));
    let body = r.json();
    let list = body["revocation_list"].as_str().unwrap();
    let revoked = body["revoked"].as_array().unwrap();
    assert_eq!(revoked.len(), 100_001);
    assert!(revoked.contains(&json!(id)));
    eprintln!(
        "100,001 revocations: signed list {} bytes (limit {MAX_REVOCATION_LIST_BYTES}), \
         JSON answer {} bytes, first answer in {:.2} s",
        list.len(),
        r.body.len(),
        built.as_secs_f64()
    );
    assert!(list.len() <= MAX_REVOCATION_LIST_BYTES);
    // Served again with 304 for its ETag, at almost no cost.
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(get_list(&s, Some(&etag)).status, 304);

    let key = format!("{LICENSE_KID}={}", license_key().public_key().to_base64());
    let verify = |source: &Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
            .args(["verify", "--key", &key, "--revocations"])
            .arg(source)
            .args(["--json", &token])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .unwrap();
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), json)
    };
    let jwt = dir.0.join("revocations.jwt");
    std::fs::write(&jwt, list).unwrap();
    let (code, out) = verify(&jwt);
    assert_eq!(
        (code, &out["error"]["code"]),
        (Some(1), &json!("revoked")),
        "{out}"
    );
    // The server's whole answer, as `curl` saves it, is read too.
    let answer = dir.0.join("revocations.json");
    std::fs::write(&answer, &r.body).unwrap();
    let (code, out) = verify(&answer);
    assert_eq!(
        (code, &out["error"]["code"]),
        (Some(1), &json!("revoked")),
        "{out}"
    );
}

/// 100,000 revocations with ids twice as long: the list cannot fit the 4 MiB a verifier accepts,
/// so it is not published; the answer and the log say why.
fn an_oversized_list_is_refused_clearly(backend: Backend) {
    let (_dir, s, _, _) = server_with_revocations(backend, 100_000, 48);
    let r = get_list(&s, None);
    assert_eq!(r.status, 500, "{}", head(&r.text()));
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.starts_with("The revocation list is not published: it holds 100001 licenses"),
        "{detail}"
    );
    assert!(detail.contains("4 MiB"), "{detail}");
    assert!(s
        .logs()
        .contains("the revocation list is over the size verifiers accept"));
    // The server itself is fine.
    assert_eq!(s.get("/healthz", None).status, 200);
}

#[test]
fn the_etag_names_the_content_sqlite() {
    etag_names_the_content(Backend::Sqlite);
}

#[test]
fn the_etag_names_the_content_postgres() {
    etag_names_the_content(Backend::Postgres);
}

#[test]
fn the_catalog_grace_bounds_the_list_sqlite() {
    catalog_grace_bounds_the_list(Backend::Sqlite);
}

#[test]
fn the_catalog_grace_bounds_the_list_postgres() {
    catalog_grace_bounds_the_list(Backend::Postgres);
}

#[test]
fn a_hundred_thousand_revocations_fit_and_verify_sqlite() {
    hundred_thousand_revocations_verify(Backend::Sqlite);
}

#[test]
fn a_hundred_thousand_revocations_fit_and_verify_postgres() {
    hundred_thousand_revocations_verify(Backend::Postgres);
}

#[test]
fn a_list_over_the_limit_is_refused_clearly_sqlite() {
    an_oversized_list_is_refused_clearly(Backend::Sqlite);
}

#[test]
fn a_list_over_the_limit_is_refused_clearly_postgres() {
    an_oversized_list_is_refused_clearly(Backend::Postgres);
}
