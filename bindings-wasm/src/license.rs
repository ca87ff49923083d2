//! `Verifier`, `License`, `RevocationList` and `inspectToken` (SPEC §1).

use dev_health_entitlements as core;
use dev_health_entitlements::token::unverified::UnverifiedToken;
use serde_json::{json, Map, Value};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::catalog::Catalog;
use crate::convert::{now_or_clock, to_js, Options};
use crate::error::{invalid_input, IntoJs, JsResult};
use crate::keys::Keyring;

/// Verifies license tokens against a keyring.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct Verifier {
    inner: core::Verifier,
}

const VERIFIER_OPTIONS: &[&str] = &[
    "issuer",
    "leeway",
    "acceptV1",
    "deploymentId",
    "highWaterMark",
];

#[wasm_bindgen]
impl Verifier {
    /// A verifier for `keyring` with options `{issuer = "fullchaos.studio", leeway = 60,
    /// acceptV1 = true, deploymentId?, highWaterMark?}`. Grace days default to the default
    /// catalog's; `useCatalog` and `useRevocationList` set the rest.
    #[wasm_bindgen(constructor)]
    pub fn new(
        keyring: &Keyring,
        #[wasm_bindgen(unchecked_optional_param_type = "VerifierOptions | null")] options: JsValue,
    ) -> JsResult<Verifier> {
        let options = Options::read(&options, "Verifier options", VERIFIER_OPTIONS)?;
        let mut inner = core::Verifier::new(keyring.inner.clone());
        if let Some(issuer) = options.string("issuer")? {
            inner = inner.with_issuer(issuer);
        }
        if let Some(leeway) = options.int("leeway")? {
            inner = inner.with_leeway(leeway);
        }
        if let Some(accept) = options.bool("acceptV1")? {
            inner = inner.with_accept_v1(accept);
        }
        inner = inner
            .with_deployment_id(options.string("deploymentId")?)
            .with_high_water_mark(options.int("highWaterMark")?);
        Ok(Verifier { inner })
    }

    /// Takes the default grace days per tier from this catalog.
    #[wasm_bindgen(js_name = useCatalog)]
    pub fn use_catalog(&mut self, catalog: &Catalog) {
        self.inner = self.inner.clone().with_catalog(&catalog.inner);
    }

    /// Rejects licenses on this (verified) revocation list with `revoked`.
    #[wasm_bindgen(js_name = useRevocationList)]
    pub fn use_revocation_list(&mut self, list: &RevocationList) {
        self.inner = self
            .inner
            .clone()
            .with_revocations(Some(list.inner.clone()));
    }

    /// Stops checking a revocation list.
    #[wasm_bindgen(js_name = clearRevocationList)]
    pub fn clear_revocation_list(&mut self) {
        self.inner = self.inner.clone().with_revocations(None);
    }

    /// Verifies `token` at `now` (Unix seconds; the JS clock when left out). Throws an
    /// `EntitlementsError` whose `code` says what was wrong; returns the license with its status.
    pub fn verify(&self, token: &str, now: Option<f64>) -> JsResult<License> {
        let now = now_or_clock(now)?;
        Ok(License {
            inner: self.inner.verify(token, now).js()?,
        })
    }

    /// The expected issuer.
    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> String {
        self.inner.issuer().to_owned()
    }

    /// The leeway in seconds.
    #[wasm_bindgen(getter)]
    pub fn leeway(&self) -> f64 {
        self.inner.leeway() as f64
    }
}

/// A signed revocation list, verified.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct RevocationList {
    inner: core::RevocationList,
}

#[wasm_bindgen]
impl RevocationList {
    /// Verifies a signed revocation list (`{"iss","iat","exp","revoked":[..]}`, EdDSA) with
    /// `keyring`, expecting `issuer` (default `fullchaos.studio`), at `now` (the JS clock when
    /// left out).
    pub fn verify(
        token: &str,
        keyring: &Keyring,
        issuer: Option<String>,
        now: Option<f64>,
    ) -> JsResult<RevocationList> {
        let issuer = issuer.unwrap_or_else(|| core::DEFAULT_ISSUER.to_owned());
        Ok(RevocationList {
            inner: core::RevocationList::verify(token, &keyring.inner, &issuer, now_or_clock(now)?)
                .js()?,
        })
    }

    /// Whether the license id is revoked.
    pub fn contains(&self, #[wasm_bindgen(js_name = licenseId)] license_id: &str) -> bool {
        self.inner.contains(license_id)
    }

    /// How many ids the list holds.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// When the list was signed (Unix seconds).
    #[wasm_bindgen(getter, js_name = issuedAt)]
    pub fn issued_at(&self) -> f64 {
        self.inner.issued_at as f64
    }

    /// When the issuer expects it to be replaced (Unix seconds).
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> f64 {
        self.inner.expires_at as f64
    }
}

/// A license whose signature and claims verified, with its status at the moment of verification.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct License {
    pub(crate) inner: core::License,
}

fn opt_str(value: &Option<String>) -> JsValue {
    value.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

#[wasm_bindgen]
extern "C" {
    /// Any JS value that may be a `License` handle.
    pub(crate) type MaybeLicense;

    /// `License.prototype.__clone`: a new handle to the same license.
    #[wasm_bindgen(method, catch, js_name = "__clone")]
    fn clone_handle(this: &MaybeLicense) -> Result<JsValue, JsValue>;
}

impl License {
    /// Reads a `License` handle passed as a plain JS value, leaving the caller's handle usable
    /// (wasm-bindgen takes ownership of handles it converts, so a clone is converted instead).
    pub(crate) fn from_handle(value: &JsValue) -> JsResult<Option<License>> {
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        let not_a_license =
            || invalid_input("`license` must be a License (from Verifier.verify) or null");
        let handle = value
            .unchecked_ref::<MaybeLicense>()
            .clone_handle()
            .map_err(|_| not_a_license())?;
        License::try_from_js_value(handle)
            .map(Some)
            .map_err(|_| not_a_license())
    }
}

#[wasm_bindgen]
impl License {
    /// A new handle to the same license (used when a license is passed inside other arguments).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = "__clone")]
    pub fn clone_handle(&self) -> License {
        self.clone()
    }

    /// `"active"`, `"grace"` or `"expired"`, at the moment of verification.
    #[wasm_bindgen(getter, unchecked_return_type = "LicenseStatus")]
    pub fn status(&self) -> String {
        self.inner.status.as_str().to_owned()
    }

    /// Whether the license grants its tier (`active` or `grace`).
    #[wasm_bindgen(getter, js_name = isValid)]
    pub fn is_valid(&self) -> bool {
        self.inner.status.is_valid()
    }

    /// `"v1"` (legacy) or `"v2"` (EdDSA JWT).
    #[wasm_bindgen(getter, unchecked_return_type = "\"v1\" | \"v2\"")]
    pub fn format(&self) -> String {
        self.inner.format.as_str().to_owned()
    }

    /// The id of the key that verified it.
    #[wasm_bindgen(getter)]
    pub fn kid(&self) -> String {
        self.inner.kid.clone()
    }

    /// The licensed tier.
    #[wasm_bindgen(getter, unchecked_return_type = "Tier")]
    pub fn tier(&self) -> String {
        self.inner.tier().as_str().to_owned()
    }

    /// The org id the license is for (`sub`).
    #[wasm_bindgen(getter)]
    pub fn sub(&self) -> String {
        self.inner.sub().to_owned()
    }

    /// The issuer (`iss`).
    #[wasm_bindgen(getter)]
    pub fn issuer(&self) -> String {
        self.inner.claims.iss.clone()
    }

    /// The license id (`jti`, or v1 `license_id`).
    #[wasm_bindgen(getter, js_name = licenseId)]
    pub fn license_id(&self) -> String {
        self.inner.license_id().to_owned()
    }

    /// How it was sold: `saas`, `self_hosted`, `trial` or `evaluation`.
    #[wasm_bindgen(getter, js_name = licenseType, unchecked_return_type = "LicenseType")]
    pub fn license_type(&self) -> String {
        self.inner.claims.license_type.as_str().to_owned()
    }

    /// `iat`, Unix seconds.
    #[wasm_bindgen(getter, js_name = issuedAt)]
    pub fn issued_at(&self) -> f64 {
        self.inner.claims.iat as f64
    }

    /// `nbf`, Unix seconds, when the license has one.
    #[wasm_bindgen(getter, js_name = notBefore)]
    pub fn not_before(&self) -> Option<f64> {
        self.inner.claims.nbf.map(|n| n as f64)
    }

    /// `exp`, Unix seconds.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> f64 {
        self.inner.expires_at() as f64
    }

    /// Grace days in force (the claim, or the catalog's default for the tier).
    #[wasm_bindgen(getter, js_name = graceDays)]
    pub fn grace_days(&self) -> u32 {
        self.inner.grace_days
    }

    /// The last second of the grace period, Unix seconds.
    #[wasm_bindgen(getter, js_name = graceEndsAt)]
    pub fn grace_ends_at(&self) -> f64 {
        self.inner.grace_ends_at() as f64
    }

    /// Whole days of grace left at the moment of verification (`null` unless in grace).
    #[wasm_bindgen(getter, js_name = graceDaysLeft)]
    pub fn grace_days_left(&self) -> Option<u32> {
        self.inner.grace_days_left(self.inner.verified_at)
    }

    /// The `now` the license was verified at, Unix seconds.
    #[wasm_bindgen(getter, js_name = verifiedAt)]
    pub fn verified_at(&self) -> f64 {
        self.inner.verified_at as f64
    }

    /// Display only: the org's name.
    #[wasm_bindgen(getter, js_name = orgName, unchecked_return_type = "string | null")]
    pub fn org_name(&self) -> JsValue {
        opt_str(&self.inner.claims.org_name)
    }

    /// Display only: the contact email.
    #[wasm_bindgen(getter, js_name = contactEmail, unchecked_return_type = "string | null")]
    pub fn contact_email(&self) -> JsValue {
        opt_str(&self.inner.claims.contact_email)
    }

    /// The deployments the license is for (`aud`; empty when absent).
    #[wasm_bindgen(getter)]
    pub fn audience(&self) -> Vec<String> {
        self.inner.claims.aud.clone()
    }

    /// Explicit feature grants (true) and removals (false) in the license.
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, boolean>")]
    pub fn features(&self) -> JsResult<JsValue> {
        to_js(&json!(self.inner.claims.features))
    }

    /// Limits in the license, by catalog name (`null` is unlimited).
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, number | null>")]
    pub fn limits(&self) -> JsResult<JsValue> {
        let mut limits = Map::new();
        for (k, v) in &self.inner.claims.limits {
            limits.insert(k.clone(), core::claims::limit_to_json(*v));
        }
        to_js(&Value::Object(limits))
    }

    /// Every claim, v2-shaped (`jti` for the license id), unknown claims kept.
    #[wasm_bindgen(getter, unchecked_return_type = "Record<string, unknown>")]
    pub fn claims(&self) -> JsResult<JsValue> {
        to_js(&self.inner.claims.to_json())
    }

    /// The status at another moment (Unix seconds; the JS clock when left out).
    #[wasm_bindgen(js_name = statusAt, unchecked_return_type = "LicenseStatus")]
    pub fn status_at(&self, now: Option<f64>) -> JsResult<String> {
        Ok(self.inner.status_at(now_or_clock(now)?).as_str().to_owned())
    }

    /// Whole days of grace left at another moment (`null` unless in grace then).
    #[wasm_bindgen(js_name = graceDaysLeftAt)]
    pub fn grace_days_left_at(&self, now: Option<f64>) -> JsResult<Option<u32>> {
        Ok(self.inner.grace_days_left(now_or_clock(now)?))
    }

    /// The verification result as the CLI prints it (`dev-health-license verify --json`):
    /// `{valid, status, format, kid, license_id, tier, sub, claims, expires_at, grace_ends_at,
    /// grace_days_left}`.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "LicenseJSON")]
    pub fn to_json(&self) -> JsResult<JsValue> {
        to_js(&self.inner.to_json())
    }
}

/// Decodes a token WITHOUT verifying it, for display only (what a rejected token claims):
/// `{format, header, claims, signatureLength}`. Nothing in it is trusted.
#[wasm_bindgen(js_name = inspectToken, unchecked_return_type = "InspectedToken")]
pub fn inspect_token(token: &str) -> JsResult<JsValue> {
    let t = UnverifiedToken::decode(token).js()?;
    to_js(&json!({
        "format": t.format.as_str(),
        "header": t.header,
        "claims": t.claims,
        "signatureLength": t.signature_len,
    }))
}
