//! `entitlements`: resolves an org's tier, features and limits (SPEC §3) and prints the JSON
//! dev-health-web reads.
//!
//! A license that fails verification is an error (exit 1), not silently ignored: a person asking
//! "what does this license unlock" must not be shown community entitlements for a typo'd token.
//! A license that verifies but has expired is resolved as the engine resolves it (it grants
//! nothing; `is_valid` is false, `status` is `expired`) and exits 0.

use std::collections::BTreeMap;
use std::process::ExitCode;

use dev_health_entitlements::{Entitlements, ErrorCode, Override, ResolveInput, Tier};

use super::inputs::catalog;
use super::verify::{token_or_env, VerifierArgs};
use super::{
    at_most_one_stdin, error_json, finish, parse_tier, read_source, CliError, OutputArgs, Report,
};

/// Arguments of `entitlements`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The license: the token, a file holding it, or `-` for stdin. Without it, no license
    /// applies (the environment's DEV_HEALTH_LICENSE is used only with `--license-from-env`).
    #[arg(long, value_name = "TOKEN|-")]
    pub license: Option<String>,
    /// Take the license from DEV_HEALTH_LICENSE, LICENSE_KEY or DEV_HEALTH_LICENSE_FILE.
    #[arg(long, conflicts_with = "license")]
    pub license_from_env: bool,
    #[command(flatten)]
    pub verifier: VerifierArgs,
    /// default, dev-health-ops, or a catalog JSON file.
    #[arg(
        long,
        default_value = "default",
        value_name = "default|dev-health-ops|FILE"
    )]
    pub catalog: String,
    /// The org being resolved (a saas or trial license applies only to its own `sub`).
    #[arg(long)]
    pub org_id: Option<String>,
    /// The org's own tier (SaaS billing), used when no valid license applies.
    #[arg(long, value_parser = parse_tier)]
    pub org_tier: Option<Tier>,
    /// Per-org overrides: a JSON list of `{"feature","enabled","expires_at"?}` (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<String>,
    /// Global kill switches: a JSON object `{"feature": true|false}` (`-`: stdin).
    #[arg(long, value_name = "FILE")]
    pub kill_switches: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `entitlements`. The §3 JSON is the output: pretty-printed, or on one line with `--json`.
pub fn run(args: Args) -> ExitCode {
    finish(args.output, entitlements(&args), error_json)
}

fn entitlements(args: &Args) -> Result<Report, CliError> {
    at_most_one_stdin(&[
        ("--license", args.license.as_deref()),
        ("--keys", args.verifier.keys.keys.as_deref()),
        ("--revocations", args.verifier.revocations.as_deref()),
        ("--overrides", args.overrides.as_deref()),
        ("--kill-switches", args.kill_switches.as_deref()),
    ])?;
    let now = args.verifier.now();
    let catalog = catalog(&args.catalog)?;
    let token = match (&args.license, args.license_from_env) {
        (Some(arg), _) => Some(token_or_env(Some(arg))?),
        (None, true) => Some(token_or_env(None)?),
        (None, false) => None,
    };
    let license = match token {
        None => None,
        Some(token) => Some(
            args.verifier
                .verifier(&args.catalog)?
                .verify(&token, now)
                .map_err(|e| CliError::from(e).context("--license"))?,
        ),
    };
    let overrides: Vec<Override> = match &args.overrides {
        None => Vec::new(),
        Some(source) => json_file(source, "--overrides")?,
    };
    let kill_switches: Option<BTreeMap<String, bool>> = match &args.kill_switches {
        None => None,
        Some(source) => Some(json_file(source, "--kill-switches")?),
    };
    let ent = Entitlements::resolve(
        catalog,
        &ResolveInput {
            license: license.as_ref(),
            org_id: args.org_id.as_deref(),
            org_tier: args.org_tier,
            overrides: &overrides,
            kill_switches: kill_switches.as_ref(),
            now,
        },
    );
    let json = ent.to_json();
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    Ok(Report::ok(json, text))
}

fn json_file<T: serde::de::DeserializeOwned>(source: &str, what: &str) -> Result<T, CliError> {
    let text = read_source(source, what, ErrorCode::InvalidInput)?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::code(
            ErrorCode::InvalidInput,
            format!("{what}: not the expected JSON: {e}"),
        )
    })
}
