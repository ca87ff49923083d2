//! What every vector file shares: the fixed keys, fixed times, JWKS documents, token surgery, and
//! the loud checks that compare the engine's answers with the ones written by hand from the contract.

use std::collections::BTreeMap;
use std::fmt::Display;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use dev_health_entitlements::issue::{sign_raw_jwt, sign_v2, SigningKey};
use dev_health_entitlements::{LicenseClaims, LicenseType, Tier};
use serde_json::{json, Map, Value};

/// The generator's error: a message naming the vector whose expectation disagreed with the engine.
pub type Fail = Box<dyn std::error::Error>;
/// The generator's result.
pub type Res<T> = Result<T, Fail>;

/// Fails the generation with a message when `cond` is false.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+).into());
        }
    };
}

/// Fails unless the engine's value equals the value written by hand from the contract.
pub fn agree<T: PartialEq + std::fmt::Debug>(
    case: &str,
    what: &str,
    engine: T,
    hand: T,
) -> Res<()> {
    ensure!(
        engine == hand,
        "vector {case}: the engine says {what} = {engine:?}, the contract (by hand) says {hand:?}"
    );
    Ok(())
}

/// Fails unless the engine's JSON object equals the one written by hand from the contract, naming each
/// member that differs.
pub fn agree_json(case: &str, what: &str, engine: &Value, hand: &Value) -> Res<()> {
    if engine == hand {
        return Ok(());
    }
    let (Value::Object(e), Value::Object(h)) = (engine, hand) else {
        return agree(case, what, engine, hand);
    };
    let differing: Vec<String> = e
        .keys()
        .chain(h.keys().filter(|k| !e.contains_key(*k)))
        .filter(|k| e.get(*k) != h.get(*k))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("(absent)".to_owned(), Value::to_string);
            format!(
                "{k}: engine {} but by hand {}",
                show(e.get(k)),
                show(h.get(k))
            )
        })
        .collect();
    Err(format!("vector {case}: {what} differs: {}", differing.join("; ")).into())
}

/// The fixed moment the vectors are set around (2027-01-15T08:00:00Z).
pub const T: i64 = 1_800_000_000;
/// One day in seconds.
pub const DAY: i64 = 86_400;
/// The default issuer.
pub const ISS: &str = "fullchaos.studio";
/// The org most vectors are about.
pub const ORG: &str = "org_acme";

/// A fixed signing key and its key id.
pub struct Key {
    /// The key.
    pub key: SigningKey,
    /// Its `kid`.
    pub kid: &'static str,
}

impl Key {
    fn from_seed(byte: u8, kid: &'static str) -> Res<Key> {
        Ok(Key {
            key: SigningKey::from_seed(&[byte; 32])?,
            kid,
        })
    }

    /// The public key as a JWKS entry of the vector format (`kty`, `crv`, `x`, `kid`).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.key.public_key().to_bytes()),
            "kid": self.kid,
        })
    }

    /// The JWKS entry with a validity window.
    pub fn jwk_window(&self, not_before: Option<i64>, not_after: Option<i64>) -> Value {
        let mut jwk = self.jwk();
        if let Some(obj) = jwk.as_object_mut() {
            if let Some(nb) = not_before {
                obj.insert("not_before".into(), nb.into());
            }
            if let Some(na) = not_after {
                obj.insert("not_after".into(), na.into());
            }
        }
        jwk
    }
}

/// The fixed keys of every vector.
pub struct Keys {
    /// The all-zero seed: dev-health-ops' documented test key pair.
    pub zero: Key,
    /// Seed `[1; 32]`.
    pub one: Key,
    /// Seed `[2; 32]`: a key nobody trusts, for forgeries.
    pub two: Key,
    /// Seed `[3; 32]`: signs session tokens.
    pub session: Key,
}

/// The public key of the all-zero seed, as contract §1.2 states it.
pub const ZERO_SEED_PUBLIC: &str = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=";

impl Keys {
    /// The keys, checking the all-zero seed's public key against contract §1.2.
    pub fn new() -> Res<Keys> {
        let keys = Keys {
            zero: Key::from_seed(0, "test-zero")?,
            one: Key::from_seed(1, "test-one")?,
            two: Key::from_seed(2, "test-two")?,
            session: Key::from_seed(3, "session-1")?,
        };
        agree(
            "keys",
            "public key of the all-zero seed",
            keys.zero.key.public_key().to_base64(),
            ZERO_SEED_PUBLIC.to_owned(),
        )?;
        Ok(keys)
    }
}

/// A JWKS document of these entries.
pub fn jwks(entries: Vec<Value>) -> Value {
    json!({ "keys": entries })
}

/// Claims of a license with the defaults most vectors use.
pub fn claims(tier: Tier, jti: &str, iat: i64, exp: i64) -> LicenseClaims {
    LicenseClaims {
        iss: ISS.to_owned(),
        sub: ORG.to_owned(),
        aud: Vec::new(),
        iat,
        nbf: None,
        exp,
        license_id: jti.to_owned(),
        tier,
        features: BTreeMap::new(),
        limits: BTreeMap::new(),
        grace_days: None,
        org_name: Some("Acme Inc".to_owned()),
        contact_email: Some("it@acme.example".to_owned()),
        license_type: LicenseType::SelfHosted,
        extra: Map::new(),
    }
}

/// Signs v2 claims.
pub fn v2(claims: &LicenseClaims, key: &Key) -> Res<String> {
    Ok(sign_v2(claims, &key.key, key.kid)?)
}

/// Signs a raw claims object as an EdDSA JWT.
pub fn raw(claims: Value, key: &Key) -> Res<String> {
    match claims {
        Value::Object(map) => Ok(sign_raw_jwt(map, &key.key, key.kid)?),
        _ => Err("raw claims must be an object".into()),
    }
}

/// The v2 claims of a well-formed license as a JSON object, to be edited into hostile shapes.
pub fn claims_object(tier: Tier, jti: &str, iat: i64, exp: i64) -> Value {
    claims(tier, jti, iat, exp).to_json()
}

/// base64url without padding.
pub fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Builds a compact JWS by hand: any header and claims bytes, signed with EdDSA over the signing
/// input (or with the given signature bytes).
pub fn jws_by_hand(header: &str, claims: &[u8], key: &Key) -> String {
    let input = format!("{}.{}", b64u(header.as_bytes()), b64u(claims));
    let sig = key.key.sign_bytes(input.as_bytes());
    format!("{input}.{}", b64u(&sig))
}

/// The three segments of a compact JWS.
pub fn segments(token: &str) -> Res<(String, String, String)> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => Ok((h.to_owned(), c.to_owned(), s.to_owned())),
        _ => Err(format!("not a compact JWS: {token}").into()),
    }
}

/// Decodes a base64url segment.
pub fn unb64u(segment: &str) -> Res<Vec<u8>> {
    Ok(URL_SAFE_NO_PAD.decode(segment)?)
}

/// Decodes a standard base64 segment.
pub fn unb64(segment: &str) -> Res<Vec<u8>> {
    Ok(STANDARD.decode(segment)?)
}

/// A case of any file: name, description and the rest of its fields.
pub struct Case {
    /// Unique snake_case name.
    pub name: String,
    /// One human sentence.
    pub description: String,
    /// The remaining fields, in the file's shape.
    pub body: Map<String, Value>,
}

impl Case {
    /// A case with its fields (which must be an object).
    pub fn new(name: impl Display, description: impl Display, body: Value) -> Res<Case> {
        let Value::Object(body) = body else {
            return Err("a case body must be an object".into());
        };
        Ok(Case {
            name: name.to_string(),
            description: description.to_string(),
            body,
        })
    }

    /// The case as JSON.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), self.name.clone().into());
        out.insert("description".into(), self.description.clone().into());
        for (k, v) in &self.body {
            out.insert(k.clone(), v.clone());
        }
        Value::Object(out)
    }
}

/// A vector file: a description and its cases, checked for unique snake_case names.
pub fn file(description: &str, cases: &[Case]) -> Res<Value> {
    let mut seen = std::collections::BTreeSet::new();
    for case in cases {
        ensure!(
            !case.name.is_empty()
                && case
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "case name {:?} is not snake_case",
            case.name
        );
        ensure!(
            seen.insert(case.name.clone()),
            "case name {:?} appears twice",
            case.name
        );
        ensure!(
            !case.description.is_empty() && case.description.ends_with('.'),
            "case {:?} needs a one-sentence description ending in a period",
            case.name
        );
    }
    Ok(json!({
        "description": description,
        "cases": cases.iter().map(Case::to_json).collect::<Vec<_>>(),
    }))
}

/// A limit or a number as JSON: integral values as integers.
pub fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}
