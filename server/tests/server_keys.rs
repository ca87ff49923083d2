//! Which keys the server signs with and publishes (SPEC §1.3, §5): never the all-zero-seed test
//! key unless `DEV_HEALTH_ALLOW_TEST_KEYS=1`, never a development key on PostgreSQL, and no
//! development key in the JWKS once a configured key signs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod server_support;

use dev_health_entitlements::issue::SigningKey;
use dev_health_entitlements::{Keyring, Verifier};
use serde_json::json;
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

fn issue(s: &Server) -> String {
    let r = s.admin(
        "POST",
        "/api/v1/admin/licenses",
        &json!({"org_id": "c1", "tier": "team", "days": 30}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["license"].as_str().unwrap().to_owned()
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

/// A shared database is a deployment: without LICENSE_SIGNING_KEY the server does not start on
/// PostgreSQL (and creates no development key). Refused before any connection, so no cluster is
/// needed.
#[test]
fn postgres_needs_a_configured_signing_key() {
    let dir = TempDir::new("pg-nokey");
    let url = "postgres://postgres:pg-password@127.0.0.1:1/nothing";
    for kid in [None, Some("prod-1")] {
        let log = Server::try_start(&dir.0, with_key(base_env(url), None, kid), "127.0.0.1:0")
            .err()
            .expect("the server started on PostgreSQL without a signing key");
        assert!(log.contains("no signing key is configured"), "{log}");
        assert!(log.contains("LICENSE_SIGNING_KEY"), "{log}");
        assert!(!log.contains("pg-password"), "{log}");
        assert!(!dir.0.join("data/dev-signing-key").exists());
    }
}

/// A development start, then a start with a configured key on the same database: the JWKS lists
/// the configured key and the keys of earlier configured starts, not the development key, so a
/// verifier trusting it refuses licenses signed with the development seed. Without configuration
/// (`make run`) everything stays as before: the development key is published.
#[test]
fn a_configured_key_leaves_development_keys_out_of_the_jwks() {
    let dir = TempDir::new("dev-then-prod");
    let base = base_env(&sqlite_url(&dir.0));
    let dev = Server::start(&dir.0, with_key(base.clone(), None, None));
    let dev_kids = jwks_kids(&dev);
    assert_eq!(dev_kids.len(), 1);
    assert!(dev_kids[0].starts_with("dev-"), "{dev_kids:?}");
    let dev_license = issue(&dev);
    drop(dev);

    let prod_1 = Server::start(
        &dir.0,
        with_key(base.clone(), Some(LICENSE_SEED), Some("prod-1")),
    );
    assert_eq!(jwks_kids(&prod_1), ["prod-1"]);
    let prod_1_license = issue(&prod_1);
    let jwks = prod_1.get("/.well-known/jwks.json", None).text();
    let verifier = Verifier::new(Keyring::from_jwks(&jwks).unwrap());
    assert_eq!(
        verifier
            .verify(&dev_license, now())
            .unwrap_err()
            .code()
            .as_str(),
        "unknown_key_id"
    );
    assert_eq!(
        verifier.verify(&prod_1_license, now()).unwrap().kid,
        "prod-1"
    );
    drop(prod_1);

    // A rotation keeps the earlier configured key, still without the development one.
    let next = SigningKey::generate();
    let prod_2 = Server::start(
        &dir.0,
        with_key(
            base.clone(),
            Some(next.seed_base64().as_str()),
            Some("prod-2"),
        ),
    );
    assert_eq!(jwks_kids(&prod_2), ["prod-1", "prod-2"]);
    drop(prod_2);

    // A configured key may not take the development prefix.
    let log = Server::try_start(
        &dir.0,
        with_key(
            base.clone(),
            Some(next.seed_base64().as_str()),
            Some("dev-prod"),
        ),
        "127.0.0.1:0",
    )
    .err()
    .unwrap();
    assert!(log.contains("LICENSE_KEY_ID"), "{log}");

    // Development mode again: unchanged, every recorded key is published.
    let dev_again = Server::start(&dir.0, with_key(base.clone(), None, None));
    let kids = jwks_kids(&dev_again);
    assert_eq!(kids.len(), 3, "{kids:?}");
    assert!(kids.contains(&dev_kids[0]));
    drop(dev_again);

    // A development key named through LICENSE_KEY_ID still carries the prefix.
    let named = Server::start(&dir.0, with_key(base, None, Some("local")));
    assert!(jwks_kids(&named).contains(&"dev-local".to_owned()));
}

/// The test key recorded by an earlier start that allowed it is not published by a later start
/// that does not.
#[test]
fn an_earlier_test_key_is_published_only_while_allowed() {
    let dir = TempDir::new("zero-then-prod");
    let base = base_env(&sqlite_url(&dir.0));
    let mut allowed = with_key(base.clone(), Some(ZERO_SEED), Some("zero"));
    allowed.push(("DEV_HEALTH_ALLOW_TEST_KEYS".into(), "1".into()));
    drop(Server::start(&dir.0, allowed));
    let prod = with_key(base, Some(LICENSE_SEED), Some("prod-1"));
    assert_eq!(jwks_kids(&Server::start(&dir.0, prod.clone())), ["prod-1"]);
    let mut prod_allowed = prod;
    prod_allowed.push(("DEV_HEALTH_ALLOW_TEST_KEYS".into(), "1".into()));
    assert_eq!(
        jwks_kids(&Server::start(&dir.0, prod_allowed)),
        ["prod-1", "zero"]
    );
}
