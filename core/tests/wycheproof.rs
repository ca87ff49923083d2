//! The Wycheproof Ed25519 suite (151 cases: malleability, non-canonical encodings, truncated
//! signatures, small-order points) through `token::eddsa::verify_strict`, the one primitive every
//! license, revocation-list and session signature goes through (SPEC §1.1).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use dev_health_entitlements::token::eddsa::verify_strict;
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_wycheproof_ed25519_case_gets_its_expected_answer() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "tests",
        "vectors",
        "wycheproof_ed25519.json",
    ]
    .iter()
    .collect();
    let suite: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    let mut wrong = Vec::new();
    for group in suite["testGroups"].as_array().unwrap() {
        let public_key = hex(group["publicKey"]["pk"].as_str().unwrap());
        for test in group["tests"].as_array().unwrap() {
            let msg = hex(test["msg"].as_str().unwrap());
            let sig = hex(test["sig"].as_str().unwrap());
            let expected = match test["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {}: unexpected result {other}", test["tcId"]),
            };
            if expected {
                valid += 1;
            } else {
                invalid += 1;
            }
            if verify_strict(&public_key, &msg, &sig) != expected {
                wrong.push(format!(
                    "tcId {} ({}): expected {}",
                    test["tcId"], test["comment"], test["result"]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    println!("wycheproof: {valid} valid and {invalid} invalid cases answered as expected");
    assert_eq!(valid + invalid, 151);
    assert_eq!(suite["numberOfTests"], 151);
}
