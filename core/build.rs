//! Embeds the vendor's public keys: the JWKS file named by `DEV_HEALTH_EMBEDDED_JWKS` at build time
//! becomes `Keyring::embedded()`. Without the variable the embedded keyring is empty.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=DEV_HEALTH_EMBEDDED_JWKS");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("embedded_jwks.json");
    let jwks = match env::var_os("DEV_HEALTH_EMBEDDED_JWKS") {
        Some(path) if !path.is_empty() => {
            println!("cargo:rerun-if-changed={}", PathBuf::from(&path).display());
            match fs::read_to_string(&path) {
                Ok(text) => text,
                Err(err) => {
                    println!(
                        "cargo:warning=DEV_HEALTH_EMBEDDED_JWKS={} cannot be read: {err}",
                        PathBuf::from(&path).display()
                    );
                    std::process::exit(1);
                }
            }
        }
        _ => "{\"keys\":[]}".to_owned(),
    };
    if let Err(problem) = check(&jwks) {
        println!("cargo:warning=DEV_HEALTH_EMBEDDED_JWKS: {problem}");
        std::process::exit(1);
    }
    if let Err(err) = fs::write(&out, jwks) {
        println!("cargo:warning=cannot write {}: {err}", out.display());
        std::process::exit(1);
    }
}

/// Fails the build early for a JWKS the library would refuse at run time.
fn check(jwks: &str) -> Result<(), String> {
    let doc: serde_json::Value =
        serde_json::from_str(jwks).map_err(|e| format!("not valid JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("a JWKS document needs a `keys` array")?;
    for (i, key) in keys.iter().enumerate() {
        let field = |name: &str| key.get(name).and_then(|v| v.as_str());
        if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
            return Err(format!("key #{i} is not an OKP Ed25519 JWK"));
        }
        if field("kid").is_none_or(str::is_empty) {
            return Err(format!("key #{i} has no kid"));
        }
        if key.get("d").is_some() {
            return Err(format!("key #{i} holds a private key"));
        }
        // The all-zero-seed test key: anyone can sign with it.
        if field("x") == Some("O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik") {
            return Err(format!("key #{i} is the documented test key"));
        }
    }
    Ok(())
}
