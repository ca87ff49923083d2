//! `dev-health-license session`: development session tokens. They are minted only in development
//! (no configured signing key, SQLite), a development server accepts them without configuration,
//! and a server with a configured key refuses to trust the development session key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use std::path::Path;
use std::process::Command;

use dev_health_entitlements::{Keyring, SessionVerifier};
use serde_json::{json, Value};
use server_support::*;

/// Runs `dev-health-license session ARGS` in `dir` with exactly `env` (plus PATH):
/// (exit code, stdout, stderr).
fn session_cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .arg("session")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// A development server in `dir`: SQLite there, no signing key, an admin token.
fn dev_server(dir: &Path) -> Server {
    Server::start(
        dir,
        vec![
            ("DATABASE_URL".into(), sqlite_url(dir)),
            ("ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
        ],
    )
}

#[test]
fn session_tokens_are_refused_outside_development() {
    let dir = TempDir::new("dev-session-refused");
    for env in [
        vec![("LICENSE_SIGNING_KEY", LICENSE_SEED)],
        vec![("LICENSE_PRIVATE_KEY", LICENSE_SEED)],
        vec![("DATABASE_URL", "postgres://u@127.0.0.1/db")],
    ] {
        for args in [
            &["--org", "acme", "--role", "owner"][..],
            &["--public-keys"][..],
        ] {
            let (code, stdout, stderr) = session_cli(&dir.0, args, &env);
            assert_eq!(code, 1, "{env:?} {args:?}: {stderr}");
            assert!(stdout.is_empty(), "{stdout}");
            assert!(stderr.starts_with("error: not_development: "), "{stderr}");
        }
    }
    assert!(
        !dir.0.join("data").exists(),
        "no key is created when refused"
    );
}

#[test]
fn a_development_server_accepts_the_tokens_session_mints() {
    let dir = TempDir::new("dev-session-serve");
    let server = dev_server(&dir.0);
    assert_eq!(
        server
            .admin(
                "POST",
                "/api/v1/admin/orgs",
                &json!({"id": "acme", "name": "Acme", "tier": "team"})
            )
            .status,
        201
    );
    let (code, token, stderr) = session_cli(&dir.0, &["--org", "acme", "--role", "viewer"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let answer = server.get("/api/v1/licensing/entitlements/acme", Some(token.trim()));
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["tier"], "team");
    // The token carries its org: another org's entitlements stay closed to it.
    server.admin(
        "POST",
        "/api/v1/admin/orgs",
        &json!({"id": "other", "name": "Other"}),
    );
    assert_eq!(
        server
            .get("/api/v1/licensing/entitlements/other", Some(token.trim()))
            .status,
        403
    );
    // Its role too: a viewer may not read the org's license (owner/admin only).
    assert_eq!(
        server
            .get("/api/v1/licensing/license/acme", Some(token.trim()))
            .status,
        403
    );
    // A key of another directory is not the server's development session key.
    let elsewhere = TempDir::new("dev-session-elsewhere");
    let (_, foreign, _) = session_cli(&elsewhere.0, &["--org", "acme", "--role", "owner"], &[]);
    assert_eq!(
        server
            .get("/api/v1/licensing/entitlements/acme", Some(foreign.trim()))
            .status,
        401
    );
}

#[test]
fn the_printed_public_keys_verify_the_token_and_its_claims() {
    let dir = TempDir::new("dev-session-keys");
    let (code, keys, stderr) = session_cli(&dir.0, &["--public-keys"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let (kid, _) = keys.trim().split_once('=').unwrap();
    assert!(kid.starts_with("dev-session-"), "{kid}");
    let (code, stdout, stderr) = session_cli(
        &dir.0,
        &[
            "--org",
            "acme",
            "--role",
            "admin",
            "--sub",
            "u_7",
            "--email",
            "a@acme.test",
            "--superuser",
            "--minutes",
            "5",
            "--json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["session_public_keys"].as_str().unwrap(), keys.trim());
    let verifier = SessionVerifier::new(Keyring::parse(keys.trim()).unwrap());
    let session = verifier
        .verify(json["token"].as_str().unwrap(), now())
        .unwrap();
    assert_eq!(
        (
            session.org_id.as_str(),
            session.role.as_str(),
            session.sub.as_str(),
            session.email.as_str()
        ),
        ("acme", "admin", "u_7", "a@acme.test")
    );
    assert!(session.is_superuser);
    assert!(
        (session.exp - now() - 300).abs() <= 5,
        "exp {}",
        session.exp
    );
    // The key is made once and kept (mode 0600): a second run prints the same keys.
    assert_eq!(session_cli(&dir.0, &["--public-keys"], &[]).1, keys);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.0.join("data/dev-session-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn unknown_roles_and_out_of_range_lifetimes_are_usage_errors() {
    let dir = TempDir::new("dev-session-usage");
    for args in [
        &["--org", "acme", "--role", "boss"][..],
        &["--org", "acme", "--role", "owner", "--minutes", "0"][..],
        &["--org", "acme", "--role", "owner", "--minutes", "20000"][..],
        &["--org", "acme"][..],
    ] {
        let (code, stdout, stderr) = session_cli(&dir.0, args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
}

#[test]
fn a_server_with_a_configured_key_refuses_the_development_session_key() {
    let dir = TempDir::new("dev-session-deployment");
    let (_, keys, _) = session_cli(&dir.0, &["--public-keys"], &[]);
    let mut env = base_env(&sqlite_url(&dir.0));
    env.retain(|(k, _)| k != "SESSION_PUBLIC_KEYS");
    env.push(("SESSION_PUBLIC_KEYS".into(), keys.trim().to_owned()));
    let (status, log) = Server::refused(&dir.0, env);
    assert!(!status.success());
    assert!(
        log.contains("SESSION_PUBLIC_KEYS holds the development session key"),
        "{log}"
    );
}
