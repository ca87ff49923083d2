//! Who is calling: the admin bearer token, or a user session JWT verified by the core.

use axum::http::{header, HeaderMap};
use dev_health_entitlements::Session;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{ApiError, ApiResult};
use super::state::AppState;

/// The caller of an endpoint, as recorded in the audit log.
#[derive(Debug, Clone)]
pub enum Actor {
    /// The holder of `ADMIN_TOKEN`.
    Admin,
    /// A user with a verified session.
    User(Session),
}

impl Actor {
    /// The audit log's `actor`: `admin` or `user:<sub>`.
    pub fn name(&self) -> String {
        match self {
            Actor::Admin => "admin".to_owned(),
            Actor::User(s) => format!("user:{}", s.sub),
        }
    }
}

/// The bearer token of the request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// Whether `token` is the admin token. Both sides are hashed first so that the comparison takes
/// the same time whatever their lengths, then compared in constant time.
fn is_admin_token(state: &AppState, token: &str) -> bool {
    let Some(expected) = &state.admin_token else {
        return false;
    };
    let a = Sha256::digest(token.as_bytes());
    let b = Sha256::digest(expected.0.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

/// Admin endpoints: only the admin token. Missing or wrong → 401.
pub fn require_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<Actor> {
    match bearer(headers) {
        Some(token) if is_admin_token(state, token) => Ok(Actor::Admin),
        Some(_) => Err(ApiError::unauthorized("Invalid admin token")),
        None => Err(ApiError::unauthorized("Missing bearer token")),
    }
}

/// Org endpoints: the admin token, or a session of this org (or a superuser's) whose role has
/// `permission` in the catalog. No or invalid token → 401; another org or too weak a role → 403.
pub fn require_org(
    state: &AppState,
    headers: &HeaderMap,
    org_id: &str,
    permission: &str,
    now: i64,
) -> ApiResult<Actor> {
    let actor = caller(state, headers, now)?;
    allow_org(state, actor, org_id, permission)
}

/// Endpoints of "my org" (billing): as [`require_org`], for the org `requested` names, or without
/// it the session's own org. The admin token must name the org. Returns the caller and the org.
pub fn require_own_org(
    state: &AppState,
    headers: &HeaderMap,
    requested: Option<&str>,
    permission: &str,
    now: i64,
) -> ApiResult<(Actor, String)> {
    let actor = caller(state, headers, now)?;
    let org_id = match (requested, &actor) {
        (Some(org), _) => org.to_owned(),
        (None, Actor::User(session)) => session.org_id.clone(),
        (None, Actor::Admin) => {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "org_id is required with the admin token",
            ))
        }
    };
    let actor = allow_org(state, actor, &org_id, permission)?;
    Ok((actor, org_id))
}

/// The admin, or the user of a session the core verified. No or invalid token → 401.
fn caller(state: &AppState, headers: &HeaderMap, now: i64) -> ApiResult<Actor> {
    let Some(token) = bearer(headers) else {
        return Err(ApiError::unauthorized("Missing bearer token"));
    };
    if is_admin_token(state, token) {
        return Ok(Actor::Admin);
    }
    let session = match state.cached_session(token, now) {
        Some(session) => session,
        None => {
            let session = state.sessions.verify(token, now).map_err(|e| {
                tracing::info!(code = e.code().as_str(), "session token refused");
                ApiError::unauthorized(format!("Invalid session token ({})", e.code().as_str()))
            })?;
            state.remember_session(token, &session, now);
            session
        }
    };
    Ok(Actor::User(session))
}

/// Whether `actor` may act with `permission` on `org_id`: the admin and superusers always; a user
/// for its own org with a role that has the permission. Otherwise 403.
fn allow_org(state: &AppState, actor: Actor, org_id: &str, permission: &str) -> ApiResult<Actor> {
    let Actor::User(session) = &actor else {
        return Ok(actor);
    };
    if session.is_superuser {
        return Ok(actor);
    }
    if session.org_id != org_id {
        return Err(ApiError::forbidden(
            "This session is for another organization",
        ));
    }
    if !state.catalog.can(&session.role, permission) {
        return Err(ApiError::forbidden(format!(
            "Role {:?} lacks the permission {permission}",
            session.role
        )));
    }
    Ok(actor)
}
