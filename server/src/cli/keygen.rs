//! `keygen`: a fresh Ed25519 signing key.
//!
//! With `--out DIR` the seed goes to `DIR/<kid>.seed` (mode 0600, never overwritten) and the public
//! JWK to `DIR/<kid>.jwk.json`; stdout gets only public material. Without `--out` there is nowhere
//! else to put the seed, so it is printed on stdout under a SECRET label (and, with `--json`, as
//! the `seed` member), with a warning on stderr.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dev_health_entitlements::issue::SigningKey;
use serde_json::{json, Value};

use super::terminal::escape;
use super::{
    error_json, finish, line, set_member, show_time, unix_now, CliError, OutputArgs, Report,
};

/// Arguments of `keygen`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Key id for the JWK and for `issue --kid` (default: `dh-<YYYYMMDD>-<8 hex of the public key>`).
    #[arg(long)]
    pub kid: Option<String>,
    /// Directory to write `<kid>.seed` (mode 0600) and `<kid>.jwk.json` into; created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `keygen`.
pub fn run(args: Args) -> ExitCode {
    finish(args.output, keygen(&args), error_json)
}

fn keygen(args: &Args) -> Result<Report, CliError> {
    let key = SigningKey::generate();
    let public = key.public_key();
    let kid = match &args.kid {
        Some(kid) => valid_kid(kid)?.to_owned(),
        None => default_kid(&public.to_bytes()),
    };
    let jwk = public.to_jwk(&kid);
    let mut json = json!({
        "kid": kid,
        "public_jwk": jwk,
        "public_key": public.to_base64(),
        "seed_file": Value::Null,
    });
    let pretty_jwk = serde_json::to_string_pretty(&jwk).unwrap_or_default();
    let Some(dir) = &args.out else {
        eprintln!(
            "warning: no --out given: the private seed is printed on stdout; store it safely"
        );
        let seed = key.seed_base64();
        set_member(&mut json, "seed", Value::String(seed.to_string()));
        let mut text = String::new();
        text.push_str("# SECRET signing key: store it like a password, never commit it.\n");
        text.push_str(&format!("LICENSE_SIGNING_KEY={}\n", seed.as_str()));
        text.push_str(&format!("LICENSE_KEY_ID={kid}\n"));
        text.push_str("# Public key (safe to publish): base64 and JWK.\n");
        text.push_str(&format!("LICENSE_PUBLIC_KEY={}\n", public.to_base64()));
        for l in pretty_jwk.lines() {
            text.push_str(&format!("# {l}\n"));
        }
        return Ok(Report::ok(json, text));
    };
    let seed_path = dir.join(format!("{kid}.seed"));
    let jwk_path = dir.join(format!("{kid}.jwk.json"));
    for path in [&seed_path, &jwk_path] {
        if path.exists() {
            return Err(CliError::io(format!(
                "{} already exists; refusing to overwrite a key (choose another --kid)",
                path.display()
            )));
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::io(format!("cannot create {}: {e}", dir.display())))?;
    write_new(
        &seed_path,
        format!("{}\n", key.seed_base64().as_str()).as_bytes(),
        true,
    )?;
    write_new(&jwk_path, format!("{pretty_jwk}\n").as_bytes(), false)?;
    set_member(
        &mut json,
        "seed_file",
        Value::String(seed_path.display().to_string()),
    );
    eprintln!(
        "wrote {} (secret, mode 0600) and {}",
        escape(&seed_path.display().to_string()),
        escape(&jwk_path.display().to_string())
    );
    let mut text = String::new();
    line(&mut text, "kid", &kid);
    line(&mut text, "public key", public.to_base64());
    line(&mut text, "seed file", seed_path.display());
    line(&mut text, "public JWK", jwk_path.display());
    text.push_str(&pretty_jwk);
    text.push('\n');
    Ok(Report::ok(json, text))
}

/// A kid becomes a file name: keep it to a safe alphabet.
fn valid_kid(kid: &str) -> Result<&str, CliError> {
    let ok = !kid.is_empty()
        && kid.len() <= 64
        && !kid.starts_with('.')
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(kid)
    } else {
        Err(CliError::usage(
            "--kid: use 1 to 64 of A-Z a-z 0-9 - _ . (not starting with a dot)",
        ))
    }
}

fn default_kid(public: &[u8; 32]) -> String {
    let date: String = show_time(unix_now())
        .chars()
        .take(10)
        .filter(char::is_ascii_digit)
        .collect();
    let hex: String = public.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("dh-{date}-{hex}")
}

/// Creates a file that must not exist yet; `secret` files get mode 0600 from the start.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), CliError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .map_err(|e| CliError::io(format!("cannot write {}: {e}", path.display())))
}
