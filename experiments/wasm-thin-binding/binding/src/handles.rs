//! Variant A: u32 handles into a Rust-side table; every export takes and returns strings/numbers.
use std::cell::RefCell;
use std::sync::Arc;

use dev_health_entitlements as core;
use serde_json::Value;
#[cfg(feature = "bindgen")]
use wasm_bindgen::prelude::*;

use crate::{err, text};

enum Obj {
    K(core::Keyring),
    V(core::Verifier),
    L(core::License),
    R(core::RevocationList),
    C(Arc<core::Catalog>),
    E(core::Entitlements),
}

thread_local! {
    static T: RefCell<Vec<Option<Obj>>> = const { RefCell::new(Vec::new()) };
}

fn put(o: Obj) -> u32 {
    T.with(|t| {
        let mut t = t.borrow_mut();
        if let Some(i) = t.iter().position(Option::is_none) {
            t[i] = Some(o);
            i as u32
        } else {
            t.push(Some(o));
            (t.len() - 1) as u32
        }
    })
}

fn with<R>(h: u32, f: impl FnOnce(&mut Obj) -> R) -> R {
    T.with(|t| f(t.borrow_mut()[h as usize].as_mut().unwrap()))
}

fn kr(h: u32) -> core::Keyring {
    with(h, |o| match o { Obj::K(k) => k.clone(), _ => unreachable!() })
}
fn cat(h: u32) -> Arc<core::Catalog> {
    with(h, |o| match o { Obj::C(c) => c.clone(), _ => unreachable!() })
}

/// A new handle as text, or the error.
fn handle(r: Result<Obj, core::Error>) -> String {
    match r {
        Ok(o) => put(o).to_string(),
        Err(e) => err(e),
    }
}

/// kind 0: empty; 1: fromJwks(text); 2: parse(text). Returns the handle.
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn keyring(kind: u32, text: &str) -> String {
    handle(match kind {
        0 => Ok(core::Keyring::new()),
        1 => core::Keyring::from_jwks(text),
        _ => core::Keyring::parse(text),
    }.map(Obj::K))
}

#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn keyring_add(h: u32, kid: &str, key: &str) -> String {
    match core::PublicKey::from_base64(key) {
        Ok(key) => with(h, |o| match o { Obj::K(k) => { k.add(kid, key); String::new() } _ => unreachable!() }),
        Err(e) => err(e),
    }
}

#[cfg(not(any(feature = "no-jwks", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn keyring_jwks(h: u32) -> String {
    with(h, |o| match o { Obj::K(k) => text(&k.to_jwks()), _ => unreachable!() })
}

#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn verifier(
    kh: u32,
    issuer: Option<String>,
    leeway: Option<f64>,
    accept_v1: Option<bool>,
    deployment_id: Option<String>,
    high_water_mark: Option<f64>,
) -> u32 {
    let mut v = core::Verifier::new(kr(kh));
    if let Some(i) = issuer {
        v = v.with_issuer(i);
    }
    if let Some(l) = leeway {
        v = v.with_leeway(l as i64);
    }
    if let Some(a) = accept_v1 {
        v = v.with_accept_v1(a);
    }
    v = v.with_deployment_id(deployment_id).with_high_water_mark(high_water_mark.map(|h| h as i64));
    put(Obj::V(v))
}

/// what 0: useCatalog(h); 1: useRevocationList(h); 2: clearRevocationList()
#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn verifier_set(vh: u32, what: u32, h: u32) {
    let cat = (what == 0).then(|| cat(h));
    #[cfg(feature = "no-rev")]
    let list = None;
    #[cfg(not(feature = "no-rev"))]
    let list = (what == 1).then(|| with(h, |o| match o { Obj::R(r) => r.clone(), _ => unreachable!() }));
    with(vh, |o| {
        if let Obj::V(v) = o {
            let old = v.clone();
            *v = match (cat, what) {
                (Some(c), _) => old.with_catalog(&c),
                (None, 1) => old.with_revocations(list),
                _ => old.with_revocations(None),
            };
        }
    })
}

/// The license's handle, or the error.
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn verify(vh: u32, token: &str, now: f64) -> String {
    handle(with(vh, |o| match o { Obj::V(v) => v.verify(token, now as i64), _ => unreachable!() }).map(Obj::L))
}

/// `[graceDays, verifiedAt, toJSON(), notBefore, audience, orgName, contactEmail]`
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn license_json(h: u32) -> String {
    with(h, |o| match o { Obj::L(l) => text(&crate::license_blob(l)), _ => unreachable!() })
}

/// License: op 0 statusAt, 1 graceDaysLeftAt; Entitlements: op 2 isStale.
#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn num(h: u32, op: u32, x: f64) -> f64 {
    with(h, |o| match o {
        Obj::L(l) => crate::license_at(l, op, x),
        #[cfg(not(feature = "no-ent"))]
        Obj::E(e) => f64::from(u8::from(e.is_stale(x as i64))),
        _ => unreachable!(),
    })
}

/// `[handle, size, issuedAt, expiresAt]` or the error.
#[cfg(not(any(feature = "no-rev", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn revocation(token: &str, kh: u32, issuer: Option<String>, now: f64) -> String {
    let issuer = issuer.unwrap_or_else(|| core::DEFAULT_ISSUER.to_owned());
    let keys = with(kh, |o| match o { Obj::K(k) => core::RevocationList::verify(token, k, &issuer, now as i64), _ => unreachable!() });
    match keys {
        Ok(r) => {
            let info = vec![r.len().into(), r.issued_at.into(), r.expires_at.into()];
            let mut a = vec![Value::from(put(Obj::R(r)))];
            a.extend(info);
            text(&Value::Array(a))
        }
        Err(e) => err(e),
    }
}

/// RevocationList.contains / Entitlements.has
#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn contains(h: u32, s: &str) -> bool {
    with(h, |o| match o {
        #[cfg(not(feature = "no-rev"))]
        Obj::R(r) => r.contains(s),
        #[cfg(not(feature = "no-ent"))]
        Obj::E(e) => e.has(s),
        _ => unreachable!(),
    })
}

#[cfg(not(any(feature = "no-inspect", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn inspect(token: &str) -> String {
    crate::inspect(token)
}

/// kind 0 default, 1 devHealthOps, 2 builtin(text), 3 fromJson(text): the handle or the error.
#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn catalog(kind: u32, text: &str) -> String {
    handle(crate::builtin(kind, text).map(Obj::C))
}

#[cfg(not(any(feature = "no-catinfo", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn catalog_info(h: u32) -> String {
    text(&crate::catalog_info(&cat(h)))
}

#[cfg(not(any(feature = "no-catinfo", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn permissions(h: u32, role: &str) -> String {
    crate::permissions(&cat(h), role)
}

/// Catalog.can / Entitlements.can
#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn can(h: u32, role: &str, permission: &str) -> bool {
    with(h, |o| match o {
        Obj::C(c) => c.can(role, permission),
        #[cfg(not(feature = "no-ent"))]
        Obj::E(e) => e.can(role, permission),
        _ => unreachable!(),
    })
}

#[cfg(not(any(feature = "no-ent", feature = "verify-only")))]
fn ent(e: core::Entitlements) -> String {
    let Value::Array(mut a) = crate::ent_info(&e) else { unreachable!() };
    a.insert(0, put(Obj::E(e)).into());
    text(&Value::Array(a))
}

/// `[handle, tier, orgId, staleAt]`; `lh` < 0: no license.
#[cfg(not(any(feature = "no-ent", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn resolve(ch: u32, lh: i32, opts: &str, now: f64) -> String {
    let c = cat(ch);
    let e = if lh < 0 {
        crate::resolve(c, None, opts, now)
    } else {
        with(lh as u32, |o| match o { Obj::L(l) => crate::resolve(c, Some(l), opts, now), _ => unreachable!() })
    };
    ent(e)
}

#[cfg(not(any(feature = "no-entjson", feature = "no-ent", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn entitlements_from_json(ch: u32, json: &str) -> String {
    match crate::ent_from_json(cat(ch), json) {
        Ok(e) => ent(e),
        Err(e) => err(e),
    }
}

/// op 0 check(s), 1 decisions(), 2 toJSON()
#[cfg(not(any(feature = "no-ent", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn query(h: u32, op: u32, s: &str) -> String {
    with(h, |o| match o { Obj::E(e) => crate::query(e, op, s), _ => unreachable!() })
}

#[cfg(not(any(feature = "no-ent", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn limit(h: u32, name: &str, current: f64, op: u32) -> f64 {
    with(h, |o| match o { Obj::E(e) => crate::limit(e, name, current, op), _ => unreachable!() })
}

#[cfg(not(any(feature = "no-ent", feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn gate(h: u32, feature: &str, tier: Option<String>, href: Option<String>) -> String {
    with(h, |o| match o { Obj::E(e) => crate::gate(e, feature, tier, href), _ => unreachable!() })
}

#[cfg(not(any(feature = "verify-only")))]
#[cfg_attr(feature = "bindgen", wasm_bindgen)]
pub fn free(h: u32) {
    T.with(|t| t.borrow_mut()[h as usize] = None);
}
