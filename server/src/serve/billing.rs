//! Billing from the product: `POST /api/v1/billing/checkout` starts a Stripe Checkout for the
//! caller's org, `POST /api/v1/billing/portal` opens its Customer Portal.
//!
//! Every link between an org and Stripe starts here: the server creates the org's customer once
//! (recorded in `stripe_customers` and linked to the org) and each Checkout Session (recorded in
//! `checkout_sessions`). The core's event engine links a customer from `checkout.session.completed`
//! only for those (rule 3); anyone else's checkout naming the org is `untrusted_checkout`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use dev_health_entitlements::issue::new_license_id;
use dev_health_entitlements::stripe::ManagedBy;
use dev_health_entitlements::Tier;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::auth::{require_own_org, Actor};
use super::db::{self, CheckoutRow, Org};
use super::error::{ApiError, ApiResult};
use super::routes::body;
use super::state::AppState;
use super::stripe_api::{StripeApi, StripeError};

/// Where the web app shows an org's plan (the `upgradeHref` of every gate, SPEC §4).
const SETTINGS_PATH: &str = "/org/admin/settings";
/// The billing intervals Stripe knows.
const INTERVALS: [&str; 4] = ["day", "week", "month", "year"];
/// The interval chosen when a tier has several prices and the request names none.
const DEFAULT_INTERVAL: &str = "month";

/// The body of `POST /api/v1/billing/checkout`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// The org; a session's own org when absent (required with the admin token).
    org_id: Option<String>,
    /// `team` or `enterprise`.
    tier: String,
    /// `month`, `year`, ...: chooses among several prices of the tier.
    interval: Option<String>,
    /// Where Stripe sends the customer after paying.
    success_url: Option<String>,
    /// Where Stripe sends the customer who gives up.
    cancel_url: Option<String>,
    /// `saas` (default: the org's own plan) or `self_hosted` (a license for a deployment).
    license_type: Option<String>,
    /// For `self_hosted`: the deployment the license is for (its `aud`).
    deployment_id: Option<String>,
}

/// The longest deployment id accepted.
const MAX_DEPLOYMENT_ID: usize = 128;

/// `POST /api/v1/billing/checkout` → `{id, url}` of a subscription-mode Checkout Session.
pub async fn checkout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    payload: Result<Json<CheckoutRequest>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let now = super::now();
    let req = body(payload)?;
    let (actor, org_id, api) = billing_caller(&state, &headers, req.org_id.as_deref(), now)?;
    let tier = Tier::parse(&req.tier)
        .filter(|t| *t > Tier::Community)
        .ok_or_else(|| unprocessable("tier must be team or enterprise"))?;
    let deployment = match (req.license_type.as_deref(), req.deployment_id) {
        (None | Some("saas"), None) => None,
        (None | Some("saas"), Some(_)) => {
            return Err(unprocessable(
                "deployment_id is for license_type self_hosted only",
            ))
        }
        (Some("self_hosted"), Some(d)) if valid_deployment_id(&d) => Some(d),
        (Some("self_hosted"), _) => {
            return Err(unprocessable(format!(
                "license_type self_hosted needs a deployment_id of 1 to {MAX_DEPLOYMENT_ID} \
                 letters, digits, '.', '_', ':' or '-'"
            )))
        }
        (Some(_), _) => return Err(unprocessable("license_type must be saas or self_hosted")),
    };
    let org = load_org(&state, &org_id).await?;
    if org.managed_by == ManagedBy::Manual {
        return Err(ApiError::conflict(
            "This organization's plan is managed by hand (managed_by manual): it cannot be bought \
             through Stripe",
        ));
    }
    // A self-hosted purchase never changes the org's own plan, whatever it is.
    if deployment.is_none() && org.tier == tier {
        return Err(ApiError::conflict(format!(
            "This organization is already on the {} plan",
            tier.as_str()
        )));
    }
    let success_url = return_url(
        &state,
        req.success_url,
        "success_url",
        "?checkout=success&session_id={CHECKOUT_SESSION_ID}",
    )?;
    let cancel_url = return_url(&state, req.cancel_url, "cancel_url", "?checkout=canceled")?;
    let price = choose_price(&state, api, tier, req.interval.as_deref()).await?;
    let customer = org_customer(&state, api, &org, &actor, now).await?;

    let mut form = pairs(&[
        ("mode", "subscription"),
        ("customer", &customer),
        ("client_reference_id", &org.id),
        ("line_items[0][price]", &price),
        ("line_items[0][quantity]", "1"),
        ("success_url", &success_url),
        ("cancel_url", &cancel_url),
        ("metadata[org_id]", &org.id),
        ("subscription_data[metadata][org_id]", &org.id),
    ]);
    // The core's rule 6a reads these on the subscription (and its invoices).
    if let Some(deployment) = &deployment {
        form.extend(pairs(&[
            ("metadata[license_type]", "self_hosted"),
            ("metadata[deployment_id]", deployment),
            ("subscription_data[metadata][license_type]", "self_hosted"),
            ("subscription_data[metadata][deployment_id]", deployment),
        ]));
    }
    let key = format!("dhl-checkout-{}", new_license_id());
    let session = api
        .post("/v1/checkout/sessions", &form, &key)
        .await
        .map_err(bad_gateway)?;
    let (Some(id), Some(url)) = (text(&session, "id"), text(&session, "url")) else {
        return Err(bad_gateway(StripeError::BadAnswer(
            "the Checkout Session has no id or url".into(),
        )));
    };
    let row = CheckoutRow {
        id: id.clone(),
        org_id: org.id.clone(),
        customer_id: customer,
        tier: tier.as_str().to_owned(),
        price_id: price,
        license_type: if deployment.is_some() {
            "self_hosted"
        } else {
            "saas"
        }
        .to_owned(),
        deployment_id: deployment,
        created_by: actor.name(),
        created_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    db::insert_checkout_session(tx.conn(), &row).await?;
    db::audit(
        tx.conn(),
        &row.created_by,
        "billing.checkout",
        Some(&org.id),
        Value::Null,
        json!(row),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(org_id = %org.id, session = %id, tier = %row.tier, "checkout session created");
    Ok(Json(json!({"id": id, "url": url})))
}

/// The body of `POST /api/v1/billing/portal`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalRequest {
    /// The org; a session's own org when absent (required with the admin token).
    org_id: Option<String>,
    /// Where the portal's "return" link goes.
    return_url: Option<String>,
}

/// `POST /api/v1/billing/portal` → `{url}` of a Customer Portal session of the org's customer.
pub async fn portal(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    payload: Result<Json<PortalRequest>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let req = body(payload)?;
    let (_, org_id, api) = billing_caller(&state, &headers, req.org_id.as_deref(), super::now())?;
    let org = load_org(&state, &org_id).await?;
    let Some(customer) = org.stripe_customer_id else {
        return Err(ApiError::conflict(
            "This organization has no Stripe customer yet: start a checkout first",
        ));
    };
    let return_url = return_url(&state, req.return_url, "return_url", "")?;
    let form = pairs(&[("customer", &customer), ("return_url", &return_url)]);
    let key = format!("dhl-portal-{}", new_license_id());
    let session = api
        .post("/v1/billing_portal/sessions", &form, &key)
        .await
        .map_err(bad_gateway)?;
    let url = text(&session, "url").ok_or_else(|| {
        bad_gateway(StripeError::BadAnswer(
            "the portal session has no url".into(),
        ))
    })?;
    Ok(Json(json!({"url": url})))
}

fn valid_deployment_id(id: &str) -> bool {
    (1..=MAX_DEPLOYMENT_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Who may manage the org's billing (a session with `billing:manage`, or the admin token naming
/// the org), which org, and the Stripe client: 503 without `STRIPE_SECRET_KEY` (after the caller
/// is checked, so the configuration is not shown to strangers).
fn billing_caller<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    org_id: Option<&str>,
    now: i64,
) -> ApiResult<(Actor, String, &'a StripeApi)> {
    let (actor, org_id) = require_own_org(state, headers, org_id, "billing:manage", now)?;
    let api = state.stripe_api.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Billing is not configured on this server: STRIPE_SECRET_KEY is not set",
        )
    })?;
    Ok((actor, org_id, api))
}

fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// 502 with what Stripe said (never the key: [`StripeError`] masks it).
fn bad_gateway(e: StripeError) -> ApiError {
    tracing::warn!(error = %e, "Stripe call failed");
    ApiError::new(StatusCode::BAD_GATEWAY, e.to_string())
}

async fn load_org(state: &AppState, org_id: &str) -> ApiResult<Org> {
    let mut conn = state.db.pool().acquire().await?;
    db::get_org(&mut conn, org_id, "")
        .await?
        .ok_or_else(|| ApiError::not_found("Organization not found"))
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn text(object: &Value, field: &str) -> Option<String> {
    object
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The URL Stripe sends the customer back to: the request's, or `PUBLIC_APP_URL` + the settings
/// page + `suffix`. A given URL must be absolute http(s), and on `PUBLIC_APP_URL`'s origin when
/// that is set (Stripe must not send the org's customer to another site).
fn return_url(
    state: &AppState,
    given: Option<String>,
    field: &str,
    suffix: &str,
) -> ApiResult<String> {
    let app = state.public_app_url.as_deref();
    let Some(given) = given else {
        return app
            .map(|app| format!("{app}{SETTINGS_PATH}{suffix}"))
            .ok_or_else(|| {
                unprocessable(format!(
                    "{field} is required: PUBLIC_APP_URL is not set on this server"
                ))
            });
    };
    let parsed = url::Url::parse(&given)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| unprocessable(format!("{field} must be an absolute http(s) URL")))?;
    if let Some(app) = app.and_then(|a| url::Url::parse(a).ok()) {
        if parsed.origin() != app.origin() {
            return Err(unprocessable(format!(
                "{field} must be on PUBLIC_APP_URL's origin ({})",
                app.origin().ascii_serialization()
            )));
        }
    }
    Ok(given)
}

/// The price that sells `tier`: the only one mapped to it when the request names no interval,
/// else the one whose `recurring.interval` (asked from Stripe once per price) is the one asked for
/// (default month).
async fn choose_price(
    state: &AppState,
    api: &StripeApi,
    tier: Tier,
    interval: Option<&str>,
) -> ApiResult<String> {
    if let Some(wanted) = interval {
        if !INTERVALS.contains(&wanted) {
            return Err(unprocessable("interval must be day, week, month or year"));
        }
    }
    let candidates: Vec<&str> = state
        .billing
        .price_tiers
        .iter()
        .filter(|(_, t)| *t == tier)
        .map(|(price, _)| price)
        .collect();
    match (candidates.as_slice(), interval) {
        ([], _) => {
            return Err(unprocessable(format!(
                "No Stripe price sells the {} tier on this server (STRIPE_PRICE_TIERS)",
                tier.as_str()
            )))
        }
        ([only], None) => return Ok((*only).to_owned()),
        _ => {}
    }
    let wanted = interval.unwrap_or(DEFAULT_INTERVAL);
    let mut offered = Vec::new();
    for price in candidates {
        let interval = price_interval(state, api, price).await?;
        if interval == wanted {
            return Ok(price.to_owned());
        }
        offered.push(interval);
    }
    offered.sort();
    offered.dedup();
    Err(unprocessable(format!(
        "The {} tier is not sold per {wanted}; it is sold per {}",
        tier.as_str(),
        offered.join(", ")
    )))
}

/// A price's `recurring.interval`, asked from Stripe once per process (it never changes).
async fn price_interval(state: &AppState, api: &StripeApi, price: &str) -> ApiResult<String> {
    let known = state
        .price_intervals
        .lock()
        .ok()
        .and_then(|m| m.get(price).cloned());
    if let Some(interval) = known {
        return Ok(interval);
    }
    let path = format!(
        "/v1/prices/{}",
        url::form_urlencoded::byte_serialize(price.as_bytes()).collect::<String>()
    );
    let object = api.get(&path, &[]).await.map_err(bad_gateway)?;
    let interval = object
        .pointer("/recurring/interval")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            unprocessable(format!(
                "Stripe price {price} is not a recurring price: it cannot sell a subscription"
            ))
        })?;
    if let Ok(mut known) = state.price_intervals.lock() {
        known.insert(price.to_owned(), interval.clone());
    }
    Ok(interval)
}

/// The org's Stripe customer: the one linked to it, else one the server creates now (metadata
/// `org_id`), records as made for the org and links. The idempotency key is derived from the org
/// and its name, so two checkouts started at once create one customer.
async fn org_customer(
    state: &AppState,
    api: &StripeApi,
    org: &Org,
    actor: &Actor,
    now: i64,
) -> ApiResult<String> {
    if let Some(customer) = &org.stripe_customer_id {
        return Ok(customer.clone());
    }
    let digest = Sha256::digest(format!("{}\0{}", org.id, org.name).as_bytes());
    let key: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let form = pairs(&[("name", &org.name), ("metadata[org_id]", &org.id)]);
    let created = api
        .post("/v1/customers", &form, &format!("dhl-customer-{key}"))
        .await
        .map_err(bad_gateway)?;
    let customer = text(&created, "id")
        .ok_or_else(|| bad_gateway(StripeError::BadAnswer("the customer has no id".into())))?;
    let mut tx = state.db.begin_write().await?;
    let locked = db::get_org(tx.conn(), &org.id, state.db.for_update())
        .await?
        .ok_or_else(|| ApiError::not_found("Organization not found"))?;
    let linked =
        db::insert_stripe_customer(tx.conn(), &customer, &org.id, &actor.name(), now).await?;
    if linked {
        db::audit(
            tx.conn(),
            &actor.name(),
            "org.link_customer",
            Some(&org.id),
            Value::Null,
            json!(customer),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.forget_org(&org.id);
    // Linked just now, or (a concurrent checkout) before: the org's customer either way.
    Ok(locked.stripe_customer_id.unwrap_or(customer))
}
