//! `issue`: signs a license (v2 EdDSA JWT by default, or the v1 legacy format for migration tests).

use std::collections::BTreeMap;
use std::process::ExitCode;

use dev_health_entitlements::claims::catalog_limit_name;
use dev_health_entitlements::issue::{new_license_id, sign_v1, sign_v2};
use dev_health_entitlements::{LicenseClaims, LicenseType, LimitValue, Tier, DEFAULT_ISSUER};
use serde_json::{json, Map};

use super::inputs::{signing_key, KEY_ID_ENV};
use super::{
    error_json, finish, parse_tier, parse_timestamp, unix_now, CliError, OutputArgs, Report,
};

const DAY: i64 = 86_400;

/// Token format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// EdDSA JWT (the standard).
    V2,
    /// dev-health-ops legacy `base64(payload).base64(signature)`.
    V1,
}

/// Arguments of `issue`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The signing key: a file with a base64 seed or PKCS#8 PEM, `-` for stdin, or a base64 seed.
    /// Default: LICENSE_SIGNING_KEY (or LICENSE_PRIVATE_KEY), a path or a base64 seed.
    #[arg(long, value_name = "FILE|B64")]
    pub signing_key: Option<String>,
    /// Key id written in the header (v2). Default: LICENSE_KEY_ID, or `<kid>` of a `<kid>.seed` file.
    #[arg(long)]
    pub kid: Option<String>,
    /// The org id the license is for (`sub`).
    #[arg(long)]
    pub org: String,
    /// community, team or enterprise.
    #[arg(long, value_parser = parse_tier)]
    pub tier: Tier,
    /// Days from `iat` to `exp`.
    #[arg(long, default_value_t = 365, conflicts_with = "exp",
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub days: u32,
    /// Expiry: Unix seconds or RFC 3339 (instead of --days).
    #[arg(long, value_parser = parse_timestamp, value_name = "TS")]
    pub exp: Option<i64>,
    /// Issued at: Unix seconds or RFC 3339 (default: now).
    #[arg(long, value_parser = parse_timestamp, value_name = "TS")]
    pub iat: Option<i64>,
    /// Grace days after expiry (default: the catalog's for the tier).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub grace_days: Option<u32>,
    /// An explicit grant or removal on top of the tier. Repeatable.
    #[arg(long = "feature", value_name = "KEY=true|false", value_parser = parse_feature)]
    pub features: Vec<(String, bool)>,
    /// A limit (`users`, `repos`, `api_rate`, `backfill_days` or a catalog name); `-1` or
    /// `unlimited` for no limit. Repeatable.
    #[arg(long = "limit", value_name = "NAME=N", value_parser = parse_limit)]
    pub limits: Vec<(String, LimitValue)>,
    /// Display name of the org.
    #[arg(long)]
    pub org_name: Option<String>,
    /// Contact email.
    #[arg(long)]
    pub contact_email: Option<String>,
    /// saas, self_hosted, trial or evaluation (v2 only; default self_hosted).
    #[arg(long, value_parser = parse_license_type)]
    pub license_type: Option<LicenseType>,
    /// A deployment id the license is for (`aud`, v2 only). Repeatable.
    #[arg(long = "aud")]
    pub aud: Vec<String>,
    /// Issuer (`iss`).
    #[arg(long, default_value = DEFAULT_ISSUER)]
    pub issuer: String,
    /// License id (`jti`; v1 `license_id`). Default: a fresh random id. Re-use the old id when
    /// re-signing a v1 license as v2.
    #[arg(long)]
    pub license_id: Option<String>,
    /// Token format.
    #[arg(long, value_enum, default_value_t = Format::V2)]
    pub format: Format,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `issue`.
pub fn run(args: Args) -> ExitCode {
    finish(args.output, issue(&args), error_json)
}

fn issue(args: &Args) -> Result<Report, CliError> {
    if args.format == Format::V1 && (!args.aud.is_empty() || args.license_type.is_some()) {
        return Err(CliError::usage(
            "v1 tokens carry no aud and no license_type; drop --aud/--license-type or use --format v2",
        ));
    }
    let (key, kid_from_file) = signing_key(args.signing_key.as_deref())?;
    let kid = args
        .kid
        .clone()
        .or_else(|| std::env::var(KEY_ID_ENV).ok().filter(|k| !k.is_empty()))
        .or(kid_from_file);
    let iat = args.iat.unwrap_or_else(unix_now);
    let exp = match args.exp {
        Some(exp) => exp,
        None => iat
            .checked_add(i64::from(args.days) * DAY)
            .ok_or_else(|| CliError::usage("--iat plus --days overflows"))?,
    };
    let claims = LicenseClaims {
        iss: args.issuer.clone(),
        sub: args.org.clone(),
        aud: args.aud.clone(),
        iat,
        nbf: None,
        exp,
        license_id: args.license_id.clone().unwrap_or_else(new_license_id),
        tier: args.tier,
        features: args.features.iter().cloned().collect::<BTreeMap<_, _>>(),
        limits: args
            .limits
            .iter()
            .map(|(name, value)| (catalog_limit_name(name).to_owned(), *value))
            .collect(),
        grace_days: args.grace_days,
        org_name: args.org_name.clone(),
        contact_email: args.contact_email.clone(),
        license_type: args.license_type.unwrap_or_default(),
        extra: Map::new(),
    };
    let token = match args.format {
        Format::V2 => {
            let kid = kid.as_deref().ok_or_else(|| {
                CliError::usage("a v2 license needs a key id: pass --kid or set LICENSE_KEY_ID")
            })?;
            sign_v2(&claims, &key, kid)?
        }
        Format::V1 => sign_v1(&claims, &key)?,
    };
    let json = json!({
        "token": token,
        "format": match args.format { Format::V2 => "v2", Format::V1 => "v1" },
        "kid": if args.format == Format::V2 { kid } else { None },
        "license_id": claims.license_id,
        "sub": claims.sub,
        "tier": claims.tier.as_str(),
        "iat": claims.iat,
        "exp": claims.exp,
    });
    Ok(Report::ok(json, format!("{token}\n")))
}

fn parse_license_type(text: &str) -> Result<LicenseType, String> {
    LicenseType::parse(text)
        .ok_or_else(|| "expected saas, self_hosted, trial or evaluation".to_owned())
}

fn parse_feature(text: &str) -> Result<(String, bool), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| "expected KEY=true or KEY=false".to_owned())?;
    let value = match value {
        "true" => true,
        "false" => false,
        _ => return Err("expected KEY=true or KEY=false".to_owned()),
    };
    non_empty(key).map(|k| (k, value))
}

fn parse_limit(text: &str) -> Result<(String, LimitValue), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| "expected NAME=N (N a number ≥ 0, -1 or unlimited)".to_owned())?;
    let value = match value {
        "-1" | "unlimited" | "null" => None,
        n => match n.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
            _ => return Err("expected NAME=N (N a number ≥ 0, -1 or unlimited)".to_owned()),
        },
    };
    non_empty(name).map(|n| (n, value))
}

fn non_empty(name: &str) -> Result<String, String> {
    if name.trim().is_empty() {
        Err("the name before `=` is empty".to_owned())
    } else {
        Ok(name.trim().to_owned())
    }
}
