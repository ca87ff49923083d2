//! Variant B: wasm-bindgen structs with no getters: methods over strings/numbers, one toJSON each.
use std::sync::Arc;

use dev_health_entitlements as core;
use wasm_bindgen::prelude::*;

use crate::{err, text};

type R<T> = Result<T, String>;

#[wasm_bindgen]
pub struct Keyring(core::Keyring);

#[wasm_bindgen]
impl Keyring {
    /// kind 0: empty; 1: fromJwks(text); 2: parse(text)
    pub fn make(kind: u32, text: &str) -> R<Keyring> {
        match kind {
            0 => Ok(core::Keyring::new()),
            1 => core::Keyring::from_jwks(text),
            _ => core::Keyring::parse(text),
        }
        .map(Keyring)
        .map_err(err)
    }
    pub fn add(&mut self, kid: &str, key: &str) -> R<()> {
        self.0.add(kid, core::PublicKey::from_base64(key).map_err(err)?);
        Ok(())
    }
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        text(&self.0.to_jwks())
    }
}

#[wasm_bindgen]
pub struct Verifier(core::Verifier);

#[wasm_bindgen]
impl Verifier {
    #[wasm_bindgen(constructor)]
    pub fn new(
        keyring: &Keyring,
        issuer: Option<String>,
        leeway: Option<f64>,
        accept_v1: Option<bool>,
        deployment_id: Option<String>,
        high_water_mark: Option<f64>,
    ) -> Verifier {
        let mut v = core::Verifier::new(keyring.0.clone());
        if let Some(i) = issuer {
            v = v.with_issuer(i);
        }
        if let Some(l) = leeway {
            v = v.with_leeway(l as i64);
        }
        if let Some(a) = accept_v1 {
            v = v.with_accept_v1(a);
        }
        Verifier(v.with_deployment_id(deployment_id).with_high_water_mark(high_water_mark.map(|h| h as i64)))
    }
    #[wasm_bindgen(js_name = useCatalog)]
    pub fn use_catalog(&mut self, catalog: &Catalog) {
        self.0 = self.0.clone().with_catalog(&catalog.0);
    }
    /// `None` clears it.
    #[wasm_bindgen(js_name = useRevocationList)]
    pub fn use_revocation_list(&mut self, list: Option<RevocationList>) {
        self.0 = self.0.clone().with_revocations(list.map(|l| l.0));
    }
    pub fn verify(&self, token: &str, now: f64) -> R<License> {
        self.0.verify(token, now as i64).map(License).map_err(err)
    }
}

#[wasm_bindgen]
pub struct License(core::License);

#[wasm_bindgen]
impl License {
    /// `[graceDays, verifiedAt, toJSON(), notBefore, audience, orgName, contactEmail]`
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        text(&crate::license_blob(&self.0))
    }
    /// op 0 statusAt, 1 graceDaysLeftAt
    pub fn at(&self, op: u32, now: f64) -> f64 {
        crate::license_at(&self.0, op, now)
    }
}

#[wasm_bindgen]
#[derive(Clone)]
pub struct RevocationList(core::RevocationList);

#[wasm_bindgen]
impl RevocationList {
    pub fn verify(token: &str, keyring: &Keyring, issuer: Option<String>, now: f64) -> R<RevocationList> {
        let issuer = issuer.unwrap_or_else(|| core::DEFAULT_ISSUER.to_owned());
        core::RevocationList::verify(token, &keyring.0, &issuer, now as i64).map(RevocationList).map_err(err)
    }
    pub fn contains(&self, id: &str) -> bool {
        self.0.contains(id)
    }
    /// `[size, issuedAt, expiresAt]`
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        text(&serde_json::Value::Array(vec![self.0.len().into(), self.0.issued_at.into(), self.0.expires_at.into()]))
    }
    /// A copy for `Verifier.useRevocationList` (which takes ownership).
    pub fn copy(&self) -> RevocationList {
        self.clone()
    }
}

#[wasm_bindgen]
pub struct Catalog(Arc<core::Catalog>);

#[wasm_bindgen]
impl Catalog {
    /// kind 0 default, 1 devHealthOps, 2 builtin(text), 3 fromJson(text)
    pub fn make(kind: u32, text: &str) -> R<Catalog> {
        crate::builtin(kind, text).map(Catalog).map_err(err)
    }
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> String {
        text(&crate::catalog_info(&self.0))
    }
    #[wasm_bindgen(js_name = permissionsOf)]
    pub fn permissions_of(&self, role: &str) -> String {
        crate::permissions(&self.0, role)
    }
    pub fn can(&self, role: &str, permission: &str) -> bool {
        self.0.can(role, permission)
    }
}

#[wasm_bindgen]
pub struct Entitlements(core::Entitlements);

#[wasm_bindgen]
impl Entitlements {
    pub fn resolve(catalog: &Catalog, opts: &str, now: f64) -> Entitlements {
        Entitlements(crate::resolve(catalog.0.clone(), None, opts, now))
    }
    #[wasm_bindgen(js_name = resolveWith)]
    pub fn resolve_with(catalog: &Catalog, license: &License, opts: &str, now: f64) -> Entitlements {
        Entitlements(crate::resolve(catalog.0.clone(), Some(&license.0), opts, now))
    }
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(catalog: &Catalog, json: &str) -> R<Entitlements> {
        crate::ent_from_json(catalog.0.clone(), json).map(Entitlements).map_err(err)
    }
    /// `[tier, orgId, staleAt]`
    pub fn info(&self) -> String {
        text(&crate::ent_info(&self.0))
    }
    #[wasm_bindgen(js_name = isStale)]
    pub fn is_stale(&self, now: f64) -> bool {
        self.0.is_stale(now as i64)
    }
    pub fn has(&self, feature: &str) -> bool {
        self.0.has(feature)
    }
    /// op 0 check(s), 1 decisions(), 2 toJSON()
    pub fn query(&self, op: u32, s: &str) -> String {
        crate::query(&self.0, op, s)
    }
    pub fn limit(&self, name: &str, current: f64, op: u32) -> f64 {
        crate::limit(&self.0, name, current, op)
    }
    pub fn can(&self, role: &str, permission: &str) -> bool {
        self.0.can(role, permission)
    }
    pub fn gate(&self, feature: &str, tier: Option<String>, href: Option<String>) -> String {
        crate::gate(&self.0, feature, tier, href)
    }
}

#[wasm_bindgen]
pub fn inspect(token: &str) -> String {
    crate::inspect(token)
}
