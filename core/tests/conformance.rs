//! Runs every conformance vector of `tests/vectors/` (files 1–6, SPEC §6) through the public API,
//! the way a binding would: JSON in, the engine's answer rebuilt as the vector's `expect`, compared
//! field by field. Every failing case is listed, not only the first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use dev_health_entitlements::stripe::{
    verify_signature, BillingConfig, BillingLedger, BillingState, StripeEvent,
};
use dev_health_entitlements::{
    Catalog, Entitlements, GateState, Keyring, License, LimitReason, Override, ResolveInput,
    RevocationList, SessionVerifier, Tier, Verifier,
};
use serde_json::{json, Value};

fn load(file: &str) -> Vec<Value> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "tests", "vectors", file]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap().clone();
    assert!(!cases.is_empty(), "{file} has no cases");
    cases
}

/// Runs `run` on every case of `file`, comparing its answer with the case's `answer` field
/// (`expect`, or `allowed` in rbac.json); returns the count.
fn run_file(file: &str, answer: &str, run: impl Fn(&Value) -> Result<Value, String>) -> usize {
    let cases = load(file);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        match run(case) {
            Ok(actual) if actual == case[answer] => {}
            Ok(actual) => failures.push(format!(
                "{name}:\n  expected {}\n  actual   {actual}",
                case[answer]
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases of {file} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!("{file}: {} cases passed", cases.len());
    cases.len()
}

/// SPEC §1.4: a message names what was wrong and never echoes key material, signatures or
/// secrets.
fn check_message(case: &Value, message: &str) -> Result<(), String> {
    let mut secret_parts: Vec<String> = Vec::new();
    for key in case["jwks"]["keys"].as_array().into_iter().flatten() {
        secret_parts.extend(key["x"].as_str().map(str::to_owned));
    }
    if let Some(token) = case["token"].as_str() {
        // The signature segment of a v1 or v2 token.
        secret_parts.extend(
            token
                .rsplit('.')
                .next()
                .map(|s| s.trim_end_matches(['=', '\n', '\r']).to_owned()),
        );
    }
    if let Some(header) = case["header"].as_str() {
        // Every v1= signature of a Stripe-Signature header.
        secret_parts.extend(
            header
                .split(',')
                .filter_map(|item| item.strip_prefix("v1="))
                .map(str::to_owned),
        );
    }
    for secret in case["secrets"].as_array().into_iter().flatten() {
        secret_parts.extend(secret.as_str().map(str::to_owned));
    }
    secret_parts.extend(case["hs256_secret"].as_str().map(str::to_owned));
    match secret_parts
        .iter()
        .find(|part| part.len() >= 16 && message.contains(part.as_str()))
    {
        Some(part) => Err(format!("the message {message:?} echoes {part:?}")),
        None if message.trim().is_empty() => Err("the error message is empty".into()),
        None => Ok(()),
    }
}

fn keyring(case: &Value) -> Keyring {
    Keyring::from_jwks(&case["jwks"].to_string()).unwrap()
}

/// Integral numbers as integers, as the vectors write them.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn verify_expect(case: &Value) -> Result<Value, String> {
    let keys = keyring(case);
    let now = case["now"].as_i64().unwrap();
    let opt = &case["options"];
    let issuer = opt["issuer"].as_str().unwrap_or("fullchaos.studio");
    let mut verifier = Verifier::new(keys.clone()).with_issuer(issuer);
    if let Some(leeway) = opt["leeway"].as_i64() {
        verifier = verifier.with_leeway(leeway);
    }
    if let Some(accept) = opt["accept_v1"].as_bool() {
        verifier = verifier.with_accept_v1(accept);
    }
    if let Some(dep) = opt["deployment_id"].as_str() {
        verifier = verifier.with_deployment_id(Some(dep.to_owned()));
    }
    if let Some(name) = opt["catalog"].as_str() {
        verifier = verifier.with_catalog(&Catalog::builtin(name).unwrap());
    }
    if let Some(list) = opt["revocation_list"].as_str() {
        let list = RevocationList::verify(list, &keys, issuer, now)
            .map_err(|e| format!("the revocation list does not verify: {e}"))?;
        verifier = verifier.with_revocations(Some(list));
    }
    if let Some(mark) = opt["high_water_mark"].as_i64() {
        verifier = verifier.with_high_water_mark(Some(mark));
    }
    Ok(
        match verifier.verify(case["token"].as_str().unwrap(), now) {
            Err(e) => {
                if let Some(claim) = case["claim"].as_str() {
                    if !e.message().contains(&format!("`{claim}")) {
                        return Err(format!(
                            "the message {:?} does not name `{claim}`",
                            e.message()
                        ));
                    }
                }
                json!({"error": e.code().as_str()})
            }
            Ok(l) => json!({
                "status": l.status.as_str(),
                "format": l.format.as_str(),
                "kid": l.kid,
                "tier": l.tier().as_str(),
                "sub": l.sub(),
                "license_id": l.license_id(),
                "license_type": l.claims.license_type.as_str(),
                "expires_at": l.expires_at(),
                "grace_ends_at": l.grace_ends_at(),
                "grace_days_left": l.grace_days_left(now),
            }),
        },
    )
}

fn tier_of(v: &Value) -> Option<Tier> {
    v.as_str().map(|t| Tier::parse(t).unwrap())
}

fn entitlements_expect(case: &Value) -> Result<Value, String> {
    let catalog = Catalog::builtin(case["catalog"].as_str().unwrap()).unwrap();
    let now = case["now"].as_i64().unwrap();
    let license: Option<License> = match case["license"].as_str() {
        Some(token) => Some(
            Verifier::new(keyring(case))
                .verify(token, now)
                .map_err(|e| format!("the license must verify: {e}"))?,
        ),
        None => None,
    };
    let overrides: Vec<Override> = serde_json::from_value(case["overrides"].clone()).unwrap();
    let kill: BTreeMap<String, bool> =
        serde_json::from_value(case["kill_switches"].clone()).unwrap();
    let ent = Entitlements::resolve(
        catalog,
        &ResolveInput {
            license: license.as_ref(),
            org_id: case["org_id"].as_str(),
            org_tier: tier_of(&case["org_tier"]),
            overrides: &overrides,
            kill_switches: Some(&kill),
            now,
        },
    );
    let expect = &case["expect"];
    let decisions: Vec<Value> = expect["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let d = ent.check(d["feature"].as_str().unwrap());
            json!({
                "feature": d.feature,
                "allowed": d.allowed,
                "reason": d.reason.as_str(),
                "required_tier": d.required_tier.map(Tier::as_str),
                "expires_at": d.expires_at,
            })
        })
        .collect();
    let limits: Vec<Value> = expect["limits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let d = ent.check_limit(l["limit"].as_str().unwrap(), l["current"].as_f64().unwrap());
            json!({
                "limit": d.limit,
                "current": number(d.current),
                "allowed": d.allowed,
                "maximum": d.maximum.map_or(Value::Null, number),
                "reason": match d.reason {
                    LimitReason::WithinLimit => "within_limit",
                    LimitReason::LimitExceeded => "limit_exceeded",
                    LimitReason::LimitNotRegistered => "limit_not_registered",
                },
            })
        })
        .collect();
    let gates: Vec<Value> = expect["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let gate = ent.upgrade_gate(
                g["feature"].as_str().unwrap(),
                tier_of(&g["required_tier"]),
                None,
            );
            json!({
                "feature": gate.feature,
                "required_tier": gate.required_tier.map(Tier::as_str),
                "state": match gate.state {
                    GateState::Allowed => "allowed",
                    GateState::Upgrade => "upgrade",
                    GateState::Unavailable => "unavailable",
                },
                "upgrade_href": gate.upgrade_href,
            })
        })
        .collect();
    Ok(json!({
        "tier": ent.tier().as_str(),
        "decisions": decisions,
        "limits": limits,
        "gates": gates,
        "json": ent.to_json(),
    }))
}

fn rbac_expect(case: &Value) -> Result<Value, String> {
    let catalog = Catalog::builtin(case["catalog"].as_str().unwrap()).unwrap();
    let can = catalog.can(
        case["role"].as_str().unwrap(),
        case["permission"].as_str().unwrap(),
    );
    // Also through resolved entitlements, as the bindings expose it.
    let ent = Entitlements::resolve(catalog, &ResolveInput::default());
    let via_entitlements = ent.can(
        case["role"].as_str().unwrap(),
        case["permission"].as_str().unwrap(),
    );
    if via_entitlements != can {
        return Err("Entitlements::can and Catalog::can disagree".into());
    }
    Ok(json!(can))
}

fn session_expect(case: &Value) -> Result<Value, String> {
    let verifier = SessionVerifier::new(keyring(case))
        .with_hs256_secret(case["hs256_secret"].as_str().map(str::as_bytes))
        .unwrap();
    Ok(
        match verifier.verify(
            case["token"].as_str().unwrap(),
            case["now"].as_i64().unwrap(),
        ) {
            Err(e) => {
                check_message(case, e.message())?;
                json!({"error": e.code().as_str()})
            }
            Ok(s) => json!({
                "sub": s.sub, "email": s.email, "org_id": s.org_id, "role": s.role,
                "is_superuser": s.is_superuser,
            }),
        },
    )
}

fn stripe_signature_expect(case: &Value) -> Result<Value, String> {
    let secrets: Vec<&str> = case["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    Ok(
        match verify_signature(
            case["payload"].as_str().unwrap().as_bytes(),
            case["header"].as_str().unwrap(),
            &secrets,
            case["now"].as_i64().unwrap(),
            case["tolerance"].as_i64().unwrap(),
        ) {
            Ok(t) => json!({"timestamp": t}),
            Err(e) => {
                check_message(case, e.message())?;
                json!({"error": e.code().as_str()})
            }
        },
    )
}

fn stripe_events_expect(case: &Value) -> Result<Value, String> {
    let config: BillingConfig = serde_json::from_value(case["config"].clone()).unwrap();
    let orgs: Vec<BillingState> = serde_json::from_value(case["orgs"].clone()).unwrap();
    let events: Vec<StripeEvent> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| StripeEvent::from_value(e.clone()).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let (ledger, outcomes) = BillingLedger::replay(orgs, &events, &config);
    Ok(json!({
        "outcomes": outcomes,
        "orgs": ledger.orgs,
        "revoked_license_ids": ledger.revoked_license_ids,
    }))
}

/// A vector file's runner: the file, the field holding its answer, and the case runner.
type Runner = (
    &'static str,
    &'static str,
    fn(&Value) -> Result<Value, String>,
);

const RUNNERS: [Runner; 6] = [
    ("verify.json", "expect", verify_expect),
    ("entitlements.json", "expect", entitlements_expect),
    ("rbac.json", "allowed", rbac_expect),
    ("sessions.json", "expect", session_expect),
    ("stripe_signatures.json", "expect", stripe_signature_expect),
    ("stripe_events.json", "expect", stripe_events_expect),
];

/// The Wycheproof suite has its own runner (`tests/wycheproof.rs`); it is not an API vector file.
const NOT_API_VECTORS: [&str; 1] = ["wycheproof_ed25519.json"];

/// Every `*.json` of `tests/vectors/` but the Wycheproof suite, sorted.
fn vector_files() -> Vec<String> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "tests", "vectors"]
        .iter()
        .collect();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && !NOT_API_VECTORS.contains(&name.as_str()))
        .collect();
    files.sort();
    files
}

/// Runs every vector file of the directory, not a list of names: a file without a runner fails
/// (so a new file cannot be skipped silently), and so does a runner whose file is gone.
#[test]
fn every_conformance_vector_passes() {
    let files = vector_files();
    let mut total = 0;
    for file in &files {
        let (_, answer, run) = RUNNERS
            .iter()
            .find(|(name, _, _)| name == file)
            .unwrap_or_else(|| {
                panic!("tests/vectors/{file} has no runner: add one to core/tests/conformance.rs")
            });
        total += run_file(file, answer, run);
    }
    for (name, _, _) in RUNNERS {
        assert!(
            files.iter().any(|f| f == name),
            "tests/vectors/{name} is missing"
        );
    }
    println!("{total} conformance vectors passed");
    assert!(total >= 150, "only {total} vectors");
}
