//! `session`: a user session token for local development, so that the server's entitlements
//! endpoint and the FastAPI and Next.js glue can be called without an identity provider.
//!
//! Tokens are signed only with the development session key (`./data/dev-session-key`, created
//! once, kid `dev-session-…`), which `serve` accepts while it runs on its development signing key.
//! The command refuses to run outside development, read as `serve` reads it: when a signing key
//! is configured (`LICENSE_SIGNING_KEY` / `LICENSE_PRIVATE_KEY`) or `DATABASE_URL` names
//! PostgreSQL. A server with a configured key refuses the development session key in
//! `SESSION_PUBLIC_KEYS`, so these tokens never open a deployment.

use std::process::ExitCode;

use dev_health_entitlements::issue::sign_raw_jwt;
use dev_health_entitlements::Catalog;
use dev_health_license_server::serve::{default_dev_session_key, is_development};
use serde_json::{json, Map, Value};

use super::{error_json, finish, unix_now, CliError, OutputArgs, Report};

/// The longest lifetime `--minutes` accepts: a week.
const MAX_MINUTES: i64 = 7 * 24 * 60;

/// Arguments of `session`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The org the session is for (`org_id` claim).
    #[arg(long, required_unless_present = "public_keys")]
    pub org: Option<String>,
    /// The user's role in the org: one of the catalog's roles (viewer, editor, admin, owner).
    #[arg(long, required_unless_present = "public_keys")]
    pub role: Option<String>,
    /// The user id (`sub` claim).
    #[arg(long, default_value = "dev-user")]
    pub sub: String,
    /// The user's email.
    #[arg(long, default_value = "dev-user@localhost")]
    pub email: String,
    /// A superuser session reaches every org.
    #[arg(long)]
    pub superuser: bool,
    /// Lifetime of the token in minutes (at most a week).
    #[arg(long, default_value_t = 60)]
    pub minutes: i64,
    /// Print the development session key as `SESSION_PUBLIC_KEYS` takes it (`kid=base64`)
    /// instead of a token.
    #[arg(long, conflicts_with_all = ["org", "role", "superuser"])]
    pub public_keys: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `session`.
pub fn run(args: Args) -> ExitCode {
    finish(args.output, session(&args), error_json)
}

fn session(args: &Args) -> Result<Report, CliError> {
    if !is_development(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty())) {
        return Err(CliError::refused(
            "not_development",
            "`session` mints development tokens only: unset LICENSE_SIGNING_KEY / \
             LICENSE_PRIVATE_KEY and use SQLite (the environment `serve` runs in with its \
             development key); a deployment's sessions come from its identity provider",
        ));
    }
    let (key, kid) = default_dev_session_key().map_err(|e| CliError::io(e.0))?;
    let public = format!("{kid}={}", key.public_key().to_base64());
    if args.public_keys {
        let json = json!({"kid": kid, "public_key": key.public_key().to_base64(), "session_public_keys": public});
        return Ok(Report::ok(json, format!("{public}\n")));
    }
    let (Some(org), Some(role)) = (&args.org, &args.role) else {
        return Err(CliError::usage("--org and --role are required"));
    };
    let catalog = Catalog::default_catalog()?;
    if !catalog.roles().iter().any(|r| r.name == *role) {
        let names: Vec<&str> = catalog.roles().iter().map(|r| r.name.as_str()).collect();
        return Err(CliError::usage(format!(
            "--role {role:?} is not a role of the catalog; expected one of {}",
            names.join(", ")
        )));
    }
    if !(1..=MAX_MINUTES).contains(&args.minutes) {
        return Err(CliError::usage(format!(
            "--minutes must be from 1 to {MAX_MINUTES} (a week)"
        )));
    }
    let now = unix_now();
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::from(args.sub.as_str()));
    claims.insert("email".into(), Value::from(args.email.as_str()));
    claims.insert("org_id".into(), Value::from(org.as_str()));
    claims.insert("role".into(), Value::from(role.as_str()));
    claims.insert("is_superuser".into(), Value::from(args.superuser));
    claims.insert("iat".into(), Value::from(now));
    claims.insert("exp".into(), Value::from(now + args.minutes * 60));
    if let Ok(issuer) = std::env::var("SESSION_ISSUER") {
        if !issuer.trim().is_empty() {
            claims.insert("iss".into(), Value::from(issuer.trim()));
        }
    }
    let token = sign_raw_jwt(claims.clone(), &key, &kid)?;
    let json = json!({"token": token, "kid": kid, "claims": Value::Object(claims), "session_public_keys": public});
    Ok(Report::ok(json, format!("{token}\n")))
}
