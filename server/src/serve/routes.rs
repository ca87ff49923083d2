//! The HTTP API of SPEC §5.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dev_health_entitlements::issue::{new_license_id, self_hosted_license};
use dev_health_entitlements::rfc3339;
use dev_health_entitlements::stripe::ManagedBy;
use dev_health_entitlements::{Entitlements, LicenseType, ResolveInput, Tier};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tracing::Instrument;

use super::auth::{require_admin, require_org, Actor};
use super::billing;
use super::db::{self, LicenseRow, Org, OverrideRow};
use super::error::{ApiError, ApiResult};
use super::org_tier::{self, LicensesFollowed};
use super::revocations::if_none_match_names;
use super::state::AppState;
use super::stripe::{webhook, MAX_WEBHOOK_BYTES};

type AppStateRef = State<Arc<AppState>>;

/// Largest JSON body of the other endpoints.
const MAX_JSON_BYTES: usize = 64 * 1024;
/// Longest offline license, in days.
const MAX_LICENSE_DAYS: i64 = 3650;

/// The router with every endpoint and the request-id/logging layer.
pub fn router(state: Arc<AppState>) -> Router {
    let webhooks = Router::new()
        .route("/api/v1/billing/webhooks/stripe", post(webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .layer(middleware::from_fn(|request, next| {
            refuse_declared_length(MAX_WEBHOOK_BYTES, request, next)
        }));
    let public_documents = Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/api/v1/licensing/revocations", get(revocations))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(public_read_only());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/licensing/entitlements/{org_id}", get(entitlements))
        .route("/api/v1/licensing/license/{org_id}", get(org_license))
        .route("/api/v1/licensing/licenses/{org_id}", get(org_licenses))
        .route("/api/v1/billing/checkout", post(billing::checkout))
        .route("/api/v1/billing/portal", post(billing::portal))
        .route("/api/v1/admin/licenses", post(issue_license))
        .route("/api/v1/admin/licenses/{id}/revoke", post(revoke_license))
        .route("/api/v1/admin/orgs", post(create_org))
        .route("/api/v1/admin/orgs/{org_id}", get(get_org).patch(patch_org))
        .route(
            "/api/v1/admin/orgs/{org_id}/feature-overrides",
            get(list_overrides).post(create_override),
        )
        .route(
            "/api/v1/admin/orgs/{org_id}/feature-overrides/{id}",
            get(get_override)
                .patch(patch_override)
                .delete(delete_override),
        )
        .route("/api/v1/admin/feature-flags", get(list_flags))
        .route("/api/v1/admin/audit", get(audit_log))
        .route("/api/v1/admin/stripe-events/{id}", get(stripe_event))
        .route(
            "/api/v1/admin/feature-flags/{key}",
            axum::routing::patch(patch_flag),
        )
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn(|request, next| {
            refuse_declared_length(MAX_JSON_BYTES, request, next)
        }))
        .merge(webhooks)
        .fallback(|| async { ApiError::not_found("Not Found") })
        // After every route (merged ones too): it is set on the routes that exist when it is called.
        .method_not_allowed_fallback(method_not_allowed)
        // After the fallbacks are set: a preflight (OPTIONS) must reach the CORS layer, not a
        // 405 fallback set outside it.
        .merge(public_documents)
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// CORS for the public, read-only documents (the JWKS and the revocation list): any origin may
/// read them with GET, without credentials, so a license viewer on another origin can load the
/// keys. No other endpoint sends CORS headers: a browser on another origin cannot read them.
fn public_read_only() -> tower_http::cors::CorsLayer {
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::HEAD])
        // A script revalidating the revocation list reads its ETag.
        .expose_headers([axum::http::header::ETAG])
        .max_age(std::time::Duration::from_secs(86_400))
}

/// A body declared larger than the route takes answers 413 at once, before any of it is read:
/// the body limit alone would first wait for the bytes. (A body without a length is cut at the
/// limit by `DefaultBodyLimit` as it arrives.)
async fn refuse_declared_length(limit: usize, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body over {limit} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(1);
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives each request an id (the caller's `X-Request-Id` when it is short and plain), logs the
/// request in a span carrying it, and returns it in `X-Request-Id`. Headers and bodies are never
/// logged: they carry tokens.
async fn request_id(request: Request, next: Next) -> Response {
    let incoming = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    let id = incoming.unwrap_or_else(|| {
        format!(
            "req-{:x}-{}",
            std::process::id(),
            REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    });
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, micros, "request failed");
        } else {
            tracing::debug!(status, micros, "request");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The path parameters; a segment that does not decode (not UTF-8, say) answers 400
/// `{"detail": ...}` like every other error, not axum's plain text.
struct ApiPath<T>(T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// The query string; one that does not fit (`limit=abc`) answers 400 `{"detail": ...}`.
struct ApiQuery<T>(T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// Reads a JSON body, answering 422 `{"detail": ...}` when it is not valid.
pub(super) fn body<T>(payload: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    match payload {
        Ok(Json(v)) => Ok(v),
        Err(rejection) => {
            let status = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Err(ApiError::new(status, rejection.body_text()))
        }
    }
}

async fn healthz(State(state): AppStateRef) -> Response {
    let ok = sqlx::query("SELECT 1")
        .execute(state.db.pool())
        .await
        .is_ok();
    if ok {
        (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": state.db.backend().name()})),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": state.db.backend().name()})),
        )
            .into_response()
    }
}

async fn jwks(State(state): AppStateRef) -> ApiResult<Response> {
    let keyring = state.published_keyring().await?;
    Ok((
        [(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        )],
        Json(keyring.to_jwks()),
    )
        .into_response())
}

async fn load_org(conn: &mut sqlx::AnyConnection, org_id: &str) -> ApiResult<Org> {
    db::get_org(conn, org_id, "")
        .await?
        .ok_or_else(|| ApiError::not_found("Organization not found"))
}

async fn entitlements(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let now = super::now();
    require_org(&state, &headers, &org_id, "org:read", now)?;
    let inputs = state
        .org_inputs(&org_id, now)
        .await?
        .ok_or_else(|| ApiError::not_found("Organization not found"))?;
    let kill_switches = state.kill_switches().await?;
    let ent = Entitlements::resolve(
        Arc::clone(&state.catalog),
        &ResolveInput {
            license: inputs.license.as_deref(),
            org_id: Some(&org_id),
            org_tier: Some(inputs.tier),
            overrides: &inputs.overrides,
            kill_switches: Some(kill_switches.as_ref()),
            now,
        },
    );
    Ok(Json(ent.to_json()))
}

fn license_json(row: &LicenseRow) -> Value {
    json!({
        "license": row.token,
        "license_id": row.id,
        "org_id": row.org_id,
        "tier": row.tier,
        "license_type": row.license_type,
        "kid": row.kid,
        "issued_at": rfc3339(row.issued_at),
        "expires_at": rfc3339(row.expires_at),
        "revoked_at": row.revoked_at.map(rfc3339),
        "deployment_id": row.deployment_id,
    })
}

/// The most licenses `GET /api/v1/licensing/licenses/{org_id}` lists.
const MAX_LISTED_LICENSES: i64 = 500;

/// `GET /api/v1/licensing/licenses/{org_id}` (owner/admin): every license issued to the org,
/// newest first, self-hosted ones included, each with its token to download.
async fn org_licenses(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    require_org(&state, &headers, &org_id, "org:write", super::now())?;
    let mut conn = state.db.pool().acquire().await?;
    load_org(&mut conn, &org_id).await?;
    let rows = db::org_licenses(&mut conn, &org_id, MAX_LISTED_LICENSES).await?;
    Ok(Json(
        json!({"licenses": rows.iter().map(license_json).collect::<Vec<_>>()}),
    ))
}

async fn org_license(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    require_org(&state, &headers, &org_id, "org:write", super::now())?;
    let mut conn = state.db.pool().acquire().await?;
    let org = load_org(&mut conn, &org_id).await?;
    let row = db::current_license(&mut conn, &org, false)
        .await?
        .ok_or_else(|| ApiError::not_found("This organization has no license"))?;
    Ok(Json(license_json(&row)))
}

/// The signed revocation list, with a weak ETag naming its content: `If-None-Match` with it
/// answers 304 while the list holds the same ids (see [`super::revocations`]).
async fn revocations(State(state): AppStateRef, headers: HeaderMap) -> ApiResult<Response> {
    let list = state.revocations().await?;
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| if_none_match_names(v, &list.etag));
    let validators = [
        (header::ETAG, list.etag),
        // Caches may keep it, but must ask again (with the ETag) before using it.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, validators).into_response());
    }
    Ok((
        validators,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        list.body,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    org_id: String,
    tier: String,
    days: i64,
    org_name: Option<String>,
    contact_email: Option<String>,
    features: Option<Map<String, Value>>,
    limits: Option<Map<String, Value>>,
    deployment_id: Option<String>,
    license_type: Option<String>,
    grace_days: Option<u32>,
}

async fn issue_license(
    State(state): AppStateRef,
    headers: HeaderMap,
    payload: Result<Json<IssueRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let actor = require_admin(&state, &headers)?;
    let req = body(payload)?;
    let now = super::now();
    if req.org_id.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "org_id is empty",
        ));
    }
    if !(1..=MAX_LICENSE_DAYS).contains(&req.days) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("days must be between 1 and {MAX_LICENSE_DAYS}"),
        ));
    }
    let tier = Tier::parse(&req.tier).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tier must be community, team or enterprise",
        )
    })?;
    let license_type = match req.license_type.as_deref() {
        None => LicenseType::SelfHosted,
        Some(t) => LicenseType::parse(t).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "license_type must be saas, self_hosted, trial or evaluation",
            )
        })?,
    };
    let expires_at = now.saturating_add(req.days.saturating_mul(86_400));
    // The core reads the claims through the verifier's schema, so a bad feature or limit is
    // refused with the core's message before anything is signed.
    let mut claims = self_hosted_license(req.org_id.clone(), tier, now, expires_at)
        .issuer(state.issuer.clone())
        .license_type(license_type)
        .features_json(req.features.unwrap_or_default())
        .limits_json(req.limits.unwrap_or_default())
        .grace_days(req.grace_days)
        .org_name(req.org_name.clone())
        .contact_email(req.contact_email.clone());
    if let Some(aud) = &req.deployment_id {
        claims = claims.audience(aud.clone());
    }
    let claims = claims
        .build()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.message()))?;
    let id = claims.license_id.clone();
    let token = state.sign(&claims).map_err(|e| ApiError::internal(&e))?;
    let row = LicenseRow {
        id: id.clone(),
        org_id: req.org_id.clone(),
        token,
        tier: tier.as_str().to_owned(),
        license_type: license_type.as_str().to_owned(),
        kid: state.key_id.clone(),
        issued_at: now,
        expires_at,
        grace_ends_at: Some(claims.grace_ends_at(&state.catalog)),
        revoked_at: None,
        deployment_id: req.deployment_id.clone(),
    };
    let mut tx = state.db.begin_write().await?;
    db::insert_license(tx.conn(), &row).await?;
    db::audit(
        tx.conn(),
        &actor.name(),
        "license.issue",
        Some(&row.org_id),
        Value::Null,
        json!({"license_id": id, "tier": row.tier, "license_type": row.license_type,
               "expires_at": expires_at, "deployment_id": req.deployment_id}),
        now,
    )
    .await?;
    tx.commit().await?;
    state.forget_org(&row.org_id);
    tracing::info!(license_id = %id, org_id = %row.org_id, tier = %row.tier, "license issued");
    Ok((
        StatusCode::CREATED,
        Json(json!({"license": row.token, "license_id": id, "expires_at": rfc3339(expires_at)})),
    )
        .into_response())
}

async fn revoke_license(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let actor = require_admin(&state, &headers)?;
    let now = super::now();
    let mut tx = state.db.begin_write().await?;
    // Locks in the order of a Stripe webhook, which locks the org and then changes its license
    // rows: the org first, then the license. (License first, org second could deadlock with a
    // webhook for the same org on PostgreSQL.) A license's org never changes, so the unlocked
    // read only finds which org to lock.
    let org_id = db::get_license(tx.conn(), &id, "")
        .await?
        .ok_or_else(|| ApiError::not_found("License not found"))?
        .org_id;
    let org = db::get_org(tx.conn(), &org_id, state.db.for_update()).await?;
    let row = db::get_license(tx.conn(), &id, state.db.for_update())
        .await?
        .ok_or_else(|| ApiError::not_found("License not found"))?;
    let revoked_at = match row.revoked_at {
        Some(at) => at,
        None => {
            db::revoke_license(tx.conn(), &id, now).await?;
            if let Some(org) = org {
                if org.license_id.as_deref() == Some(id.as_str()) {
                    sqlx::query(
                        "UPDATE organizations SET license_id = NULL, updated_at = $1 WHERE id = $2",
                    )
                    .bind(now)
                    .bind(&org.id)
                    .execute(tx.conn())
                    .await?;
                }
            }
            db::audit(
                tx.conn(),
                &actor.name(),
                "license.revoke",
                Some(&row.org_id),
                json!({"license_id": id, "revoked_at": null}),
                json!({"license_id": id, "revoked_at": now}),
                now,
            )
            .await?;
            now
        }
    };
    tx.commit().await?;
    state.forget_org(&row.org_id);
    state.forget_revocations();
    Ok(Json(
        json!({"license_id": id, "revoked_at": rfc3339(revoked_at)}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOrg {
    id: Option<String>,
    name: String,
    slug: Option<String>,
    tier: Option<String>,
    managed_by: Option<String>,
    settings: Option<Value>,
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn org_json(org: &Org) -> Value {
    json!({
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "tier": org.tier.as_str(),
        "managed_by": db::managed_by_str(org.managed_by),
        "stripe_customer_id": org.stripe_customer_id,
        "subscription_id": org.subscription_id,
        "license_id": org.license_id,
        "settings": org.settings,
        "created_at": rfc3339(org.created_at),
        "updated_at": rfc3339(org.updated_at),
    })
}

async fn create_org(
    State(state): AppStateRef,
    headers: HeaderMap,
    payload: Result<Json<CreateOrg>, JsonRejection>,
) -> ApiResult<Response> {
    let actor = require_admin(&state, &headers)?;
    let req = body(payload)?;
    let unprocessable = |m: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let name = req.name.trim().to_owned();
    if name.is_empty() {
        return Err(unprocessable("name is empty"));
    }
    let id = match req.id.map(|s| s.trim().to_owned()) {
        Some(id) if id.is_empty() || id.len() > 128 => {
            return Err(unprocessable("id must be 1 to 128 characters"))
        }
        Some(id) => id,
        None => format!("org_{}", new_license_id().trim_start_matches("lic_")),
    };
    let slug = match req.slug {
        Some(s) => slugify(&s),
        None => slugify(&name),
    };
    let slug = if slug.is_empty() {
        id.to_lowercase()
    } else {
        slug
    };
    let tier = match req.tier.as_deref() {
        None => Tier::Community,
        Some(t) => Tier::parse(t)
            .ok_or_else(|| unprocessable("tier must be community, team or enterprise"))?,
    };
    let managed_by = match req.managed_by.as_deref() {
        None | Some("stripe") => ManagedBy::Stripe,
        Some("manual") => ManagedBy::Manual,
        Some(_) => return Err(unprocessable("managed_by must be stripe or manual")),
    };
    let settings = match req.settings {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(unprocessable("settings must be an object")),
    };
    let now = super::now();
    let org = Org {
        id,
        name,
        slug,
        tier,
        managed_by,
        stripe_customer_id: None,
        settings,
        subscription_id: None,
        license_id: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    if !db::insert_org(tx.conn(), &org).await? {
        return Err(ApiError::conflict(
            "An organization with this id or slug exists",
        ));
    }
    db::audit(
        tx.conn(),
        &actor.name(),
        "org.create",
        Some(&org.id),
        Value::Null,
        org_json(&org),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(org_json(&org))).into_response())
}

async fn get_org(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let mut conn = state.db.pool().acquire().await?;
    let org = load_org(&mut conn, &org_id).await?;
    Ok(Json(org_json(&org)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchOrg {
    name: Option<String>,
    tier: Option<String>,
    managed_by: Option<String>,
    settings: Option<Value>,
}

/// `PATCH /api/v1/admin/orgs/{org_id}`: an operator sets a (manual) org's tier, who manages it,
/// its name or settings. Each change is audited. A new tier takes effect at once: the org's SaaS
/// and trial licenses follow it ([`org_tier::follow_tier`]).
async fn patch_org(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
    payload: Result<Json<PatchOrg>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let actor = require_admin(&state, &headers)?.name();
    let req = body(payload)?;
    let unprocessable = |m: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let now = super::now();
    let mut tx = state.db.begin_write().await?;
    let before = db::get_org(tx.conn(), &org_id, state.db.for_update())
        .await?
        .ok_or_else(|| ApiError::not_found("Organization not found"))?;
    let mut after = before.clone();
    if let Some(name) = req.name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(unprocessable("name is empty"));
        }
        after.name = name;
    }
    if let Some(tier) = req.tier.as_deref() {
        after.tier = Tier::parse(tier)
            .ok_or_else(|| unprocessable("tier must be community, team or enterprise"))?;
    }
    match req.managed_by.as_deref() {
        None => {}
        Some("stripe") => after.managed_by = ManagedBy::Stripe,
        Some("manual") => after.managed_by = ManagedBy::Manual,
        Some(_) => return Err(unprocessable("managed_by must be stripe or manual")),
    }
    match req.settings {
        None => {}
        Some(v @ Value::Object(_)) => after.settings = v,
        Some(_) => return Err(unprocessable("settings must be an object")),
    }
    // The operator's tier wins over the org's SaaS license at once (see `org_tier`).
    let licenses = if before.tier != after.tier {
        org_tier::follow_tier(&state, tx.conn(), &mut after, &actor, now).await?
    } else {
        LicensesFollowed::default()
    };
    after.updated_at = now;
    db::update_org(tx.conn(), &after, now).await?;
    if before.tier != after.tier {
        db::audit(
            tx.conn(),
            &actor,
            "org.tier_change",
            Some(&org_id),
            json!(before.tier),
            json!(after.tier),
            now,
        )
        .await?;
        db::audit_many(tx.conn(), &licenses.audit, now).await?;
    }
    if before.managed_by != after.managed_by {
        db::audit(
            tx.conn(),
            &actor,
            "org.managed_by_change",
            Some(&org_id),
            json!(before.managed_by),
            json!(after.managed_by),
            now,
        )
        .await?;
    }
    if before.name != after.name || before.settings != after.settings {
        db::audit(
            tx.conn(),
            &actor,
            "org.update",
            Some(&org_id),
            json!({"name": before.name, "settings": before.settings}),
            json!({"name": after.name, "settings": after.settings}),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.forget_org(&org_id);
    if !licenses.revoked.is_empty() {
        state.forget_revocations();
    }
    Ok(Json(org_json(&after)))
}

/// Creating, changing or deleting an override grants or removes features, so it takes the admin
/// token (SPEC §5: the override endpoints are admin endpoints, `ADMIN_TOKEN` their bearer). A
/// session the core verifies, whatever its org, role or superuser flag, is known but not allowed
/// (403); no token or a token that is neither answers 401 as on the other admin endpoints. Reading
/// an org's overrides stays open to its sessions with `settings:read`.
fn require_admin_to_change_overrides(
    state: &AppState,
    headers: &HeaderMap,
    org_id: &str,
    now: i64,
) -> ApiResult<Actor> {
    let refused = match require_admin(state, headers) {
        Ok(actor) => return Ok(actor),
        Err(refused) => refused,
    };
    match require_org(state, headers, org_id, "settings:read", now) {
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(refused),
        _ => Err(ApiError::forbidden(
            "Feature overrides are changed with the admin token only; a session may read them",
        )),
    }
}

fn override_json(o: &OverrideRow) -> Value {
    json!({
        "id": o.id,
        "org_id": o.org_id,
        "feature_key": o.feature_key,
        "enabled": o.enabled,
        "expires_at": o.expires_at,
        "reason": o.reason,
        "created_by": o.created_by,
        "created_at": o.created_at,
    })
}

async fn list_overrides(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    require_org(&state, &headers, &org_id, "settings:read", super::now())?;
    let mut conn = state.db.pool().acquire().await?;
    load_org(&mut conn, &org_id).await?;
    let list = db::list_overrides(&mut conn, &org_id).await?;
    Ok(Json(Value::Array(list.iter().map(override_json).collect())))
}

async fn get_override(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath((org_id, id)): ApiPath<(String, String)>,
) -> ApiResult<Json<Value>> {
    require_org(&state, &headers, &org_id, "settings:read", super::now())?;
    let mut conn = state.db.pool().acquire().await?;
    let o = db::get_override(&mut conn, &org_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Override not found"))?;
    Ok(Json(override_json(&o)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideRequest {
    #[serde(alias = "feature")]
    feature_key: Option<String>,
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    expires_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    reason: Option<Option<String>>,
}

/// `null` → `Some(None)` (clear), absent → `None` (keep).
fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

async fn create_override(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(org_id): ApiPath<String>,
    payload: Result<Json<OverrideRequest>, JsonRejection>,
) -> ApiResult<Response> {
    let now = super::now();
    let actor = require_admin_to_change_overrides(&state, &headers, &org_id, now)?;
    let req = body(payload)?;
    let unprocessable = |m: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let feature = req
        .feature_key
        .ok_or_else(|| unprocessable("feature_key is required"))?;
    if state.catalog.feature(&feature).is_none() {
        return Err(unprocessable("feature_key names no feature of the catalog"));
    }
    let enabled = req
        .enabled
        .ok_or_else(|| unprocessable("enabled is required"))?;
    let row = OverrideRow {
        id: format!("ovr_{}", new_license_id().trim_start_matches("lic_")),
        org_id: org_id.clone(),
        feature_key: feature,
        enabled,
        expires_at: req.expires_at.flatten(),
        reason: req.reason.flatten(),
        created_by: actor.name(),
        created_at: now,
    };
    let mut tx = state.db.begin_write().await?;
    load_org(tx.conn(), &org_id).await?;
    db::upsert_override(tx.conn(), &row).await?;
    db::audit(
        tx.conn(),
        &actor.name(),
        "override.create",
        Some(&org_id),
        Value::Null,
        override_json(&row),
        now,
    )
    .await?;
    tx.commit().await?;
    state.forget_org(&org_id);
    Ok((StatusCode::CREATED, Json(override_json(&row))).into_response())
}

async fn patch_override(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath((org_id, id)): ApiPath<(String, String)>,
    payload: Result<Json<OverrideRequest>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let now = super::now();
    let actor = require_admin_to_change_overrides(&state, &headers, &org_id, now)?;
    let req = body(payload)?;
    if req.feature_key.is_some() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "feature_key cannot change; delete the override and create another",
        ));
    }
    let mut tx = state.db.begin_write().await?;
    let before = db::get_override(tx.conn(), &org_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Override not found"))?;
    let mut after = before.clone();
    if let Some(enabled) = req.enabled {
        after.enabled = enabled;
    }
    if let Some(expires_at) = req.expires_at {
        after.expires_at = expires_at;
    }
    if let Some(reason) = req.reason {
        after.reason = reason;
    }
    db::upsert_override(tx.conn(), &after).await?;
    db::audit(
        tx.conn(),
        &actor.name(),
        "override.update",
        Some(&org_id),
        override_json(&before),
        override_json(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    state.forget_org(&org_id);
    Ok(Json(override_json(&after)))
}

async fn delete_override(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath((org_id, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let now = super::now();
    let actor = require_admin_to_change_overrides(&state, &headers, &org_id, now)?;
    let mut tx = state.db.begin_write().await?;
    let before = db::get_override(tx.conn(), &org_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Override not found"))?;
    db::delete_override(tx.conn(), &org_id, &id).await?;
    db::audit(
        tx.conn(),
        &actor.name(),
        "override.delete",
        Some(&org_id),
        override_json(&before),
        Value::Null,
        now,
    )
    .await?;
    tx.commit().await?;
    state.forget_org(&org_id);
    Ok(StatusCode::NO_CONTENT)
}

async fn list_flags(State(state): AppStateRef, headers: HeaderMap) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let mut conn = state.db.pool().acquire().await?;
    let flags = db::list_flags(&mut conn).await?;
    Ok(Json(json!(flags)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagPatch {
    enabled: bool,
}

async fn patch_flag(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(key): ApiPath<String>,
    payload: Result<Json<FlagPatch>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let actor: Actor = require_admin(&state, &headers)?;
    let req = body(payload)?;
    let now = super::now();
    let mut tx = state.db.begin_write().await?;
    let before = db::get_flag(tx.conn(), &key, state.db.for_update())
        .await?
        .ok_or_else(|| ApiError::not_found("Feature flag not found"))?;
    let mut after = before.clone();
    after.enabled = req.enabled;
    if before.enabled != after.enabled {
        db::set_flag_enabled(tx.conn(), &key, req.enabled, now).await?;
        db::audit(
            tx.conn(),
            &actor.name(),
            "feature_flag.update",
            None,
            json!({"key": key, "enabled": before.enabled}),
            json!({"key": key, "enabled": after.enabled}),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    state.forget_kill_switches();
    Ok(Json(json!(after)))
}

#[derive(Deserialize)]
struct AuditQuery {
    org_id: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/admin/audit?org_id=&limit=`: the audit log, newest first (admin).
async fn audit_log(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut conn = state.db.pool().acquire().await?;
    let rows = db::audit_rows(&mut conn, q.org_id.as_deref(), limit).await?;
    Ok(Json(Value::Array(rows)))
}

/// `GET /api/v1/admin/stripe-events/{id}`: how an event was recorded (admin).
async fn stripe_event(
    State(state): AppStateRef,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    require_admin(&state, &headers)?;
    let mut conn = state.db.pool().acquire().await?;
    let (outcome, org_id) = db::event_outcome(&mut conn, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("Event not received"))?;
    Ok(Json(
        json!({"id": id, "outcome": outcome, "org_id": org_id}),
    ))
}
