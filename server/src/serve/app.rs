//! The HTTP application without a listener, for callers that drive it in-process (the fuzz
//! targets send it requests with `tower::ServiceExt::oneshot`).

use std::sync::Arc;

use axum::Router;

use super::{state, stripe, sync, Config};

/// Starts the state as `serve` does (database, migrations, signing key, the SQLite webhook
/// writer, the periodic Stripe sync when configured) and returns the router of every endpoint. Must be called inside a Tokio runtime,
/// which then runs the webhook writer.
pub async fn start(config: Config) -> Result<Router, String> {
    let sync_every = config.stripe_sync_interval;
    let (state, webhook_queue) = state::AppState::start(config)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let state = Arc::new(state);
    tokio::spawn(stripe::webhook_writer(Arc::clone(&state), webhook_queue));
    if let (Some(every), true) = (sync_every, state.stripe_api.is_some()) {
        tokio::spawn(sync::every(Arc::clone(&state), every));
    }
    Ok(super::routes::router(state))
}
