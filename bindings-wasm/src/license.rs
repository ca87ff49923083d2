//! Keyrings, verifiers, licenses, revocation lists and `inspectToken` (SPEC §1), as exports
//! over handles and JSON text for `js/api.js`.

use dev_health_entitlements as core;
use dev_health_entitlements::UnverifiedToken;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::table::{
    error, fail, get, handle_or_error, json_or_error, list, put, seconds, stale, text, Handle, Obj,
};

/// A keyring, as the handle's text or the error. `kind` 0: empty; 1: from a JWKS document; 2:
/// from `Keyring.parse` text (a JWKS document or `kid=base64,…`).
#[wasm_bindgen]
pub fn keyring(kind: u32, source: &str) -> String {
    handle_or_error(
        match kind {
            0 => Ok(core::Keyring::new()),
            1 => core::Keyring::from_jwks(source),
            _ => core::Keyring::parse(source),
        }
        .map(Obj::Keyring),
    )
}

/// Adds a key (base64 of its 32 raw bytes; `None`: the caller's value was not a string) to a
/// keyring, replacing any key with the same `kid`: empty text, or the error. `named`: the error
/// message starts with the key's `kid` (a key of the constructor's `{kid: base64}` map).
#[wasm_bindgen]
pub fn keyring_add(handle: Handle, kid: &str, public_key: Option<String>, named: bool) -> String {
    let Some(public_key) = public_key else {
        return error(&core::Error::input(format!(
            "key {kid:?} must be a base64 string"
        )));
    };
    match core::PublicKey::from_base64(&public_key) {
        Ok(key) => get!(handle, Keyring, |k| {
            k.add(kid, key);
            String::new()
        })
        .unwrap_or_else(stale),
        Err(e) if named => fail(e.code().as_str(), &format!("key {kid:?}: {}", e.message())),
        Err(e) => error(&e),
    }
}

/// The keyring as JWKS JSON text.
#[wasm_bindgen]
pub fn keyring_jwks(handle: Handle) -> String {
    get!(handle, Keyring, |k| text(&k.to_jwks())).unwrap_or_else(stale)
}

/// A verifier over a copy of the keyring: `[handle, issuer, leeway]` as JSON text. Options left
/// out (`undefined`) keep the core's defaults.
#[wasm_bindgen]
pub fn verifier(
    keyring: Handle,
    issuer: Option<String>,
    leeway: Option<f64>,
    accept_v1: Option<bool>,
    deployment_id: Option<String>,
    high_water_mark: Option<f64>,
) -> String {
    let Some(keys) = get!(keyring, Keyring, |k| k.clone()) else {
        return stale();
    };
    let mut v = core::Verifier::new(keys);
    if let Some(issuer) = issuer {
        v = v.with_issuer(issuer);
    }
    if let Some(leeway) = leeway {
        v = v.with_leeway(seconds(leeway));
    }
    if let Some(accept) = accept_v1 {
        v = v.with_accept_v1(accept);
    }
    v = v
        .with_deployment_id(deployment_id)
        .with_high_water_mark(high_water_mark.map(seconds));
    let (issuer, leeway) = (v.issuer().to_owned(), v.leeway());
    match put(Obj::Verifier(v)) {
        Ok(handle) => text(&list![handle, issuer, leeway]),
        Err(text) => text,
    }
}

/// Changes a verifier: `what` 0 takes grace days from the catalog `other`; 1 checks the revocation
/// list `other`; 2 stops checking a list. Empty text, or the error.
#[wasm_bindgen]
pub fn verifier_set(handle: Handle, what: u32, other: Handle) -> String {
    let change = match what {
        0 => get!(other, Catalog, |c| Change::Catalog(c.clone())),
        1 => get!(other, Revocations, |r| Change::Revocations(Some(r.clone()))),
        _ => Some(Change::Revocations(None)),
    };
    change
        .and_then(|change| {
            get!(handle, Verifier, |v| {
                // The builders take the verifier by value: a placeholder stands in meanwhile.
                let old = std::mem::replace(v, core::Verifier::new(core::Keyring::new()));
                *v = match change {
                    Change::Catalog(c) => old.with_catalog(&c),
                    Change::Revocations(list) => old.with_revocations(list),
                };
                String::new()
            })
        })
        .unwrap_or_else(stale)
}

/// What `verifier_set` changes.
enum Change {
    Catalog(std::sync::Arc<core::Catalog>),
    Revocations(Option<core::RevocationList>),
}

/// Verifies a license token at `now`: the license's handle, or the error (SPEC §1.4 code).
#[wasm_bindgen]
pub fn verify(verifier: Handle, token: &str, now: f64) -> String {
    match get!(verifier, Verifier, |v| v.verify(token, seconds(now))) {
        Some(result) => handle_or_error(result.map(Obj::License)),
        None => stale(),
    }
}

/// A license as JSON text: `[graceDays, verifiedAt, toJSON()]`; `toJSON()` is the CLI's
/// `verify --json` shape, with every claim (v2-shaped: `aud`, `nbf`, `org_name` and
/// `contact_email` only when the license has them).
#[wasm_bindgen]
pub fn license_json(handle: Handle) -> String {
    get!(handle, License, |l| text(&list![
        l.grace_days,
        l.verified_at,
        l.to_json()
    ]))
    .unwrap_or_else(stale)
}

/// A license at another moment: `op` 0 its status (0 active, 1 grace, 2 expired); 1 whole days of
/// grace left (-1 unless in grace). NaN for a stale handle.
#[wasm_bindgen]
pub fn license_at(handle: Handle, op: u32, now: f64) -> f64 {
    let now = seconds(now);
    get!(handle, License, |l| if op == 0 {
        match l.status_at(now) {
            core::LicenseStatus::Active => 0.0,
            core::LicenseStatus::Grace => 1.0,
            core::LicenseStatus::Expired => 2.0,
        }
    } else {
        l.grace_days_left(now).map_or(-1.0, f64::from)
    })
    .unwrap_or(f64::NAN)
}

/// Verifies a signed revocation list with a keyring: `[handle, size, issuedAt, expiresAt]` as
/// JSON text, or the error. `issuer` defaults to the core's.
#[wasm_bindgen]
pub fn revocation(token: &str, keyring: Handle, issuer: Option<String>, now: f64) -> String {
    let issuer = issuer.unwrap_or_else(|| core::DEFAULT_ISSUER.to_owned());
    let verified = get!(keyring, Keyring, |k| core::RevocationList::verify(
        token,
        k,
        &issuer,
        seconds(now)
    ));
    match verified {
        None => stale(),
        Some(Err(e)) => error(&e),
        Some(Ok(list)) => {
            let (size, issued_at, expires_at) = (list.len(), list.issued_at, list.expires_at);
            match put(Obj::Revocations(list)) {
                Ok(handle) => text(&list![handle, size, issued_at, expires_at]),
                Err(text) => text,
            }
        }
    }
}

/// Decodes a token WITHOUT verifying it, for display: `{verified: false, format, header, claims,
/// signature_bytes}` as JSON text, or the error.
#[wasm_bindgen]
pub fn inspect(token: &str) -> String {
    json_or_error(UnverifiedToken::decode(token).map(|t| t.to_json()))
}
