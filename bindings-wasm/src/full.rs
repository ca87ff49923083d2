//! Server-side helpers of the `full` build (the Node module, not the web one): user session
//! tokens, and Stripe webhook signatures and event replay through the core's pure engine.

use dev_health_entitlements as core;
use dev_health_entitlements::stripe::{
    verify_signature, BillingConfig, BillingLedger, BillingState, StripeEvent,
    DEFAULT_TOLERANCE_SECS,
};
use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;

use crate::table::{error, get, handle_or_error, json_or_error, seconds, stale, Handle, Obj};

/// A session verifier over a copy of the keyring: the handle's text, or the error (an HS256
/// secret shorter than 32 bytes).
#[wasm_bindgen]
pub fn session_verifier(
    keyring: Handle,
    hs256_secret: Option<String>,
    leeway: Option<f64>,
    issuer: Option<String>,
) -> String {
    let Some(keys) = get!(keyring, Keyring, |k| k.clone()) else {
        return stale();
    };
    let mut verifier = core::SessionVerifier::new(keys).with_issuer(issuer);
    if let Some(leeway) = leeway {
        verifier = verifier.with_leeway(seconds(leeway));
    }
    handle_or_error(
        verifier
            .with_hs256_secret(hs256_secret.as_deref().map(str::as_bytes))
            .map(Obj::Sessions),
    )
}

/// Verifies a session token at `now`: `{sub, email, orgId, role, isSuperuser, exp, expiresAt}`
/// (`expiresAt`: the same as `exp`, the name of earlier versions) as JSON text, or the error.
#[wasm_bindgen]
pub fn session_verify(handle: Handle, token: &str, now: f64) -> String {
    get!(handle, Sessions, |v| json_or_error(
        v.verify(token, seconds(now)).map(|s| json!({
            "sub": s.sub,
            "email": s.email,
            "orgId": s.org_id,
            "role": s.role,
            "isSuperuser": s.is_superuser,
            "exp": s.exp,
            "expiresAt": s.exp,
        }))
    ))
    .unwrap_or_else(stale)
}

/// Verifies a `Stripe-Signature` header against the raw body with any of the secrets: the signed
/// timestamp as text, or the error. `tolerance` defaults to 300 s.
#[wasm_bindgen]
pub fn stripe_signature(
    payload: &[u8],
    header: &str,
    secrets: Vec<String>,
    now: f64,
    tolerance: Option<f64>,
) -> String {
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let tolerance = tolerance.map_or(DEFAULT_TOLERANCE_SECS, seconds);
    match verify_signature(payload, header, &secrets, seconds(now), tolerance) {
        Ok(t) => t.to_string(),
        Err(e) => error(&e),
    }
}

/// Replays Stripe events, in order, through the core's in-memory billing ledger. `input` is JSON
/// text `{config, orgs: [BillingState], events: [Stripe event]}`; the result is
/// `{outcomes: [Outcome], orgs: {orgId: BillingState}, revokedLicenseIds: [string]}` as JSON text,
/// or the error. Billing states and outcomes keep the core's JSON shape (snake_case).
#[wasm_bindgen]
pub fn stripe_replay(input: &str) -> String {
    json_or_error(replay(input))
}

fn replay(input: &str) -> Result<Value, core::Error> {
    let mut input = match core::json::parse(input.as_bytes())
        .map_err(|e| core::Error::input(format!("replay input: {e}")))?
    {
        Value::Object(map) => map,
        _ => return Err(core::Error::input("the replay input must be an object")),
    };
    let config: BillingConfig = match input.remove("config") {
        None | Some(Value::Null) => BillingConfig::default(),
        Some(v) => {
            serde_json::from_value(v).map_err(|e| core::Error::input(format!("config: {e}")))?
        }
    };
    let orgs: Vec<BillingState> = serde_json::from_value(input.remove("orgs").unwrap_or(json!([])))
        .map_err(|e| core::Error::input(format!("orgs: {e}")))?;
    let events = match input.remove("events") {
        Some(Value::Array(events)) => events,
        _ => {
            return Err(core::Error::input(
                "`events` must be a list of Stripe events",
            ))
        }
    };
    let events = events
        .into_iter()
        .map(StripeEvent::from_value)
        .collect::<Result<Vec<_>, _>>()?;
    let (ledger, outcomes) = BillingLedger::replay(orgs, &events, &config);
    Ok(json!({
        "outcomes": outcomes,
        "orgs": ledger.orgs,
        "revokedLicenseIds": ledger.revoked_license_ids,
    }))
}
