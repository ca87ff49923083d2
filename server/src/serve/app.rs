//! The HTTP application without a listener, for callers that drive it in-process (the fuzz
//! targets send it requests with `tower::ServiceExt::oneshot`).

use std::sync::Arc;

use axum::Router;

use super::{state, stripe, Config};

/// Starts the state as `serve` does (database, migrations, signing key, the SQLite webhook
/// writer) and returns the router of every endpoint. Must be called inside a Tokio runtime,
/// which then runs the webhook writer.
pub async fn start(config: Config) -> Result<Router, String> {
    let (state, webhook_queue) = state::AppState::start(config)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let state = Arc::new(state);
    tokio::spawn(stripe::webhook_writer(Arc::clone(&state), webhook_queue));
    Ok(super::routes::router(state))
}
