//! `dev-health-license serve`: the reference license server (SPEC §5).
//!
//! The server loads state, calls the core engine (`dev_health_entitlements`) for every decision
//! and stores the result: Stripe signatures and events, session tokens, entitlements, license and
//! revocation-list signing all happen in the core.

pub mod app;
mod auth;
mod billing;
mod config;
mod db;
mod error;
mod http;
mod org_tier;
mod revocations;
mod routes;
mod state;
mod stripe;
mod stripe_api;
mod sync;

use std::net::SocketAddr;
use std::process::ExitCode;

pub use config::{default_dev_session_key, is_development, Config, KeySource};
pub use sync::{run as run_stripe_sync, SyncArgs};

/// Arguments of `serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080; env LISTEN_ADDR).
    #[arg(long, env = "LISTEN_ADDR")]
    pub listen: Option<String>,
}

/// Now, in Unix seconds.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Runs the server until SIGINT/SIGTERM. Returns the process exit code.
pub fn run(args: ServeArgs) -> ExitCode {
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(args));
    // Tasks still running (connections past the shutdown deadline, the webhook writer) are
    // dropped; a blocked one does not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // A second call (tests) leaves the first subscriber in place.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let listen = args
        .listen
        .unwrap_or_else(|| config::DEFAULT_LISTEN.to_owned());
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| format!("--listen: {listen:?} is not an address such as 127.0.0.1:8080"))?;
    let config = Config::from_env().map_err(|e| format!("configuration: {e}"))?;
    announce(&config);

    let limits = config.http;
    // The same start the fuzz targets drive in-process.
    let app = app::start(config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    tracing::info!(%local, "dev-health-license listening");
    // The line tests and scripts wait for.
    println!("listening on http://{local}");
    http::serve(listener, app, limits, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Says what the configuration lacks, loudly when it runs on development defaults.
fn announce(config: &Config) {
    if let KeySource::Development { path, created } = &config.key_source {
        let what = if *created {
            "CREATED a development signing key"
        } else {
            "is using the development signing key"
        };
        let banner = format!(
            "\n{line}\n  DEVELOPMENT MODE: dev-health-license {what}\n  at {path} (kid {kid}).\n  \
             Licenses it signs are for development only, and so are the session tokens of\n  \
             `dev-health-license session`, which it accepts. Set LICENSE_SIGNING_KEY and\n  \
             LICENSE_KEY_ID for production (see docs/server.md).\n{line}\n",
            line = "!".repeat(78),
            path = path.display(),
            kid = config.key_id,
        );
        eprintln!("{banner}");
        tracing::warn!(kid = %config.key_id, path = %path.display(), "development signing key in use");
    }
    if config.allow_test_keys
        && dev_health_entitlements::keys::is_test_key(&config.signing_key.public_key())
    {
        tracing::warn!(
            kid = %config.key_id,
            "DEV_HEALTH_ALLOW_TEST_KEYS=1: signing with the all-zero-seed test key, which anyone \
             can sign with; for local testing only"
        );
    }
    if config.webhook_secrets.is_empty() {
        tracing::warn!("STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused");
    }
    for position in config.unusual_webhook_secrets() {
        tracing::warn!(
            position,
            "STRIPE_WEBHOOK_SECRET: secret number {position} does not look like one Stripe \
             issues (whsec_ and at least 24 letters or digits); webhooks signed by Stripe \
             will be refused unless it is the endpoint's signing secret"
        );
    }
    let limits = &config.http;
    tracing::info!(
        header_timeout_secs = limits.header_timeout.as_secs_f64(),
        body_timeout_secs = limits.body_timeout.as_secs_f64(),
        idle_timeout_secs = limits.idle_timeout.as_secs_f64(),
        max_connections = limits.max_connections,
        max_in_flight = limits.max_in_flight,
        shutdown_timeout_secs = limits.shutdown_timeout.as_secs_f64(),
        "HTTP limits"
    );
    if config.billing.price_tiers.is_empty() {
        tracing::warn!("STRIPE_PRICE_TIERS is not set: no Stripe price grants a paid tier");
    }
    match (&config.stripe_api, &config.public_app_url) {
        (None, _) => tracing::warn!(
            "STRIPE_SECRET_KEY is not set: the billing endpoints (checkout, portal) answer 503"
        ),
        (Some(api), None) => tracing::warn!(
            api_base = %api.api_base,
            "PUBLIC_APP_URL is not set: checkout and portal requests must name their return URLs"
        ),
        (Some(api), Some(app)) => {
            tracing::info!(api_base = %api.api_base, public_app_url = %app, "Stripe API configured")
        }
    }
    match (&config.stripe_api, config.stripe_sync_interval) {
        (Some(_), Some(every)) => {
            tracing::info!(interval_secs = every.as_secs(), "periodic Stripe sync on")
        }
        (Some(_), None) => tracing::info!("STRIPE_SYNC_INTERVAL=0: periodic Stripe sync off"),
        (None, _) => {}
    }
    if config.admin_token.is_none() {
        tracing::warn!("ADMIN_TOKEN is not set: the admin endpoints refuse every request");
    }
    if !config.sessions_configured {
        tracing::warn!(
            "neither SESSION_PUBLIC_KEYS nor SESSION_HS256_SECRET is set: user endpoints accept only the admin token"
        );
    }
}
