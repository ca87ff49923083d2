//! `jwks`: a JWKS document of public keys, to publish or to give `verify --keys`.
//!
//! Keys come from signing keys (only their public half is written), public keys, JWK or JWKS
//! files; `--retire KID=TS` sets a key's `not_after` so it stops verifying tokens issued later, and
//! `--remove KID` leaves a key out.

use std::process::ExitCode;

use dev_health_entitlements::{ErrorCode, KeyEntry, Keyring, PublicKey};

use super::inputs::{parse_keys, signing_key};
use super::{
    error_json, finish, is_file, parse_timestamp, read_source, CliError, OutputArgs, Report,
};

/// Arguments of `jwks`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A signing key (`[KID=]FILE|B64`); only its public key is written. A file named `<kid>.seed`
    /// gives its kid. Repeatable.
    #[arg(long, value_name = "[KID=]FILE|B64")]
    pub signing_key: Vec<String>,
    /// A public key (`[KID=]B64`, or a JWK file). Repeatable.
    #[arg(long, value_name = "[KID=]B64|JWK_FILE")]
    pub public_key: Vec<String>,
    /// Kids for the keys given without one, in order: first the signing keys, then the public keys.
    #[arg(long)]
    pub kid: Vec<String>,
    /// A JWKS (or JWK) file whose keys are kept; `-` for stdin.
    #[arg(long, value_name = "JWKS_FILE")]
    pub keys: Option<String>,
    /// Retire a key: tokens issued after TS (Unix seconds or RFC 3339) no longer verify with it.
    #[arg(long, value_name = "KID=TS", value_parser = parse_retire)]
    pub retire: Vec<(String, i64)>,
    /// Leave this key out of the document (once every license it signed has expired). Repeatable.
    #[arg(long, value_name = "KID")]
    pub remove: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `jwks`. The document itself is the output, with or without `--json`.
pub fn run(args: Args) -> ExitCode {
    finish(args.output, jwks(&args), error_json)
}

fn jwks(args: &Args) -> Result<Report, CliError> {
    let mut ring = Keyring::new();
    if let Some(source) = &args.keys {
        let text = read_source(source, "--keys", ErrorCode::InvalidKey)?;
        ring.extend(parse_keys(&text).map_err(|e| e.context("--keys"))?);
    }
    let mut kids = args.kid.iter();
    let mut next_kid = |explicit: Option<String>, what: &str| {
        explicit.or_else(|| kids.next().cloned()).ok_or_else(|| {
            CliError::usage(format!(
                "{what} has no kid: write it as KID=..., name the file <kid>.seed, or add --kid"
            ))
        })
    };
    for value in &args.signing_key {
        let (kid, source) = split_kid(value);
        let (key, kid_from_file) = signing_key(Some(source))?;
        let kid = next_kid(kid.or(kid_from_file), "--signing-key")?;
        ring.add(kid, key.public_key());
    }
    for value in &args.public_key {
        if is_file(value) {
            let text = read_source(value, "--public-key", ErrorCode::InvalidKey)?;
            ring.extend(parse_keys(&text).map_err(|e| e.context("--public-key"))?);
            continue;
        }
        let (kid, b64) = split_kid(value);
        let key =
            PublicKey::from_base64(b64).map_err(|e| CliError::from(e).context("--public-key"))?;
        ring.add(next_kid(kid, "--public-key")?, key);
    }
    if kids.next().is_some() {
        return Err(CliError::usage("more --kid values than keys without a kid"));
    }
    for (kid, at) in &args.retire {
        if ring.get(kid).is_none() {
            return Err(CliError::usage(format!(
                "--retire: no key has the kid {kid:?}"
            )));
        }
        // Rebuilt in order, so the document keeps its key order.
        let mut retired = Keyring::new();
        for entry in ring.entries() {
            retired.insert(KeyEntry {
                not_after: if &entry.kid == kid {
                    Some(*at)
                } else {
                    entry.not_after
                },
                ..entry.clone()
            });
        }
        ring = retired;
    }
    for kid in &args.remove {
        if ring.get(kid).is_none() {
            return Err(CliError::usage(format!(
                "--remove: no key has the kid {kid:?}"
            )));
        }
        let mut kept = Keyring::new();
        for entry in ring.entries().iter().filter(|e| &e.kid != kid) {
            kept.insert(entry.clone());
        }
        ring = kept;
    }
    if ring.is_empty() {
        return Err(CliError::usage(
            "no keys: pass --signing-key, --public-key or --keys",
        ));
    }
    let doc = ring.to_jwks();
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    );
    Ok(Report::ok(doc, text))
}

/// `kid=value` → (Some(kid), value); a bare value (base64 may end in `=`) → (None, value).
fn split_kid(value: &str) -> (Option<String>, &str) {
    if is_file(value) {
        return (None, value);
    }
    match value.split_once('=') {
        Some((kid, rest)) if !kid.is_empty() && !rest.is_empty() => (Some(kid.to_owned()), rest),
        _ => (None, value),
    }
}

fn parse_retire(text: &str) -> Result<(String, i64), String> {
    let (kid, at) = text
        .split_once('=')
        .ok_or_else(|| "expected KID=TS".to_owned())?;
    if kid.is_empty() {
        return Err("expected KID=TS".to_owned());
    }
    Ok((kid.to_owned(), parse_timestamp(at)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::inputs::kid_from_seed_path;

    #[test]
    fn a_padded_base64_key_is_not_mistaken_for_kid_equals_value() {
        let key = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";
        assert_eq!(split_kid(key), (None, key));
        assert_eq!(split_kid(&format!("k1={key}")), (Some("k1".into()), key));
    }

    #[test]
    fn a_seed_file_name_gives_its_kid() {
        assert_eq!(
            kid_from_seed_path("keys/acme-1.seed").as_deref(),
            Some("acme-1")
        );
        assert_eq!(kid_from_seed_path("keys/acme-1.pem"), None);
    }
}
