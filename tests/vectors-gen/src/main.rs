//! Generates the conformance vectors of `tests/vectors/` (contract §6).
//!
//! `dev-health-vectors-gen [OUT_DIR]` (default `tests/vectors`) writes `verify.json`,
//! `entitlements.json`, `rbac.json`, `sessions.json`, `stripe_signatures.json` and
//! `stripe_events.json`, and `README.md` (the format and
//! every case). Every input is fixed (seeds, times, ids) and Ed25519 signing is
//! deterministic, so two runs write the same bytes. Each expectation is computed with the engine
//! and compared with the answer written by hand from the contract; any disagreement stops the program with
//! a message naming the vector, and nothing is written.

mod common;
mod entitlements;
mod oracle;
mod rbac;
mod sessions;
mod spec;
mod stripe_events;
mod stripe_sig;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use common::{file, Keys, Res};

/// The hand-written part of `tests/vectors/README.md`; the case lists are appended.
const README_HEAD: &str = include_str!("../vectors-readme.md");

fn generate() -> Res<Vec<(&'static str, serde_json::Value, usize)>> {
    spec::check_catalog("default")?;
    spec::check_catalog("dev-health-ops")?;
    let keys = Keys::new()?;
    let mut files = Vec::new();
    let mut add = |name: &'static str, description: &str, cases: Vec<common::Case>| -> Res<()> {
        let n = cases.len();
        files.push((name, file(description, &cases)?, n));
        Ok(())
    };
    add("verify.json", "License verification (contract §1): v1 and v2 tokens, every error code and status, with the boundaries of exp, grace, leeway, key windows, revocation and clock rollback.", verify::cases(&keys)?)?;
    add("entitlements.json", "Resolution and decisions (contract §3): tiers from licenses and billing, every decision reason, limits and UpgradeGate states, and the dev-health-web JSON.", entitlements::cases(&keys)?)?;
    add("rbac.json", "Roles and permissions (contract §2): every role against every permission in both catalogs, unknown roles and permissions.", rbac::cases()?)?;
    add(
        "sessions.json",
        "User session tokens (contract §5): EdDSA, HS256 only with a configured secret, exp required.",
        sessions::cases(&keys)?,
    )?;
    add("stripe_signatures.json", "Stripe-Signature verification (contract §5): tolerance both ways, several v1, secret rotation, malformed headers.", stripe_sig::cases()?)?;
    add("stripe_events.json", "Stripe event sequences (contract §5) replayed through BillingLedger, with the final billing state of every org.", stripe_events::cases()?)?;
    let mut names = std::collections::BTreeSet::new();
    for (_, doc, _) in &files {
        for case in doc
            .get("cases")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            let name = case
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_owned();
            ensure!(
                names.insert(name.clone()),
                "case name {name:?} appears in two files"
            );
        }
    }
    Ok(files)
}

fn main() -> ExitCode {
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("tests/vectors"), PathBuf::from);
    let files = match generate() {
        Ok(files) => files,
        Err(e) => {
            eprintln!("dev-health-vectors-gen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut total = 0;
    let mut readme = README_HEAD.to_owned();
    for (name, doc, n) in files {
        let text = match serde_json::to_string_pretty(&doc) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("dev-health-vectors-gen: {name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::write(out.join(name), text) {
            eprintln!(
                "dev-health-vectors-gen: cannot write {}: {e}",
                out.join(name).display()
            );
            return ExitCode::FAILURE;
        }
        println!("{name}: {n} cases");
        total += n;
        readme.push_str(&format!(
            "\n### `{name}` ({n} cases)\n\n| name | description |\n|---|---|\n"
        ));
        for case in doc
            .get("cases")
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            let field = |k: &str| {
                case.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .replace('|', "\\|")
            };
            readme.push_str(&format!(
                "| `{}` | {} |\n",
                field("name"),
                field("description")
            ));
        }
    }
    readme.push_str(&format!("\n{total} vectors in files 1–6.\n"));
    if let Err(e) = std::fs::write(out.join("README.md"), readme) {
        eprintln!("dev-health-vectors-gen: cannot write README.md: {e}");
        return ExitCode::FAILURE;
    }
    println!("{total} vectors in {}", out.display());
    ExitCode::SUCCESS
}
