//! `POST /api/v1/billing/webhooks/stripe`: the core verifies the signature and decides what an
//! event changes; this module stores the result in one transaction per event.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use dev_health_entitlements::issue::{saas_license, self_hosted_license, ClaimsBuilder};
use dev_health_entitlements::stripe::{
    apply_event, record_for_other_subscription, verify_signature, Action, BillingState,
    IgnoreReason, StripeEvent, DEFAULT_TOLERANCE_SECS,
};
use dev_health_entitlements::Tier;
use serde_json::{json, Value};

use super::db::{self, AuditRow, Backend, LicenseRow};
use super::error::{ApiError, ApiResult};
use super::state::AppState;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

/// The largest webhook body accepted (1 MiB).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

/// What became of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Seen before (committed by an earlier delivery).
    Duplicate,
    /// Recorded; changed nothing for this reason.
    Ignored(String),
    /// Applied: these actions were carried out.
    Applied(Vec<Action>),
}

/// Where an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A webhook delivery: recorded in `stripe_events` (each id applied once); the audit actor is
    /// `stripe:<event id>`.
    Webhook,
    /// `stripe sync`: a subscription as the API shows it, applied as an update created when it was
    /// fetched; not recorded as an event; the audit actor is `stripe:sync`.
    Sync,
}

/// The webhook handler.
pub async fn webhook(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "Request body over 1 MiB")
        } else {
            ApiError::new(status, "Cannot read the request body")
        }
    })?;
    let invalid = || ApiError::bad_request("Invalid Stripe signature");
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(invalid)?;
    let secrets: Vec<&str> = state.webhook_secrets.iter().map(|s| s.0.as_str()).collect();
    let now = super::now();
    if let Err(e) = verify_signature(&body, header, &secrets, now, DEFAULT_TOLERANCE_SECS) {
        tracing::warn!(code = e.code().as_str(), "webhook refused");
        return Err(invalid());
    }
    let event = StripeEvent::parse(&body).map_err(|e| {
        tracing::warn!(
            code = e.code().as_str(),
            "signed webhook is not a Stripe event"
        );
        ApiError::bad_request(format!("Invalid Stripe event: {}", e.message()))
    })?;
    let delivery = process(&state, &event).await.map_err(|e| {
        tracing::error!(event_id = %event.id, error = %e, "webhook not stored; Stripe will retry");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Storage unavailable, retry later",
        )
    })?;
    match &delivery {
        Delivery::Duplicate => tracing::info!(event_id = %event.id, "duplicate event"),
        Delivery::Ignored(reason) => {
            tracing::info!(event_id = %event.id, event_type = %event.event_type, reason = %reason, "event recorded, no change")
        }
        Delivery::Applied(_) => {
            tracing::info!(event_id = %event.id, event_type = %event.event_type, "event applied")
        }
    }
    Ok(Json(json!({"status": "ok"})))
}

/// A failure while storing an event.
#[derive(Debug)]
pub enum ProcessError {
    /// The database failed.
    Storage(sqlx::Error),
    /// Signing failed.
    Signing(String),
}

impl std::fmt::Display for ProcessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessError::Storage(e) => write!(f, "storage: {e}"),
            ProcessError::Signing(e) => write!(f, "signing: {e}"),
        }
    }
}

impl From<sqlx::Error> for ProcessError {
    fn from(e: sqlx::Error) -> Self {
        ProcessError::Storage(e)
    }
}

/// Applies one event: on PostgreSQL in its own transaction (the org row lock and the unique key
/// on the event id order concurrent deliveries, across instances too); on SQLite through the
/// single writer, which applies the events waiting at that moment in one transaction, each in
/// its own savepoint. Either way the answer comes only after the commit.
pub async fn process(state: &AppState, event: &StripeEvent) -> Result<Delivery, String> {
    match state.db.backend() {
        Backend::Postgres => {
            let mut tx = state.db.begin_write().await.map_err(|e| e.to_string())?;
            let (delivery, stale) = apply_in(state, tx.conn(), event, Origin::Webhook)
                .await
                .map_err(|e| e.to_string())?;
            if delivery != Delivery::Duplicate {
                tx.commit().await.map_err(|e| e.to_string())?;
            }
            stale.forget(state);
            Ok(delivery)
        }
        Backend::Sqlite => {
            let (reply, answer) = oneshot::channel();
            state
                .webhook_queue
                .send(Job {
                    event: event.clone(),
                    reply,
                })
                .await
                .map_err(|_| "the webhook writer stopped".to_owned())?;
            tracing::debug!(event_id = %event.id, "webhook queued for the SQLite writer");
            answer
                .await
                .map_err(|_| "the webhook writer stopped".to_owned())?
        }
    }
}

/// One event waiting for the SQLite writer.
pub struct Job {
    event: StripeEvent,
    reply: oneshot::Sender<Result<Delivery, String>>,
}

/// The most events one SQLite transaction applies.
const MAX_BATCH: usize = 64;

/// The SQLite writer: takes every event waiting, applies them in one transaction, commits, then
/// answers each. If anything in the batch fails, the batch is rolled back and each of its events
/// is applied again in a transaction of its own, so one failing event fails alone.
pub async fn webhook_writer(state: Arc<AppState>, mut queue: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = queue.recv().await {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        tracing::debug!(events = batch.len(), "applying a webhook batch");
        let results: Vec<Result<Delivery, String>> = match apply_batch(&state, &batch).await {
            Ok(Ok(deliveries)) => deliveries.into_iter().map(Ok).collect(),
            Ok(Err(e)) | Err(e) if batch.len() == 1 => vec![Err(e)],
            Ok(Err(e)) | Err(e) => {
                tracing::warn!(
                    events = batch.len(),
                    error = %e,
                    "a webhook batch failed and was rolled back; applying its events one by one"
                );
                let mut one_by_one = Vec::with_capacity(batch.len());
                for job in &batch {
                    one_by_one.push(match apply_batch(&state, std::slice::from_ref(job)).await {
                        Ok(Ok(mut deliveries)) => {
                            deliveries.pop().ok_or_else(|| "no result".to_owned())
                        }
                        Ok(Err(e)) | Err(e) => Err(e),
                    });
                }
                one_by_one
            }
        };
        for (job, result) in batch.drain(..).zip(results) {
            let _ = job.reply.send(result);
        }
    }
}

/// Applies `batch` in one transaction. `Err` when beginning fails; `Ok(Err)` when an event or
/// the commit fails (everything is rolled back).
async fn apply_batch(
    state: &AppState,
    batch: &[Job],
) -> Result<Result<Vec<Delivery>, String>, String> {
    let mut tx = state.db.begin_write().await.map_err(|e| e.to_string())?;
    let mut deliveries = Vec::with_capacity(batch.len());
    let mut stale = Vec::new();
    for job in batch {
        match apply_in(state, tx.conn(), &job.event, Origin::Webhook).await {
            Ok((delivery, changed)) => {
                stale.push(changed);
                deliveries.push(delivery);
            }
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    // The next begin_write rolls back again before it begins.
                    tracing::warn!(error = %rollback, "rolling back a failed webhook batch failed");
                }
                return Ok(Err(e.to_string()));
            }
        }
    }
    if let Err(e) = tx.commit().await {
        return Ok(Err(e.to_string()));
    }
    for changed in stale {
        changed.forget(state);
    }
    Ok(Ok(deliveries))
}

/// What the commit of an event makes stale in this instance's caches.
#[derive(Debug, Default)]
pub(super) struct Stale {
    /// The org whose cached entitlement inputs changed.
    org: Option<String>,
    /// Whether a license was revoked (the cached revocation list).
    revoked: bool,
}

impl Stale {
    /// Drops what is stale; called after the commit.
    pub(super) fn forget(self, state: &AppState) {
        if let Some(org) = &self.org {
            state.forget_org(org);
        }
        if self.revoked {
            state.forget_revocations();
        }
    }
}

/// Applies one event inside the caller's transaction: record its id (a second delivery stops
/// here), find and lock the org, let the core decide, perform the actions, audit. Returns what
/// happened and what the commit makes stale in the caches.
pub(super) async fn apply_in(
    state: &AppState,
    conn: &mut AnyConnection,
    event: &StripeEvent,
    origin: Origin,
) -> Result<(Delivery, Stale), ProcessError> {
    let now = super::now();
    let webhook = origin == Origin::Webhook;
    if webhook
        && !db::insert_event(&mut *conn, &event.id, &event.event_type, event.created, now).await?
    {
        return Ok((Delivery::Duplicate, Stale::default()));
    }
    let org_ref = event.org_ref();
    let backend = state.db.backend();
    // By `metadata.org_id` (one query): an id naming no org finds nothing, as in the core's
    // `BillingLedger` (no fall-through to the customer link, which would let a forged org_id act
    // on another org). Without an org_id, by customer or subscription.
    let checkout_session = event.checkout_session_id();
    let deployment = event.deployment_id();
    let about = db::EventAbout {
        subscription: org_ref.subscription_id.as_deref(),
        checkout_session: checkout_session.as_deref(),
        customer: org_ref.customer_id.as_deref(),
        deployment: deployment.as_deref(),
    };
    let found = match &org_ref.org_id {
        Some(id) => db::locked_billing_state(&mut *conn, id, backend, &about).await?,
        None => match db::find_org_for_event(&mut *conn, &org_ref).await? {
            Some(id) => db::locked_billing_state(&mut *conn, &id, backend, &about).await?,
            None => None,
        },
    };
    let (org, current) = match found {
        Some((org, state)) => (Some(org), Some(state)),
        None => (None, None),
    };
    let outcome = apply_event(event, current.as_ref(), &state.billing);
    let org_id = current.as_ref().map(|s| s.org_id.clone());

    if let Some(reason) = &outcome.ignored {
        // An event about another subscription of the org changes nothing for the org, but what
        // it says about that subscription (often: it ended) is kept for rule 4.
        if let (Some(record), Some(org)) = (
            record_for_other_subscription(event, &outcome, &state.billing),
            &current,
        ) {
            let customer = org_ref.customer_id.as_deref();
            db::record_other_subscription(&mut *conn, &org.org_id, customer, &record).await?;
        }
        let detail = serde_json::to_value(reason).unwrap_or(Value::Null);
        if let (IgnoreReason::UntrustedCheckout, Some(org)) = (reason, &current) {
            // Someone completed a checkout naming this org that the server did not create: the
            // attempt is kept where an operator looks (the org's audit log), and nothing changes.
            let attempt = json!({
                "event_id": event.id,
                "checkout_session": checkout_session,
                "customer": org_ref.customer_id,
            });
            let actor = format!("stripe:{}", event.id);
            db::audit(
                &mut *conn,
                &actor,
                "stripe.untrusted_checkout",
                Some(&org.org_id),
                Value::Null,
                attempt,
                now,
            )
            .await?;
        }
        finish_event(
            webhook,
            &mut *conn,
            &event.id,
            org_id.as_deref(),
            reason.as_str(),
            &detail,
            now,
        )
        .await?;
        return Ok((
            Delivery::Ignored(reason.as_str().to_owned()),
            Stale::default(),
        ));
    }
    let (Some(before), Some(org), Some(mut after)) = (current, org, outcome.state.clone()) else {
        // The engine acts only on known orgs; nothing to store otherwise.
        finish_event(
            webhook,
            &mut *conn,
            &event.id,
            None,
            "unknown_org",
            &Value::Null,
            now,
        )
        .await?;
        return Ok((
            Delivery::Ignored("unknown_org".to_owned()),
            Stale::default(),
        ));
    };
    let actor = match origin {
        Origin::Webhook => format!("stripe:{}", event.id),
        Origin::Sync => "stripe:sync".to_owned(),
    };
    let mut revoked = false;
    let mut audit: Vec<AuditRow> = Vec::new();
    let mut record = |action: &'static str, before: Value, after: Value| {
        audit.push(AuditRow {
            actor: actor.clone(),
            action,
            org_id: Some(org.id.clone()),
            before,
            after,
        });
    };
    for action in &outcome.actions {
        match action {
            Action::LinkCustomer { customer_id } => {
                record(
                    "org.link_customer",
                    json!(before.stripe_customer_id),
                    json!(customer_id),
                );
            }
            Action::UpdateSubscription { subscription } => {
                record(
                    "subscription.update",
                    json!(before.subscription),
                    json!(subscription),
                );
            }
            Action::ChangeTier { from, to } => {
                record("org.tier_change", json!(from), json!(to));
            }
            Action::SignLicense { tier, expires_at } => {
                let row = sign_saas_license(state, &org.id, &org.name, *tier, *expires_at, now)
                    .map_err(ProcessError::Signing)?;
                db::insert_license(&mut *conn, &row).await?;
                record(
                    "license.sign",
                    Value::Null,
                    json!({"license_id": row.id, "tier": row.tier, "license_type": row.license_type, "expires_at": row.expires_at}),
                );
                after.license_id = Some(row.id);
            }
            Action::SignDeploymentLicense {
                deployment_id,
                tier,
                expires_at,
            } => {
                let row = sign_deployment_license(
                    state,
                    &org.id,
                    &org.name,
                    deployment_id,
                    *tier,
                    *expires_at,
                    now,
                )
                .map_err(ProcessError::Signing)?;
                db::insert_license(&mut *conn, &row).await?;
                record(
                    "license.sign",
                    Value::Null,
                    json!({"license_id": row.id, "tier": row.tier, "license_type": row.license_type,
                           "expires_at": row.expires_at, "deployment_id": deployment_id}),
                );
            }
            Action::RevokeLicense { license_id } => {
                if db::revoke_license(&mut *conn, license_id, now).await? {
                    revoked = true;
                    record(
                        "license.revoke",
                        json!({"license_id": license_id, "revoked_at": null}),
                        json!({"license_id": license_id, "revoked_at": now}),
                    );
                }
            }
        }
    }
    db::audit_many(&mut *conn, &audit, now).await?;
    let customer = customer_of(event, &after);
    db::store_billing_state(&mut *conn, &after, customer.as_deref(), now).await?;
    let detail = serde_json::to_value(&outcome.actions).unwrap_or(Value::Null);
    finish_event(
        webhook,
        &mut *conn,
        &event.id,
        Some(&org.id),
        "applied",
        &detail,
        now,
    )
    .await?;
    Ok((
        Delivery::Applied(outcome.actions),
        Stale {
            org: Some(org.id),
            revoked,
        },
    ))
}

/// Records what an event did, for a webhook (a sync's updates are not events).
async fn finish_event(
    webhook: bool,
    conn: &mut AnyConnection,
    id: &str,
    org_id: Option<&str>,
    outcome: &str,
    detail: &Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    if webhook {
        db::finish_event(conn, id, org_id, outcome, detail, now).await?;
    }
    Ok(())
}

/// The customer a subscription event names (stored on the subscription row).
fn customer_of(event: &StripeEvent, state: &BillingState) -> Option<String> {
    event
        .org_ref()
        .customer_id
        .or_else(|| state.stripe_customer_id.clone())
}

/// Signs a `saas` license for an org (SPEC §5: `exp` = period end + grace, decided by the core;
/// its claims, `grace_days: 0` among them, by the core's [`saas_license`]).
pub(super) fn sign_saas_license(
    state: &AppState,
    org_id: &str,
    org_name: &str,
    tier: Tier,
    expires_at: i64,
    now: i64,
) -> Result<LicenseRow, String> {
    let claims = saas_license(org_id, tier, now, expires_at);
    signed_row(state, claims, org_name, None)
}

/// Signs a `self_hosted` license for one of an org's deployments, paid through Stripe (the core's
/// rule 6a): `aud` the deployment, `exp` the end of the paid period plus the tier's grace, so
/// `grace_days: 0` (a verifier must not add the grace a second time).
fn sign_deployment_license(
    state: &AppState,
    org_id: &str,
    org_name: &str,
    deployment_id: &str,
    tier: Tier,
    expires_at: i64,
    now: i64,
) -> Result<LicenseRow, String> {
    let claims = self_hosted_license(org_id, tier, now, expires_at)
        .audience(deployment_id)
        .grace_days(Some(0));
    signed_row(state, claims, org_name, Some(deployment_id))
}

/// Builds the claims with the server's issuer and the org's name, signs them, and returns the
/// license row to store.
fn signed_row(
    state: &AppState,
    claims: ClaimsBuilder,
    org_name: &str,
    deployment_id: Option<&str>,
) -> Result<LicenseRow, String> {
    let claims = claims
        .issuer(state.issuer.clone())
        .org_name(Some(org_name.to_owned()))
        .build()
        .map_err(|e| e.message().to_owned())?;
    let token = state.sign(&claims)?;
    Ok(LicenseRow {
        grace_ends_at: Some(claims.grace_ends_at(&state.catalog)),
        id: claims.license_id,
        org_id: claims.sub,
        token,
        tier: claims.tier.as_str().to_owned(),
        license_type: claims.license_type.as_str().to_owned(),
        kid: state.key_id.clone(),
        issued_at: claims.iat,
        expires_at: claims.exp,
        revoked_at: None,
        deployment_id: deployment_id.map(str::to_owned),
    })
}
