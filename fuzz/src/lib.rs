//! What the fuzz targets share: the fixed keys they sign and verify with, the moment they verify
//! at, and the invariant every engine error must keep (a stable SPEC code, a message that does
//! not echo the input).

use std::sync::Arc;

use dev_health_entitlements::issue::SigningKey;
use dev_health_entitlements::{Entitlements, Error, ErrorCode, KeyEntry, Keyring};

/// The moment every offline check runs at (the conformance vectors' times are around it).
pub const NOW: i64 = 1_800_000_000;

/// The license keys of the conformance vectors (tests/vectors/README.md): seed `[0; 32]` with kid
/// `test-zero`, `[1; 32]` `test-one`; `[2; 32]` `test-two` is trusted nowhere.
pub const LICENSE_KEYS: [(&str, u8); 3] = [("test-zero", 0), ("test-one", 1), ("test-two", 2)];

/// The session key of the vectors: seed `[3; 32]`, kid `session-1`.
pub const SESSION_KID: &str = "session-1";

/// The signing key of a fixed seed.
pub fn signing_key(seed: u8) -> SigningKey {
    match SigningKey::from_seed(&[seed; 32]) {
        Ok(key) => key,
        Err(e) => unreachable!("a 32-byte seed is a key: {}", e.message()),
    }
}

/// The license keyring every token target verifies with: `test-zero` always trusted, `test-one`
/// only for tokens issued inside a window around [`NOW`] (so `key_not_valid_now` is reachable),
/// `test-two` not at all.
pub fn license_keyring() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert(KeyEntry {
        kid: "test-zero".to_owned(),
        key: signing_key(0).public_key(),
        not_before: None,
        not_after: None,
    });
    keys.insert(KeyEntry {
        kid: "test-one".to_owned(),
        key: signing_key(1).public_key(),
        not_before: Some(NOW - 365 * 86_400),
        not_after: Some(NOW + 365 * 86_400),
    });
    keys
}

/// The license verification codes of SPEC §1.4: the only errors `Verifier::verify` may return.
/// Written from the SPEC, not taken from `ErrorCode::ALL`: the fuzz checks are an oracle, and a
/// code the engine added to its list must not pass them unnoticed.
pub const VERIFY_CODES: [ErrorCode; 13] = [
    ErrorCode::TokenTooLarge,
    ErrorCode::MalformedToken,
    ErrorCode::UnsupportedAlgorithm,
    ErrorCode::UnknownKeyId,
    ErrorCode::KeyNotValidNow,
    ErrorCode::InvalidSignature,
    ErrorCode::InvalidClaims,
    ErrorCode::IssuerMismatch,
    ErrorCode::AudienceMismatch,
    ErrorCode::IssuedInFuture,
    ErrorCode::NotYetValid,
    ErrorCode::Revoked,
    ErrorCode::ClockRollback,
];

/// Checks an engine error: its code is one of `allowed`, its message is not empty, and a long
/// input (a token, a header) is never echoed whole: messages name what was wrong, they do not
/// repeat what an attacker sent.
pub fn check_error(error: &Error, allowed: &[ErrorCode], input: &str, what: &str) {
    assert!(
        allowed.contains(&error.code()),
        "{what}: code {} is not one this call may return ({allowed:?}); message: {}",
        error.code(),
        error.message()
    );
    assert!(
        !error.message().trim().is_empty(),
        "{what}: {} with an empty message",
        error.code()
    );
    let input = input.trim();
    if input.len() >= 48 {
        assert!(
            !error.message().contains(input),
            "{what}: the {} message echoes the whole input",
            error.code()
        );
    }
}

/// The input as text: libFuzzer hands out bytes, the engine's token and header readers take
/// `&str` (invalid UTF-8 cannot reach them), so the bytes are read lossily rather than dropped.
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Splits off a first line of the form `#<directive>`: seeds and the fuzzer use it to ask for a
/// signed input (the targets sign the rest with a fixed key, so that mutations reach the checks
/// behind the signature). Anything else is all body.
pub fn directive(input: &str) -> (Option<&str>, &str) {
    match input
        .strip_prefix('#')
        .and_then(|rest| rest.split_once('\n'))
    {
        Some((line, rest)) => (Some(line.trim()), rest),
        None => (None, input),
    }
}

/// The values every limit is checked at: below, at and above the usual bounds.
const LIMIT_PROBES: [f64; 7] = [-1.0, 0.0, 0.25, 1.0, 3.0, 20.0, 1e12];

/// Checks what the bindings and dev-health-web rely on: entitlements written with `to_json` read
/// back (`from_json`, as `fromJSON` and the entitlements API's readers do) to entitlements that
/// write the same JSON and answer every check the same way.
pub fn check_json_round_trip(entitlements: &Entitlements) {
    let json = entitlements.to_json();
    let back = match Entitlements::from_json(Arc::clone(entitlements.catalog()), &json) {
        Ok(back) => back,
        Err(e) => panic!(
            "to_json's output does not read back: {} {}\n{json}",
            e.code(),
            e.message()
        ),
    };
    assert_eq!(back.to_json(), json, "the JSON changed on its way back");
    check_same_answers(entitlements, &back);
}

/// Checks that two entitlements over the same catalog answer every feature, limit and gate the
/// same way (a decision's own `expires_at` is not carried by the JSON, so it is left out).
pub fn check_same_answers(a: &Entitlements, b: &Entitlements) {
    assert_eq!(a.tier(), b.tier());
    let catalog = a.catalog();
    let features = catalog.features().iter().map(|f| f.key.as_str());
    for key in features.chain(["not_a_feature"]) {
        let (x, y) = (a.check(key), b.check(key));
        assert_eq!(
            (x.allowed, x.reason, x.current_tier, x.required_tier),
            (y.allowed, y.reason, y.current_tier, y.required_tier),
            "the feature {key:?} is decided differently"
        );
        assert_eq!(a.has(key), x.allowed);
        assert_eq!(x.allowed, x.reason.allows());
        assert_eq!(
            a.upgrade_gate(key, None, None),
            b.upgrade_gate(key, None, None)
        );
    }
    let limits = catalog.limits().iter().map(|l| l.key.as_str());
    for key in limits.chain(["not_a_limit"]) {
        for current in LIMIT_PROBES {
            let (x, y) = (a.check_limit(key, current), b.check_limit(key, current));
            assert_eq!(
                x, y,
                "the limit {key:?} at {current} is decided differently"
            );
        }
    }
}
