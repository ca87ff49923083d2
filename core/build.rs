//! Embeds the vendor's public keys: the JWKS file named by `DEV_HEALTH_EMBEDDED_JWKS` at build time
//! becomes `Keyring::embedded()`. Without the variable the embedded keyring is empty.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=DEV_HEALTH_EMBEDDED_JWKS");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    for catalog in ["default", "dev-health-ops"] {
        let source = format!("catalogs/{catalog}.json");
        println!("cargo:rerun-if-changed={source}");
        let minified = match fs::read_to_string(&source) {
            Ok(text) => without_whitespace(&text),
            Err(err) => {
                println!("cargo:warning={source} cannot be read: {err}");
                std::process::exit(1);
            }
        };
        let out = out_dir.join(format!("{catalog}.json"));
        if let Err(err) = fs::write(&out, minified) {
            println!("cargo:warning=cannot write {}: {err}", out.display());
            std::process::exit(1);
        }
    }
    let out = out_dir.join("embedded_jwks.json");
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

/// The JSON document without the whitespace between its tokens (strings are kept byte for byte):
/// the same document, embedded in fewer bytes.
fn without_whitespace(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
            in_string = c == '"';
        }
    }
    out
}
