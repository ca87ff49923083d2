//! Issuing (cargo feature `issue`): signing keys, v2 and v1 licenses, revocation lists.
//!
//! Left out of the verify-only WASM build so that no signing code ships to browsers.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jwt_compact::{AlgorithmExt, Claims, Header};
use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde_json::{json, Map, Value};
use zeroize::Zeroizing;

use crate::claims::{catalog_limit_name, LicenseClaims, LicenseType, LimitValue};
use crate::error::{Error, Result};
use crate::keys::{decode_base64_any, PublicKey};
use crate::tier::Tier;
use crate::token::eddsa::EdDSA;
use crate::token::TokenFormat;
use crate::verify::DEFAULT_ISSUER;

/// An Ed25519 signing key. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", self.public_key().to_base64())
    }
}

impl SigningKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> SigningKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(seed.as_mut());
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A key from its 32-byte seed. A 64-byte value (a NaCl/libsodium "secret key", seed and
    /// public key together) is refused with a message saying so.
    pub fn from_seed(seed: &[u8]) -> Result<SigningKey> {
        match seed.len() {
            32 => {
                let mut bytes = Zeroizing::new([0u8; 32]);
                bytes.copy_from_slice(seed);
                Ok(SigningKey(ed25519_dalek::SigningKey::from_bytes(&bytes)))
            }
            64 => Err(Error::key(
                "this is a 64-byte value where a 32-byte seed belongs (a NaCl/libsodium secret \
                 key is seed followed by public key): pass only the first 32 bytes, the seed",
            )),
            n => Err(Error::key(format!(
                "an Ed25519 seed is 32 bytes, found {n}"
            ))),
        }
    }

    /// Reads a private key written as base64 of its 32-byte seed, or as PKCS#8 PEM.
    pub fn parse(text: &str) -> Result<SigningKey> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return ed25519_dalek::SigningKey::from_pkcs8_pem(text)
                .map(SigningKey)
                .map_err(|_| Error::key("the PEM is not an Ed25519 PKCS#8 private key"));
        }
        let bytes = Zeroizing::new(
            decode_base64_any(text)
                .ok_or_else(|| Error::key("the private key is neither PEM nor base64"))?,
        );
        SigningKey::from_seed(&bytes)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from(self.0.verifying_key())
    }

    /// Base64 of the 32-byte seed (the dev-health-ops `LICENSE_PRIVATE_KEY` form).
    pub fn seed_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.to_bytes()))
    }

    /// The 32-byte seed (the private key as dev-health-ops and libsodium keep it).
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The key as PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        self.0
            .to_pkcs8_pem(Default::default())
            .map_err(|_| Error::key("the key cannot be written as PKCS#8"))
    }

    /// Signs raw bytes (for tests and the v1 format).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.0.sign(message).to_bytes()
    }
}

/// A random license id: `lic_` and 24 hex digits.
pub fn new_license_id() -> String {
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("lic_{hex}")
}

/// The claims of a license to sign, built from what an issuer decides; the one place where an
/// issuer's defaults live (issuer `fullchaos.studio`, a fresh license id, `self_hosted`, the
/// catalog's grace days), used by the CLI's `issue`, the server's admin route and its Stripe path.
///
/// [`ClaimsBuilder::build`] reads the result through the same schema a verifier applies, so a
/// license no verifier would accept (a bad feature or limit, a limit named twice) is refused
/// before it is signed, with the verifier's message.
///
/// ```
/// use dev_health_entitlements::issue::{saas_license, self_hosted_license};
/// use dev_health_entitlements::{LicenseType, Tier};
///
/// // A self-hosted customer's license: covers every org, the tier's grace after `exp`.
/// let claims = self_hosted_license("acme", Tier::Enterprise, 1_700_000_000, 1_731_536_000)
///     .org_name(Some("Acme".into()))
///     .feature("audit_log", true)
///     .limit("users", Some(50.0))
///     .build()?;
/// assert_eq!(claims.license_type, LicenseType::SelfHosted);
/// assert_eq!(claims.limits.get("max_users"), Some(&Some(50.0)));
/// assert_eq!(claims.grace_days, None); // the catalog's 30 days apply
///
/// // A SaaS org's license: only that org, and its grace is already inside `exp`.
/// let saas = saas_license("org_1", Tier::Team, 1_700_000_000, 1_702_592_000).build()?;
/// assert_eq!((saas.license_type, saas.grace_days), (LicenseType::Saas, Some(0)));
/// # Ok::<(), dev_health_entitlements::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClaimsBuilder {
    claims: LicenseClaims,
    features_json: Option<Map<String, Value>>,
    limits_json: Option<Map<String, Value>>,
}

/// A self-hosted license for `org_id` (`sub`): it covers every org of the instance it is
/// installed on, with the catalog's grace days for its tier after `exp`.
pub fn self_hosted_license(
    org_id: impl Into<String>,
    tier: Tier,
    issued_at: i64,
    expires_at: i64,
) -> ClaimsBuilder {
    ClaimsBuilder::new(org_id, tier, issued_at, expires_at)
}

/// A SaaS org's license, signed from its billing state (SPEC §5): it applies only to `org_id`,
/// and carries `grace_days: 0` because billing puts the grace inside `expires_at` already (the
/// period end plus the tier's grace, decided by the Stripe engine; SPEC §7.10).
pub fn saas_license(
    org_id: impl Into<String>,
    tier: Tier,
    issued_at: i64,
    expires_at: i64,
) -> ClaimsBuilder {
    ClaimsBuilder::new(org_id, tier, issued_at, expires_at)
        .license_type(LicenseType::Saas)
        .grace_days(Some(0))
}

impl ClaimsBuilder {
    /// A `self_hosted` license for `org_id` of `tier`, valid from `issued_at` to `expires_at`
    /// (Unix seconds), with issuer `fullchaos.studio` and a fresh license id.
    pub fn new(org_id: impl Into<String>, tier: Tier, issued_at: i64, expires_at: i64) -> Self {
        ClaimsBuilder::from_claims(LicenseClaims {
            iss: DEFAULT_ISSUER.to_owned(),
            sub: org_id.into(),
            aud: Vec::new(),
            iat: issued_at,
            nbf: None,
            exp: expires_at,
            license_id: new_license_id(),
            tier,
            features: Default::default(),
            limits: Default::default(),
            grace_days: None,
            org_name: None,
            contact_email: None,
            license_type: LicenseType::default(),
            extra: Map::new(),
        })
    }

    /// Starts from a license's claims (to re-sign it: every claim kept unless replaced).
    pub fn from_claims(claims: LicenseClaims) -> Self {
        ClaimsBuilder {
            claims,
            features_json: None,
            limits_json: None,
        }
    }

    /// The issuer (`iss`).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.claims.iss = issuer.into();
        self
    }

    /// The org the license is for (`sub`).
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.claims.sub = org_id.into();
        self
    }

    /// The tier.
    pub fn tier(mut self, tier: Tier) -> Self {
        self.claims.tier = tier;
        self
    }

    /// When it was issued and when it expires (Unix seconds); clears `nbf`.
    pub fn validity(mut self, issued_at: i64, expires_at: i64) -> Self {
        self.claims.iat = issued_at;
        self.claims.exp = expires_at;
        self.claims.nbf = None;
        self
    }

    /// The license id (`jti`; v1 `license_id`), instead of a fresh one.
    pub fn license_id(mut self, id: impl Into<String>) -> Self {
        self.claims.license_id = id.into();
        self
    }

    /// How the license is sold (decides whether it covers one org or the instance).
    pub fn license_type(mut self, license_type: LicenseType) -> Self {
        self.claims.license_type = license_type;
        self
    }

    /// Adds a deployment id the license is for (`aud`).
    pub fn audience(mut self, deployment_id: impl Into<String>) -> Self {
        self.claims.aud.push(deployment_id.into());
        self
    }

    /// An explicit grant (`true`) or removal (`false`) on top of the tier.
    pub fn feature(mut self, key: impl Into<String>, enabled: bool) -> Self {
        self.claims.features.insert(key.into(), enabled);
        self
    }

    /// A limit, by its token name (`users`, `repos`, `api_rate`, `backfill_days`) or catalog
    /// name; `None` is unlimited.
    pub fn limit(mut self, name: &str, value: LimitValue) -> Self {
        self.claims
            .limits
            .insert(catalog_limit_name(name).to_owned(), value);
        self
    }

    /// Features as a JSON object (`{key: bool}`), read by [`ClaimsBuilder::build`] with the
    /// verifier's schema (an HTTP request's body, say).
    pub fn features_json(mut self, features: Map<String, Value>) -> Self {
        self.features_json = Some(features);
        self
    }

    /// Limits as a JSON object (`{name: number | -1 | null}`), read by [`ClaimsBuilder::build`]
    /// with the verifier's schema.
    pub fn limits_json(mut self, limits: Map<String, Value>) -> Self {
        self.limits_json = Some(limits);
        self
    }

    /// Grace days after `exp`; `None` leaves the catalog's default for the tier.
    pub fn grace_days(mut self, days: Option<u32>) -> Self {
        self.claims.grace_days = days;
        self
    }

    /// The org's display name.
    pub fn org_name(mut self, name: Option<String>) -> Self {
        self.claims.org_name = name;
        self
    }

    /// A contact email.
    pub fn contact_email(mut self, email: Option<String>) -> Self {
        self.claims.contact_email = email;
        self
    }

    /// The claims, read back through the verifier's schema (SPEC §1.1): what a verifier of the
    /// signed token will see. Fails with `invalid_claims` naming the claim otherwise.
    pub fn build(self) -> Result<LicenseClaims> {
        let mut object = match self.claims.to_json() {
            Value::Object(object) => object,
            _ => return Err(Error::input("license claims are a JSON object")),
        };
        for (name, extra) in [
            ("features", self.features_json),
            ("limits", self.limits_json),
        ] {
            let Some(extra) = extra else { continue };
            match object.get_mut(name) {
                Some(Value::Object(members)) => members.extend(extra),
                _ => {
                    object.insert(name.to_owned(), Value::Object(extra));
                }
            }
        }
        LicenseClaims::from_json(object, TokenFormat::V2)
    }
}

fn sign_jws(claims: Value, key: &SigningKey, kid: &str) -> Result<String> {
    let header = Header::empty().with_key_id(kid).with_token_type("JWT");
    EdDSA
        .token(&header, &Claims::new(claims), &key.0)
        .map_err(|e| Error::input(format!("the claims cannot be encoded: {e}")))
}

/// Signs a v2 license (EdDSA JWT) with the given claims.
pub fn sign_v2(claims: &LicenseClaims, key: &SigningKey, kid: &str) -> Result<String> {
    if kid.is_empty() {
        return Err(Error::input("a v2 license needs a key id"));
    }
    sign_jws(claims.to_json(), key, kid)
}

/// Signs arbitrary claims as an EdDSA JWT (tests and vectors use this for hostile claim sets).
pub fn sign_raw_jwt(claims: Map<String, Value>, key: &SigningKey, kid: &str) -> Result<String> {
    sign_jws(Value::Object(claims), key, kid)
}

#[derive(Serialize)]
struct V1Limits {
    users: i64,
    repos: i64,
    api_rate: i64,
    backfill_days: Option<i64>,
}

/// A feature map written in the order given (dev-health-ops writes its dict's insertion order).
struct OrderedFeatures<'a>(&'a [(String, bool)]);

impl Serialize for OrderedFeatures<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, enabled) in self.0 {
            map.serialize_entry(key, enabled)?;
        }
        map.end()
    }
}

/// The v1 payload in dev-health-ops' field order.
#[derive(Serialize)]
struct V1Payload<'a> {
    iss: &'a str,
    sub: &'a str,
    iat: i64,
    exp: i64,
    tier: &'a str,
    features: Option<OrderedFeatures<'a>>,
    limits: V1Limits,
    grace_days: u32,
    org_name: Option<&'a str>,
    contact_email: Option<&'a str>,
    /// `null` when the claims have none (dev-health-ops' model allows it).
    license_id: Option<&'a str>,
}

/// dev-health-ops' signing defaults per tier: users, repos, api rate, backfill days, grace.
fn v1_defaults(tier: Tier) -> (i64, i64, i64, Option<i64>, u32) {
    match tier {
        Tier::Community => (5, 3, 100, Some(30), 0),
        Tier::Team => (20, 10, 500, Some(90), 14),
        Tier::Enterprise => (-1, -1, -1, None, 30),
    }
}

/// Signs a v1 legacy license the way dev-health-ops does: compact JSON payload in its field
/// order, `base64(payload).base64(signature)`. Limits the claims leave out take dev-health-ops'
/// defaults for the tier. The feature map is written in key order, `null` when empty; to write
/// it in another order (as dev-health-ops writes its dict), use [`sign_v1_with_features`].
pub fn sign_v1(claims: &LicenseClaims, key: &SigningKey) -> Result<String> {
    let features: Vec<(String, bool)> = claims
        .features
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    sign_v1_payload(
        claims,
        (!features.is_empty()).then_some(features.as_slice()),
        key,
    )
}

/// [`sign_v1`] with the feature map written exactly as `features` lists it, member order kept
/// (`claims.features` is not used), so that a token is byte-for-byte what dev-health-ops signs
/// for the same dict. A key listed twice is refused (`invalid_input`): a verifier would keep one.
pub fn sign_v1_with_features(
    claims: &LicenseClaims,
    features: &[(String, bool)],
    key: &SigningKey,
) -> Result<String> {
    for (i, (name, _)) in features.iter().enumerate() {
        if features.iter().take(i).any(|(earlier, _)| earlier == name) {
            return Err(Error::input(format!(
                "the feature {name:?} is listed twice"
            )));
        }
    }
    sign_v1_payload(claims, Some(features), key)
}

fn sign_v1_payload(
    claims: &LicenseClaims,
    features: Option<&[(String, bool)]>,
    key: &SigningKey,
) -> Result<String> {
    let (users, repos, api_rate, backfill, grace) = v1_defaults(claims.tier);
    let limit = |name: &str, default: Option<i64>| -> Option<i64> {
        match claims.limits.get(name) {
            Some(value) => value.map(|v: f64| v as i64),
            None => default,
        }
    };
    let unlimited_as_minus_one = |v: Option<i64>| v.unwrap_or(-1);
    let payload = V1Payload {
        iss: &claims.iss,
        sub: &claims.sub,
        iat: claims.iat,
        exp: claims.exp,
        tier: claims.tier.as_str(),
        features: features.map(OrderedFeatures),
        limits: V1Limits {
            users: unlimited_as_minus_one(limit("max_users", Some(users).filter(|&u| u >= 0))),
            repos: unlimited_as_minus_one(limit("max_repos", Some(repos).filter(|&r| r >= 0))),
            api_rate: unlimited_as_minus_one(limit(
                "api_rate_limit_per_min",
                Some(api_rate).filter(|&a| a >= 0),
            )),
            backfill_days: limit("backfill_days", backfill),
        },
        grace_days: claims.grace_days.unwrap_or(grace),
        org_name: claims.org_name.as_deref(),
        contact_email: claims.contact_email.as_deref(),
        license_id: Some(claims.license_id.as_str()).filter(|id| !id.is_empty()),
    };
    let bytes = serde_json::to_vec(&payload)
        .map_err(|e| Error::input(format!("the payload cannot be encoded: {e}")))?;
    let signature = key.sign_bytes(&bytes);
    Ok(format!(
        "{}.{}",
        STANDARD.encode(&bytes),
        STANDARD.encode(signature)
    ))
}

/// Signs a revocation list `{"iss","iat","exp","revoked":[...]}` (SPEC §1.5).
pub fn sign_revocation_list<S: AsRef<str>>(
    revoked: &[S],
    issuer: &str,
    issued_at: i64,
    expires_at: i64,
    key: &SigningKey,
    kid: &str,
) -> Result<String> {
    let ids: Vec<&str> = revoked.iter().map(AsRef::as_ref).collect();
    sign_jws(
        json!({"iss": issuer, "iat": issued_at, "exp": expires_at, "revoked": ids}),
        key,
        kid,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::ErrorCode;

    const NOW: i64 = 1_700_000_000;
    const YEAR: i64 = 365 * 86_400;

    #[test]
    fn a_saas_license_covers_its_org_only_and_carries_no_grace_of_its_own() {
        let claims = saas_license("org_1", Tier::Team, NOW, NOW + YEAR)
            .build()
            .unwrap();
        assert_eq!(claims.license_type, LicenseType::Saas);
        assert_eq!(claims.grace_days, Some(0));
        assert_eq!(
            claims.grace_ends_at(&Catalog::default_catalog().unwrap()),
            NOW + YEAR
        );
    }

    #[test]
    fn a_self_hosted_license_takes_the_catalogs_grace_for_its_tier() {
        let claims = self_hosted_license("acme", Tier::Team, NOW, NOW + YEAR)
            .build()
            .unwrap();
        assert_eq!(claims.license_type, LicenseType::SelfHosted);
        assert_eq!(claims.iss, DEFAULT_ISSUER);
        assert!(claims.license_id.starts_with("lic_"));
        let catalog = Catalog::default_catalog().unwrap();
        assert_eq!(claims.grace_ends_at(&catalog), NOW + YEAR + 14 * 86_400);
    }

    #[test]
    fn token_limit_names_become_catalog_names() {
        let claims = self_hosted_license("acme", Tier::Team, NOW, NOW + YEAR)
            .limit("users", Some(10.0))
            .limit("repos", None)
            .build()
            .unwrap();
        assert_eq!(claims.limits.get("max_users"), Some(&Some(10.0)));
        assert_eq!(claims.limits.get("max_repos"), Some(&None));
    }

    #[test]
    fn claims_a_verifier_would_refuse_are_refused_before_signing() {
        let mut limits = Map::new();
        limits.insert("users".into(), 5.into());
        limits.insert("max_users".into(), 6.into());
        let err = self_hosted_license("acme", Tier::Team, NOW, NOW + YEAR)
            .limits_json(limits)
            .build()
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidClaims);

        let mut features = Map::new();
        features.insert("sso_saml".into(), "yes".into());
        let err = self_hosted_license("acme", Tier::Team, NOW, NOW + YEAR)
            .features_json(features)
            .build()
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidClaims);
        assert!(err.message().contains("sso_saml"), "{}", err.message());
    }

    #[test]
    fn re_signing_keeps_every_claim_not_replaced() {
        let old = self_hosted_license("acme", Tier::Enterprise, NOW, NOW + YEAR)
            .org_name(Some("Acme".into()))
            .feature("audit_log", false)
            .grace_days(Some(3))
            .build()
            .unwrap();
        let new = ClaimsBuilder::from_claims(old.clone())
            .validity(NOW + 10, NOW + 2 * YEAR)
            .build()
            .unwrap();
        assert_eq!(new.license_id, old.license_id);
        assert_eq!(new.org_name.as_deref(), Some("Acme"));
        assert_eq!(new.features.get("audit_log"), Some(&false));
        assert_eq!(new.grace_days, Some(3));
        assert_eq!((new.iat, new.exp), (NOW + 10, NOW + 2 * YEAR));
    }
}
