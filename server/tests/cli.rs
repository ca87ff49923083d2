//! The `dev-health-license` binary, run as a user would: keygen → issue → verify → inspect →
//! jwks → entitlements, with stdin, `--json` shapes and hostile input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

const DAY: i64 = 86_400;
/// 2026-01-01T00:00:00Z: every token here is issued at this moment so the tests do not depend on
/// the clock.
const T0: i64 = 1_767_225_600;
/// The all-zero seed and its public key (SPEC §1.2).
const ZERO_SEED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const ZERO_PUBLIC: &str = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
/// The opt-in that lets the all-zero test key be trusted (SPEC §7.4), from flags as from the
/// environment.
const ALLOW_TEST_KEYS: (&str, &str) = ("DEV_HEALTH_ALLOW_TEST_KEYS", "1");
/// A public key nothing here signs with, and not a documented test key: for runs that need some
/// trusted key but are about something else (the public key of the seed of 32 bytes 0x11).
const UNRELATED_PUBLIC: &str = "0EqyMnQrtKs6E2i9RhXk5tAiSrcaAWuvhSCjMsl3hzc=";

/// A directory removed when the test ends.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "dhl-cli-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    fn no_panic(&self) -> &Run {
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }
}

/// Runs the binary with no license-related variables in its environment.
fn cli(args: &[&str]) -> Run {
    cli_with(args, None, &[])
}

fn cli_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dev-health-license"));
    for name in [
        "DEV_HEALTH_LICENSE_PUBLIC_KEYS",
        "LICENSE_PUBLIC_KEY",
        "DEV_HEALTH_LICENSE",
        "LICENSE_KEY",
        "DEV_HEALTH_LICENSE_FILE",
        "LICENSE_SIGNING_KEY",
        "LICENSE_PRIVATE_KEY",
        "LICENSE_KEY_ID",
        "DEV_HEALTH_ALLOW_TEST_KEYS",
    ] {
        command.env_remove(name);
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    // The child may exit before reading all of a huge input: a broken pipe is fine.
    let _ = pipe.write_all(stdin.unwrap_or_default());
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.no_panic();
    run
}

/// A key made by `keygen --out`: (dir, seed file, kid, public key base64).
fn keygen(dir: &TempDir, kid: &str) -> (String, String) {
    let out = dir.path("keys");
    let run = cli(&[
        "keygen",
        "--kid",
        kid,
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    (
        json["seed_file"].as_str().unwrap().to_owned(),
        json["public_key"].as_str().unwrap().to_owned(),
    )
}

fn issue(seed_file: &str, extra: &[&str]) -> String {
    let iat = T0.to_string();
    let mut args = vec![
        "issue",
        "--signing-key",
        seed_file,
        "--org",
        "org_acme",
        "--iat",
        &iat,
    ];
    args.extend_from_slice(extra);
    let run = cli(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let token = run.stdout.trim().to_owned();
    assert!(!token.is_empty());
    token
}

fn at(seconds: i64) -> String {
    seconds.to_string()
}

#[test]
fn keygen_writes_a_0600_seed_file_and_a_public_jwk_and_prints_only_public_material() {
    let dir = TempDir::new();
    let out = dir.path("keys");
    let run = cli(&[
        "keygen",
        "--kid",
        "acme-1",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["kid"], "acme-1");
    assert_eq!(json["public_jwk"]["kty"], "OKP");
    assert_eq!(json["public_jwk"]["crv"], "Ed25519");
    assert_eq!(json["public_jwk"]["kid"], "acme-1");
    assert!(json.get("seed").is_none());
    let seed_file = out.join("acme-1.seed");
    assert_eq!(json["seed_file"], seed_file.display().to_string());
    let seed = std::fs::read_to_string(&seed_file).unwrap();
    assert_eq!(STANDARD.decode(seed.trim()).unwrap().len(), 32);
    assert!(!run.stdout.contains(seed.trim()) && !run.stderr.contains(seed.trim()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&seed_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let jwk: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("acme-1.jwk.json")).unwrap())
            .unwrap();
    assert_eq!(jwk, json["public_jwk"]);
    assert!(jwk.get("d").is_none());
}

#[test]
fn keygen_refuses_to_overwrite_an_existing_key() {
    let dir = TempDir::new();
    let (seed_file, _) = keygen(&dir, "k1");
    let before = std::fs::read_to_string(&seed_file).unwrap();
    let out = dir.path("keys");
    let run = cli(&["keygen", "--kid", "k1", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("error: io_error:") && run.stderr.contains("already exists"));
    assert_eq!(std::fs::read_to_string(&seed_file).unwrap(), before);
}

#[test]
fn keygen_without_out_prints_the_seed_labelled_secret() {
    let run = cli(&["keygen", "--kid", "k9"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("SECRET"));
    assert!(run.stdout.contains("LICENSE_SIGNING_KEY="));
    assert!(run.stdout.contains("LICENSE_KEY_ID=k9"));
    assert!(run.stderr.contains("warning"));
    let json = cli(&["keygen", "--json"]).json();
    assert_eq!(
        STANDARD
            .decode(json["seed"].as_str().unwrap())
            .unwrap()
            .len(),
        32
    );
    assert!(json["seed_file"].is_null());
    assert!(json["kid"].as_str().unwrap().starts_with("dh-"));
}

#[test]
fn an_issued_v2_license_verifies_as_active_with_its_claims() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(
        &seed,
        &[
            "--tier",
            "enterprise",
            "--days",
            "30",
            "--org-name",
            "Acme",
            "--feature",
            "audit_log=false",
            "--limit",
            "users=50",
            "--license-id",
            "lic_fixed",
        ],
    );
    assert_eq!(token.matches('.').count(), 2);
    let key = format!("k1={public}");
    let run = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &at(T0 + DAY),
        "--json",
        &token,
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["status"], "active");
    assert_eq!(json["format"], "v2");
    assert_eq!(json["kid"], "k1");
    assert_eq!(json["claims"]["sub"], "org_acme");
    assert_eq!(json["claims"]["jti"], "lic_fixed");
    assert_eq!(json["claims"]["tier"], "enterprise");
    assert_eq!(json["claims"]["features"]["audit_log"], false);
    assert_eq!(json["claims"]["limits"]["max_users"], 50);
    assert_eq!(json["claims"]["org_name"], "Acme");
    assert_eq!(json["expires_at"], T0 + 30 * DAY);
    assert_eq!(json["grace_ends_at"], T0 + 60 * DAY);

    let text = cli(&["verify", "--key", &key, "--now", &at(T0), &token]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("yes (active)"), "{}", text.stdout);
    assert!(text.stdout.contains("Acme"));
    assert!(
        text.stdout
            .contains("audience:     any deployment (no aud)\n"),
        "{}",
        text.stdout
    );
}

#[test]
fn verify_shows_the_deployments_a_license_is_for() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(
        &seed,
        &["--tier", "team", "--aud", "acme-prod", "--aud", "acme-dr"],
    );
    let key = format!("k1={public}");
    let text = cli(&["verify", "--key", &key, "--now", &at(T0), &token]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains("audience:     acme-prod, acme-dr\n"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_tampered_token_exits_1_with_invalid_signature() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(&seed, &["--kid", "k1", "--tier", "team"]);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["tier"] = "enterprise".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let key = format!("k1={public}");
    let run = cli(&["verify", "--key", &key, "--now", &at(T0), &forged]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: invalid_signature: "),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1);
    let json = cli(&["verify", "--key", &key, "--now", &at(T0), "--json", &forged]).json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["code"], "invalid_signature");
    assert!(json["error"]["message"].as_str().unwrap().contains("k1"));
}

#[test]
fn an_expired_license_exits_1_and_a_license_in_grace_exits_0() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(
        &seed,
        &["--tier", "team", "--days", "10", "--grace-days", "14"],
    );
    let key = format!("k1={public}");
    let exp = T0 + 10 * DAY;

    let grace = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &at(exp + DAY),
        "--json",
        &token,
    ]);
    assert_eq!(grace.code, 0);
    let json = grace.json();
    assert_eq!(
        (json["valid"].clone(), json["status"].clone()),
        (true.into(), "grace".into())
    );
    assert_eq!(json["grace_days_left"], 13);

    let last_second = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &at(exp + 14 * DAY),
        &token,
    ]);
    assert_eq!(last_second.code, 0);

    let expired = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &at(exp + 14 * DAY + 1),
        "--json",
        &token,
    ]);
    assert_eq!(expired.code, 1);
    let json = expired.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["status"], "expired");
    assert_eq!(json["expires_at"], exp);

    let text = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        "2027-01-01T00:00:00Z",
        &token,
    ]);
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("no (expired)"));
}

#[test]
fn a_v1_license_is_issued_and_verified_against_a_bare_key() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "team", "--format", "v1"]);
    assert_eq!(token.matches('.').count(), 1);
    let run = cli(&[
        "verify",
        "--key",
        &public,
        "--now",
        &at(T0),
        "--json",
        &token,
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let json = run.json();
    assert_eq!(json["format"], "v1");
    assert_eq!(json["kid"], "default");
    assert_eq!(json["claims"]["tier"], "team");
    // dev-health-ops signing defaults for team.
    assert_eq!(json["claims"]["limits"]["max_users"], 20);
    let refused = cli(&[
        "verify",
        "--key",
        &public,
        "--now",
        &at(T0),
        "--no-v1",
        &token,
    ]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("unsupported_algorithm"));
}

#[test]
fn the_all_zero_seed_signs_a_v1_token_the_dev_health_ops_key_verifies() {
    let token = issue(ZERO_SEED, &["--tier", "enterprise", "--format", "v1"]);
    let run = cli_with(
        &["verify", "--now", &at(T0), "-"],
        Some(token.as_bytes()),
        &[("LICENSE_PUBLIC_KEY", ZERO_PUBLIC), ALLOW_TEST_KEYS],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("enterprise"));
    // Without the explicit opt-in, the documented test key is refused from the environment.
    let refused = cli_with(
        &["verify", "--now", &at(T0), "-"],
        Some(token.as_bytes()),
        &[("LICENSE_PUBLIC_KEY", ZERO_PUBLIC)],
    );
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("invalid_key"), "{}", refused.stderr);
}

#[test]
fn tokens_and_keys_are_read_from_stdin_and_from_files() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "team"]);
    let key = format!("k1={public}");
    let from_stdin = cli_with(
        &["verify", "--key", &key, "--now", &at(T0), "-"],
        Some(token.as_bytes()),
        &[],
    );
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);
    let token_file = dir.write("license.jwt", &format!("{token}\n"));
    let from_file = cli(&["verify", "--key", &key, "--now", &at(T0), &token_file]);
    assert_eq!(from_file.code, 0, "{}", from_file.stderr);
    let seed_text = std::fs::read_to_string(&seed).unwrap();
    let signed_from_stdin = cli_with(
        &[
            "issue",
            "--signing-key",
            "-",
            "--kid",
            "k1",
            "--org",
            "o",
            "--tier",
            "team",
        ],
        Some(seed_text.as_bytes()),
        &[],
    );
    assert_eq!(signed_from_stdin.code, 0, "{}", signed_from_stdin.stderr);
    let env_signed = cli_with(
        &["issue", "--org", "o", "--tier", "team"],
        None,
        &[("LICENSE_SIGNING_KEY", &seed), ("LICENSE_KEY_ID", "k1")],
    );
    assert_eq!(env_signed.code, 0, "{}", env_signed.stderr);
    let env_verified = cli_with(
        &["verify", env_signed.stdout.trim()],
        None,
        &[("DEV_HEALTH_LICENSE_PUBLIC_KEYS", &key)],
    );
    assert_eq!(env_verified.code, 0, "{}", env_verified.stderr);
    let two_stdins = cli(&["verify", "--keys", "-", "-"]);
    assert_eq!(two_stdins.code, 2);
}

#[test]
fn inspect_shows_header_and_claims_and_says_loudly_nothing_was_verified() {
    let dir = TempDir::new();
    let (seed, _) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "team"]);
    let run = cli_with(&["inspect", "--json", "-"], Some(token.as_bytes()), &[]);
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("NOT VERIFIED"));
    let json = run.json();
    assert_eq!(json["verified"], false);
    assert_eq!(json["format"], "v2");
    assert_eq!(json["header"]["alg"], "EdDSA");
    assert_eq!(json["header"]["kid"], "k1");
    assert_eq!(json["claims"]["sub"], "org_acme");
    assert_eq!(json["signature_bytes"], 64);

    let v1 = issue(&seed, &["--tier", "team", "--format", "v1"]);
    let run = cli(&["inspect", &v1]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("NOT VERIFIED"));
    assert!(run.stdout.contains("format: v1") && run.stdout.contains("license_id"));

    // inspect needs no key: a token from an unknown signer still shows.
    let foreign = issue(ZERO_SEED, &["--kid", "zero", "--tier", "community"]);
    assert_eq!(
        cli(&["inspect", "--json", &foreign]).json()["header"]["kid"],
        "zero"
    );
}

#[test]
fn malformed_empty_binary_and_huge_inputs_get_their_codes_without_a_panic() {
    let junk = cli(&["inspect", "not-a-token"]);
    assert_eq!(junk.code, 1);
    assert!(
        junk.stderr.contains("error: malformed_token: "),
        "{}",
        junk.stderr
    );
    let empty = cli_with(&["verify", "--key", UNRELATED_PUBLIC, "-"], Some(b""), &[]);
    assert_eq!(empty.code, 1);
    assert!(empty
        .stderr
        .contains("error: malformed_token: the token is empty"));
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let run = cli_with(&["inspect", "--json", "-"], Some(&binary), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["error"]["code"], "malformed_token");
    let big = vec![b'a'; 40 * 1024];
    let run = cli_with(&["verify", "--key", UNRELATED_PUBLIC, "-"], Some(&big), &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("token_too_large"));
    let huge = vec![b'.'; 3 * 1024 * 1024];
    let run = cli_with(
        &["verify", "--key", UNRELATED_PUBLIC, "--json", "-"],
        Some(&huge),
        &[],
    );
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["error"]["code"], "token_too_large");
    assert!(json["error"]["message"].as_str().unwrap().contains("1 MiB"));
    let dir = TempDir::new();
    let junk_file = dir.path("junk.bin");
    std::fs::write(&junk_file, &binary).unwrap();
    let junk_file = junk_file.to_str().unwrap();
    let run = cli(&["verify", "--keys", junk_file, "a.b.c"]);
    assert!(
        run.stderr.starts_with("error: invalid_key: --keys: "),
        "{}",
        run.stderr
    );
    let run = cli(&["inspect", junk_file]);
    assert!(
        run.stderr.contains("error: malformed_token: "),
        "{}",
        run.stderr
    );
    let run = cli(&["entitlements", "--catalog", junk_file]);
    assert!(
        run.stderr.contains("error: invalid_catalog: "),
        "{}",
        run.stderr
    );
    let run = cli(&["verify", "--key", &format!("k={junk_file}"), "a.b.c"]);
    assert!(
        run.stderr.contains("error: invalid_key: "),
        "{}",
        run.stderr
    );
    let alg_none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
    let run = cli(&["verify", "--key", UNRELATED_PUBLIC, alg_none]);
    assert!(run.stderr.contains("unsupported_algorithm"));
}

#[test]
fn a_64_byte_value_where_a_seed_belongs_is_refused_without_echoing_it() {
    let sixty_four = STANDARD.encode([7u8; 64]);
    let run = cli(&[
        "issue",
        "--signing-key",
        &sixty_four,
        "--kid",
        "k",
        "--org",
        "o",
        "--tier",
        "team",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: invalid_key: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("64-byte"), "{}", run.stderr);
    assert!(!run.stderr.contains(&sixty_four));
    let dir = TempDir::new();
    let file = dir.write("bad.seed", &sixty_four);
    let run = cli(&[
        "issue",
        "--signing-key",
        &file,
        "--kid",
        "k",
        "--org",
        "o",
        "--tier",
        "team",
        "--json",
    ]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["error"]["code"], "invalid_key");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("64-byte"));
    assert!(!run.stdout.contains(&sixty_four));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cli(&["verify"]).code, 2);
    assert_eq!(
        cli(&[
            "issue",
            "--signing-key",
            ZERO_SEED,
            "--org",
            "o",
            "--tier",
            "gold"
        ])
        .code,
        2
    );
    assert_eq!(
        cli(&[
            "issue",
            "--signing-key",
            ZERO_SEED,
            "--kid",
            "k",
            "--org",
            "o",
            "--tier",
            "team",
            "--feature",
            "sso"
        ])
        .code,
        2
    );
    assert_eq!(
        cli(&[
            "issue",
            "--signing-key",
            ZERO_SEED,
            "--kid",
            "k",
            "--org",
            "o",
            "--tier",
            "team",
            "--days",
            "3",
            "--exp",
            "5"
        ])
        .code,
        2
    );
    let saas_v1 = cli(&[
        "issue",
        "--signing-key",
        ZERO_SEED,
        "--org",
        "o",
        "--tier",
        "team",
        "--format",
        "v1",
        "--license-type",
        "saas",
    ]);
    assert_eq!(saas_v1.code, 2);
    assert!(saas_v1.stderr.contains("v1 tokens carry no aud"));
    let no_kid = cli(&[
        "issue",
        "--signing-key",
        ZERO_SEED,
        "--org",
        "o",
        "--tier",
        "team",
    ]);
    assert_eq!(no_kid.code, 2);
    assert!(no_kid.stderr.contains("--kid"));
    assert_eq!(cli(&["issue", "--org", "o", "--tier", "team"]).code, 2);
    assert_eq!(cli(&["frobnicate"]).code, 2);
}

#[test]
fn audience_and_issuer_are_checked_when_asked() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "team", "--aud", "dep-1"]);
    let key = format!("k1={public}");
    assert_eq!(
        cli(&[
            "verify",
            "--key",
            &key,
            "--now",
            &at(T0),
            "--deployment-id",
            "dep-1",
            &token
        ])
        .code,
        0
    );
    let other = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &at(T0),
        "--deployment-id",
        "dep-2",
        &token,
    ]);
    assert!(other.stderr.contains("audience_mismatch"));
    let issuer = cli(&[
        "verify",
        "--key",
        &key,
        "--now",
        &at(T0),
        "--issuer",
        "someone.else",
        &token,
    ]);
    assert!(issuer.stderr.contains("issuer_mismatch"));
    let unknown = cli(&[
        "verify",
        "--key",
        &format!("k2={public}"),
        "--now",
        &at(T0),
        &token,
    ]);
    assert!(unknown.stderr.contains("unknown_key_id"));
}

#[test]
fn jwks_publishes_public_keys_that_verify_and_retires_old_ones() {
    let dir = TempDir::new();
    let (old_seed, _) = keygen(&dir, "old");
    let (new_seed, new_public) = keygen(&dir, "new");
    let run = cli(&[
        "jwks",
        "--signing-key",
        &old_seed,
        "--public-key",
        &new_public,
        "--kid",
        "new",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let kids: Vec<&str> = doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["old", "new"]);
    assert!(!run
        .stdout
        .contains(std::fs::read_to_string(&old_seed).unwrap().trim()));
    let jwks_file = dir.write("jwks.json", &run.stdout);

    let old_token = issue(&old_seed, &["--tier", "team"]);
    let new_token = issue(&new_seed, &["--tier", "team"]);
    for token in [&old_token, &new_token] {
        let run = cli(&["verify", "--keys", &jwks_file, "--now", &at(T0), token]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    // keygen's JWK file is a key for --key and --keys as it is.
    let jwk_file = dir.path("keys/new.jwk.json");
    let jwk_file = jwk_file.to_str().unwrap();
    assert_eq!(
        cli(&["verify", "--key", jwk_file, "--now", &at(T0), &new_token]).code,
        0
    );
    assert_eq!(
        cli(&["verify", "--keys", jwk_file, "--now", &at(T0), &new_token]).code,
        0
    );
    assert_eq!(
        cli(&["verify", "--key", jwk_file, "--now", &at(T0), &old_token]).code,
        1
    );

    // Retire "old" before T0: its tokens issued at T0 stop verifying; "new" keeps working.
    let retire = format!("old={}", T0 - 1);
    let retired = cli(&["jwks", "--keys", &jwks_file, "--retire", &retire]);
    assert_eq!(retired.code, 0, "{}", retired.stderr);
    let retired_file = dir.write("jwks-retired.json", &retired.stdout);
    let retired_doc: Value = serde_json::from_str(&retired.stdout).unwrap();
    assert_eq!(retired_doc["keys"][0]["kid"], "old", "key order is kept");
    assert_eq!(retired_doc["keys"][0]["not_after"], T0 - 1);
    assert!(retired_doc["keys"][1].get("not_after").is_none());
    let run = cli(&[
        "verify",
        "--keys",
        &retired_file,
        "--now",
        &at(T0),
        &old_token,
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("key_not_valid_now"), "{}", run.stderr);
    assert_eq!(
        cli(&[
            "verify",
            "--keys",
            &retired_file,
            "--now",
            &at(T0),
            &new_token
        ])
        .code,
        0
    );

    let removed = cli(&["jwks", "--keys", &retired_file, "--remove", "old", "--json"]).json();
    assert_eq!(removed["keys"].as_array().unwrap().len(), 1);
    assert_eq!(removed["keys"][0]["kid"], "new");
    assert_eq!(
        cli(&["jwks", "--keys", &retired_file, "--remove", "nope"]).code,
        2
    );
    assert_eq!(cli(&["jwks", "--public-key", &new_public]).code, 2);
    assert_eq!(cli(&["jwks"]).code, 2);
}

#[test]
fn entitlements_resolve_the_license_tier_features_and_limits() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let key = format!("k1={public}");
    let token = issue(
        &seed,
        &[
            "--tier",
            "team",
            "--feature",
            "sso_saml=true",
            "--limit",
            "users=25",
        ],
    );
    let now = at(T0 + DAY);
    let run = cli(&[
        "entitlements",
        "--license",
        &token,
        "--key",
        &key,
        "--now",
        &now,
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["tier"], "team");
    assert_eq!(json["is_valid"], true);
    assert_eq!(json["status"], "active");
    assert_eq!(json["features"]["capacity_forecast"], true);
    assert_eq!(json["features"]["sso_saml"], true);
    assert_eq!(json["features"]["audit_log"], false);
    assert_eq!(json["licensed_users"], 25);
    assert_eq!(json["limits"]["max_users"], 25);
    assert_eq!(json["features_override"]["sso_saml"], true);

    // stdin license, org overrides and kill switches from files.
    let overrides = dir.write(
        "overrides.json",
        r#"[{"feature":"capacity_forecast","enabled":false},{"feature":"audit_log","enabled":true,"expires_at":1}]"#,
    );
    let kill = dir.write("kill.json", r#"{"webhooks": false}"#);
    let run = cli_with(
        &[
            "entitlements",
            "--license",
            "-",
            "--key",
            &key,
            "--now",
            &now,
            "--overrides",
            &overrides,
            "--kill-switches",
            &kill,
            "--json",
        ],
        Some(token.as_bytes()),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["features"]["capacity_forecast"], false);
    assert_eq!(
        json["features"]["audit_log"], false,
        "an expired override no longer applies"
    );
    assert_eq!(json["features"]["webhooks"], false);
    assert_eq!(json["features"]["api_access"], true);

    // Without a license: the org tier, else community; the dev-health-ops catalog.
    let none = cli(&["entitlements", "--json", "--now", &now]).json();
    assert_eq!(none["tier"], "community");
    assert_eq!(none["limits"]["max_users"], 3);
    let org = cli(&[
        "entitlements",
        "--org-tier",
        "enterprise",
        "--catalog",
        "dev-health-ops",
        "--json",
    ])
    .json();
    assert_eq!(org["tier"], "enterprise");
    assert_eq!(org["features"]["ask_dev"], false);
    assert!(org["limits"]["min_sync_interval_hours"].is_number());

    // An expired license resolves without its tier.
    let expired = cli(&[
        "entitlements",
        "--license",
        &token,
        "--key",
        &key,
        "--now",
        &at(T0 + 900 * DAY),
        "--org-tier",
        "community",
        "--json",
    ]);
    assert_eq!(expired.code, 0);
    let json = expired.json();
    assert_eq!(
        (json["tier"].clone(), json["is_valid"].clone()),
        ("community".into(), false.into())
    );
}

#[test]
fn entitlements_with_an_invalid_license_exit_1_rather_than_fall_back() {
    let dir = TempDir::new();
    let (seed, _) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "enterprise"]);
    let run = cli(&[
        "entitlements",
        "--license",
        &token,
        "--key",
        &format!("k1={UNRELATED_PUBLIC}"),
        "--now",
        &at(T0),
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: invalid_signature: --license: "),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    let bad_overrides = dir.write("o.json", r#"{"not":"a list"}"#);
    let run = cli(&["entitlements", "--overrides", &bad_overrides]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("invalid_input"));
    let bad_catalog = dir.write("c.json", "{}");
    let run = cli(&["entitlements", "--catalog", &bad_catalog]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("invalid_catalog"), "{}", run.stderr);
}

#[test]
fn from_license_re_signs_a_v1_license_as_v2_keeping_its_claims() {
    // Issued now (re-signing sets iat to now, and the new license must not predate the old).
    let old = cli(&[
        "issue",
        "--signing-key",
        ZERO_SEED,
        "--org",
        "org_acme",
        "--tier",
        "team",
        "--format",
        "v1",
        "--org-name",
        "Acme",
        "--limit",
        "repos=7",
        "--days",
        "90",
    ]);
    assert_eq!(old.code, 0, "{}", old.stderr);
    let old = old.stdout.trim().to_owned();
    let old_claims = cli_with(
        &["verify", "--key", ZERO_PUBLIC, "--json", &old],
        None,
        &[ALLOW_TEST_KEYS],
    )
    .json()["claims"]
        .clone();
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k2");
    let old_file = dir.write("old.lic", &old);
    let run = cli_with(
        &[
            "issue",
            "--signing-key",
            &seed,
            "--from-license",
            &old_file,
            "--feature",
            "sso_saml=true",
            "--json",
        ],
        None,
        &[("LICENSE_PUBLIC_KEY", ZERO_PUBLIC), ALLOW_TEST_KEYS],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let new = run.json()["token"].as_str().unwrap().to_owned();
    let verified = cli(&["verify", "--key", &format!("k2={public}"), "--json", &new]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    let claims = &verified.json()["claims"];
    assert_eq!(verified.json()["format"], "v2");
    for name in [
        "jti",
        "sub",
        "tier",
        "exp",
        "org_name",
        "limits",
        "grace_days",
    ] {
        assert_eq!(claims[name], old_claims[name], "{name}");
    }
    assert_eq!(claims["features"]["sso_saml"], true);

    // A license that does not verify is never re-signed.
    let forged = format!("{}x", old.trim_end_matches('='));
    let run = cli_with(
        &[
            "issue",
            "--signing-key",
            &seed,
            "--from-license",
            &forged,
            "--key",
            ZERO_PUBLIC,
        ],
        None,
        &[ALLOW_TEST_KEYS],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--from-license"), "{}", run.stderr);
    let run = cli(&[
        "issue",
        "--signing-key",
        &seed,
        "--kid",
        "k2",
        "--from-license",
        &old,
        "--key",
        &public,
    ]);
    assert!(
        run.stderr
            .starts_with("error: invalid_signature: --from-license: "),
        "{}",
        run.stderr
    );
}

#[test]
fn a_pkcs8_pem_signing_key_signs_like_its_seed() {
    // PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410): a fixed 16-byte prefix, then the seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[0u8; 32]);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&der)
    );
    let dir = TempDir::new();
    let pem_file = dir.write("zero.pem", &pem);
    let token = issue(&pem_file, &["--kid", "zero", "--tier", "team"]);
    let key = format!("zero={ZERO_PUBLIC}");
    let run = cli_with(
        &["verify", "--key", &key, "--now", &at(T0), &token],
        None,
        &[ALLOW_TEST_KEYS],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_signed_revocation_list_revokes_the_licenses_it_lists() {
    use dev_health_entitlements::issue::{sign_revocation_list, SigningKey};
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "team", "--license-id", "lic_gone"]);
    let key = SigningKey::parse(&std::fs::read_to_string(&seed).unwrap()).unwrap();
    let sign = |ids: &[&str], key: &SigningKey| {
        sign_revocation_list(ids, "fullchaos.studio", T0, T0 + DAY, key, "k1").unwrap()
    };
    let listed = dir.write("revoked.jwt", &sign(&["lic_gone"], &key));
    let other = dir.write("other.jwt", &sign(&["lic_other"], &key));
    let zero = SigningKey::parse(ZERO_SEED).unwrap();
    let forged = dir.write("forged.jwt", &sign(&["lic_gone"], &zero));
    let k = format!("k1={public}");
    let now = at(T0 + 60);
    let run = cli(&[
        "verify",
        "--key",
        &k,
        "--now",
        &now,
        "--revocations",
        &listed,
        "--json",
        &token,
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["error"]["code"], "revoked");
    assert_eq!(
        cli(&[
            "verify",
            "--key",
            &k,
            "--now",
            &now,
            "--revocations",
            &other,
            &token
        ])
        .code,
        0
    );
    let run = cli(&[
        "verify",
        "--key",
        &k,
        "--now",
        &now,
        "--revocations",
        &forged,
        &token,
    ]);
    assert!(
        run.stderr
            .starts_with("error: invalid_signature: --revocations: "),
        "{}",
        run.stderr
    );
}

#[test]
fn an_org_scoped_license_applies_only_to_its_own_org() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let token = issue(&seed, &["--tier", "enterprise", "--license-type", "saas"]);
    let key = format!("k1={public}");
    let now = at(T0);
    let tier_for = |org: &str| {
        cli(&[
            "entitlements",
            "--license",
            &token,
            "--key",
            &key,
            "--now",
            &now,
            "--org-id",
            org,
            "--json",
        ])
        .json()["tier"]
            .clone()
    };
    assert_eq!(tier_for("org_acme"), "enterprise");
    assert_eq!(tier_for("org_other"), "community");
}

#[test]
fn help_and_version_exit_0() {
    let run = cli(&["--help"]);
    assert_eq!(run.code, 0);
    for sub in [
        "keygen",
        "issue",
        "verify",
        "inspect",
        "jwks",
        "entitlements",
    ] {
        assert!(run.stdout.contains(sub), "{sub}");
    }
    assert_eq!(cli(&["--version"]).code, 0);
}

// ---------------------------------------------------------------------------------------------
// Terminal safety: a signature says who wrote a value, not that it is harmless text

/// What a hostile license writes in its signed fields to draw a verdict of its own: erase the
/// line, return to its start, move up, ring the bell, start a line of its own, and C1 and bidi
/// controls for terminals that honour them.
const FORGED_VERDICT: &str =
    "\u{1b}[2K\r\u{1b}[1A\u{7}\nvalid:        yes (active)\r\u{9b}2K\u{202e}\u{2066}\u{85}";

/// The characters in `out` that act on a terminal, apart from its own line breaks: C0, DEL, C1,
/// the bidirectional controls and the line and paragraph separators.
fn raw_controls(out: &str) -> Vec<char> {
    out.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(
                    c,
                    '\u{61c}'
                        | '\u{200e}'
                        | '\u{200f}'
                        | '\u{202a}'..='\u{202e}'
                        | '\u{2066}'..='\u{2069}'
                        | '\u{2028}'
                        | '\u{2029}'
                )
        })
        .collect()
}

/// `out` holds no raw control character and no line that claims a verdict other than `verdict`.
fn assert_terminal_safe(what: &str, out: &str, verdict: Option<&str>) {
    assert_eq!(raw_controls(out), Vec::<char>::new(), "{what}: {out:?}");
    let verdicts: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("valid:"))
        .collect();
    assert_eq!(verdicts, Vec::from_iter(verdict), "{what}: {out}");
}

/// A license signed by `seed` whose `sub`, `org_name`, feature name, `jti`, `contact_email` and
/// `iss` all carry [`FORGED_VERDICT`]. Team tier, issued at T0 for 30 days (grace 14).
fn hostile_license(seed: &str) -> String {
    let run = cli(&[
        "issue",
        "--signing-key",
        seed,
        "--iat",
        &at(T0),
        "--days",
        "30",
        "--tier",
        "team",
        "--org",
        &format!("org_evil{FORGED_VERDICT}"),
        "--org-name",
        &format!("Evil Corp{FORGED_VERDICT}"),
        "--feature",
        // Inside the name: the CLI trims the ends of `--feature` names.
        &format!("sso{FORGED_VERDICT}_saml=true"),
        "--license-id",
        &format!("lic_evil{FORGED_VERDICT}"),
        "--contact-email",
        &format!("evil@example.com{FORGED_VERDICT}"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout.trim().to_owned()
}

#[test]
fn signed_fields_cannot_draw_a_verdict_on_the_terminal() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let key = format!("k1={public}");
    let token = hostile_license(&seed);
    let expired = at(T0 + 60 * DAY);

    // verify: the one verdict line is the real one, and the fields show as escapes.
    let run = cli(&["verify", "--key", &key, "--now", &expired, &token]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_terminal_safe("verify", &run.stdout, Some("valid:        no (expired)"));
    assert!(
        run.stdout
            .contains("org_evil\\u001b[2K\\r\\u001b[1A\\u0007\\nvalid:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\\u009b2K\\u202e\\u2066\\u0085"));
    let run = cli(&["verify", "--key", &key, "--now", &at(T0), &token]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_terminal_safe("verify", &run.stdout, Some("valid:        yes (active)"));

    // --json: escaped as well, and still the same strings once parsed.
    let run = cli(&["verify", "--key", &key, "--now", &at(T0), "--json", &token]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_terminal_safe("verify --json", &run.stdout, None);
    let claims = &run.json()["claims"];
    assert_eq!(claims["org_name"], format!("Evil Corp{FORGED_VERDICT}"));
    assert_eq!(
        claims["features"][format!("sso{FORGED_VERDICT}_saml")],
        true
    );

    // inspect, text and JSON.
    for args in [vec!["inspect", &token], vec!["inspect", "--json", &token]] {
        let run = cli(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_terminal_safe("inspect", &run.stdout, None);
    }
    let run = cli(&["inspect", "--json", &token]);
    assert_eq!(
        run.json()["claims"]["jti"],
        format!("lic_evil{FORGED_VERDICT}")
    );

    // entitlements, with a catalog and overrides naming a feature the same way.
    let mut catalog: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/catalogs/default.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let evil_feature = format!("evil{FORGED_VERDICT}");
    let mut feature = catalog["features"][0].clone();
    feature["key"] = evil_feature.clone().into();
    feature["name"] = format!("Evil{FORGED_VERDICT}").into();
    feature["description"] = FORGED_VERDICT.into();
    catalog["features"].as_array_mut().unwrap().push(feature);
    let catalog_file = dir.write("evil-catalog.json", &catalog.to_string());
    let overrides = serde_json::json!([{"feature": evil_feature, "enabled": false}]);
    let overrides_file = dir.write("evil-overrides.json", &overrides.to_string());
    let org = format!("org_evil{FORGED_VERDICT}");
    let base = [
        "entitlements",
        "--license",
        &token,
        "--key",
        &key,
        "--now",
        &at(T0),
        "--catalog",
        &catalog_file,
        "--overrides",
        &overrides_file,
        "--org-id",
        &org,
    ];
    let run = cli(&base);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_terminal_safe("entitlements", &run.stdout, None);
    let text: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(text["features"][&evil_feature], false, "{}", run.stdout);
    let run = cli(&[&base[..], &["--json"]].concat());
    assert_terminal_safe("entitlements --json", &run.stdout, None);
    assert_eq!(run.json(), text);
}

#[test]
fn error_messages_quoting_hostile_text_are_escaped() {
    let dir = TempDir::new();
    let (seed, public) = keygen(&dir, "k1");
    let key = format!("k1={public}");
    let run = cli(&[
        "issue",
        "--signing-key",
        &seed,
        "--org",
        "org_acme",
        "--tier",
        "team",
        "--iat",
        &at(T0),
        "--issuer",
        &format!("fullchaos.studio{FORGED_VERDICT}"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let foreign_issuer = run.stdout.trim().to_owned();
    let missing = format!("{}/keys{FORGED_VERDICT}.json", dir.0.display());
    let runs = [
        cli(&["verify", "--key", &key, "--now", &at(T0), &foreign_issuer]),
        cli(&["verify", "--keys", &missing, &foreign_issuer]),
        cli(&["entitlements", "--overrides", &missing]),
        cli(&["entitlements", "--catalog", &missing]),
    ];
    for run in runs {
        // 2 for the catalog: a name that is no file is a usage error.
        assert!(matches!(run.code, 1 | 2), "{}", run.stderr);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_terminal_safe("stderr", &run.stderr, None);
    }
    let run = cli(&["verify", "--key", &key, "--now", &at(T0), &foreign_issuer]);
    assert!(run.stderr.contains("issuer_mismatch"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// The documented test keys (SPEC §7.4), from flags as from the environment

#[test]
fn the_all_zero_test_key_given_with_key_or_keys_is_refused_unless_allowed() {
    let dir = TempDir::new();
    let (seed, _) = keygen(&dir, "k2");
    let token = issue(ZERO_SEED, &["--kid", "zero", "--tier", "team"]);
    let key = format!("zero={ZERO_PUBLIC}");
    let jwks = cli(&["jwks", "--public-key", &key]);
    assert_eq!(jwks.code, 0, "{}", jwks.stderr);
    let jwks_file = dir.write("zero.jwks.json", &jwks.stdout);
    let token_file = dir.write("zero.lic", &token);
    let now = at(T0);
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["verify", "--key", &key, "--now", &now, &token],
            "--key",
        ),
        (
            vec!["verify", "--keys", &jwks_file, "--now", &now, &token],
            "--keys",
        ),
        (
            vec![
                "entitlements",
                "--license",
                &token,
                "--key",
                &key,
                "--now",
                &now,
            ],
            "--key",
        ),
        (
            vec![
                "entitlements",
                "--license",
                &token_file,
                "--keys",
                &jwks_file,
                "--now",
                &now,
            ],
            "--keys",
        ),
        (
            vec![
                "issue",
                "--signing-key",
                &seed,
                "--from-license",
                &token,
                "--key",
                &key,
            ],
            "--key",
        ),
    ];
    for (args, flag) in commands {
        let refused = cli(&args);
        assert_eq!(refused.code, 1, "{args:?}: {}", refused.stderr);
        assert!(refused.stdout.is_empty(), "{args:?}: {}", refused.stdout);
        let message =
            format!("error: invalid_key: {flag}: the key \"zero\" is the all-zero-seed test key");
        assert!(
            refused.stderr.starts_with(&message),
            "{args:?}: {}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains("set DEV_HEALTH_ALLOW_TEST_KEYS=1"),
            "{}",
            refused.stderr
        );
        // Only `1` opts in.
        let still_refused = cli_with(&args, None, &[("DEV_HEALTH_ALLOW_TEST_KEYS", "true")]);
        assert_eq!(still_refused.code, 1, "{args:?}");
        let allowed = cli_with(&args, None, &[ALLOW_TEST_KEYS]);
        assert_eq!(allowed.code, 0, "{args:?}: {}", allowed.stderr);
    }

    // A bare key is kid `default`; next to a real key it still spoils the keyring, and --json
    // says so in its error document.
    let run = cli(&[
        "verify",
        "--key",
        &format!("k1={UNRELATED_PUBLIC}"),
        "--key",
        ZERO_PUBLIC,
        "--json",
        &token,
    ]);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["code"], "invalid_key");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("--key: the key \"default\" is the all-zero-seed test key"),
        "{message}"
    );
}
