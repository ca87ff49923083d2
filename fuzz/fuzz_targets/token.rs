//! License tokens, v1 and v2 (SPEC §1): `Verifier::verify` under two verifier configurations,
//! the unverified reader (`UnverifiedToken::decode`, what `inspect` and the viewer show) and the
//! revocation-list reader.
//!
//! Input: a raw token, or `#sign v2 <kid>` / `#sign v1` / `#sign revocations` on the first line
//! and JSON claims (a v1 payload) after it, which the target signs with the vectors' keys so that
//! mutations reach the claims checks behind the signature.
//!
//! Invariants: every error carries a §1.4 code and does not echo the token; a verified token
//! verifies again to the same license, reads back unverified with the same claims, and stops
//! verifying when one character changes; a v1 license is refused where v1 is turned off.
#![no_main]

use std::sync::{Arc, LazyLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dev_health_entitlements::issue::sign_raw_jwt;
use dev_health_entitlements::token::unverified::UnverifiedToken;
use dev_health_entitlements::{
    Catalog, ErrorCode, License, LicenseStatus, RevocationList, TokenFormat, Verifier,
};
use dev_health_fuzz::{
    check_error, directive, license_keyring, signing_key, text, LICENSE_KEYS, NOW, VERIFY_CODES,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The defaults: issuer `fullchaos.studio`, 60 s leeway, v1 accepted, the default catalog.
static PLAIN: LazyLock<Verifier> = LazyLock::new(|| Verifier::new(license_keyring()));

/// Every option set: a deployment id, a revocation list, a high-water mark, no leeway, v1 off,
/// the dev-health-ops catalog's grace days.
static STRICT: LazyLock<Verifier> = LazyLock::new(|| {
    let catalog: Arc<Catalog> = match Catalog::dev_health_ops() {
        Ok(c) => c,
        Err(e) => unreachable!("the shipped catalog loads: {}", e.message()),
    };
    Verifier::new(license_keyring())
        .with_deployment_id(Some("dep_fuzz".to_owned()))
        .with_revocations(Some(RevocationList::from_ids([
            "lic_revoked".to_owned(),
            "lic_v2_team".to_owned(),
        ])))
        .with_high_water_mark(Some(NOW - 30))
        .with_leeway(0)
        .with_accept_v1(false)
        .with_catalog(&catalog)
});

/// The codes of a check the token failed before its signature was verified.
const BEFORE_SIGNATURE: [ErrorCode; 5] = [
    ErrorCode::TokenTooLarge,
    ErrorCode::MalformedToken,
    ErrorCode::UnsupportedAlgorithm,
    ErrorCode::UnknownKeyId,
    ErrorCode::InvalidSignature,
];

fuzz_target!(|data: &[u8]| {
    let input = text(data);
    let token = match directive(&input) {
        (Some(line), claims) => match sign(line, claims) {
            Some(token) => token,
            None => return,
        },
        (None, token) => token.to_owned(),
    };
    check_token(&token);
});

/// Signs `claims` as the directive asks; `None` when the directive is not one or the claims
/// cannot be signed (not a JSON object).
fn sign(line: &str, claims: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    if words.next() != Some("sign") {
        return None;
    }
    match (words.next(), words.next()) {
        (Some("v1"), _) => {
            let key = signing_key(0);
            let signature = key.sign_bytes(claims.as_bytes());
            Some(format!(
                "{}.{}",
                STANDARD.encode(claims),
                STANDARD.encode(signature)
            ))
        }
        (Some(kind @ ("v2" | "revocations")), kid) => {
            let kid = kid.unwrap_or("test-zero");
            let seed = LICENSE_KEYS
                .iter()
                .find(|(k, _)| *k == kid)
                .map_or(0, |(_, seed)| *seed);
            let Ok(Value::Object(map)) = dev_health_entitlements::json::parse(claims.as_bytes())
            else {
                return None;
            };
            let token = sign_raw_jwt(map, &signing_key(seed), kid).ok()?;
            if kind == "revocations" {
                check_revocation_list(&token, claims);
                return None;
            }
            Some(token)
        }
        _ => None,
    }
}

fn check_token(token: &str) {
    let unverified = UnverifiedToken::decode(token);
    if let Err(e) = &unverified {
        check_error(
            e,
            &[
                ErrorCode::TokenTooLarge,
                ErrorCode::MalformedToken,
                ErrorCode::InvalidClaims,
            ],
            token,
            "UnverifiedToken::decode",
        );
    }
    if let Ok(shown) = &unverified {
        assert_eq!(shown.to_json()["verified"], Value::Bool(false));
    }

    let plain = PLAIN.verify(token, NOW);
    let strict = STRICT.verify(token, NOW);
    for (verifier, result, what) in [
        (&*PLAIN, &plain, "plain verifier"),
        (&*STRICT, &strict, "strict verifier"),
    ] {
        match result {
            Err(e) => check_error(e, &VERIFY_CODES, token, what),
            Ok(license) => check_license(verifier, token, license, &unverified),
        }
    }
    // A check before the signature depends only on the token (and v1 being on): both verifiers
    // must stop at the same one.
    if let Err(e) = &plain {
        if BEFORE_SIGNATURE.contains(&e.code()) && e.code() != ErrorCode::UnsupportedAlgorithm {
            let code = strict.as_ref().err().map(|e| e.code());
            let v1_off = code == Some(ErrorCode::UnsupportedAlgorithm);
            assert!(
                code == Some(e.code()) || v1_off,
                "the plain verifier stopped at {}, the strict one at {code:?}",
                e.code()
            );
        }
    }
    if let Ok(license) = &plain {
        if license.format == TokenFormat::V1 {
            let code = strict.as_ref().err().map(|e| e.code());
            assert_eq!(
                code,
                Some(ErrorCode::UnsupportedAlgorithm),
                "a verifier with v1 turned off accepted a v1 license"
            );
        }
        // The host's clock is an input: any value must give an answer, never a panic.
        for now in [i64::MIN, -1, 0, i64::MAX] {
            match PLAIN.verify(token, now) {
                Ok(l) => assert_eq!(l.status, l.status_at(now)),
                Err(e) => check_error(&e, &VERIFY_CODES, token, "plain verifier, extreme now"),
            }
        }
        let tampered = tamper(token);
        if let Ok(l) = PLAIN.verify(&tampered, NOW) {
            panic!(
                "a token with one character changed still verifies (license {:?})",
                l.license_id()
            );
        }
    }
}

fn check_license(
    verifier: &Verifier,
    token: &str,
    license: &License,
    unverified: &Result<UnverifiedToken, dev_health_entitlements::Error>,
) {
    let again = verifier.verify(token, NOW);
    assert_eq!(
        again.as_ref().ok(),
        Some(license),
        "verifying the same token again gave another answer"
    );
    assert_eq!(again.map(|l| l.to_json()).ok(), Some(license.to_json()));
    assert_eq!(license.verified_at, NOW);
    assert_eq!(license.status, license.status_at(NOW));
    assert!(license.expires_at() <= license.grace_ends_at());
    match license.status {
        LicenseStatus::Active => assert!(NOW <= license.expires_at()),
        LicenseStatus::Grace => {
            assert!(license.expires_at() < NOW && NOW <= license.grace_ends_at());
            assert!(license.grace_days_left(NOW).is_some());
        }
        LicenseStatus::Expired => assert!(NOW > license.grace_ends_at()),
    }
    let json = license.to_json();
    assert_eq!(json["tier"], Value::from(license.tier().as_str()));
    let Ok(shown) = unverified else {
        panic!("a verified token does not read back unverified: {unverified:?}");
    };
    assert_eq!(shown.format, license.format);
    assert_eq!(shown.claims.get("sub"), Some(&Value::from(license.sub())));
    assert_eq!(shown.signature_len, 64);
}

/// The token with the character in its middle replaced by another base64 character.
fn tamper(token: &str) -> String {
    let token = token.trim();
    let mut chars: Vec<char> = token.chars().collect();
    let middle = chars.len() / 2;
    if let Some(c) = chars.get_mut(middle) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

/// A signed revocation list: errors carry §1.4 codes; a verified list holds every id it lists.
fn check_revocation_list(token: &str, claims: &str) {
    match RevocationList::verify(token, &license_keyring(), "fullchaos.studio", NOW) {
        Err(e) => check_error(&e, &VERIFY_CODES, token, "RevocationList::verify"),
        Ok(list) => {
            let Ok(value) = dev_health_entitlements::json::parse(claims.as_bytes()) else {
                panic!("a revocation list verified from claims that are not JSON");
            };
            let ids: Vec<&str> = value["revoked"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert!(ids.iter().all(|id| list.contains(id)));
            assert!(list.len() <= ids.len());
        }
    }
}
