//! `verify`: checks a license's signature and claims at a moment and reports its status.
//! Exit 0 when the license is valid (`active` or `grace`), 1 otherwise.

use std::process::ExitCode;

use dev_health_entitlements::{
    license_token_from_env, License, LicenseStatus, Verifier, DEFAULT_ISSUER,
};
use serde_json::{json, Value};

use super::inputs::{catalog, revocation_list, KeyArgs};
use super::{
    at_most_one_stdin, finish, line, parse_timestamp, read_token, set_member, show_time, unix_now,
    CliError, OutputArgs, Report,
};

/// Options of a verifier, shared with `entitlements`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifierArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The moment to verify at: Unix seconds or RFC 3339 (default: now).
    #[arg(long, value_parser = parse_timestamp, value_name = "TS")]
    pub now: Option<i64>,
    /// Expected issuer (`iss`).
    #[arg(long, default_value = DEFAULT_ISSUER)]
    pub issuer: String,
    /// This deployment's id: the license's `aud` must list it.
    #[arg(long)]
    pub deployment_id: Option<String>,
    /// A signed revocation list (the server's /api/v1/licensing/revocations), verified with the
    /// same keys; a listed license is `revoked`.
    #[arg(long, value_name = "FILE")]
    pub revocations: Option<String>,
    /// Refuse v1 legacy tokens.
    #[arg(long)]
    pub no_v1: bool,
}

impl VerifierArgs {
    /// The moment of verification.
    pub fn now(&self) -> i64 {
        self.now.unwrap_or_else(unix_now)
    }

    /// A verifier with these options, taking default grace days from `catalog_name`.
    pub fn verifier(&self, catalog_name: &str) -> Result<Verifier, CliError> {
        let keyring = self.keys.keyring()?;
        let revocations = match &self.revocations {
            None => None,
            Some(source) => Some(revocation_list(source, &keyring, &self.issuer, self.now())?),
        };
        Ok(Verifier::new(keyring)
            .with_issuer(self.issuer.clone())
            .with_accept_v1(!self.no_v1)
            .with_deployment_id(self.deployment_id.clone())
            .with_catalog(&*catalog(catalog_name)?)
            .with_revocations(revocations))
    }

    /// Refuses two inputs from stdin.
    pub fn check_stdin(&self, token: Option<&str>) -> Result<(), CliError> {
        at_most_one_stdin(&[
            ("the token", token),
            ("--keys", self.keys.keys.as_deref()),
            ("--revocations", self.revocations.as_deref()),
        ])
    }
}

/// Arguments of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The token, a file holding it, or `-` for stdin. Default: DEV_HEALTH_LICENSE, LICENSE_KEY,
    /// or the file named by DEV_HEALTH_LICENSE_FILE.
    #[arg(value_name = "TOKEN|-")]
    pub token: Option<String>,
    #[command(flatten)]
    pub verifier: VerifierArgs,
    /// Catalog whose grace days apply when the license sets none: default or dev-health-ops.
    #[arg(long, default_value = "default")]
    pub catalog: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `verify`.
pub fn run(args: Args) -> ExitCode {
    finish(
        args.output,
        verify(&args),
        |e| json!({"valid": false, "error": e.to_json()}),
    )
}

/// The token argument, or the environment's license (SPEC §1.3).
pub fn token_or_env(arg: Option<&str>) -> Result<String, CliError> {
    match arg {
        Some(arg) => read_token(arg),
        None => license_token_from_env()?.ok_or_else(|| {
            CliError::usage(
                "no token: pass TOKEN or - (stdin), or set DEV_HEALTH_LICENSE or DEV_HEALTH_LICENSE_FILE",
            )
        }),
    }
}

fn verify(args: &Args) -> Result<Report, CliError> {
    args.verifier.check_stdin(args.token.as_deref())?;
    let token = token_or_env(args.token.as_deref())?;
    let verifier = args.verifier.verifier(&args.catalog)?;
    let license = verifier.verify(&token, args.verifier.now())?;
    Ok(report(&license))
}

fn report(license: &License) -> Report {
    let valid = license.status.is_valid();
    let mut json = license.to_json();
    // The engine's shape says `valid: true` for every verified license; for the CLI, "valid"
    // answers "does this license grant its tier now", so an expired one is not.
    set_member(&mut json, "valid", Value::Bool(valid));
    let mut text = String::new();
    let verdict = match license.status {
        LicenseStatus::Active => "yes (active)".to_owned(),
        LicenseStatus::Grace => format!(
            "yes (grace: {} day(s) left)",
            license
                .grace_days_left(license.verified_at)
                .unwrap_or_default()
        ),
        LicenseStatus::Expired => "no (expired)".to_owned(),
    };
    line(&mut text, "valid", verdict);
    line(&mut text, "checked at", show_time(license.verified_at));
    line(
        &mut text,
        "signature",
        format!("ok ({}, key {:?})", license.format.as_str(), license.kid),
    );
    line(&mut text, "license id", license.license_id());
    let org = match &license.claims.org_name {
        Some(name) => format!("{} ({name})", license.sub()),
        None => license.sub().to_owned(),
    };
    line(&mut text, "org", org);
    line(&mut text, "tier", license.tier());
    line(&mut text, "type", license.claims.license_type.as_str());
    let audience = if license.claims.aud.is_empty() {
        "any deployment (no aud)".to_owned()
    } else {
        license.claims.aud.join(", ")
    };
    line(&mut text, "audience", audience);
    line(&mut text, "issued", show_time(license.claims.iat));
    line(&mut text, "expires", show_time(license.expires_at()));
    line(
        &mut text,
        "grace ends",
        format!(
            "{} ({} day(s))",
            show_time(license.grace_ends_at()),
            license.grace_days
        ),
    );
    Report {
        json,
        text,
        exit: u8::from(!valid),
    }
}
