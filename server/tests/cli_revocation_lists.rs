//! `--revocations` of `verify` (and `entitlements`): the CLI reads any revocation list the core
//! accepts (up to 4 MiB signed, SPEC §7.5), as the signed list or as the server's JSON answer,
//! and says `token_too_large` for one it cannot take.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Stdio};

use dev_health_entitlements::issue::{sign_revocation_list, SigningKey};
use dev_health_entitlements::verify::MAX_REVOCATION_LIST_BYTES;
use serde_json::{json, Value};

mod server_support;
use server_support::TempDir;

const DAY: i64 = 86_400;
/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
/// A test seed (not the all-zero one) and its kid.
const SEED: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
const KID: &str = "k1";

/// Writes `bytes` to `name` in `dir`; the path.
fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.0.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_dev-health-license"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn key() -> SigningKey {
    SigningKey::parse(SEED).unwrap()
}

fn trusted() -> String {
    format!("{KID}={}", key().public_key().to_base64())
}

/// A team license with id `id`, signed by the CLI.
fn license(id: &str) -> String {
    let iat = T0.to_string();
    let run = cli(&[
        "issue",
        "--signing-key",
        SEED,
        "--kid",
        KID,
        "--org",
        "org_acme",
        "--tier",
        "team",
        "--iat",
        &iat,
        "--license-id",
        id,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.trim().to_owned()
}

/// `n` ids in the server's format (`lic_` + 24 hex digits), then `extra`.
fn ids(n: usize, extra: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = (0..n).map(|i| format!("lic_{i:024x}")).collect();
    ids.extend(extra.iter().map(|s| (*s).to_owned()));
    ids
}

fn signed_list(ids: &[String]) -> String {
    sign_revocation_list(ids, "fullchaos.studio", T0, T0 + DAY, &key(), KID).unwrap()
}

/// `verify --json` of `token` with `--revocations source`, at T0 + 60.
fn verify_with(source: &str, token: &str) -> (i32, Value) {
    let now = (T0 + 60).to_string();
    let key = trusted();
    let run = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &now,
        "--revocations",
        source,
        "--json",
        token,
    ]);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", run.stdout, run.stderr));
    (run.code, json)
}

#[test]
fn a_list_over_the_old_1_mib_input_limit_revokes() {
    let dir = TempDir::new("cli-rl");
    let token = license("lic_target");
    // 40,000 ids: about 1.65 MB signed, over the 1 MiB every other input may hold.
    let list = signed_list(&ids(40_000, &["lic_target"]));
    assert!(list.len() > 1024 * 1024 && list.len() < MAX_REVOCATION_LIST_BYTES);
    let path = write(&dir, "list.jwt", format!("{list}\n").as_bytes());
    let (code, out) = verify_with(&path, &token);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["error"]["code"], "revoked", "{out}");
    // Another license is not on it: valid.
    let other = license("lic_other");
    let (code, out) = verify_with(&path, &other);
    assert_eq!((code, &out["valid"]), (0, &json!(true)), "{out}");
}

#[test]
fn a_list_as_large_as_the_core_accepts_revokes() {
    let dir = TempDir::new("cli-rl");
    let token = license("lic_target");
    // As many ids as fit under the core's 4 MiB.
    let mut n = 100_000;
    let list = loop {
        let list = signed_list(&ids(n, &["lic_target"]));
        if list.len() <= MAX_REVOCATION_LIST_BYTES {
            break list;
        }
        n -= 1_000;
    };
    assert!(
        list.len() > MAX_REVOCATION_LIST_BYTES - 64 * 1024,
        "{}",
        list.len()
    );
    let path = write(&dir, "list.jwt", list.as_bytes());
    let (code, out) = verify_with(&path, &token);
    assert_eq!(
        (code, &out["error"]["code"]),
        (1, &json!("revoked")),
        "{out}"
    );
}

#[test]
fn the_servers_json_answer_is_read_too() {
    let dir = TempDir::new("cli-rl");
    let token = license("lic_target");
    let listed = ids(3, &["lic_target"]);
    let answer = json!({
        "revocation_list": signed_list(&listed),
        "revoked": listed,
        "issued_at": "2026-01-01T00:00:00Z",
        "expires_at": "2026-01-02T00:00:00Z",
    });
    let path = write(&dir, "answer.json", answer.to_string().as_bytes());
    let (code, out) = verify_with(&path, &token);
    assert_eq!(
        (code, &out["error"]["code"]),
        (1, &json!("revoked")),
        "{out}"
    );
    // The ids in plain text are not trusted: only the signed list counts.
    let forged = json!({"revocation_list": signed_list(&ids(3, &[])), "revoked": ["lic_target"]});
    let path = write(&dir, "forged.json", forged.to_string().as_bytes());
    let (code, out) = verify_with(&path, &token);
    assert_eq!((code, &out["valid"]), (0, &json!(true)), "{out}");
    // JSON without the list is malformed.
    let path = write(&dir, "other.json", br#"{"revoked": ["lic_target"]}"#);
    let (code, out) = verify_with(&path, &token);
    assert_eq!(
        (code, &out["error"]["code"]),
        (1, &json!("malformed_token")),
        "{out}"
    );
}

#[test]
fn an_oversized_list_is_token_too_large() {
    let dir = TempDir::new("cli-rl");
    let token = license("lic_target");
    // A signed list over the core's 4 MiB (but within what the CLI reads): the core's refusal.
    let list = signed_list(&ids(110_000, &["lic_target"]));
    assert!(list.len() > MAX_REVOCATION_LIST_BYTES);
    let path = write(&dir, "big.jwt", list.as_bytes());
    let (code, out) = verify_with(&path, &token);
    assert_eq!(
        (code, &out["error"]["code"]),
        (1, &json!("token_too_large")),
        "{out}"
    );
    let message = out["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("--revocations: "), "{message}");
    // An input over what the CLI reads at all (8 MiB): refused before it is parsed.
    let huge = vec![b'a'; 2 * MAX_REVOCATION_LIST_BYTES + 1];
    let path = write(&dir, "huge.jwt", &huge);
    let (code, out) = verify_with(&path, &token);
    assert_eq!(
        (code, &out["error"]["code"]),
        (1, &json!("token_too_large")),
        "{out}"
    );
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than the 8 MiB input limit"),
        "{out}"
    );
    // Not text: malformed.
    let path = write(&dir, "binary.jwt", &[0xff, 0xfe, b'.', b'.']);
    let (code, out) = verify_with(&path, &token);
    assert_eq!(
        (code, &out["error"]["code"]),
        (1, &json!("malformed_token")),
        "{out}"
    );
}
