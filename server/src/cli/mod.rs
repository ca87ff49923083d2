//! The offline subcommands of `dev-health-license`. Each module parses its arguments, calls the
//! core engine and prints; the decisions themselves live in `dev_health_entitlements`.
//!
//! Output rules shared by every subcommand:
//! * success: a human summary on stdout, or one JSON document with `--json`;
//! * failure: `error: <code>: <message>` on stderr, or with `--json` a JSON document
//!   `{"error":{"code","message"}}` on stdout (so `| jq` always has something to read); exit 1;
//! * usage errors (a bad or missing flag) exit 2, as clap does;
//! * everything printed, text, JSON and error messages alike, is escaped by [`terminal`] first:
//!   a value from a license or an input file never reaches the terminal as a control character.

pub mod entitlements;
pub mod inputs;
pub mod inspect;
pub mod issue;
pub mod jwks;
pub mod keygen;
pub mod session;
pub mod terminal;
pub mod verify;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use dev_health_entitlements::{Error, ErrorCode};
use serde_json::{json, Value};

/// No input (token, key, catalog, overrides) is read past this many bytes.
pub const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// Exit status for a usage error (clap uses the same).
const EXIT_USAGE: u8 = 2;

/// `--json`, shared by every subcommand.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputArgs {
    /// Print one JSON document on stdout (errors too) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A failure of a subcommand: a stable code, a message that never holds key material, and
/// whether it was a usage error (exit 2) or a failed operation (exit 1).
#[derive(Debug, Clone)]
pub struct CliError {
    code: &'static str,
    message: String,
    usage: bool,
}

impl CliError {
    /// A usage error: a required input is missing or the flags contradict each other (exit 2).
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            code: "usage_error",
            message: message.into(),
            usage: true,
        }
    }

    /// The command refuses to run in this environment (exit 1); `code` names why.
    pub fn refused(code: &'static str, message: impl Into<String>) -> CliError {
        CliError {
            code,
            message: message.into(),
            usage: false,
        }
    }

    /// A file could not be read or written (exit 1).
    pub fn io(message: impl Into<String>) -> CliError {
        CliError {
            code: "io_error",
            message: message.into(),
            usage: false,
        }
    }

    /// An error with one of the engine's codes (exit 1).
    pub fn code(code: ErrorCode, message: impl Into<String>) -> CliError {
        CliError {
            code: code.as_str(),
            message: message.into(),
            usage: false,
        }
    }

    /// Prefixes the message with where the failing input came from (`--keys`, `--catalog`, ...).
    pub fn context(mut self, what: &str) -> CliError {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// `{"code","message"}`.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> CliError {
        CliError::code(e.code(), e.message())
    }
}

/// What a subcommand produced: its JSON document, its text form, and its exit status.
#[derive(Debug, Clone)]
pub struct Report {
    /// Printed with `--json`.
    pub json: Value,
    /// Printed otherwise.
    pub text: String,
    /// 0 unless the subcommand answers "no" (an expired license).
    pub exit: u8,
}

impl Report {
    /// A successful report.
    pub fn ok(json: Value, text: String) -> Report {
        Report {
            json,
            text,
            exit: 0,
        }
    }
}

/// Prints a subcommand's outcome by the rules of this module and returns its exit status.
/// `error_json` shapes a failure for `--json` (verify adds `"valid": false`).
pub fn finish(
    output: OutputArgs,
    outcome: Result<Report, CliError>,
    error_json: fn(&CliError) -> Value,
) -> ExitCode {
    match outcome {
        Ok(report) => {
            let printed = if output.json {
                print_stdout(&format!("{}\n", report.json))
            } else {
                print_stdout(&report.text)
            };
            match printed {
                Ok(()) => ExitCode::from(report.exit),
                Err(_) => ExitCode::FAILURE,
            }
        }
        Err(error) => {
            if output.json {
                // A closed stdout cannot be reported anywhere useful; the exit status still says it.
                let _ = print_stdout(&format!("{}\n", error_json(&error)));
            } else {
                eprintln!(
                    "error: {}: {}",
                    error.code,
                    terminal::escape(&one_line(&error.message))
                );
            }
            ExitCode::from(if error.usage { EXIT_USAGE } else { 1 })
        }
    }
}

/// The `--json` error shape of most subcommands: `{"error":{"code","message"}}`.
pub fn error_json(error: &CliError) -> Value {
    json!({ "error": error.to_json() })
}

/// Writes `text` escaped line by line. JSON goes through here too: serde_json escapes C0 controls
/// in strings but leaves C1 and bidirectional controls raw, and the escaped document reads back
/// as the same JSON.
fn print_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(terminal::escape_lines(text).as_bytes())?;
    out.flush()
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads `-` (stdin) or a file, at most [`MAX_INPUT_BYTES`], as UTF-8 text. `what` names the
/// input in messages; `code` is the error code for an oversized or non-text input.
pub fn read_source(source: &str, what: &str, code: ErrorCode) -> Result<String, CliError> {
    let bytes = read_bytes(source, what, MAX_INPUT_BYTES, code)?;
    utf8(bytes, source, what, code)
}

/// Reads `-` (stdin) or a file, at most `limit` bytes, as UTF-8 text: `too_large` when it holds
/// more, `not_text` when it is not UTF-8.
pub fn read_source_up_to(
    source: &str,
    what: &str,
    limit: u64,
    too_large: ErrorCode,
    not_text: ErrorCode,
) -> Result<String, CliError> {
    let bytes = read_bytes(source, what, limit, too_large)?;
    utf8(bytes, source, what, not_text)
}

fn read_bytes(
    source: &str,
    what: &str,
    limit: u64,
    too_large: ErrorCode,
) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    let read = if source == "-" {
        std::io::stdin()
            .lock()
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source)
            .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
    };
    read.map_err(|e| CliError::io(format!("{what}: cannot read {}: {e}", shown(source))))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::code(
            too_large,
            format!(
                "{what}: {} is larger than the {} input limit",
                shown(source),
                show_size(limit)
            ),
        ));
    }
    Ok(bytes)
}

/// `1 MiB` for a whole number of MiB, else the bytes.
fn show_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

fn utf8(bytes: Vec<u8>, source: &str, what: &str, code: ErrorCode) -> Result<String, CliError> {
    String::from_utf8(bytes)
        .map_err(|_| CliError::code(code, format!("{what}: {} is not UTF-8 text", shown(source))))
}

fn shown(source: &str) -> &str {
    if source == "-" {
        "stdin"
    } else {
        source
    }
}

/// A license token given as `-` (stdin), the path of a file holding it, or the token itself.
/// An oversized input is `token_too_large` (it is far over 16 KiB); one that is not text is
/// `malformed_token`.
pub fn read_token(arg: &str) -> Result<String, CliError> {
    if arg == "-" || is_file(arg) {
        let bytes = read_bytes(arg, "token", MAX_INPUT_BYTES, ErrorCode::TokenTooLarge)?;
        let text = utf8(bytes, arg, "token", ErrorCode::MalformedToken)?;
        return Ok(text.trim().to_owned());
    }
    Ok(arg.trim().to_owned())
}

/// Whether `arg` names an existing regular file (or a symlink to one).
pub fn is_file(arg: &str) -> bool {
    !arg.is_empty() && Path::new(arg).is_file()
}

/// Refuses to read two inputs from stdin in one invocation.
pub fn at_most_one_stdin(args: &[(&str, Option<&str>)]) -> Result<(), CliError> {
    let from_stdin: Vec<&str> = args
        .iter()
        .filter(|(_, v)| *v == Some("-"))
        .map(|(name, _)| *name)
        .collect();
    if from_stdin.len() > 1 {
        return Err(CliError::usage(format!(
            "only one input can come from stdin (-); got {}",
            from_stdin.join(" and ")
        )));
    }
    Ok(())
}

/// The current time, Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses a moment: Unix seconds (`1767225600`), `2027-01-01` (midnight UTC), or an RFC 3339
/// date-time (`2027-01-01T00:00:00Z`, or with an offset).
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    parse_utc(text)
        .ok_or_else(|| "expected Unix seconds, YYYY-MM-DD (midnight UTC) or an RFC 3339 date-time such as YYYY-MM-DDTHH:MM:SSZ".to_owned())
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SSZ`, or with an
/// offset) to Unix seconds, read by the core's RFC 3339 reader.
fn parse_utc(text: &str) -> Option<i64> {
    if text.len() == 10 {
        dev_health_entitlements::parse_rfc3339(&format!("{text}T00:00:00Z"))
    } else {
        dev_health_entitlements::parse_rfc3339(text)
    }
}

/// Unix seconds as `2027-01-01T00:00:00Z`.
pub fn show_time(unix: i64) -> String {
    dev_health_entitlements::rfc3339(unix)
}

/// Appends `label: value` with the labels aligned. The value is escaped on its own (a line break
/// in it is shown as `\n`), so it cannot start a line of its own.
pub fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let value = value.to_string();
    let _ = writeln!(
        out,
        "{:<14}{}",
        format!("{label}:"),
        terminal::escape(&value)
    );
}

/// Parses a lower-case tier name.
pub fn parse_tier(text: &str) -> Result<dev_health_entitlements::Tier, String> {
    text.parse::<dev_health_entitlements::Tier>()
        .map_err(|e| e.message().to_owned())
}

/// Sets a member of a JSON object (no-op on anything else).
pub fn set_member(json: &mut Value, key: &str, value: Value) {
    if let Some(obj) = json.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_unix_seconds_or_utc_dates() {
        assert_eq!(parse_timestamp("1767225600"), Ok(1_767_225_600));
        assert_eq!(parse_timestamp("2026-01-01T00:00:00Z"), Ok(1_767_225_600));
        assert_eq!(parse_timestamp("2024-02-29"), Ok(1_709_164_800));
        assert_eq!(parse_timestamp("1970-01-01T00:00:01Z"), Ok(1));
        // Read by the core's RFC 3339 reader: offsets are understood too.
        assert_eq!(
            parse_timestamp("2026-01-01T01:00:00+01:00"),
            Ok(1_767_225_600)
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00",
            "soon",
            "",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn utc_dates_round_trip_through_the_engine_formatter() {
        for t in [0_i64, 951_782_400, 1_767_225_599, 4_102_444_800] {
            assert_eq!(parse_timestamp(&show_time(t)), Ok(t));
        }
    }
}
