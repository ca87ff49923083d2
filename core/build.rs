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
    if let Err(err) = fs::write(&out, jwks) {
        println!("cargo:warning=cannot write {}: {err}", out.display());
        std::process::exit(1);
    }
}
