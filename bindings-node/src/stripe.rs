//! Stripe webhooks: `Stripe-Signature` verification and the subscription event engine (core
//! `stripe::signature` and `stripe::events`). Events, states, configurations and outcomes travel
//! as the JSON shapes core defines (snake_case, as Stripe and the vectors write them).

use dev_health_entitlements::stripe;
use dev_health_entitlements::{Error as CoreError, ErrorCode};
use napi::bindgen_prelude::{Buffer, Either, Object};
use napi::Env;
use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::errors::{js_error, strict_options, OrThrow};

/// Options of [`verify_stripe_signature`].
#[napi(object)]
pub struct StripeSignatureOptions {
    /// The current time, Unix seconds (default now).
    pub now: Option<f64>,
    /// How far the signed timestamp may lie from `now`, in seconds (default 300).
    pub tolerance: Option<i64>,
}

fn bytes(payload: &Either<String, Buffer>) -> &[u8] {
    match payload {
        Either::A(text) => text.as_bytes(),
        Either::B(buffer) => buffer.as_ref(),
    }
}

/// Verifies a Stripe webhook delivery: `payload` is the raw body exactly as received, `header`
/// the `Stripe-Signature` value, `secrets` the endpoint's webhook secret(s). Returns the signed
/// timestamp; throws `LicenseError` (`stripe_signature_malformed`, `stripe_signature_mismatch`,
/// `stripe_timestamp_out_of_tolerance`).
#[napi(
    ts_args_type = "payload: string | Buffer, header: string, secrets: string | Array<string>, options?: StripeSignatureOptions | undefined | null"
)]
pub fn verify_stripe_signature(
    env: Env,
    payload: Either<String, Buffer>,
    header: String,
    secrets: Either<String, Vec<String>>,
    options: Option<Object<'_>>,
) -> napi::Result<i64> {
    let options: Option<StripeSignatureOptions> = strict_options(
        &env,
        options,
        "verifyStripeSignature options",
        &["now", "tolerance"],
    )?;
    let secrets: Vec<String> = match secrets {
        Either::A(one) => vec![one],
        Either::B(many) => many,
    };
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let (now, tolerance) = options
        .map(|o| (o.now, o.tolerance))
        .unwrap_or((None, None));
    stripe::verify_signature(
        bytes(&payload),
        &header,
        &secrets,
        crate::now_or_clock(&env, now)?,
        tolerance.unwrap_or(stripe::DEFAULT_TOLERANCE_SECS),
    )
    .or_throw(&env)
}

/// The `Stripe-Signature` header Stripe would send for `payload` signed with `secret` at
/// `timestamp` (for tests and tools).
#[napi]
pub fn stripe_signature_header(
    payload: Either<String, Buffer>,
    secret: String,
    timestamp: i64,
) -> String {
    stripe::signature_header(bytes(&payload), &secret, timestamp)
}

fn from_js<T: DeserializeOwned>(env: &Env, what: &str, value: Value) -> napi::Result<T> {
    serde_json::from_value(value).map_err(|e| {
        let code = if what == "event" {
            ErrorCode::InvalidStripeEvent
        } else {
            ErrorCode::InvalidInput
        };
        js_error(env, &CoreError::new(code, format!("{what}: {e}")))
    })
}

fn to_js<T: Serialize>(env: &Env, value: &T) -> napi::Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| crate::errors::invalid_input(env, format!("cannot encode: {e}")))
}

fn event(env: &Env, event: Value) -> napi::Result<stripe::StripeEvent> {
    match event {
        Value::String(text) => stripe::StripeEvent::parse(text.as_bytes()).or_throw(env),
        value => stripe::StripeEvent::from_value(value).or_throw(env),
    }
}

/// Applies one Stripe event to the billing state of the org it concerns (core
/// `stripe::events::apply_event`): pure, it returns the outcome `{state, actions, ignored}` and
/// the host performs the actions.
#[napi(
    ts_args_type = "event: string | StripeEventJson, current: BillingStateJson | null | undefined, config: BillingConfigJson",
    ts_return_type = "OutcomeJson"
)]
pub fn apply_stripe_event(
    env: Env,
    event_json: Value,
    current: Option<Value>,
    config: Value,
) -> napi::Result<Value> {
    let event = event(&env, event_json)?;
    let current: Option<stripe::BillingState> = current
        .map(|c| from_js(&env, "billing state", c))
        .transpose()?;
    let config: stripe::BillingConfig = from_js(&env, "billing config", config)?;
    to_js(
        &env,
        &stripe::apply_event(&event, current.as_ref(), &config),
    )
}

/// An in-memory host of the event engine (core `BillingLedger`): orgs, the event ids applied,
/// and the licenses signed (`lic_1`, `lic_2`, ...) and revoked.
#[napi]
pub struct BillingLedger {
    inner: stripe::BillingLedger,
    config: stripe::BillingConfig,
}

#[napi]
impl BillingLedger {
    /// A ledger holding `orgs` (billing states), applying events under `config`
    /// (`{price_tiers?, grace_days?}`).
    #[napi(
        constructor,
        ts_args_type = "config?: BillingConfigJson | null, orgs?: BillingStateJson[] | null"
    )]
    pub fn new(env: Env, config: Option<Value>, orgs: Option<Vec<Value>>) -> napi::Result<Self> {
        let config: stripe::BillingConfig = match config {
            Some(c) => from_js(&env, "billing config", c)?,
            None => stripe::BillingConfig::default(),
        };
        let mut inner = stripe::BillingLedger::new();
        for org in orgs.unwrap_or_default() {
            inner.add_org(from_js(&env, "billing state", org)?);
        }
        Ok(BillingLedger { inner, config })
    }

    /// Applies one event (each event id once) and returns its outcome.
    #[napi(
        ts_args_type = "event: string | StripeEventJson",
        ts_return_type = "OutcomeJson"
    )]
    pub fn apply(&mut self, env: Env, event_json: Value) -> napi::Result<Value> {
        let event = event(&env, event_json)?;
        let outcome = self.inner.apply(&event, &self.config);
        to_js(&env, &outcome)
    }

    /// The org with this id, or `null`.
    #[napi(ts_return_type = "BillingStateJson | null")]
    pub fn org(&self, env: Env, org_id: String) -> napi::Result<Option<Value>> {
        self.inner.org(&org_id).map(|o| to_js(&env, o)).transpose()
    }

    /// Every org, by id.
    #[napi(getter, ts_return_type = "Record<string, BillingStateJson>")]
    pub fn orgs(&self, env: Env) -> napi::Result<Value> {
        to_js(&env, &self.inner.orgs)
    }

    /// Ids of the licenses revoked, in order.
    #[napi(getter)]
    pub fn revoked_license_ids(&self) -> Vec<String> {
        self.inner.revoked_license_ids.clone()
    }

    /// The whole ledger as JSON.
    #[napi(js_name = "toJSON", ts_return_type = "Record<string, unknown>")]
    pub fn to_json(&self, env: Env) -> napi::Result<Value> {
        to_js(&env, &self.inner)
    }
}
