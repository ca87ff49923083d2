//! Benchmarks of the engine against what a user would write without it; see `benches/core.rs`,
//! `src/bin/ratios.rs` and `make bench-rust`.
//!
//! The fixture lives here so the criterion bench and its tests share one definition of "the token".

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use dev_health_entitlements::issue::{sign_v1, sign_v2, SigningKey};
use dev_health_entitlements::{
    Catalog, Entitlements, Error, ErrorCode, Keyring, License, LicenseClaims, LicenseType,
    Override, ResolveInput, Tier, Verifier,
};
use ed25519_dalek::{Signature, VerifyingKey};

/// The criterion group every benchmark of this crate belongs to.
pub const GROUP: &str = "core";

/// Benchmark ids (the directory names under `target/criterion/core/`).
pub mod ids {
    /// `Verifier::verify` of the v2 token.
    pub const VERIFY_V2: &str = "verify_v2";
    /// Bare ed25519-dalek `verify_strict` of the same token's signing input.
    pub const BARE_VERIFY_STRICT: &str = "bare_verify_strict";
    /// `Verifier::verify` of the same claims as a v1 token.
    pub const VERIFY_V1: &str = "verify_v1";
    /// `Entitlements::has` of a granted feature.
    pub const HAS_HIT: &str = "has_hit";
    /// `Entitlements::has` of a key the catalog does not know.
    pub const HAS_MISS: &str = "has_miss";
    /// `HashSet<&str>::contains` of the same granted feature.
    pub const HASHSET_HIT: &str = "hashset_hit";
    /// `HashSet<&str>::contains` of the same unknown key.
    pub const HASHSET_MISS: &str = "hashset_miss";
    /// `Entitlements::check` of a granted feature.
    pub const CHECK: &str = "check";
    /// `Entitlements::check_limit` of a limit set by the license.
    pub const CHECK_LIMIT: &str = "check_limit";
    /// `Entitlements::resolve` of the license with two overrides.
    pub const RESOLVE: &str = "resolve";
}

/// The feature every `has`/`contains` hit benchmark asks about.
pub const FEATURE_HIT: &str = "sso_saml";
/// A key no catalog has.
pub const FEATURE_MISS: &str = "quantum_billing";
/// The limit `check_limit` asks about, and the value it checks.
pub const LIMIT: (&str, f64) = ("max_users", 42.0);
/// The moment everything is verified and resolved at (2026-01-01T00:00:00Z).
pub const NOW: i64 = 1_767_225_600;
/// The key id of the fixture key.
pub const KID: &str = "bench-2026";
const SEED: [u8; 32] = [7; 32];

/// One signed license and everything the benchmarks compare on it.
#[derive(Debug)]
pub struct Fixture {
    /// The v2 token (EdDSA JWT).
    pub token_v2: String,
    /// The same claims as a v1 legacy token.
    pub token_v1: String,
    /// A verifier trusting the fixture key.
    pub verifier: Verifier,
    /// The raw ed25519-dalek key, for the bare baseline.
    pub verifying_key: VerifyingKey,
    /// `header.claims` of `token_v2`: exactly the bytes its signature covers.
    pub signing_input: Vec<u8>,
    /// The decoded signature of `token_v2`.
    pub signature: Signature,
    /// The verified v2 license.
    pub license: License,
    /// The default catalog.
    pub catalog: Arc<Catalog>,
    /// Org overrides passed to `resolve`.
    pub overrides: Vec<Override>,
    /// The license resolved for its org with `overrides`.
    pub entitlements: Entitlements,
}

impl Fixture {
    /// The `ResolveInput` the `resolve` benchmark uses.
    pub fn resolve_input(&self) -> ResolveInput<'_> {
        ResolveInput {
            license: Some(&self.license),
            org_id: Some(&self.license.claims.sub),
            org_tier: Some(Tier::Community),
            overrides: &self.overrides,
            kill_switches: None,
            now: NOW,
        }
    }

    /// The feature keys the resolved entitlements allow, as a user would collect them into a
    /// `HashSet<&str>` (default SipHash) instead of using the engine.
    pub fn allowed_feature_set(&self) -> HashSet<&str> {
        self.catalog
            .features()
            .iter()
            .map(|f| f.key.as_str())
            .filter(|key| self.entitlements.has(key))
            .collect()
    }
}

/// A realistic Team license with an SSO add-on: iss, sub, iat, exp, jti, tier, three features,
/// two limits, org_name (and the license_type every issued v2 license carries).
pub fn claims() -> LicenseClaims {
    LicenseClaims {
        iss: dev_health_entitlements::DEFAULT_ISSUER.to_owned(),
        sub: "org_7f3a9c2e51b84d0f".to_owned(),
        aud: Vec::new(),
        iat: NOW - 86_400,
        nbf: None,
        exp: NOW + 365 * 86_400,
        license_id: "lic_3f9a1c7e2b5d8a0c4e6f1b2d".to_owned(),
        tier: Tier::Team,
        features: BTreeMap::from([
            ("sso_saml".to_owned(), true),
            ("audit_log".to_owned(), true),
            ("webhooks".to_owned(), false),
        ]),
        limits: BTreeMap::from([
            ("max_users".to_owned(), Some(50.0)),
            ("max_orgs".to_owned(), Some(5.0)),
        ]),
        grace_days: None,
        org_name: Some("Acme Robotics GmbH".to_owned()),
        contact_email: None,
        license_type: LicenseType::SelfHosted,
        extra: serde_json::Map::new(),
    }
}

/// Signs the fixture license, verifies it once, resolves it, and splits the v2 token into the
/// bare baseline's inputs.
pub fn fixture() -> Result<Fixture, Error> {
    let key = SigningKey::from_seed(&SEED)?;
    let claims = claims();
    let token_v2 = sign_v2(&claims, &key, KID)?;
    let token_v1 = sign_v1(&claims, &key)?;
    let mut keyring = Keyring::new();
    keyring.add(KID, key.public_key());
    let verifier = Verifier::new(keyring);
    let license = verifier.verify(&token_v2, NOW)?;

    let (signing_input, signature_b64) = token_v2.rsplit_once('.').ok_or_else(|| {
        Error::new(
            ErrorCode::MalformedToken,
            "the fixture token has no signature",
        )
    })?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::MalformedToken,
                "the fixture signature does not decode",
            )
        })?;
    let verifying_key = VerifyingKey::from_bytes(&key.public_key().to_bytes()).map_err(|_| {
        Error::new(
            ErrorCode::InvalidKey,
            "the fixture public key does not decode",
        )
    })?;

    let catalog = Catalog::default_catalog()?;
    let overrides = vec![
        Override {
            feature: "capacity_forecast".to_owned(),
            enabled: false,
            expires_at: Some(NOW + 30 * 86_400),
        },
        Override {
            feature: "ip_allowlist".to_owned(),
            enabled: true,
            expires_at: None,
        },
    ];
    let mut fixture = Fixture {
        signing_input: signing_input.as_bytes().to_vec(),
        token_v2,
        token_v1,
        verifier,
        verifying_key,
        signature,
        license,
        entitlements: Entitlements::resolve(catalog.clone(), &ResolveInput::default()),
        catalog,
        overrides,
    };
    fixture.entitlements = Entitlements::resolve(fixture.catalog.clone(), &fixture.resolve_input());
    Ok(fixture)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dev_health_entitlements::{LicenseStatus, TokenFormat};

    #[test]
    fn the_fixture_verifies_and_the_baselines_agree_with_the_engine() {
        let f = fixture().unwrap();
        assert_eq!(f.license.status, LicenseStatus::Active);
        assert_eq!(f.license.format, TokenFormat::V2);
        assert!(f
            .verifying_key
            .verify_strict(&f.signing_input, &f.signature)
            .is_ok());
        let v1 = f.verifier.verify(&f.token_v1, NOW).unwrap();
        assert_eq!(v1.format, TokenFormat::V1);
        assert_eq!(v1.claims.features, f.license.claims.features);

        let set = f.allowed_feature_set();
        assert!(f.entitlements.has(FEATURE_HIT));
        assert!(set.contains(FEATURE_HIT));
        assert!(!f.entitlements.has(FEATURE_MISS));
        assert!(!set.contains(FEATURE_MISS));
        for feature in f.catalog.features() {
            let key = feature.key.as_str();
            assert_eq!(f.entitlements.has(key), set.contains(key), "{key}");
        }
        assert!(!set.contains("webhooks"), "the license removes webhooks");
        assert!(!set.contains("capacity_forecast"), "an override removes it");
        assert!(set.contains("ip_allowlist"), "an override grants it");
        assert!(f.entitlements.check_limit(LIMIT.0, LIMIT.1).allowed);
        assert!(!f.entitlements.check_limit(LIMIT.0, 51.0).allowed);
    }

    #[test]
    fn a_tampered_signing_input_fails_the_bare_baseline() {
        let f = fixture().unwrap();
        let mut input = f.signing_input.clone();
        let last = input.len() - 1;
        input[last] ^= 1;
        assert!(f.verifying_key.verify_strict(&input, &f.signature).is_err());
    }
}
