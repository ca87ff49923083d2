//! Stripe webhooks: signature verification and event replay through the core's pure engine.

use dev_health_entitlements::stripe::{
    verify_signature, BillingConfig, BillingLedger, BillingState, StripeEvent,
    DEFAULT_TOLERANCE_SECS,
};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, now_or_clock, seconds_to_i64, to_js};
use crate::error::{invalid_input, IntoJs, JsResult};

/// Verifies a `Stripe-Signature` header against the raw body (text or bytes) and returns its
/// signed timestamp. `now` defaults to the JS clock, `tolerance` to 300 s.
#[wasm_bindgen(js_name = verifyStripeSignature)]
pub fn verify_stripe_signature(
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] payload: JsValue,
    header: &str,
    secrets: Vec<String>,
    now: Option<f64>,
    tolerance: Option<f64>,
) -> JsResult<f64> {
    let bytes = match payload.as_string() {
        Some(text) => text.into_bytes(),
        None if payload.is_instance_of::<js_sys::Uint8Array>() => {
            js_sys::Uint8Array::new(&payload).to_vec()
        }
        None => {
            return Err(invalid_input(
                "the payload must be a string or a Uint8Array",
            ))
        }
    };
    let tolerance = match tolerance {
        Some(t) => seconds_to_i64(t, "tolerance")?,
        None => DEFAULT_TOLERANCE_SECS,
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let t = verify_signature(&bytes, header, &secrets, now_or_clock(now)?, tolerance).js()?;
    Ok(t as f64)
}

/// Replays Stripe events, in order, through the core's in-memory billing ledger:
/// `{config, orgs: [BillingState], events: [Stripe event]}` →
/// `{outcomes: [Outcome], orgs: {orgId: BillingState}, revokedLicenseIds: [string]}`.
/// Billing states and outcomes keep the core's JSON shape (snake_case).
#[wasm_bindgen(js_name = replayStripeEvents, unchecked_return_type = "StripeReplay")]
pub fn replay_stripe_events(
    #[wasm_bindgen(unchecked_param_type = "StripeReplayInput")] input: JsValue,
) -> JsResult<JsValue> {
    let mut input = match from_js(&input, "replay input")? {
        Value::Object(map) => map,
        _ => return Err(invalid_input("the replay input must be an object")),
    };
    let config: BillingConfig = match input.remove("config") {
        None | Some(Value::Null) => BillingConfig::default(),
        Some(v) => serde_json::from_value(v).map_err(|e| invalid_input(format!("config: {e}")))?,
    };
    let orgs: Vec<BillingState> = serde_json::from_value(input.remove("orgs").unwrap_or(json!([])))
        .map_err(|e| invalid_input(format!("orgs: {e}")))?;
    let events = match input.remove("events") {
        Some(Value::Array(events)) => events,
        _ => return Err(invalid_input("`events` must be a list of Stripe events")),
    };
    let events = events
        .into_iter()
        .map(StripeEvent::from_value)
        .collect::<Result<Vec<_>, _>>()
        .js()?;
    let (ledger, outcomes) = BillingLedger::replay(orgs, &events, &config);
    to_js(&json!({
        "outcomes": outcomes,
        "orgs": ledger.orgs,
        "revokedLicenseIds": ledger.revoked_license_ids,
    }))
}
