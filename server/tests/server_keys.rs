//! Which keys the server signs with and publishes (SPEC §1.3, §5): never the all-zero-seed test
//! key unless `DEV_HEALTH_ALLOW_TEST_KEYS=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use dev_health_entitlements::issue::SigningKey;
use server_support::*;

/// The documented test seed: anyone can sign with it.
const ZERO_SEED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn with_key(
    env: Vec<(String, String)>,
    seed: Option<&str>,
    kid: Option<&str>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k != "LICENSE_SIGNING_KEY" && k != "LICENSE_KEY_ID")
        .collect();
    if let Some(seed) = seed {
        env.push(("LICENSE_SIGNING_KEY".into(), seed.into()));
    }
    if let Some(kid) = kid {
        env.push(("LICENSE_KEY_ID".into(), kid.into()));
    }
    env
}

fn jwks_kids(s: &Server) -> Vec<String> {
    let mut kids: Vec<String> = s.get("/.well-known/jwks.json", None).json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

/// SPEC §1.3: "A test key (such as the all-zero seed) is never trusted by default." The server
/// neither signs with it nor publishes it unless DEV_HEALTH_ALLOW_TEST_KEYS=1.
#[test]
fn the_all_zero_test_seed_is_refused_unless_allowed() {
    let dir = TempDir::new("zero-seed");
    let base = base_env(&sqlite_url(&dir.0));
    let pem = SigningKey::parse(ZERO_SEED)
        .unwrap()
        .to_pkcs8_pem()
        .unwrap()
        .as_str()
        .to_owned();
    for seed in [ZERO_SEED, pem.as_str()] {
        let log = Server::try_start(
            &dir.0,
            with_key(base.clone(), Some(seed), Some("zero")),
            "127.0.0.1:0",
        )
        .err()
        .expect("the server started with the all-zero test seed");
        assert!(log.contains("all-zero-seed test key"), "{log}");
        assert!(log.contains("DEV_HEALTH_ALLOW_TEST_KEYS=1"), "{log}");
        assert!(!log.contains(ZERO_SEED), "{log}");
    }
    let zero_public = SigningKey::parse(ZERO_SEED)
        .unwrap()
        .public_key()
        .to_base64();
    let mut env = base.clone();
    env.push(("LICENSE_PUBLISH_KEYS".into(), format!("next={zero_public}")));
    let log = Server::try_start(&dir.0, env, "127.0.0.1:0").err().unwrap();
    assert!(log.contains("LICENSE_PUBLISH_KEYS"), "{log}");

    // Nor as the development key.
    std::fs::create_dir_all(dir.0.join("data")).unwrap();
    std::fs::write(dir.0.join("data/dev-signing-key"), format!("{ZERO_SEED}\n")).unwrap();
    let log = Server::try_start(&dir.0, with_key(base.clone(), None, None), "127.0.0.1:0")
        .err()
        .unwrap();
    assert!(
        log.contains("dev-signing-key is the documented all-zero-seed test key"),
        "{log}"
    );

    // Allowed for local testing: it signs and is published.
    let mut env = with_key(base, Some(ZERO_SEED), Some("zero"));
    env.push(("DEV_HEALTH_ALLOW_TEST_KEYS".into(), "1".into()));
    let s = Server::start(&dir.0, env);
    assert_eq!(jwks_kids(&s), ["zero"]);
    assert!(s
        .logs()
        .contains("DEV_HEALTH_ALLOW_TEST_KEYS=1: signing with the all-zero-seed test key"));
}
