//! The server's shared state: configuration, database, catalog and the license verifier.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use dev_health_entitlements::issue::{sign_v2, SigningKey};
use dev_health_entitlements::keys::is_test_key;
use dev_health_entitlements::stripe::BillingConfig;
use dev_health_entitlements::UnverifiedToken;
use dev_health_entitlements::{
    Catalog, ErrorCode, Keyring, License, LicenseClaims, Override, PublicKey, Session,
    SessionVerifier, Tier, Verifier,
};

use super::config::{Config, KeySource, Secret, DEV_KID_PREFIX};
use super::db::{self, Db};
use super::error::ApiResult;
use super::revocations::{Published, RevocationCache};
use super::stripe::Job;
use super::stripe_api::StripeApi;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Licenses whose grace end is filled in per transaction by the start-up backfill.
const GRACE_BACKFILL_BATCH: i64 = 500;
/// At most this many verified licenses are cached.
const LICENSE_CACHE_MAX: usize = 50_000;

/// Everything the handlers share.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The catalog (the default one).
    pub catalog: Arc<Catalog>,
    /// The license signing key.
    pub signing_key: SigningKey,
    /// Its kid.
    pub key_id: String,
    /// `iss` of licenses and revocation lists.
    pub issuer: String,
    /// Stripe webhook secrets.
    pub webhook_secrets: Vec<Secret>,
    /// The Stripe event engine's configuration.
    pub billing: BillingConfig,
    /// Session verifier.
    pub sessions: SessionVerifier,
    /// Admin bearer token.
    pub admin_token: Option<Secret>,
    /// Events for the SQLite webhook writer.
    pub webhook_queue: mpsc::Sender<Job>,
    /// Extra published keys (next key of a rotation).
    published_keys: Keyring,
    /// Whether the signing key is configured (not a development key): the JWKS then leaves the
    /// development keys out.
    configured_key: bool,
    /// `DEV_HEALTH_ALLOW_TEST_KEYS=1`: the JWKS may list the all-zero-seed test key.
    allow_test_keys: bool,
    /// Verifies stored licenses; its keyring is every key the database knows.
    verifier: RwLock<Arc<Verifier>>,
    /// Verified licenses by id (a license's claims never change).
    licenses: Mutex<HashMap<String, Arc<License>>>,
    /// The kill switches, read at most once per KILL_SWITCH_TTL (another instance's change shows
    /// within that delay; this instance's own at once).
    kill_switches: Mutex<Option<(Instant, KillSwitches)>>,
    /// Entitlement inputs per org, read at most once per CACHE_TTL; this instance's own writes
    /// drop them at once (and `generation` keeps a read that raced a write from being cached).
    org_inputs: Mutex<OrgCache>,
    generation: AtomicU64,
    /// Sessions the core verified, by SHA-256 of the token, so that a user's next requests skip
    /// the signature check. An entry is used only while `now <= exp` and for at most
    /// SESSION_CACHE_TTL; anything else goes back to the core.
    sessions_seen: Mutex<HashMap<[u8; 32], (i64, Session)>>,
    /// The published revocation list.
    revocations: RevocationCache,
    /// The Stripe API client; `None` without `STRIPE_SECRET_KEY`.
    pub stripe_api: Option<StripeApi>,
    /// `PUBLIC_APP_URL`.
    pub public_app_url: Option<String>,
    /// Each price's billing interval (`month`, `year`, ...) as Stripe answered it: a price's
    /// `recurring.interval` never changes, so it is asked once per process.
    pub price_intervals: Mutex<HashMap<String, String>>,
}

/// How long a verified session is remembered (Unix seconds).
const SESSION_CACHE_TTL: i64 = 60;
/// At most this many sessions are remembered.
const SESSION_CACHE_MAX: usize = 100_000;

/// What entitlements read from the database for one org.
#[derive(Debug)]
pub struct OrgInputs {
    /// The org's billing tier.
    pub tier: Tier,
    /// Its current `saas`/`trial` license, verified.
    pub license: Option<Arc<License>>,
    /// Its feature overrides.
    pub overrides: Vec<Override>,
}

/// Cached org inputs by org id.
type OrgCache = HashMap<String, (Instant, Arc<OrgInputs>)>;

/// Feature → enabled, for the features switched off everywhere.
type KillSwitches = Arc<BTreeMap<String, bool>>;

/// How long the kill switches and org inputs are cached: how late another instance's change can
/// show here.
const KILL_SWITCH_TTL: Duration = Duration::from_secs(1);
/// Webhook events waiting for the SQLite writer before senders wait too.
const WEBHOOK_QUEUE: usize = 1024;
/// At most this many orgs are cached.
const ORG_CACHE_MAX: usize = 50_000;

impl AppState {
    /// Connects, migrates, seeds the feature flags and records the signing key. Returns the
    /// state and the queue that [`super::stripe::webhook_writer`] must serve.
    pub async fn start(config: Config) -> Result<(AppState, mpsc::Receiver<Job>), String> {
        let db = Db::connect(&config.database_url.0, config.max_connections)
            .await
            .map_err(|e| format!("cannot open the database: {e}"))?;
        db.migrate()
            .await
            .map_err(|e| format!("migrations failed: {e}"))?;
        let catalog =
            Catalog::default_catalog().map_err(|e| format!("catalog: {}", e.message()))?;
        backfill_grace_ends(&db, &catalog)
            .await
            .map_err(|e| format!("cannot record the grace end of the stored licenses: {e}"))?;
        let public = config.signing_key.public_key().to_base64();
        {
            let mut tx = db.begin_write().await.map_err(|e| e.to_string())?;
            db::seed_flags(tx.conn(), &catalog)
                .await
                .map_err(|e| format!("cannot seed feature flags: {e}"))?;
            let recorded =
                db::register_signing_key(tx.conn(), &config.key_id, &public, super::now())
                    .await
                    .map_err(|e| format!("cannot record the signing key: {e}"))?;
            if recorded != public {
                return Err(format!(
                    "LICENSE_KEY_ID {:?} was used before with another key; give the new key a new id",
                    config.key_id
                ));
            }
            tx.commit().await.map_err(|e| e.to_string())?;
        }
        tracing::info!(
            backend = db.backend().name(),
            kid = %config.key_id,
            prices = config.billing.price_tiers.len(),
            "database ready"
        );
        let stripe_api = match &config.stripe_api {
            Some(api) => Some(StripeApi::new(
                &api.api_base,
                api.secret_key.clone(),
                api.timeout,
            )?),
            None => None,
        };
        let (webhook_queue, queue) = mpsc::channel(WEBHOOK_QUEUE);
        let state = AppState {
            db,
            webhook_queue,
            signing_key: config.signing_key,
            key_id: config.key_id,
            issuer: config.issuer,
            webhook_secrets: config.webhook_secrets,
            billing: config.billing.with_catalog(&catalog),
            catalog,
            sessions: config.sessions,
            admin_token: config.admin_token,
            published_keys: config.published_keys,
            configured_key: config.key_source == KeySource::Configured,
            allow_test_keys: config.allow_test_keys,
            verifier: RwLock::new(Arc::new(Verifier::new(Keyring::new()))),
            licenses: Mutex::new(HashMap::new()),
            kill_switches: Mutex::new(None),
            org_inputs: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            sessions_seen: Mutex::new(HashMap::new()),
            revocations: RevocationCache::new(),
            stripe_api,
            public_app_url: config.public_app_url,
            price_intervals: Mutex::new(HashMap::new()),
        };
        state.reload_keys().await.map_err(|e| e.to_string())?;
        Ok((state, queue))
    }

    /// The keys the stored licenses are verified with: the signing keys the database knows (every
    /// key this server ever signed with) and `LICENSE_PUBLISH_KEYS`.
    pub async fn keyring(&self) -> Result<Keyring, sqlx::Error> {
        self.keys(|_, _| true).await
    }

    /// The JWKS: [`AppState::keyring`] without the keys a verifier must not trust. Once a
    /// configured key signs, the development keys (kid `dev-…`) of earlier starts are left out:
    /// their seeds sit in some `./data/` and anyone who has one could sign. The all-zero-seed test
    /// key is left out unless `DEV_HEALTH_ALLOW_TEST_KEYS=1` (SPEC §1.3). The key signing now is
    /// always listed.
    pub async fn published_keyring(&self) -> Result<Keyring, sqlx::Error> {
        self.keys(|kid, key| {
            kid == self.key_id
                || ((!self.configured_key || !kid.starts_with(DEV_KID_PREFIX))
                    && (self.allow_test_keys || !is_test_key(key)))
        })
        .await
    }

    /// The recorded signing keys that `keep` keeps, then `LICENSE_PUBLISH_KEYS`.
    async fn keys(&self, keep: impl Fn(&str, &PublicKey) -> bool) -> Result<Keyring, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        let mut keyring = Keyring::new();
        for (kid, public) in db::signing_keys(&mut conn).await? {
            match PublicKey::from_base64(&public) {
                Ok(key) if keep(&kid, &key) => keyring.add(kid, key),
                Ok(_) => {}
                Err(_) => tracing::warn!(%kid, "a recorded signing key is not a valid public key"),
            }
        }
        // LICENSE_PUBLISH_KEYS wins for a kid it names: that is how an operator publishes the
        // next key, or retires an old one (its JWK with `not_after`).
        for entry in self.published_keys.entries() {
            keyring.insert(entry.clone());
        }
        Ok(keyring)
    }

    async fn reload_keys(&self) -> Result<(), sqlx::Error> {
        let keyring = self.keyring().await?;
        let verifier = Verifier::new(keyring)
            .with_issuer(self.issuer.clone())
            .with_catalog(&self.catalog)
            .with_accept_v1(false);
        if let Ok(mut v) = self.verifier.write() {
            *v = Arc::new(verifier);
        }
        Ok(())
    }

    fn current_verifier(&self) -> Option<Arc<Verifier>> {
        self.verifier.read().ok().map(|v| Arc::clone(&v))
    }

    /// Verifies a stored license (cached by id). `None` when it does not verify: logged, and the
    /// org then resolves without it.
    pub async fn verified_license(&self, id: &str, token: &str, now: i64) -> Option<Arc<License>> {
        if let Some(found) = self.licenses.lock().ok().and_then(|c| c.get(id).cloned()) {
            return Some(found);
        }
        let verifier = self.current_verifier()?;
        let verified = match verifier.verify(token, now) {
            Err(e) if e.code() == ErrorCode::UnknownKeyId => {
                // Another instance may have started with a new key since.
                self.reload_keys().await.ok()?;
                self.current_verifier()?.verify(token, now)
            }
            other => other,
        };
        match verified {
            Ok(license) => {
                let license = Arc::new(license);
                if let Ok(mut cache) = self.licenses.lock() {
                    if cache.len() >= LICENSE_CACHE_MAX {
                        cache.clear();
                    }
                    cache.insert(id.to_owned(), Arc::clone(&license));
                }
                Some(license)
            }
            Err(e) => {
                tracing::warn!(license_id = %id, code = e.code().as_str(), "a stored license does not verify");
                None
            }
        }
    }

    /// The features switched off everywhere (cached for KILL_SWITCH_TTL).
    pub async fn kill_switches(&self) -> Result<Arc<BTreeMap<String, bool>>, sqlx::Error> {
        if let Some((at, map)) = self.kill_switches.lock().ok().and_then(|c| c.clone()) {
            if at.elapsed() < KILL_SWITCH_TTL {
                return Ok(map);
            }
        }
        let mut conn = self.db.pool().acquire().await?;
        let map: Arc<BTreeMap<String, bool>> = Arc::new(
            db::killed_features(&mut conn)
                .await?
                .into_iter()
                .map(|k| (k, false))
                .collect(),
        );
        if let Ok(mut cache) = self.kill_switches.lock() {
            *cache = Some((Instant::now(), Arc::clone(&map)));
        }
        Ok(map)
    }

    /// The org's entitlement inputs (cached for KILL_SWITCH_TTL); `None` for an unknown org.
    pub async fn org_inputs(
        &self,
        org_id: &str,
        now: i64,
    ) -> Result<Option<Arc<OrgInputs>>, sqlx::Error> {
        if let Some((at, inputs)) = self
            .org_inputs
            .lock()
            .ok()
            .and_then(|c| c.get(org_id).cloned())
        {
            if at.elapsed() < KILL_SWITCH_TTL {
                return Ok(Some(inputs));
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mut conn = self.db.pool().acquire().await?;
        let Some((org, license)) = db::org_for_entitlements(&mut conn, org_id).await? else {
            return Ok(None);
        };
        let overrides = db::list_overrides(&mut conn, org_id)
            .await?
            .into_iter()
            .map(|o| Override {
                feature: o.feature_key,
                enabled: o.enabled,
                expires_at: o.expires_at,
            })
            .collect();
        drop(conn);
        let license = match license {
            Some((id, token)) => self.verified_license(&id, &token, now).await,
            None => None,
        };
        let inputs = Arc::new(OrgInputs {
            tier: org.tier,
            license,
            overrides,
        });
        if let Ok(mut cache) = self.org_inputs.lock() {
            if self.generation.load(Ordering::SeqCst) == generation {
                if cache.len() >= ORG_CACHE_MAX {
                    cache.clear();
                }
                cache.insert(org_id.to_owned(), (Instant::now(), Arc::clone(&inputs)));
            }
        }
        Ok(Some(inputs))
    }

    /// A session the core verified for this very token, still before its `exp`.
    pub fn cached_session(&self, token: &str, now: i64) -> Option<Session> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cache = self.sessions_seen.lock().ok()?;
        let (until, session) = cache.get(&key)?;
        (now <= *until).then(|| session.clone())
    }

    /// Remembers a session the core verified.
    pub fn remember_session(&self, token: &str, session: &Session, now: i64) {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let until = session.exp.min(now.saturating_add(SESSION_CACHE_TTL));
        if let Ok(mut cache) = self.sessions_seen.lock() {
            if cache.len() >= SESSION_CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, (until, session.clone()));
        }
    }

    /// Drops an org's cached inputs (after this instance changed it).
    pub fn forget_org(&self, org_id: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut cache) = self.org_inputs.lock() {
            cache.remove(org_id);
        }
    }

    /// Drops the cached kill switches (after this instance changed one).
    pub fn forget_kill_switches(&self) {
        if let Ok(mut cache) = self.kill_switches.lock() {
            *cache = None;
        }
    }

    /// Signs a license with the server's key.
    pub fn sign(&self, claims: &LicenseClaims) -> Result<String, String> {
        sign_v2(claims, &self.signing_key, &self.key_id).map_err(|e| e.message().to_owned())
    }

    /// Drops the cached revocation list (after this instance committed a revocation).
    pub fn forget_revocations(&self) {
        self.revocations.forget();
    }

    /// The answer of `GET /api/v1/licensing/revocations` and its ETag (see [`RevocationCache`]).
    pub async fn revocations(&self) -> ApiResult<Published> {
        self.revocations.current(self, super::now()).await
    }
}

/// The grace days in force for a license of `tier`: its `grace_days` claim, else the catalog's
/// default for the tier, as a verifier with that catalog decides (`Verifier::with_catalog`).
fn grace_days_of(catalog: &Catalog, tier: Tier, claim: Option<u32>) -> u32 {
    dev_health_entitlements::verify::grace_days_for(tier, claim, catalog.grace_days())
}

/// The grace end of a stored license from its signed claims: `exp` (the stored one, equal to the
/// claim) plus [`grace_days_of`] its `tier` and `grace_days` claims; plus
/// [`db::UNKNOWN_GRACE_DAYS`] when the token cannot be read (no verifier accepts such a token; the
/// bound is then only cautious).
pub fn grace_end_of_token(token: &str, expires_at: i64, catalog: &Catalog) -> i64 {
    let days = UnverifiedToken::decode(token).ok().and_then(|t| {
        let tier = t
            .claims
            .get("tier")
            .and_then(serde_json::Value::as_str)
            .and_then(Tier::parse)?;
        let claim = match t.claims.get("grace_days") {
            None => None,
            Some(days) => Some(
                days.as_u64()
                    .filter(|d| *d <= u64::from(db::UNKNOWN_GRACE_DAYS))
                    .and_then(|d| u32::try_from(d).ok())?,
            ),
        };
        Some(grace_days_of(catalog, tier, claim))
    });
    dev_health_entitlements::verify::grace_end(expires_at, days.unwrap_or(db::UNKNOWN_GRACE_DAYS))
}

/// Fills in the grace end of the licenses stored before the column existed (migration 2), those
/// migration 3 cleared (recorded with 3650 days for an absent `grace_days`) and those an instance
/// of an earlier version inserted, from their tokens, in batches. Several instances doing it
/// at once write the same values.
async fn backfill_grace_ends(db: &Db, catalog: &Catalog) -> Result<(), sqlx::Error> {
    let mut filled = 0usize;
    loop {
        let mut tx = db.begin_write().await?;
        let batch = db::licenses_without_grace_end(tx.conn(), GRACE_BACKFILL_BATCH).await?;
        for (id, token, expires_at) in &batch {
            db::set_grace_end(
                tx.conn(),
                id,
                grace_end_of_token(token, *expires_at, catalog),
            )
            .await?;
        }
        tx.commit().await?;
        filled = filled.saturating_add(batch.len());
        if i64::try_from(batch.len()).unwrap_or(i64::MAX) < GRACE_BACKFILL_BATCH {
            break;
        }
    }
    if filled > 0 {
        tracing::info!(
            licenses = filled,
            "recorded the grace end of licenses stored without one"
        );
    }
    Ok(())
}
