//! Public keys, JWKs and the keyring that maps `kid` to a trusted key (SPEC §1.3).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorCode, Result};

/// Largest JWKS document or key list accepted, in bytes.
pub const MAX_KEYS_DOCUMENT_BYTES: usize = 256 * 1024;

/// An Ed25519 public key that is safe to verify with: a valid curve point, not of small order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads a key from its 32 raw bytes. Small-order ("weak") keys are refused: any signature
    /// made for them is forgeable.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey> {
        let raw: &[u8; 32] = bytes.try_into().map_err(|_| match bytes.len() {
            64 => Error::key(
                "found 64 bytes where a 32-byte public key belongs: this looks like a secret key \
                 (seed and public key together); publish only the public key",
            ),
            n => Error::key(format!("an Ed25519 public key is 32 bytes, found {n}")),
        })?;
        let key = VerifyingKey::from_bytes(raw)
            .map_err(|_| Error::key("the public key is not a valid Ed25519 point"))?;
        if key.is_weak() {
            return Err(Error::key("the public key is a small-order (weak) point"));
        }
        Ok(PublicKey(key))
    }

    /// Reads a key written as base64 of its 32 raw bytes (standard or URL-safe alphabet).
    pub fn from_base64(text: &str) -> Result<PublicKey> {
        let bytes = decode_base64_any(text.trim())
            .ok_or_else(|| Error::key("the public key is not valid base64"))?;
        PublicKey::from_bytes(&bytes)
    }

    /// Reads an OKP JWK (RFC 8037): `{"kty":"OKP","crv":"Ed25519","x":...}`.
    pub fn from_jwk(jwk: &Value) -> Result<PublicKey> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| Error::key("a JWK must be a JSON object"))?;
        let kty = obj.get("kty").and_then(Value::as_str);
        if kty != Some("OKP") {
            return Err(Error::key(format!(
                "JWK `kty` must be \"OKP\", found {}",
                describe(obj.get("kty"))
            )));
        }
        let crv = obj.get("crv").and_then(Value::as_str);
        if crv != Some("Ed25519") {
            return Err(Error::key(format!(
                "JWK `crv` must be \"Ed25519\", found {}",
                describe(obj.get("crv"))
            )));
        }
        if obj.contains_key("d") {
            return Err(Error::key(
                "the JWK holds a private key (`d`); publish only the public part",
            ));
        }
        let x = obj
            .get("x")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::key("JWK `x` is missing or not a string"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(x)
            .map_err(|_| Error::key("JWK `x` is not unpadded base64url"))?;
        PublicKey::from_bytes(&bytes)
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Base64 (standard alphabet, padded) of the raw bytes, as dev-health-ops writes keys.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// The key as an OKP JWK with `kid`, `alg` and `use`.
    pub fn to_jwk(&self, kid: &str) -> Value {
        crate::json::object(&mut [
            ("kty", "OKP".into()),
            ("crv", "Ed25519".into()),
            ("x", URL_SAFE_NO_PAD.encode(self.0.as_bytes()).into()),
            ("kid", kid.into()),
            ("alg", "EdDSA".into()),
            ("use", "sig".into()),
        ])
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl From<VerifyingKey> for PublicKey {
    fn from(key: VerifyingKey) -> Self {
        PublicKey(key)
    }
}

/// One trusted key with its id and optional validity window (Unix seconds, inclusive).
///
/// The window is checked against the token's `iat`: a key retired at `not_after` stops verifying
/// tokens issued after that moment, while licenses it signed before then keep working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key id (`kid`).
    pub kid: String,
    /// The public key.
    pub key: PublicKey,
    /// Tokens issued before this moment are refused with `key_not_valid_now`.
    pub not_before: Option<i64>,
    /// Tokens issued after this moment are refused with `key_not_valid_now`.
    pub not_after: Option<i64>,
}

impl KeyEntry {
    /// Whether a token issued at `issued_at` falls inside this key's window.
    pub fn valid_at(&self, issued_at: i64) -> bool {
        self.not_before.is_none_or(|nb| issued_at >= nb)
            && self.not_after.is_none_or(|na| issued_at <= na)
    }

    /// The window check of every token this key verifies (licenses and sessions): at the token's
    /// `iat`, or at `now` for a token that has none; `key_not_valid_now` outside the window.
    pub(crate) fn check_window(&self, iat: Option<i64>, now: i64) -> Result<()> {
        if self.valid_at(iat.unwrap_or(now)) {
            return Ok(());
        }
        let message = match iat {
            Some(iat) => format!(
                "the key {:?} was not valid when the token was issued (iat {iat})",
                self.kid
            ),
            None => format!(
                "the key {:?} is not valid now ({now}), and the token has no iat",
                self.kid
            ),
        };
        Err(Error::new(ErrorCode::KeyNotValidNow, message))
    }
}

/// The trusted public keys, by `kid`.
///
/// ```
/// use dev_health_entitlements::Keyring;
/// let keys = Keyring::parse("k1=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
/// assert!(keys.get("k1").is_some());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyring {
    entries: Vec<KeyEntry>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// The keys compiled in from the JWKS file named by `DEV_HEALTH_EMBEDDED_JWKS` at build time
    /// (empty when it was not set).
    pub fn embedded() -> Result<Keyring> {
        static CELL: std::sync::OnceLock<Result<Keyring>> = std::sync::OnceLock::new();
        CELL.get_or_init(|| {
            let mut ring = Keyring::from_jwks(include_str!(concat!(
                env!("OUT_DIR"),
                "/embedded_jwks.json"
            )))?;
            ring.refuse_test_keys(false)?;
            Ok(ring)
        })
        .clone()
    }

    /// Adds a key, replacing any key with the same `kid`.
    pub fn insert(&mut self, entry: KeyEntry) {
        self.entries.retain(|e| e.kid != entry.kid);
        self.entries.push(entry);
    }

    /// Adds a key without a validity window.
    pub fn add(&mut self, kid: impl Into<String>, key: PublicKey) {
        self.insert(KeyEntry {
            kid: kid.into(),
            key,
            not_before: None,
            not_after: None,
        });
    }

    /// Adds every key of `other`, its keys replacing ours where the `kid`s are equal.
    pub fn extend(&mut self, other: Keyring) {
        for entry in other.entries {
            self.insert(entry);
        }
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&KeyEntry> {
        self.entries.iter().find(|e| e.kid == kid)
    }

    /// All keys, in insertion order.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the keyring has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads a JWKS document `{"keys":[...]}` of OKP keys. Each key needs a `kid`; the optional
    /// members `not_before` and `not_after` (Unix seconds) set its validity window.
    pub fn from_jwks(json: &str) -> Result<Keyring> {
        if json.len() > MAX_KEYS_DOCUMENT_BYTES {
            return Err(Error::key(format!(
                "the JWKS document is {} bytes; the limit is {MAX_KEYS_DOCUMENT_BYTES}",
                json.len()
            )));
        }
        let doc: Value = crate::json::parse(json.as_bytes())
            .map_err(|e| Error::key(format!("the JWKS document is not valid JSON: {e}")))?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::key("a JWKS document needs a `keys` array"))?;
        let mut ring = Keyring::new();
        for (i, jwk) in keys.iter().enumerate() {
            let entry = key_entry_from_jwk(jwk)
                .map_err(|e| Error::key(format!("JWKS key #{i}: {}", e.message())))?;
            if ring.get(&entry.kid).is_some() {
                return Err(Error::key(format!(
                    "JWKS key #{i}: the kid {:?} appears twice",
                    entry.kid
                )));
            }
            ring.insert(entry);
        }
        Ok(ring)
    }

    /// Reads either a JWKS document or a `kid=base64,kid=base64` list (the forms of
    /// `DEV_HEALTH_LICENSE_PUBLIC_KEYS`). A bare base64 key gets the kid `default`.
    ///
    /// A kid is 1 to 64 characters of `A-Z a-z 0-9 . _ : -`; anything else before an `=` is read
    /// as part of a key. Errors name a key by its position, never by text that could be a secret.
    pub fn parse(text: &str) -> Result<Keyring> {
        if text.len() > MAX_KEYS_DOCUMENT_BYTES {
            return Err(Error::key("the key list is too long"));
        }
        let text = text.trim();
        if text.starts_with('{') {
            return Keyring::from_jwks(text);
        }
        if text.starts_with("-----BEGIN") {
            return Err(Error::key(
                "this is a PEM document; public keys are base64 of 32 bytes or an OKP JWK \
                 (never pass a private key where public keys belong)",
            ));
        }
        let mut ring = Keyring::new();
        let mut position = 0;
        for item in text.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            position += 1;
            let (kid, key) = match item.split_once('=') {
                Some((kid, key)) if is_kid(kid.trim()) && !key.trim_matches('=').is_empty() => {
                    (kid.trim(), key.trim())
                }
                _ => ("default", item),
            };
            let key = PublicKey::from_base64(key)
                .map_err(|e| Error::key(format!("key #{position}: {}", e.message())))?;
            if ring.get(kid).is_some() {
                return Err(Error::key(format!(
                    "key #{position}: the kid {kid:?} appears twice"
                )));
            }
            ring.add(kid, key);
        }
        if ring.is_empty() {
            return Err(Error::key("the key list holds no keys"));
        }
        Ok(ring)
    }

    /// Refuses the keyring when it holds a documented test key (see [`is_test_key`]: the
    /// all-zero seed's, RFC 8032's), unless `allow` is set, saying which key it is. Used on every
    /// key source a deployment does not choose per call: the embedded keys and the environment.
    pub fn refuse_test_keys(&mut self, allow: bool) -> Result<()> {
        if allow {
            return Ok(());
        }
        for entry in &self.entries {
            if let Some(name) = test_key_name(&entry.key) {
                return Err(Error::key(format!(
                    "the key {:?} is {name}, whose secret is published so anyone can sign \
                     with it; set DEV_HEALTH_ALLOW_TEST_KEYS=1 to trust it for local testing",
                    entry.kid
                )));
            }
        }
        Ok(())
    }

    /// The keyring as a JWKS document (with each key's window, where set).
    pub fn to_jwks(&self) -> Value {
        let mut keys = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let mut jwk = e.key.to_jwk(&e.kid);
            if let Some(obj) = jwk.as_object_mut() {
                if let Some(nb) = e.not_before {
                    obj.insert("not_before".into(), nb.into());
                }
                if let Some(na) = e.not_after {
                    obj.insert("not_after".into(), na.into());
                }
            }
            keys.push(jwk);
        }
        crate::json::object(&mut [("keys", keys.into())])
    }
}

fn key_entry_from_jwk(jwk: &Value) -> Result<KeyEntry> {
    let key = PublicKey::from_jwk(jwk)?;
    let obj: Option<&Map<String, Value>> = jwk.as_object();
    let field = |name: &str| obj.and_then(|o| o.get(name));
    let kid = field("kid")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| Error::key("JWK `kid` is missing or empty"))?;
    if let Some(alg) = field("alg") {
        if alg.as_str() != Some("EdDSA") {
            return Err(Error::key(format!(
                "JWK `alg` must be \"EdDSA\", found {}",
                describe(Some(alg))
            )));
        }
    }
    let window = |name: &str| -> Result<Option<i64>> {
        match field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                Error::key(format!("JWK `{name}` must be an integer (Unix seconds)"))
            }),
        }
    };
    Ok(KeyEntry {
        kid: kid.to_owned(),
        key,
        not_before: window("not_before")?,
        not_after: window("not_after")?,
    })
}

/// The public key of the all-zero seed, dev-health-ops' documented test key pair.
pub const TEST_PUBLIC_KEY_BASE64: &str = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";

/// Public keys whose secret seeds are published, so that anyone can sign with them (base64, with
/// where the secret is published): never trusted from the environment or the embedded keys
/// unless `DEV_HEALTH_ALLOW_TEST_KEYS=1`.
pub const TEST_PUBLIC_KEYS: [(&str, &str); 4] = [
    (TEST_PUBLIC_KEY_BASE64, "the all-zero-seed test key"),
    (
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
        "the RFC 8032 §7.1 TEST 1 key",
    ),
    (
        "PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=",
        "the RFC 8032 §7.1 TEST 2 key",
    ),
    (
        "/FHNjmIYoaONpH7QAjDwWAgW7RO6MwOsXeuRFUiQgCU=",
        "the RFC 8032 §7.1 TEST 3 key",
    ),
];

/// The environment variable that, set to `1`, lets the documented test keys
/// ([`TEST_PUBLIC_KEYS`]) be trusted where they are otherwise refused (SPEC §7.4).
pub const ALLOW_TEST_KEYS_ENV: &str = "DEV_HEALTH_ALLOW_TEST_KEYS";

/// Whether `lookup` (the environment, or a host's stand-in for it) sets
/// [`ALLOW_TEST_KEYS_ENV`] to `1`: the argument to give [`Keyring::refuse_test_keys`].
///
/// ```
/// use dev_health_entitlements::keys::test_keys_allowed;
/// assert!(test_keys_allowed(|_| Some(" 1 ".to_owned())));
/// assert!(!test_keys_allowed(|_| Some("true".to_owned())));
/// assert!(!test_keys_allowed(|_| None));
/// ```
pub fn test_keys_allowed(lookup: impl Fn(&str) -> Option<String>) -> bool {
    lookup(ALLOW_TEST_KEYS_ENV).is_some_and(|v| v.trim() == "1")
}

/// Whether `key` is a documented test key that anyone can sign with (one of
/// [`TEST_PUBLIC_KEYS`]: the all-zero seed's, or RFC 8032's TEST 1 to 3).
///
/// ```
/// use dev_health_entitlements::keys::is_test_key;
/// use dev_health_entitlements::PublicKey;
/// let zero_seed = PublicKey::from_base64("O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
/// assert!(is_test_key(&zero_seed));
/// ```
pub fn is_test_key(key: &PublicKey) -> bool {
    test_key_name(key).is_some()
}

/// Which documented test key `key` is, if it is one.
fn test_key_name(key: &PublicKey) -> Option<&'static str> {
    let base64 = key.to_base64();
    TEST_PUBLIC_KEYS
        .iter()
        .find(|(known, _)| *known == base64)
        .map(|(_, name)| *name)
}

fn is_kid(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Decodes base64 in the standard or URL-safe alphabet, padded or not.
pub(crate) fn decode_base64_any(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE};
    [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// Says what a JSON value is without echoing long or secret content.
pub(crate) fn describe(value: Option<&Value>) -> String {
    match value {
        None => "nothing".to_owned(),
        Some(Value::String(s)) if s.len() <= 40 => format!("{s:?}"),
        Some(Value::String(_)) => "a long string".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(_)) => "an array".to_owned(),
        Some(Value::Object(_)) => "an object".to_owned(),
    }
}

/// Creates the error for an unknown `kid` (shared by license and session verification).
pub(crate) fn unknown_kid(kid: &str) -> Error {
    let shown = crate::error::shown(kid, 64, "(a long kid)");
    Error::new(
        ErrorCode::UnknownKeyId,
        format!("no trusted key has the kid {shown:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ZERO_SEED_PUBLIC: &str = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";

    #[test]
    fn a_base64_public_key_round_trips_through_a_jwk() {
        let key = PublicKey::from_base64(ZERO_SEED_PUBLIC).unwrap();
        let jwk = key.to_jwk("k1");
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), key);
        assert_eq!(key.to_base64(), ZERO_SEED_PUBLIC);
    }

    #[test]
    fn wrong_length_keys_say_how_long_they_were() {
        let err = PublicKey::from_bytes(&[1u8; 31]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidKey);
        assert!(err.message().contains("31"));
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point (y = 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let err = PublicKey::from_bytes(&identity).unwrap_err();
        assert!(err.message().contains("weak"));
    }

    #[test]
    fn a_key_list_parses_kids_and_padded_keys() {
        let ring = Keyring::parse(&format!("a={ZERO_SEED_PUBLIC}, b={ZERO_SEED_PUBLIC}")).unwrap();
        assert_eq!(ring.len(), 2);
        let bare = Keyring::parse(ZERO_SEED_PUBLIC).unwrap();
        assert!(bare.get("default").is_some());
    }

    #[test]
    fn a_secret_key_in_a_key_list_is_never_echoed() {
        // A 64-byte NaCl secret key in base64 ends in `==`: it must not be read as `kid=...`.
        let secret = STANDARD.encode([7u8; 64]);
        let err = Keyring::parse(&secret).unwrap_err();
        assert!(!err.message().contains(&secret[..20]), "{err}");
        assert!(err.message().contains("secret key"), "{err}");
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH\n-----END PRIVATE KEY-----";
        let err = Keyring::parse(pem).unwrap_err();
        assert!(!err.message().contains("MC4C"), "{err}");
    }

    #[test]
    fn duplicate_kids_in_a_key_list_are_refused() {
        let err =
            Keyring::parse(&format!("a={ZERO_SEED_PUBLIC},a={ZERO_SEED_PUBLIC}")).unwrap_err();
        assert!(err.message().contains("twice"));
    }

    #[test]
    fn the_test_key_is_refused_unless_allowed() {
        let mut ring = Keyring::parse(ZERO_SEED_PUBLIC).unwrap();
        assert!(ring.refuse_test_keys(false).is_err());
        assert!(ring.refuse_test_keys(true).is_ok());
    }

    /// The secret seeds RFC 8032 §7.1 publishes for TEST 1, TEST 2 and TEST 3.
    const RFC_8032_SEEDS: [&str; 3] = [
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
    ];

    fn public_key_of_seed(hex: &str) -> PublicKey {
        let seed: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let seed: [u8; 32] = seed.try_into().unwrap();
        ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .into()
    }

    #[test]
    fn every_key_with_a_published_secret_is_a_test_key() {
        let mut published = vec![public_key_of_seed(&"00".repeat(32))];
        published.extend(RFC_8032_SEEDS.iter().map(|seed| public_key_of_seed(seed)));
        for key in published {
            assert!(is_test_key(&key), "{}", key.to_base64());
            let mut ring = Keyring::new();
            ring.add("vendor", key);
            let err = ring.clone().refuse_test_keys(false).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidKey);
            assert!(err.message().contains("\"vendor\""), "{err}");
            assert!(
                err.message().contains("DEV_HEALTH_ALLOW_TEST_KEYS=1"),
                "{err}"
            );
            assert!(ring.refuse_test_keys(true).is_ok());
        }
        assert!(!is_test_key(&public_key_of_seed(&"07".repeat(32))));
    }

    #[test]
    fn an_rfc_8032_test_key_from_the_environment_is_refused_unless_allowed() {
        let key = public_key_of_seed(RFC_8032_SEEDS[0]).to_base64();
        for (variable, value) in [
            ("LICENSE_PUBLIC_KEY", key.clone()),
            ("DEV_HEALTH_LICENSE_PUBLIC_KEYS", format!("k1={key}")),
        ] {
            let env = |allow: bool| {
                let value = value.clone();
                move |name: &str| match name {
                    n if n == variable => Some(value.clone()),
                    "DEV_HEALTH_ALLOW_TEST_KEYS" if allow => Some("1".to_owned()),
                    _ => None,
                }
            };
            let err = crate::Verifier::from_env_with(env(false)).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidKey, "{variable}: {err}");
            assert!(err.message().contains("RFC 8032"), "{variable}: {err}");
            let allowed = crate::Verifier::from_env_with(env(true)).unwrap();
            let trusted = allowed.keyring().entries().iter();
            assert!(
                trusted.map(|e| e.key.to_base64()).any(|k| k == key),
                "{variable}"
            );
        }
    }

    #[test]
    fn a_jwks_with_windows_round_trips() {
        let mut ring = Keyring::new();
        ring.insert(KeyEntry {
            kid: "old".into(),
            key: PublicKey::from_base64(ZERO_SEED_PUBLIC).unwrap(),
            not_before: Some(10),
            not_after: Some(20),
        });
        let back = Keyring::from_jwks(&ring.to_jwks().to_string()).unwrap();
        assert_eq!(back, ring);
        let entry = back.get("old").unwrap();
        assert!(entry.valid_at(10) && entry.valid_at(20));
        assert!(!entry.valid_at(9) && !entry.valid_at(21));
    }

    #[test]
    fn a_jwk_with_a_private_part_is_refused() {
        let mut jwk = PublicKey::from_base64(ZERO_SEED_PUBLIC)
            .unwrap()
            .to_jwk("k");
        jwk["d"] = "AAAA".into();
        let err = Keyring::from_jwks(&json!({"keys":[jwk]}).to_string()).unwrap_err();
        assert!(err.message().contains("private"));
    }

    #[test]
    fn duplicate_kids_in_a_jwks_are_refused() {
        let jwk = PublicKey::from_base64(ZERO_SEED_PUBLIC)
            .unwrap()
            .to_jwk("k");
        let err = Keyring::from_jwks(&json!({"keys":[jwk, jwk]}).to_string()).unwrap_err();
        assert!(err.message().contains("twice"));
    }

    #[test]
    fn a_jwk_naming_a_member_twice_is_refused() {
        // Which of two `x` is the trusted key must not depend on the reader.
        let other = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let jwk = PublicKey::from_base64(ZERO_SEED_PUBLIC)
            .unwrap()
            .to_jwk("k");
        let text = jwk
            .to_string()
            .replacen("\"x\":", &format!("\"x\":\"{other}\",\"x\":"), 1);
        let err = Keyring::from_jwks(&format!(r#"{{"keys":[{text}]}}"#)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidKey);
        assert!(err.message().contains("\"x\" appears twice"), "{err}");
    }
}
