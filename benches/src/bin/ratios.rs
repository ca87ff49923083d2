//! Prints the figures of the last `cargo bench -p dev-health-benches --bench core` run and the
//! ratios the goals are stated in, read from criterion's `estimates.json` files.
//!
//! The criterion directory is `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
//! `target/criterion`; a path given as the first argument wins over all three.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dev_health_benches::{ids, GROUP};
use serde_json::Value;

/// Point estimates of one benchmark, in nanoseconds.
struct Estimate {
    median: f64,
    mean: f64,
    mean_low: f64,
    mean_high: f64,
}

fn criterion_dir() -> PathBuf {
    if let Some(arg) = std::env::args_os().nth(1) {
        return PathBuf::from(arg);
    }
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("criterion")
}

fn read(dir: &Path, id: &str) -> Result<Estimate, String> {
    let path = dir.join(GROUP).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (run the bench first)", path.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let get = |pointer: &str| {
        json.pointer(pointer)
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("{}: no {pointer}", path.display()))
    };
    Ok(Estimate {
        median: get("/median/point_estimate")?,
        mean: get("/mean/point_estimate")?,
        mean_low: get("/mean/confidence_interval/lower_bound")?,
        mean_high: get("/mean/confidence_interval/upper_bound")?,
    })
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.2} ns")
    }
}

const ROWS: [(&str, &str); 10] = [
    (ids::VERIFY_V2, "Verifier::verify, v2 token"),
    (
        ids::BARE_VERIFY_STRICT,
        "ed25519-dalek verify_strict, same signing input",
    ),
    (ids::VERIFY_V1, "Verifier::verify, v1 token (same claims)"),
    (ids::HAS_HIT, "Entitlements::has(\"sso_saml\")"),
    (ids::HASHSET_HIT, "HashSet<&str>::contains(\"sso_saml\")"),
    (ids::HAS_MISS, "Entitlements::has(unknown key)"),
    (ids::HASHSET_MISS, "HashSet<&str>::contains(unknown key)"),
    (ids::CHECK, "Entitlements::check(\"sso_saml\")"),
    (
        ids::CHECK_LIMIT,
        "Entitlements::check_limit(\"max_users\", 42)",
    ),
    (
        ids::RESOLVE,
        "Entitlements::resolve (license + 2 overrides)",
    ),
];

/// (numerator, denominator, what, goal: the ratio must be at most this).
const RATIOS: [(&str, &str, &str, f64); 3] = [
    (
        ids::VERIFY_V2,
        ids::BARE_VERIFY_STRICT,
        "verify v2 / bare verify_strict",
        1.08,
    ),
    (
        ids::HAS_HIT,
        ids::HASHSET_HIT,
        "has / HashSet contains (hit)",
        1.0,
    ),
    (
        ids::HAS_MISS,
        ids::HASHSET_MISS,
        "has / HashSet contains (miss)",
        1.0,
    ),
];

fn main() -> ExitCode {
    let dir = criterion_dir();
    let mut estimates = Vec::new();
    for (id, what) in ROWS {
        match read(&dir, id) {
            Ok(e) => estimates.push((id, what, e)),
            Err(message) => {
                eprintln!("ratios: {message}");
                return ExitCode::FAILURE;
            }
        }
    }
    let find = |id: &str| {
        estimates
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, _, e)| e)
    };

    println!(
        "{:<48} {:>11} {:>11}   mean 95% CI",
        "benchmark", "median", "mean"
    );
    for (_, what, e) in &estimates {
        println!(
            "{what:<48} {:>11} {:>11}   [{} .. {}]",
            human(e.median),
            human(e.mean),
            human(e.mean_low),
            human(e.mean_high)
        );
    }
    println!();
    println!(
        "{:<34} {:>13} {:>11} {:>8}  result",
        "ratio", "median-based", "mean-based", "goal"
    );
    for (num, den, what, goal) in RATIOS {
        let (Some(n), Some(d)) = (find(num), find(den)) else {
            continue;
        };
        let by_median = n.median / d.median;
        let by_mean = n.mean / d.mean;
        let verdict = if by_median <= goal { "met" } else { "MISSED" };
        println!(
            "{what:<34} {by_median:>12.3}× {by_mean:>10.3}× {:>7}  {verdict}",
            format!("≤ {goal:.2}×")
        );
    }
    ExitCode::SUCCESS
}
