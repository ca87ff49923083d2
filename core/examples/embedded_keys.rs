//! Shows the keys compiled in from `DEV_HEALTH_EMBEDDED_JWKS` (SPEC §1.3) and whether the
//! environment verifier, which starts from them, accepts a token:
//! `embedded_keys [TOKEN NOW]` prints `embedded: kid,...` (or `embedded: error <code>: <message>`)
//! and then `verify: <status>` or `verify: error <code>`. `make test-embedded-keys` builds it with
//! several key files.

use dev_health_entitlements::{Keyring, Verifier};

fn main() {
    match Keyring::embedded() {
        Ok(ring) => {
            let kids: Vec<&str> = ring.entries().iter().map(|e| e.kid.as_str()).collect();
            println!("embedded: {}", kids.join(","));
        }
        Err(e) => println!("embedded: error {}: {}", e.code().as_str(), e.message()),
    }
    let mut args = std::env::args().skip(1);
    if let (Some(token), Some(now)) = (args.next(), args.next()) {
        let now: i64 = now.parse().unwrap_or_default();
        // No environment variable: the embedded keys alone.
        match Verifier::from_env_with(|_| None).and_then(|v| v.verify(&token, now)) {
            Ok(license) => println!("verify: {}", license.status.as_str()),
            Err(e) => println!("verify: error {}", e.code().as_str()),
        }
    }
}
