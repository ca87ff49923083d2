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

use crate::claims::LicenseClaims;
use crate::error::{Error, Result};
use crate::keys::{decode_base64_any, PublicKey};
use crate::tier::Tier;
use crate::token::eddsa::EdDSA;

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
