//! SPEC §1.4: "every error has a human message that names what was wrong and never echoes key
//! material". Checked over every failing case of `verify.json` (each trusted key's `x`, in
//! base64url and standard base64, and the token's signature must not appear in the message) and
//! over bad keys handed to every key reader (the bad value must not appear either).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "issue")]

use std::path::PathBuf;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use dev_health_entitlements::issue::SigningKey;
use dev_health_entitlements::{Error, Keyring, PublicKey, RevocationList, Verifier};
use serde_json::Value;

/// The forms of `bytes` a message could echo: base64url, standard base64 (each without its last
/// few characters, which depend on padding) and lower-case hex.
fn forms(bytes: &[u8]) -> Vec<String> {
    let trim = |s: String| {
        s.chars()
            .take(s.len().saturating_sub(3))
            .collect::<String>()
    };
    vec![
        trim(URL_SAFE_NO_PAD.encode(bytes)),
        trim(STANDARD.encode(bytes)),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
    ]
}

fn assert_not_echoed(context: &str, err: &Error, secrets: &[String]) {
    let shown = format!("{err} / {err:?}");
    for secret in secrets.iter().filter(|s| s.len() >= 16) {
        assert!(
            !shown.contains(secret.as_str()),
            "{context}: the message echoes key material {secret:?}: {shown}"
        );
    }
}

#[test]
fn verification_errors_never_echo_keys_or_signatures() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "tests",
        "vectors",
        "verify.json",
    ]
    .iter()
    .collect();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut errors = 0;
    for case in doc["cases"].as_array().unwrap() {
        if case["expect"].get("error").is_none() {
            continue;
        }
        let name = case["name"].as_str().unwrap();
        let jwks = case["jwks"].to_string();
        let keyring = Keyring::from_jwks(&jwks).unwrap();
        let mut secrets = Vec::new();
        for key in case["jwks"]["keys"].as_array().unwrap() {
            let x = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap();
            secrets.extend(forms(&x));
        }
        let token = case["token"].as_str().unwrap();
        if let Some(signature) = token.trim().rsplit('.').next() {
            secrets.push(signature.chars().take(40).collect());
        }
        let now = case["now"].as_i64().unwrap();
        let mut verifier = Verifier::new(keyring.clone());
        if let Some(list) = case["options"]["revocation_list"].as_str() {
            let list = RevocationList::verify(list, &keyring, "fullchaos.studio", now).unwrap();
            verifier = verifier.with_revocations(Some(list));
        }
        if let Some(dep) = case["options"]["deployment_id"].as_str() {
            verifier = verifier.with_deployment_id(Some(dep.to_owned()));
        }
        if let Some(issuer) = case["options"]["issuer"].as_str() {
            verifier = verifier.with_issuer(issuer.to_owned());
        }
        if let Some(mark) = case["options"]["high_water_mark"].as_i64() {
            verifier = verifier.with_high_water_mark(Some(mark));
        }
        if case["options"]["accept_v1"] == Value::Bool(false) {
            verifier = verifier.with_accept_v1(false);
        }
        if let Err(err) = verifier.verify(token, now) {
            assert_not_echoed(name, &err, &secrets);
            errors += 1;
        }
    }
    assert!(errors > 100, "only {errors} failing cases checked");
}

#[test]
fn key_reader_errors_never_echo_the_key() {
    let seed = [0x5au8; 32];
    let signing = SigningKey::from_seed(&seed).unwrap();
    let public = signing.public_key().to_bytes();
    let mut keypair = seed.to_vec();
    keypair.extend_from_slice(&public);
    let short = &public[..31];
    let long = [&public[..], &[7u8; 8]].concat();

    // A 64-byte seed+public value where a seed is expected (SPEC §1.3: refused, saying so).
    let err = SigningKey::from_seed(&keypair).unwrap_err();
    assert_not_echoed("64-byte seed", &err, &forms(&keypair));
    assert!(err.to_string().contains("64"), "{err}");
    let err = SigningKey::parse(&STANDARD.encode(&keypair)).unwrap_err();
    assert_not_echoed("64-byte seed as base64", &err, &forms(&keypair));
    let err = SigningKey::parse(&format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        STANDARD.encode(&keypair)
    ))
    .unwrap_err();
    assert_not_echoed("PEM that is not PKCS#8", &err, &forms(&keypair));

    for (what, bytes) in [("31-byte key", short.to_vec()), ("40-byte key", long)] {
        let err = PublicKey::from_bytes(&bytes).unwrap_err();
        assert_not_echoed(what, &err, &forms(&bytes));
        let err = PublicKey::from_base64(&STANDARD.encode(&bytes)).unwrap_err();
        assert_not_echoed(what, &err, &forms(&bytes));
        let jwks = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{}"}}]}}"#,
            URL_SAFE_NO_PAD.encode(&bytes)
        );
        let err = Keyring::from_jwks(&jwks).unwrap_err();
        assert_not_echoed(what, &err, &forms(&bytes));
        let err = Keyring::parse(&format!("k={}", STANDARD.encode(&bytes))).unwrap_err();
        assert_not_echoed(what, &err, &forms(&bytes));
    }
    // A JWK carrying its private half (`d`) is refused without repeating it.
    let jwks = format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","kid":"k","x":"{}","d":"{}"}}]}}"#,
        URL_SAFE_NO_PAD.encode(public),
        URL_SAFE_NO_PAD.encode(seed)
    );
    if let Err(err) = Keyring::from_jwks(&jwks) {
        assert_not_echoed("JWK with d", &err, &forms(&seed));
    }
}
