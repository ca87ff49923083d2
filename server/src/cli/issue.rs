//! `issue`: signs a license (v2 EdDSA JWT by default, or the v1 legacy format for migration tests).
//!
//! `--from-license OLD` re-signs a license that verifies under the trusted keys (`--keys`/`--key`,
//! or the environment's `LICENSE_PUBLIC_KEY`): its claims are kept (license id, org, tier, expiry,
//! features, limits, grace days, names) and any other flag given replaces or adds to them. This is
//! how a v1 license becomes a v2 one.

use std::process::ExitCode;

use dev_health_entitlements::issue::{self_hosted_license, sign_v1, sign_v2, ClaimsBuilder};
use dev_health_entitlements::UnverifiedToken;
use dev_health_entitlements::{
    LicenseClaims, LicenseType, LimitValue, Tier, Verifier, DEFAULT_ISSUER,
};
use serde_json::json;

use super::inputs::{signing_key, KeyArgs, KEY_ID_ENV};
use super::verify::token_or_env;
use super::{
    at_most_one_stdin, error_json, finish, parse_tier, parse_timestamp, unix_now, CliError,
    OutputArgs, Report,
};

const DAY: i64 = 86_400;
const DEFAULT_DAYS: u32 = 365;

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
    #[arg(long, required_unless_present = "from_license")]
    pub org: Option<String>,
    /// community, team or enterprise.
    #[arg(long, value_parser = parse_tier, required_unless_present = "from_license")]
    pub tier: Option<Tier>,
    /// Days from `iat` to `exp` [default: 365, or the old expiry with --from-license].
    #[arg(long, conflicts_with = "exp",
          value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub days: Option<u32>,
    /// Expiry: Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (instead of --days).
    #[arg(long, value_parser = parse_timestamp, value_name = "TS")]
    pub exp: Option<i64>,
    /// Issued at: Unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: now).
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
    /// Issuer (`iss`) [default: fullchaos.studio, or the old license's].
    #[arg(long)]
    pub issuer: Option<String>,
    /// License id (`jti`; v1 `license_id`). Default: a fresh random id (with --from-license, the
    /// old license's).
    #[arg(long)]
    pub license_id: Option<String>,
    /// Re-sign this license (token, file or `-`): it must verify under --keys/--key (or the
    /// environment's keys); its claims are the starting point.
    #[arg(long, value_name = "TOKEN|-")]
    pub from_license: Option<String>,
    #[command(flatten)]
    pub keys: KeyArgs,
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
    at_most_one_stdin(&[
        ("--signing-key", args.signing_key.as_deref()),
        ("--from-license", args.from_license.as_deref()),
        ("--keys", args.keys.keys.as_deref()),
    ])?;
    let (key, kid_from_file) = signing_key(args.signing_key.as_deref())?;
    let kid = args
        .kid
        .clone()
        .or_else(|| std::env::var(KEY_ID_ENV).ok().filter(|k| !k.is_empty()))
        .or(kid_from_file);
    let claims = claims(args)?;
    // v1 has no place for these: dropping them silently would widen the license (a saas license
    // would become self_hosted and cover every org).
    if args.format == Format::V1
        && (!claims.aud.is_empty() || claims.license_type != LicenseType::SelfHosted)
    {
        return Err(CliError::usage(
            "v1 tokens carry no aud and no license_type: use --format v2 for this license",
        ));
    }
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

/// The claims to sign: the flags, on top of the old license's claims with --from-license.
fn claims(args: &Args) -> Result<LicenseClaims, CliError> {
    let now = unix_now();
    let base = match &args.from_license {
        Some(source) => {
            let token = token_or_env(Some(source))?;
            // Trust comes from the signature; the old issuer is whatever the old license says
            // (dev-health-ops deployments may have used another), kept unless --issuer is given.
            let old_issuer = UnverifiedToken::decode(&token)
                .ok()
                .and_then(|t| {
                    t.claims
                        .get("iss")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
            let old = Verifier::new(args.keys.keyring()?)
                .with_issuer(old_issuer)
                .verify(&token, now)
                .map_err(|e| CliError::from(e).context("--from-license"))?;
            Some(old.claims)
        }
        None => None,
    };
    let iat = args.iat.unwrap_or(now);
    let exp = match (args.exp, args.days, &base) {
        (Some(exp), _, _) => exp,
        (None, None, Some(old)) => old.exp,
        (None, days, _) => iat
            .checked_add(i64::from(days.unwrap_or(DEFAULT_DAYS)) * DAY)
            .ok_or_else(|| CliError::usage("--iat plus --days overflows"))?,
    };
    let missing = |flag: &str| CliError::usage(format!("{flag} is required"));
    let mut claims = match base {
        Some(old) => ClaimsBuilder::from_claims(old).validity(iat, exp),
        None => self_hosted_license(
            args.org.clone().ok_or_else(|| missing("--org"))?,
            args.tier.ok_or_else(|| missing("--tier"))?,
            iat,
            exp,
        ),
    };
    if let Some(issuer) = &args.issuer {
        claims = claims.issuer(issuer.clone());
    }
    if let Some(org) = &args.org {
        claims = claims.org_id(org.clone());
    }
    if let Some(id) = &args.license_id {
        claims = claims.license_id(id.clone());
    }
    if let Some(tier) = args.tier {
        claims = claims.tier(tier);
    }
    if let Some(license_type) = args.license_type {
        claims = claims.license_type(license_type);
    }
    if let Some(days) = args.grace_days {
        claims = claims.grace_days(Some(days));
    }
    if let Some(name) = &args.org_name {
        claims = claims.org_name(Some(name.clone()));
    }
    if let Some(email) = &args.contact_email {
        claims = claims.contact_email(Some(email.clone()));
    }
    for deployment_id in &args.aud {
        claims = claims.audience(deployment_id.clone());
    }
    for (key, enabled) in &args.features {
        claims = claims.feature(key.clone(), *enabled);
    }
    for (name, value) in &args.limits {
        claims = claims.limit(name, *value);
    }
    Ok(claims.build()?)
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
