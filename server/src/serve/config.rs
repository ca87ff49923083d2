//! The server's configuration, read from the environment (SPEC §5).
//!
//! Nothing here is ever logged with its value: secrets are kept in types whose `Debug` hides them.

use std::path::{Path, PathBuf};

use dev_health_entitlements::issue::SigningKey;
use dev_health_entitlements::keys::is_test_key;
use dev_health_entitlements::stripe::{BillingConfig, PriceTiers};
use dev_health_entitlements::{Keyring, SessionVerifier, Tier};
use sha2::{Digest, Sha256};

pub use super::http::HttpLimits;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The data directory used when nothing is configured.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The default SQLite database, under the data directory.
pub const DEFAULT_DB_FILE: &str = "dev-health.db";
/// The development signing key created once under the data directory.
pub const DEV_KEY_FILE: &str = "dev-signing-key";
/// The development session key, created once under the data directory next to the development
/// signing key: `dev-health-license session` signs user session tokens with it, and `serve` on its
/// development signing key accepts them.
pub const DEV_SESSION_KEY_FILE: &str = "dev-session-key";
/// The start of every development key's kid. The JWKS leaves such keys out once a configured key
/// signs, so the prefix is kept for them: a configured key may not use it.
pub const DEV_KID_PREFIX: &str = "dev-";
/// The smallest pool on SQLite: the writer's connection and one to read with.
pub const MIN_SQLITE_CONNECTIONS: u32 = 2;
/// The shortest admin token accepted: 32 characters, the length of a 128-bit random value in hex.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;
/// The longest time limit a variable may set (a day): anything longer is a mistake.
const MAX_LIMIT_SECS: f64 = 86_400.0;
/// The default issuer of licenses and revocation lists.
pub const DEFAULT_ISSUER: &str = dev_health_entitlements::DEFAULT_ISSUER;

/// A secret string whose `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the signing key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `LICENSE_SIGNING_KEY` / `LICENSE_PRIVATE_KEY`.
    Configured,
    /// A development key created (or reused) under the data directory.
    Development {
        /// The key file.
        path: PathBuf,
        /// Whether this start created it.
        created: bool,
    },
}

/// The server's configuration.
#[derive(Debug)]
pub struct Config {
    /// The database URL (`sqlite://...` or `postgres://...`), never logged (it may hold a password).
    pub database_url: Secret,
    /// The license signing key.
    pub signing_key: SigningKey,
    /// Its key id.
    pub key_id: String,
    /// Where it came from.
    pub key_source: KeySource,
    /// Extra public keys to publish in the JWKS (the next key of a rotation).
    pub published_keys: Keyring,
    /// `DEV_HEALTH_ALLOW_TEST_KEYS=1`: the all-zero-seed test key may sign and be published.
    pub allow_test_keys: bool,
    /// The issuer (`iss`) of licenses and revocation lists.
    pub issuer: String,
    /// Stripe webhook secrets (several during a rotation).
    pub webhook_secrets: Vec<Secret>,
    /// Prices → tiers and grace days for the Stripe event engine.
    pub billing: BillingConfig,
    /// Verifier of user session JWTs.
    pub sessions: SessionVerifier,
    /// Whether any session key or secret is configured.
    pub sessions_configured: bool,
    /// The bearer token of the admin endpoints.
    pub admin_token: Option<Secret>,
    /// Maximum database connections.
    pub max_connections: u32,
    /// Time limits and caps of the HTTP connection layer.
    pub http: HttpLimits,
    /// The Stripe API (`STRIPE_SECRET_KEY`, `STRIPE_API_BASE`, `STRIPE_API_TIMEOUT_SECS`); `None`
    /// without a secret key: the billing endpoints then answer 503.
    pub stripe_api: Option<StripeApiConfig>,
    /// `PUBLIC_APP_URL`: the web app's origin, for the default return URLs of Checkout and the
    /// Customer Portal (without a trailing slash).
    pub public_app_url: Option<String>,
    /// `STRIPE_SYNC_INTERVAL`: how often `serve` syncs with Stripe (default 6 h); `None` when 0.
    pub stripe_sync_interval: Option<std::time::Duration>,
}

/// How to reach the Stripe API.
#[derive(Debug, Clone)]
pub struct StripeApiConfig {
    /// The secret (or restricted) API key.
    pub secret_key: Secret,
    /// The API's base URL.
    pub api_base: String,
    /// The time one attempt of a call may take.
    pub timeout: std::time::Duration,
}

/// A configuration error: the message names the variable, never its value.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(DEFAULT_DATA_DIR);
        let database_url = match lookup("DATABASE_URL") {
            Some(url) => url,
            None => {
                let file = data_dir.join(DEFAULT_DB_FILE);
                format!("sqlite://{}", file.display())
            }
        };
        let database_url = normalize_database_url(&database_url)?;

        // The same switch, read the same way, as the core's verifiers (SPEC §1.3).
        let allow_test_keys = dev_health_entitlements::keys::test_keys_allowed(&lookup);
        let (signing_key, key_source) =
            match lookup("LICENSE_SIGNING_KEY").or_else(|| lookup("LICENSE_PRIVATE_KEY")) {
                Some(value) => (read_signing_key(&value)?, KeySource::Configured),
                // A shared database is a deployment: its licenses must not be signed by a key
                // sitting in some ./data/ directory.
                None if is_postgres_url(&database_url) => {
                    return Err(err(
                        "DATABASE_URL names PostgreSQL but no signing key is configured: set \
                         LICENSE_SIGNING_KEY (and LICENSE_KEY_ID); the development key is for \
                         SQLite only",
                    ))
                }
                None => dev_signing_key(&data_dir)?,
            };
        if !allow_test_keys && is_test_key(&signing_key.public_key()) {
            let what = match &key_source {
                KeySource::Configured => "LICENSE_SIGNING_KEY".to_owned(),
                KeySource::Development { path, .. } => format!("{}", path.display()),
            };
            return Err(err(format!(
                "{what} is the documented all-zero-seed test key, which anyone can sign with; \
                 set DEV_HEALTH_ALLOW_TEST_KEYS=1 to use it for local testing"
            )));
        }
        let key_id = match (lookup("LICENSE_KEY_ID"), &key_source) {
            (Some(kid), KeySource::Configured) => {
                let kid = kid.trim().to_owned();
                if kid.starts_with(DEV_KID_PREFIX) {
                    return Err(err(format!(
                        "LICENSE_KEY_ID must not start with {DEV_KID_PREFIX:?}: that prefix marks \
                         development keys, which the JWKS leaves out once a configured key signs"
                    )));
                }
                kid
            }
            (None, KeySource::Configured) => thumbprint_kid(&signing_key),
            (Some(kid), KeySource::Development { .. }) => {
                let kid = kid.trim();
                if kid.starts_with(DEV_KID_PREFIX) {
                    kid.to_owned()
                } else {
                    format!("{DEV_KID_PREFIX}{kid}")
                }
            }
            (None, KeySource::Development { .. }) => {
                format!("{DEV_KID_PREFIX}{}", thumbprint_kid(&signing_key))
            }
        };
        let published_keys = match lookup("LICENSE_PUBLISH_KEYS") {
            Some(text) => {
                let mut keys = Keyring::parse(&text)
                    .map_err(|e| err(format!("LICENSE_PUBLISH_KEYS: {}", e.message())))?;
                keys.refuse_test_keys(allow_test_keys)
                    .map_err(|e| err(format!("LICENSE_PUBLISH_KEYS: {}", e.message())))?;
                keys
            }
            None => Keyring::new(),
        };

        let webhook_secrets = lookup("STRIPE_WEBHOOK_SECRET")
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Secret(s.to_owned()))
                    .collect()
            })
            .unwrap_or_default();

        let mut prices = match lookup("STRIPE_PRICE_TIERS") {
            Some(text) => PriceTiers::parse(&text)
                .map_err(|e| err(format!("STRIPE_PRICE_TIERS: {}", e.message())))?,
            None => PriceTiers::new(),
        };
        for (var, tier) in [
            ("STRIPE_PRICE_ID_TEAM", Tier::Team),
            ("STRIPE_PRICE_ID_ENTERPRISE", Tier::Enterprise),
        ] {
            if let Some(price) = lookup(var) {
                for price in price.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    if let Some(before) = prices.get(price) {
                        if before != tier {
                            return Err(err(format!(
                                "{var} maps a price that STRIPE_PRICE_TIERS maps to another tier"
                            )));
                        }
                    }
                    prices.insert(price, tier);
                }
            }
        }

        let mut session_keys = match lookup("SESSION_PUBLIC_KEYS") {
            Some(text) => Keyring::parse(&text)
                .map_err(|e| err(format!("SESSION_PUBLIC_KEYS: {}", e.message())))?,
            None => Keyring::new(),
        };
        match &key_source {
            // Development: the tokens `dev-health-license session` mints are accepted.
            KeySource::Development { .. } => {
                let (key, kid) = dev_session_key(&data_dir)?;
                session_keys.add(kid, key.public_key());
            }
            KeySource::Configured => {
                if let Some(entry) = session_keys
                    .entries()
                    .iter()
                    .find(|e| e.kid.starts_with(DEV_KID_PREFIX))
                {
                    return Err(err(format!(
                        "SESSION_PUBLIC_KEYS holds the development session key {:?}: tokens \
                         minted by `dev-health-license session` are for development only, and \
                         this server signs with a configured key",
                        entry.kid
                    )));
                }
            }
        }
        let hs256 = lookup("SESSION_HS256_SECRET");
        let sessions_configured = !session_keys.is_empty() || hs256.is_some();
        let sessions = SessionVerifier::new(session_keys)
            .with_hs256_secret(hs256.as_deref().map(str::as_bytes))
            .map_err(|e| err(format!("SESSION_HS256_SECRET: {}", e.message())))?
            .with_issuer(lookup("SESSION_ISSUER"));

        let max_connections = match lookup("DATABASE_MAX_CONNECTIONS") {
            Some(n) => n
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| err("DATABASE_MAX_CONNECTIONS must be a positive integer"))?,
            None => 8,
        };
        // SQLite keeps one pooled connection for writing (server/src/serve/db.rs): with a pool of
        // one nothing would be left to read with, and the start would time out.
        if max_connections < MIN_SQLITE_CONNECTIONS && !is_postgres_url(&database_url) {
            return Err(err(format!(
                "DATABASE_MAX_CONNECTIONS must be at least {MIN_SQLITE_CONNECTIONS} with SQLite: \
                 one connection is kept for writing, the others read"
            )));
        }

        let admin_token = match lookup("ADMIN_TOKEN").map(|t| t.trim().to_owned()) {
            Some(token) if token.chars().count() < MIN_ADMIN_TOKEN_CHARS => {
                return Err(err(format!(
                    "ADMIN_TOKEN is too short: it must be at least {MIN_ADMIN_TOKEN_CHARS} \
                     characters (for example `openssl rand -hex 32`)"
                )))
            }
            token => token.map(Secret),
        };
        let http = http_limits(&lookup)?;
        let stripe_api = stripe_api(&lookup)?;
        let stripe_sync_interval = match lookup("STRIPE_SYNC_INTERVAL") {
            None => Some(super::sync::DEFAULT_INTERVAL),
            Some(text) => interval(&text).ok_or_else(|| {
                err("STRIPE_SYNC_INTERVAL must be a duration such as 6h, 30m or 3600 (seconds), at most 7d; 0 turns the sync off")
            })?,
        };
        let public_app_url = match lookup("PUBLIC_APP_URL") {
            Some(text) => Some(http_origin(&text).ok_or_else(|| {
                err("PUBLIC_APP_URL must be an http:// or https:// URL such as https://app.example.com")
            })?),
            None => None,
        };

        Ok(Config {
            database_url: Secret(database_url),
            signing_key,
            key_id,
            key_source,
            published_keys,
            allow_test_keys,
            issuer: lookup("LICENSE_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned()),
            webhook_secrets,
            billing: BillingConfig::new(prices),
            sessions,
            sessions_configured,
            admin_token,
            max_connections,
            http,
            stripe_api,
            public_app_url,
            stripe_sync_interval,
        })
    }

    /// The webhook secrets that do not look like one Stripe issues (`whsec_…`), by position
    /// (1-based), for a warning at start: a secret typed by hand is usually a mistake.
    pub fn unusual_webhook_secrets(&self) -> Vec<usize> {
        self.webhook_secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| !looks_like_stripe_secret(&s.0))
            .map(|(i, _)| i + 1)
            .collect()
    }
}

/// Whether a webhook secret has the form Stripe gives them: `whsec_` and at least 24 more
/// letters and digits.
fn looks_like_stripe_secret(secret: &str) -> bool {
    secret.strip_prefix("whsec_").is_some_and(|rest| {
        rest.len() >= 24 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Reads the connection layer's limits; each unset variable keeps its default.
fn http_limits(lookup: &impl Fn(&str) -> Option<String>) -> Result<HttpLimits, ConfigError> {
    let defaults = HttpLimits::default();
    let seconds = |name: &str, default: std::time::Duration| match lookup(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= MAX_LIMIT_SECS)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| {
                err(format!(
                    "{name} must be a number of seconds above 0 and at most {MAX_LIMIT_SECS}"
                ))
            }),
    };
    let count = |name: &str, default: usize| match lookup(name) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| err(format!("{name} must be an integer from 1 to 1000000"))),
    };
    Ok(HttpLimits {
        header_timeout: seconds("HTTP_HEADER_TIMEOUT_SECS", defaults.header_timeout)?,
        body_timeout: seconds("HTTP_BODY_TIMEOUT_SECS", defaults.body_timeout)?,
        idle_timeout: seconds("HTTP_IDLE_TIMEOUT_SECS", defaults.idle_timeout)?,
        max_connections: count("HTTP_MAX_CONNECTIONS", defaults.max_connections)?,
        max_in_flight: count("HTTP_MAX_IN_FLIGHT", defaults.max_in_flight)?,
        shutdown_timeout: seconds("SHUTDOWN_TIMEOUT_SECS", defaults.shutdown_timeout)?,
    })
}

/// Reads the Stripe API settings; `None` without `STRIPE_SECRET_KEY`.
fn stripe_api(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<StripeApiConfig>, ConfigError> {
    let Some(key) = lookup("STRIPE_SECRET_KEY").map(|k| k.trim().to_owned()) else {
        return Ok(None);
    };
    if !(key.starts_with("sk_") || key.starts_with("rk_")) {
        return Err(err(
            "STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_... or rk_...)",
        ));
    }
    let api_base = match lookup("STRIPE_API_BASE") {
        Some(base) => http_origin(&base)
            .ok_or_else(|| err("STRIPE_API_BASE must be an http:// or https:// URL"))?,
        None => super::stripe_api::DEFAULT_API_BASE.to_owned(),
    };
    let timeout = match lookup("STRIPE_API_TIMEOUT_SECS") {
        None => super::stripe_api::DEFAULT_TIMEOUT,
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0 && *s <= 300.0)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| {
                err("STRIPE_API_TIMEOUT_SECS must be a number of seconds above 0 and at most 300")
            })?,
    };
    Ok(Some(StripeApiConfig {
        secret_key: Secret(key),
        api_base,
        timeout,
    }))
}

/// A duration: whole seconds, or a number with `s`, `m`, `h` or `d`; `Some(None)` for 0 (off); at
/// most seven days.
fn interval(text: &str) -> Option<Option<std::time::Duration>> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last()? {
        (i, 's') => (text.get(..i)?, 1),
        (i, 'm') => (text.get(..i)?, 60),
        (i, 'h') => (text.get(..i)?, 3600),
        (i, 'd') => (text.get(..i)?, 86_400),
        _ => (text, 1),
    };
    let seconds = number.trim().parse::<u64>().ok()?.checked_mul(unit)?;
    match seconds {
        0 => Some(None),
        s if s <= 7 * 86_400 => Some(Some(std::time::Duration::from_secs(s))),
        _ => None,
    }
}

/// An absolute http(s) URL without a trailing slash, or `None`.
fn http_origin(text: &str) -> Option<String> {
    let parsed = url::Url::parse(text.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return None;
    }
    Some(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Checks the scheme; for SQLite, creates the parent directory and asks for the file to be created.
fn normalize_database_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    if is_postgres_url(url) {
        return Ok(url.to_owned());
    }
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return Err(err(
            "DATABASE_URL must start with sqlite:// or postgres:// (postgresql://)",
        ));
    };
    let path = rest.trim_start_matches("//");
    let (file, query) = match path.split_once('?') {
        Some((file, query)) => (file, Some(query)),
        None => (path, None),
    };
    if file.is_empty() {
        return Err(err("DATABASE_URL names no SQLite file"));
    }
    if file != ":memory:" {
        if let Some(parent) = Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                err(format!(
                    "cannot create the directory of the SQLite database ({}): {e}",
                    parent.display()
                ))
            })?;
        }
    }
    let query = match query {
        Some(q) if q.split('&').any(|p| p.starts_with("mode=")) => q.to_owned(),
        Some(q) if !q.is_empty() => format!("{q}&mode=rwc"),
        _ => "mode=rwc".to_owned(),
    };
    // SQLite would create the file with the umask's mode (0644 as a rule): every license and the
    // audit log would be readable by every local user. Create it first, owner-only like the
    // development key; SQLite gives its `-wal` and `-shm` files the database's mode. A file that
    // exists is left as it is.
    if file != ":memory:" && query.split('&').any(|p| p == "mode=rwc") {
        create_private_file(Path::new(file))
            .map_err(|e| err(format!("cannot create the SQLite database ({file}): {e}")))?;
    }
    Ok(format!("sqlite://{file}?{query}"))
}

/// Creates an empty file readable only by its owner (an empty file is a valid SQLite database),
/// unless it exists already.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads `LICENSE_SIGNING_KEY`: a path to a key file, or the key itself (base64 seed or PEM).
fn read_signing_key(value: &str) -> Result<SigningKey, ConfigError> {
    let value = value.trim();
    let text = if !value.starts_with("-----BEGIN") && Path::new(value).is_file() {
        std::fs::read_to_string(value).map_err(|e| {
            err(format!(
                "LICENSE_SIGNING_KEY: cannot read the key file: {e}"
            ))
        })?
    } else {
        value.to_owned()
    };
    SigningKey::parse(&text).map_err(|e| {
        err(format!(
            "LICENSE_SIGNING_KEY is neither a readable key file nor a key: {}",
            e.message()
        ))
    })
}

/// The development key: created once under the data directory, reused afterwards.
fn dev_signing_key(data_dir: &Path) -> Result<(SigningKey, KeySource), ConfigError> {
    let path = data_dir.join(DEV_KEY_FILE);
    let (key, created) = read_or_create_key(&path)?;
    Ok((key, KeySource::Development { path, created }))
}

/// Whether the environment is a development one, as `serve` reads it: no signing key configured
/// (`LICENSE_SIGNING_KEY`, `LICENSE_PRIVATE_KEY`) and a SQLite database, so that `serve` signs with
/// its development key under `./data/`. `dev-health-license session` mints tokens only then.
pub fn is_development(lookup: impl Fn(&str) -> Option<String>) -> bool {
    let configured_key = lookup("LICENSE_SIGNING_KEY")
        .or_else(|| lookup("LICENSE_PRIVATE_KEY"))
        .is_some();
    let postgres = lookup("DATABASE_URL").is_some_and(|url| is_postgres_url(&url));
    !configured_key && !postgres
}

/// The development session key under `data_dir` (created once, mode 0600) and its kid,
/// `dev-session-<thumbprint>`.
pub fn dev_session_key(data_dir: &Path) -> Result<(SigningKey, String), ConfigError> {
    let (key, _) = read_or_create_key(&data_dir.join(DEV_SESSION_KEY_FILE))?;
    let kid = format!("{DEV_KID_PREFIX}session-{}", thumbprint_kid(&key));
    Ok((key, kid))
}

/// The development session key under the default data directory (`./data`).
pub fn default_dev_session_key() -> Result<(SigningKey, String), ConfigError> {
    dev_session_key(Path::new(DEFAULT_DATA_DIR))
}

/// Reads the base64 seed in `path`, or creates the file (and its directory) with a new key;
/// returns the key and whether it was created.
fn read_or_create_key(path: &Path) -> Result<(SigningKey, bool), ConfigError> {
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        let key = SigningKey::parse(&text)
            .map_err(|e| err(format!("{} holds no key: {}", path.display(), e.message())))?;
        return Ok((key, false));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
    }
    let key = SigningKey::generate();
    write_private(path, format!("{}\n", key.seed_base64().as_str()).as_bytes())
        .map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    Ok((key, true))
}

/// Writes a file readable only by its owner, refusing to replace an existing one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// A key id derived from the public key: the first 16 characters of the base64url SHA-256 of its
/// raw bytes.
pub fn thumbprint_kid(key: &SigningKey) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let digest = Sha256::digest(key.public_key().to_bytes());
    URL_SAFE_NO_PAD.encode(digest).chars().take(16).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(move |k| map.get(k).cloned())
    }

    const SEED: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    /// The documented test seed (SPEC §1.3): anyone can sign with it.
    const ZERO_SEED: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    #[test]
    fn reads_prices_secrets_and_key() {
        let c = config(&[
            ("DATABASE_URL", "postgres://u:p@127.0.0.1/db"),
            ("LICENSE_PRIVATE_KEY", SEED),
            ("LICENSE_KEY_ID", "k1"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b"),
            ("STRIPE_PRICE_TIERS", "price_t=team"),
            ("STRIPE_PRICE_ID_ENTERPRISE", "price_e"),
        ])
        .unwrap();
        assert!(is_postgres_url(&c.database_url.0));
        assert_eq!(c.key_id, "k1");
        assert_eq!(c.webhook_secrets.len(), 2);
        assert_eq!(c.billing.price_tiers.get("price_t"), Some(Tier::Team));
        assert_eq!(c.billing.price_tiers.get("price_e"), Some(Tier::Enterprise));
        assert_eq!(c.key_source, KeySource::Configured);
        assert!(!format!("{c:?}").contains("u:p@"));
    }

    #[test]
    fn rejects_conflicting_price_aliases_and_bad_urls() {
        let e = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("LICENSE_PRIVATE_KEY", SEED),
            ("STRIPE_PRICE_TIERS", "price_t=team"),
            ("STRIPE_PRICE_ID_ENTERPRISE", "price_t"),
        ])
        .unwrap_err();
        assert!(e.0.contains("STRIPE_PRICE_ID_ENTERPRISE"));
        let e =
            config(&[("DATABASE_URL", "mysql://x"), ("LICENSE_PRIVATE_KEY", SEED)]).unwrap_err();
        assert!(e.0.contains("DATABASE_URL"));
        let e = config(&[
            ("DATABASE_URL", "postgres://x"),
            ("LICENSE_PRIVATE_KEY", "nope"),
        ])
        .unwrap_err();
        assert!(e.0.contains("LICENSE_SIGNING_KEY"));
        assert!(!e.0.contains("nope"));
    }

    #[test]
    fn the_all_zero_test_seed_is_refused_unless_allowed() {
        let pem = SigningKey::parse(ZERO_SEED)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap()
            .as_str()
            .to_owned();
        for var in ["LICENSE_SIGNING_KEY", "LICENSE_PRIVATE_KEY"] {
            for key in [ZERO_SEED, pem.as_str()] {
                let e = config(&[("DATABASE_URL", "sqlite::memory:"), (var, key)]).unwrap_err();
                assert!(e.0.contains("all-zero-seed test key"), "{}", e.0);
                assert!(e.0.contains("DEV_HEALTH_ALLOW_TEST_KEYS=1"), "{}", e.0);
                assert!(!e.0.contains(ZERO_SEED), "{}", e.0);
                for allow in ["0", "true", "yes"] {
                    let vars = [
                        ("DATABASE_URL", "sqlite::memory:"),
                        (var, key),
                        ("DEV_HEALTH_ALLOW_TEST_KEYS", allow),
                    ];
                    assert!(config(&vars).is_err(), "{allow}");
                }
                let c = config(&[
                    ("DATABASE_URL", "sqlite::memory:"),
                    (var, key),
                    ("DEV_HEALTH_ALLOW_TEST_KEYS", "1"),
                ])
                .unwrap();
                assert!(c.allow_test_keys);
                assert!(is_test_key(&c.signing_key.public_key()));
            }
        }
        // Nor is its public key published through LICENSE_PUBLISH_KEYS.
        let zero_public = SigningKey::parse(ZERO_SEED)
            .unwrap()
            .public_key()
            .to_base64();
        let publish = format!("next={zero_public}");
        let vars = [
            ("DATABASE_URL", "sqlite::memory:"),
            ("LICENSE_SIGNING_KEY", SEED),
            ("LICENSE_PUBLISH_KEYS", publish.as_str()),
        ];
        let e = config(&vars).unwrap_err();
        assert!(e.0.contains("LICENSE_PUBLISH_KEYS"), "{}", e.0);
        assert!(e.0.contains("DEV_HEALTH_ALLOW_TEST_KEYS=1"), "{}", e.0);
        let allowed = [vars.as_slice(), &[("DEV_HEALTH_ALLOW_TEST_KEYS", "1")]].concat();
        assert_eq!(config(&allowed).unwrap().published_keys.len(), 1);
    }

    #[test]
    fn postgres_needs_a_configured_signing_key() {
        for url in ["postgres://u:p@127.0.0.1/db", "postgresql://127.0.0.1/db"] {
            let e = config(&[("DATABASE_URL", url)]).unwrap_err();
            assert!(e.0.contains("LICENSE_SIGNING_KEY"), "{}", e.0);
            assert!(e.0.contains("PostgreSQL"), "{}", e.0);
            assert!(!e.0.contains("u:p@"), "{}", e.0);
            let e = config(&[("DATABASE_URL", url), ("LICENSE_KEY_ID", "prod-1")]).unwrap_err();
            assert!(e.0.contains("LICENSE_SIGNING_KEY"), "{}", e.0);
        }
        let c = config(&[
            ("DATABASE_URL", "postgres://127.0.0.1/db"),
            ("LICENSE_SIGNING_KEY", SEED),
        ])
        .unwrap();
        assert_eq!(c.key_source, KeySource::Configured);
    }

    #[test]
    fn the_dev_kid_prefix_is_kept_for_development_keys() {
        let sqlite = ("DATABASE_URL", "sqlite::memory:");
        let e = config(&[
            sqlite,
            ("LICENSE_SIGNING_KEY", SEED),
            ("LICENSE_KEY_ID", "dev-prod"),
        ])
        .unwrap_err();
        assert!(e.0.contains("LICENSE_KEY_ID"), "{}", e.0);
        let c = config(&[sqlite, ("LICENSE_SIGNING_KEY", SEED)]).unwrap();
        assert!(!c.key_id.starts_with(DEV_KID_PREFIX), "{}", c.key_id);
    }

    #[test]
    fn the_signing_key_is_a_file_or_the_key_itself() {
        let dir = std::env::temp_dir().join(format!("dhl-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("seed");
        std::fs::write(&file, format!("{SEED}\n")).unwrap();
        let from_file = read_signing_key(file.to_str().unwrap()).unwrap();
        let inline = read_signing_key(SEED).unwrap();
        assert_eq!(from_file.public_key(), inline.public_key());
        let pem = inline.to_pkcs8_pem().unwrap();
        assert_eq!(
            read_signing_key(pem.as_str()).unwrap().public_key(),
            inline.public_key()
        );
        assert!(read_signing_key(dir.join("missing").to_str().unwrap()).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_admin_token_under_32_characters_is_refused_without_showing_it() {
        let sqlite = ("DATABASE_URL", "sqlite::memory:");
        let key = ("LICENSE_SIGNING_KEY", SEED);
        for short in [
            "a",
            "correct-horse-battery-staple-31",
            " 0123456789abcdef0123456789abcde ",
        ] {
            let e = config(&[sqlite, key, ("ADMIN_TOKEN", short)]).unwrap_err();
            assert!(e.0.contains("ADMIN_TOKEN is too short"), "{}", e.0);
            assert!(e.0.contains("at least 32 characters"), "{}", e.0);
            if short.len() > 1 {
                assert!(!e.0.contains(short.trim()), "{}", e.0);
            }
        }
        let token = "0123456789abcdef0123456789abcdef";
        let c = config(&[sqlite, key, ("ADMIN_TOKEN", token)]).unwrap();
        assert_eq!(c.admin_token.unwrap().0, token);
        assert!(config(&[sqlite, key]).unwrap().admin_token.is_none());
    }

    #[test]
    fn webhook_secrets_unlike_stripes_are_found_by_position() {
        let sqlite = ("DATABASE_URL", "sqlite::memory:");
        let key = ("LICENSE_SIGNING_KEY", SEED);
        let secrets = "whsec_0123456789abcdefghijABCDEFGHIJ,x,whsec_short,secret";
        let c = config(&[sqlite, key, ("STRIPE_WEBHOOK_SECRET", secrets)]).unwrap();
        assert_eq!(c.unusual_webhook_secrets(), vec![2, 3, 4]);
    }

    #[test]
    fn http_limits_have_defaults_and_read_their_variables() {
        let sqlite = ("DATABASE_URL", "sqlite::memory:");
        let key = ("LICENSE_SIGNING_KEY", SEED);
        let c = config(&[sqlite, key]).unwrap();
        assert_eq!(c.http, HttpLimits::default());
        assert_eq!(c.http.header_timeout.as_secs(), 10);
        assert_eq!(c.http.body_timeout.as_secs(), 30);
        assert_eq!(c.http.idle_timeout.as_secs(), 60);
        assert_eq!(c.http.shutdown_timeout.as_secs(), 30);
        let c = config(&[
            sqlite,
            key,
            ("HTTP_HEADER_TIMEOUT_SECS", "2.5"),
            ("HTTP_BODY_TIMEOUT_SECS", "7"),
            ("HTTP_IDLE_TIMEOUT_SECS", "90"),
            ("HTTP_MAX_CONNECTIONS", "100"),
            ("HTTP_MAX_IN_FLIGHT", "10"),
            ("SHUTDOWN_TIMEOUT_SECS", "5"),
        ])
        .unwrap();
        assert_eq!(c.http.header_timeout.as_millis(), 2500);
        assert_eq!(c.http.body_timeout.as_secs(), 7);
        assert_eq!(c.http.idle_timeout.as_secs(), 90);
        assert_eq!(c.http.max_connections, 100);
        assert_eq!(c.http.max_in_flight, 10);
        assert_eq!(c.http.shutdown_timeout.as_secs(), 5);
        for (var, bad) in [
            ("HTTP_HEADER_TIMEOUT_SECS", "0"),
            ("HTTP_BODY_TIMEOUT_SECS", "-1"),
            ("HTTP_IDLE_TIMEOUT_SECS", "NaN"),
            ("SHUTDOWN_TIMEOUT_SECS", "inf"),
            ("SHUTDOWN_TIMEOUT_SECS", "100000"),
            ("HTTP_MAX_CONNECTIONS", "0"),
            ("HTTP_MAX_IN_FLIGHT", "ten"),
        ] {
            let e = config(&[sqlite, key, (var, bad)]).unwrap_err();
            assert!(e.0.starts_with(var), "{}", e.0);
        }
    }

    #[test]
    fn stripe_api_settings_need_a_secret_key_and_never_show_it() {
        let sqlite = ("DATABASE_URL", "sqlite::memory:");
        let key = ("LICENSE_SIGNING_KEY", SEED);
        let c = config(&[sqlite, key]).unwrap();
        assert!(c.stripe_api.is_none());
        let c = config(&[
            sqlite,
            key,
            ("STRIPE_SECRET_KEY", "sk_test_0123456789abcdef"),
            ("PUBLIC_APP_URL", "https://app.example.com/"),
        ])
        .unwrap();
        let api = c.stripe_api.as_ref().unwrap();
        assert_eq!(api.api_base, "https://api.stripe.com");
        assert_eq!(c.stripe_sync_interval.unwrap().as_secs(), 6 * 3600);
        assert_eq!(api.timeout.as_secs(), 15);
        assert_eq!(c.public_app_url.as_deref(), Some("https://app.example.com"));
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
        let c = config(&[
            sqlite,
            key,
            ("STRIPE_SECRET_KEY", "rk_live_x"),
            ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
            ("STRIPE_API_TIMEOUT_SECS", "2"),
        ])
        .unwrap();
        assert_eq!(c.stripe_api.unwrap().api_base, "http://127.0.0.1:12111");
        for (var, bad) in [
            ("STRIPE_SECRET_KEY", "pk_test_publishable"),
            ("STRIPE_API_BASE", "ftp://x"),
            ("STRIPE_API_TIMEOUT_SECS", "0"),
            ("PUBLIC_APP_URL", "app.example.com"),
            ("STRIPE_SYNC_INTERVAL", "8d"),
            ("STRIPE_SYNC_INTERVAL", "-1"),
            ("STRIPE_SYNC_INTERVAL", "6 hours"),
        ] {
            let vars = [sqlite, key, ("STRIPE_SECRET_KEY", "sk_test_1"), (var, bad)];
            let e = config(&vars).unwrap_err();
            assert!(e.0.starts_with(var), "{}", e.0);
            assert!(!e.0.contains("pk_test_publishable"), "{}", e.0);
        }
    }

    #[test]
    fn the_sync_interval_reads_units_and_0_turns_it_off() {
        assert_eq!(interval("0"), Some(None));
        assert_eq!(interval("0h"), Some(None));
        assert_eq!(
            interval("90"),
            Some(Some(std::time::Duration::from_secs(90)))
        );
        assert_eq!(
            interval("30m"),
            Some(Some(std::time::Duration::from_secs(1800)))
        );
        assert_eq!(
            interval(" 6h "),
            Some(Some(std::time::Duration::from_secs(21_600)))
        );
        assert_eq!(
            interval("7d"),
            Some(Some(std::time::Duration::from_secs(604_800)))
        );
        for bad in ["", "h", "1.5h", "8d", "x", "-5m"] {
            assert_eq!(interval(bad), None, "{bad}");
        }
    }

    #[test]
    fn sqlite_needs_two_connections() {
        let sqlite = ("DATABASE_URL", "sqlite::memory:");
        let key = ("LICENSE_SIGNING_KEY", SEED);
        for n in ["1", " 1 "] {
            let e = config(&[sqlite, key, ("DATABASE_MAX_CONNECTIONS", n)]).unwrap_err();
            assert!(e.0.contains("DATABASE_MAX_CONNECTIONS"), "{}", e.0);
            assert!(e.0.contains("at least 2"), "{}", e.0);
        }
        let c = config(&[sqlite, key, ("DATABASE_MAX_CONNECTIONS", "2")]).unwrap();
        assert_eq!(c.max_connections, 2);
        // PostgreSQL has no writer connection of its own: one is enough there.
        let pg = ("DATABASE_URL", "postgres://127.0.0.1/db");
        let c = config(&[pg, key, ("DATABASE_MAX_CONNECTIONS", "1")]).unwrap();
        assert_eq!(c.max_connections, 1);
    }

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("dhl-cfg-{}", std::process::id()));
        let url = format!("sqlite://{}/sub/x.db", dir.display());
        assert_eq!(
            normalize_database_url(&url).unwrap(),
            format!("{url}?mode=rwc")
        );
        assert!(dir.join("sub").is_dir());
        assert_eq!(
            normalize_database_url("sqlite::memory:?mode=memory").unwrap(),
            "sqlite://:memory:?mode=memory"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
