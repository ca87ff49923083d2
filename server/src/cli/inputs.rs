//! Reading the inputs several subcommands share: signing keys, trusted public keys, catalogs,
//! revocation lists. Values are files, `-` (stdin) or inline text; the parsing itself is the
//! engine's.

use std::path::Path;
use std::sync::Arc;

use dev_health_entitlements::issue::SigningKey;
use dev_health_entitlements::keys::test_keys_allowed;
use dev_health_entitlements::verify::MAX_REVOCATION_LIST_BYTES;
use dev_health_entitlements::{Catalog, ErrorCode, Keyring, RevocationList, Verifier};

use super::{is_file, read_source, read_source_up_to, CliError};

/// The most a `--revocations` input may hold: the server's JSON answer around a signed list as
/// large as the core accepts ([`MAX_REVOCATION_LIST_BYTES`], SPEC §7.5) carries the list's ids a
/// second time in plain text (3/4 of the list's size at most), so twice the core's limit. The
/// signed list itself is then held to the core's limit by the core.
pub const MAX_REVOCATIONS_INPUT_BYTES: u64 = 2 * MAX_REVOCATION_LIST_BYTES as u64;

/// Environment variables that may hold the signing key (path or base64 seed), first match wins.
pub const SIGNING_KEY_ENV: [&str; 2] = ["LICENSE_SIGNING_KEY", "LICENSE_PRIVATE_KEY"];
/// Environment variable holding the key id that goes with the signing key.
pub const KEY_ID_ENV: &str = "LICENSE_KEY_ID";

/// Trusted public keys, from flags or else from the environment (SPEC §1.3).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KeyArgs {
    /// Trusted keys: a JWKS file, a single JWK file, or a `kid=base64,...` list file (`-`: stdin).
    #[arg(long, value_name = "JWKS_FILE")]
    pub keys: Option<String>,
    /// A trusted key: `KID=BASE64`, a bare `BASE64` (kid `default`), or a JWK file. Repeatable.
    /// Without --keys or --key, the keys come from DEV_HEALTH_LICENSE_PUBLIC_KEYS or
    /// LICENSE_PUBLIC_KEY (and any keys compiled in).
    #[arg(long = "key", value_name = "KID=B64|B64|JWK_FILE")]
    pub key: Vec<String>,
}

impl KeyArgs {
    /// The keyring: exactly the keys the flags name, or the environment's when there are none.
    /// Either way a documented test key (the all-zero seed's, RFC 8032's) is refused unless
    /// `DEV_HEALTH_ALLOW_TEST_KEYS=1`, as the environment's keys are (SPEC §7.4): a command line
    /// copied from a tutorial must not make `verify` trust licenses anyone can sign.
    pub fn keyring(&self) -> Result<Keyring, CliError> {
        if self.keys.is_none() && self.key.is_empty() {
            return Ok(Verifier::from_env()?.keyring().clone());
        }
        let allow_test_keys = test_keys_allowed(|name| std::env::var(name).ok());
        let trusted = |parsed: Result<Keyring, CliError>, flag: &str| {
            let mut ring = parsed.map_err(|e| e.context(flag))?;
            ring.refuse_test_keys(allow_test_keys)
                .map_err(|e| CliError::from(e).context(flag))?;
            Ok::<Keyring, CliError>(ring)
        };
        let mut ring = Keyring::new();
        if let Some(source) = &self.keys {
            let text = read_source(source, "--keys", ErrorCode::InvalidKey)?;
            ring.extend(trusted(parse_keys(&text), "--keys")?);
        }
        for value in &self.key {
            let parsed = if is_file(value) {
                let text = read_source(value, "--key", ErrorCode::InvalidKey)?;
                parse_keys(&text)
            } else {
                parse_keys(value)
            };
            ring.extend(trusted(parsed, "--key")?);
        }
        Ok(ring)
    }
}

/// A JWKS document, a single JWK, or a `kid=base64,...` list.
pub fn parse_keys(text: &str) -> Result<Keyring, CliError> {
    let text = text.trim();
    let is_single_jwk = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|v| v.is_object() && v.get("keys").is_none());
    if is_single_jwk {
        return Ok(Keyring::from_jwks(&format!("{{\"keys\":[{text}]}}"))?);
    }
    Ok(Keyring::parse(text)?)
}

/// The signing key named by `--signing-key` (a seed or PEM file, `-`, or an inline base64 seed),
/// else by `LICENSE_SIGNING_KEY` / `LICENSE_PRIVATE_KEY`. Also returns the kid a file named
/// `<kid>.seed` implies.
pub fn signing_key(value: Option<&str>) -> Result<(SigningKey, Option<String>), CliError> {
    let (value, origin) = match value {
        Some(v) => (v.to_owned(), "--signing-key"),
        None => SIGNING_KEY_ENV
            .iter()
            .find_map(|name| {
                std::env::var(name)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (v, *name))
            })
            .ok_or_else(|| {
                CliError::usage("no signing key: pass --signing-key or set LICENSE_SIGNING_KEY")
            })?,
    };
    let value = value.trim();
    if value == "-" || is_file(value) {
        let text = read_source(value, origin, ErrorCode::InvalidKey)?;
        let key = SigningKey::parse(&text).map_err(|e| CliError::from(e).context(origin))?;
        return Ok((key, kid_from_seed_path(value)));
    }
    let key = SigningKey::parse(value).map_err(|e| {
        // Never echo the value: it may be a (slightly wrong) secret.
        CliError::from(e).context(&format!(
            "{origin} is not a readable file, so it was read as a key"
        ))
    })?;
    Ok((key, None))
}

/// `keys/acme-2026.seed` → `acme-2026`.
pub fn kid_from_seed_path(path: &str) -> Option<String> {
    let path = Path::new(path);
    if path.extension()? != "seed" {
        return None;
    }
    path.file_stem()?.to_str().map(str::to_owned)
}

/// `default`, `dev-health-ops`, or a catalog JSON file.
pub fn catalog(value: &str) -> Result<Arc<Catalog>, CliError> {
    match value {
        "default" | "dev-health-ops" => Ok(Catalog::builtin(value)?),
        path if is_file(path) => {
            let text = read_source(path, "--catalog", ErrorCode::InvalidCatalog)?;
            Ok(Arc::new(
                Catalog::from_json(&text).map_err(|e| CliError::from(e).context("--catalog"))?,
            ))
        }
        other => Err(CliError::usage(format!(
            "--catalog: {other:?} is neither default, dev-health-ops nor a readable file"
        ))),
    }
}

/// A signed revocation list from `source` (a file or `-`), verified with `keyring` at `now`:
/// the list itself (an EdDSA JWT), or the server's `GET /api/v1/licensing/revocations` answer
/// (JSON), whose `revocation_list` is taken. An input over [`MAX_REVOCATIONS_INPUT_BYTES`], or a
/// list over the core's limit, is `token_too_large`; one that is not text, `malformed_token`.
pub fn revocation_list(
    source: &str,
    keyring: &Keyring,
    issuer: &str,
    now: i64,
) -> Result<RevocationList, CliError> {
    let what = "--revocations";
    let text = read_source_up_to(
        source,
        what,
        MAX_REVOCATIONS_INPUT_BYTES,
        ErrorCode::TokenTooLarge,
        ErrorCode::MalformedToken,
    )?;
    let text = text.trim();
    let answer: serde_json::Value;
    let token = if text.starts_with('{') {
        answer = serde_json::from_str(text).map_err(|_| {
            CliError::code(
                ErrorCode::MalformedToken,
                format!("{what}: neither a signed list nor the server's JSON answer"),
            )
        })?;
        answer
            .get("revocation_list")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                CliError::code(
                    ErrorCode::MalformedToken,
                    format!(
                        "{what}: a JSON input must be the server's answer, with the signed list \
                         in `revocation_list`"
                    ),
                )
            })?
    } else {
        text
    };
    RevocationList::verify(token, keyring, issuer, now).map_err(|e| CliError::from(e).context(what))
}
