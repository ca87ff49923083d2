//! `inspect`: shows a token's header and claims WITHOUT verifying anything.

use std::process::ExitCode;

use dev_health_entitlements::UnverifiedToken;
use serde_json::Value;

use super::{error_json, finish, read_token, show_time, CliError, OutputArgs, Report};

/// Printed on stderr every time, whatever the output format.
pub const BANNER: &str = "WARNING: NOT VERIFIED. `inspect` decodes the token without checking \
its signature, issuer or dates; anyone can write these values. Use `verify` to trust a license.";

/// Arguments of `inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The token, a file holding it, or `-` for stdin.
    #[arg(value_name = "TOKEN|-")]
    pub token: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `inspect`.
pub fn run(args: Args) -> ExitCode {
    eprintln!("{BANNER}");
    finish(args.output, inspect(&args), error_json)
}

fn inspect(args: &Args) -> Result<Report, CliError> {
    let token = UnverifiedToken::decode(&read_token(&args.token)?)?;
    let mut text = String::from("NOT VERIFIED\n");
    text.push_str(&format!("format: {}\n", token.format.as_str()));
    if let Some(header) = &token.header {
        text.push_str("header: ");
        text.push_str(&pretty(&Value::Object(header.clone())));
        text.push('\n');
    }
    text.push_str("claims: ");
    text.push_str(&pretty(&Value::Object(token.claims.clone())));
    text.push('\n');
    for name in ["iat", "nbf", "exp"] {
        if let Some(at) = token.claims.get(name).and_then(Value::as_i64) {
            text.push_str(&format!("{name}: {}\n", show_time(at)));
        }
    }
    text.push_str(&format!("signature: {} bytes\n", token.signature_len));
    Ok(Report::ok(token.to_json(), text))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
