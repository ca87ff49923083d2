//! Storage: one sqlx `Any` pool over SQLite or PostgreSQL, the migrations, and every query.
//!
//! Queries are written once with `$1`-style parameters, numbered in the order they first appear,
//! which both SQLite and PostgreSQL accept. Times are Unix seconds, booleans 0/1.
//!
//! Concurrency: every change runs in one transaction. On PostgreSQL (several server instances
//! may share one database) the org row is locked with `FOR UPDATE` and the unique key of
//! `stripe_events.id` makes a second delivery of an event wait for the first and then see it. On
//! SQLite (one process) one connection does every write, behind an in-process lock, so writes
//! never meet SQLite's `SQLITE_BUSY` on lock upgrade, and its page cache stays warm.
//!
//! TLS to PostgreSQL (`sslmode`, `sslrootcert`, …) is read and explained in [`tls`].

mod tls;

use std::time::Duration;

use dev_health_entitlements::stripe::{BillingState, ManagedBy, OrgRef, SubscriptionState};
use dev_health_entitlements::Tier;
use serde::Serialize;
use serde_json::Value;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Connection, Row, Transaction};
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use tls::{PgTls, SslMode};

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL (production).
    Postgres,
}

impl Backend {
    /// The name used in logs and figures.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The migrations, embedded in the binary: (version, SQL) per backend.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_license_grace_end.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_license_grace_end_from_catalog.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_server_made_checkouts.sql"),
    ),
    (
        5,
        include_str!("../../migrations/sqlite/0005_license_deployment.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_license_grace_end.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_license_grace_end_from_catalog.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_server_made_checkouts.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_license_deployment.sql"),
    ),
];

/// A fixed key for PostgreSQL's advisory lock that serializes migrations of several instances.
const MIGRATION_LOCK_KEY: i64 = 0x0de7_4ea1_7401;

/// The database.
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: the one connection that writes, kept out of the pool so that its page cache
    /// survives from one transaction to the next.
    writer: Option<Arc<Mutex<SqliteWriter>>>,
}

/// The SQLite writer connection and whether a transaction of it is still open (dropped without
/// commit; rolled back before the next one begins).
pub struct SqliteWriter {
    conn: PoolConnection<Any>,
    open: bool,
    /// Counts the transactions begun.
    generation: u64,
}

/// Logs how the connections to PostgreSQL use TLS (never the URL), and warns where the
/// connection could be read or redirected on the way. Whether TLS is in use is the PostgreSQL
/// server's view of this session (behind a pooler such as PgBouncer: the pooler's link to it).
async fn log_tls(pool: &AnyPool, tls: &PgTls) {
    let version =
        sqlx::query("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl")
            .fetch_optional(pool)
            .await
            .map(|row| row.and_then(|r| r.try_get::<Option<String>, _>(0).ok().flatten()));
    let version = match version {
        Ok(Some(v)) => v,
        Ok(None) => "none".to_owned(),
        Err(e) => {
            tracing::debug!(error = %e, "cannot read pg_stat_ssl");
            "unknown".to_owned()
        }
    };
    tracing::info!(
        sslmode = tls.mode.name(),
        asked = tls.asked.name(),
        tls = %version,
        checks = tls.checks(),
        roots = %tls.roots_name(),
        client_certificate = tls.client_certificate,
        "PostgreSQL connection"
    );
    let local = tls.host == "localhost"
        || tls.host.starts_with('/')
        || tls
            .host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if version == "none" && !local {
        tracing::warn!(
            host = %tls.host,
            "the connection to PostgreSQL is not encrypted: give the server a certificate and \
             set sslmode=verify-full in DATABASE_URL"
        );
    } else if tls.mode == SslMode::VerifyCa {
        tracing::warn!(
            "sslmode=verify-ca accepts a certificate for any host that a trusted root signed, \
             public CAs included: verify-full also checks the host name"
        );
    } else if tls.mode < SslMode::VerifyCa && !local {
        tracing::warn!(
            host = %tls.host,
            "the PostgreSQL server's certificate is not checked (sslmode={}): set \
             sslmode=verify-full, with sslrootcert=<file> for a private CA",
            tls.mode.name()
        );
    }
}

/// A write transaction: a pooled transaction on PostgreSQL; the writer connection (held
/// exclusively) on SQLite. Dropped without `commit` (a handler returning an error early), it is
/// rolled back: by sqlx on PostgreSQL, by [`WriterLease`]'s drop on SQLite.
pub struct WriteTx {
    inner: TxInner,
}

enum TxInner {
    Pool(Transaction<'static, Any>),
    Writer(WriterLease),
}

/// The SQLite writer, held for one transaction. Dropped with the transaction still open, it has
/// a task roll it back at once, so the database's write lock is not held against other writers
/// (an operator's `sqlite3`, a backup) until the next write. The generation keeps that task from
/// touching a later transaction if one began first (and rolled the old one back itself).
struct WriterLease(OwnedMutexGuard<SqliteWriter>);

impl Drop for WriterLease {
    fn drop(&mut self) {
        if !self.0.open {
            return;
        }
        let writer = Arc::clone(OwnedMutexGuard::mutex(&self.0));
        let generation = self.0.generation;
        // Without a runtime (the process is ending) the next begin_write rolls back instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let mut w = writer.lock().await;
                if w.open
                    && w.generation == generation
                    && sqlx::raw_sql("ROLLBACK")
                        .execute(&mut *w.conn)
                        .await
                        .is_ok()
                {
                    w.open = false;
                }
            });
        }
    }
}

impl WriteTx {
    /// The connection to run queries on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.inner {
            TxInner::Pool(tx) => tx,
            TxInner::Writer(w) => &mut w.0.conn,
        }
    }

    /// Rolls back now (dropping the transaction also does, a moment later on SQLite).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pool(tx) => tx.rollback().await,
            TxInner::Writer(mut w) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut *w.0.conn).await?;
                w.0.open = false;
                Ok(())
            }
        }
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pool(tx) => tx.commit().await,
            TxInner::Writer(mut w) => {
                sqlx::raw_sql("COMMIT").execute(&mut *w.0.conn).await?;
                w.0.open = false;
                Ok(())
            }
        }
    }
}

impl Db {
    /// Connects (a pool of `max_connections`). The error says what went wrong in words an
    /// operator can act on (TLS included), never with the URL.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let (backend, tls, url) = if super::config::is_postgres_url(url) {
            let (tls, url) = PgTls::read(url, |name| std::env::var(name).ok())?;
            (Backend::Postgres, Some(tls), url)
        } else {
            (Backend::Sqlite, None, url.to_owned())
        };
        let explain = |e: sqlx::Error| match &tls {
            Some(tls) => tls.explain(&e),
            None => e.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(3))
            // A PostgreSQL connection can go stale (server restart): ping it before use. A SQLite
            // connection cannot, and the ping would cost a trip to its worker thread.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL + NORMAL survives a killed process (only a power loss can drop the
                        // last commits); busy_timeout covers readers meeting a checkpoint.
                        sqlx::raw_sql(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(explain)?;
        if let Some(tls) = &tls {
            log_tls(&pool, tls).await;
        }
        let writer = match backend {
            Backend::Sqlite => Some(Arc::new(Mutex::new(SqliteWriter {
                conn: pool.acquire().await.map_err(explain)?,
                open: false,
                generation: 0,
            }))),
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            backend,
            writer,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs the migrations not applied yet, each in its own transaction.
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => {
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await?;
                POSTGRES_MIGRATIONS
            }
        };
        let result = async {
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations \
                 (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .execute(&mut *conn)
            .await?;
            // Every version not recorded, not only those above the highest: a database whose
            // record lacks one (restored, or repaired by hand) gets it applied.
            let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|row| row.try_get("version"))
                .collect::<Result<_, _>>()?;
            for (version, sql) in migrations.iter().filter(|(v, _)| !applied.contains(v)) {
                let mut tx = conn.begin().await?;
                sqlx::raw_sql(AssertSqlSafe(*sql)).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                    .bind(*version)
                    .bind(super::now())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::info!(version, backend = self.backend.name(), "applied migration");
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *conn)
                .await?;
        }
        result
    }

    /// Begins a write transaction.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        match &self.writer {
            None => Ok(WriteTx {
                inner: TxInner::Pool(self.pool.begin().await?),
            }),
            Some(writer) => {
                let mut w = Arc::clone(writer).lock_owned().await;
                if w.open {
                    // SQLite may have rolled back by itself (a full disk, an I/O error): then
                    // there is nothing to undo, and BEGIN below says whether the connection works.
                    if let Err(e) = sqlx::raw_sql("ROLLBACK").execute(&mut *w.conn).await {
                        tracing::debug!(error = %e, "rollback of an unfinished transaction failed");
                    }
                    w.open = false;
                }
                // IMMEDIATE: take SQLite's write lock now, not halfway through.
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut *w.conn)
                    .await?;
                w.open = true;
                w.generation = w.generation.wrapping_add(1);
                Ok(WriteTx {
                    inner: TxInner::Writer(WriterLease(w)),
                })
            }
        }
    }

    /// ` FOR UPDATE` on PostgreSQL (SQLite's writers are already serialized).
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Organizations

/// An organization row.
#[derive(Debug, Clone, Serialize)]
pub struct Org {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// Billing tier.
    pub tier: Tier,
    /// `stripe` or `manual`.
    pub managed_by: ManagedBy,
    /// The linked Stripe customer.
    pub stripe_customer_id: Option<String>,
    /// Free-form settings (JSON).
    pub settings: Value,
    /// The org's recorded subscription id.
    pub subscription_id: Option<String>,
    /// The org's current SaaS license id.
    pub license_id: Option<String>,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Last changed (Unix seconds).
    pub updated_at: i64,
}

const ORG_COLUMNS: &str = "id, name, slug, tier, managed_by, stripe_customer_id, settings, \
                           subscription_id, license_id, created_at, updated_at";

fn org_from_row(row: &AnyRow) -> Result<Org, sqlx::Error> {
    let tier: String = row.try_get("tier")?;
    let managed_by: String = row.try_get("managed_by")?;
    let settings: String = row.try_get("settings")?;
    Ok(Org {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        tier: Tier::parse(&tier).unwrap_or(Tier::Community),
        managed_by: if managed_by == "manual" {
            ManagedBy::Manual
        } else {
            ManagedBy::Stripe
        },
        stripe_customer_id: row.try_get("stripe_customer_id")?,
        settings: serde_json::from_str(&settings).unwrap_or(Value::Null),
        subscription_id: row.try_get("subscription_id")?,
        license_id: row.try_get("license_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The name of a [`ManagedBy`].
pub fn managed_by_str(m: ManagedBy) -> &'static str {
    match m {
        ManagedBy::Stripe => "stripe",
        ManagedBy::Manual => "manual",
    }
}

/// Reads an org (`lock` adds `FOR UPDATE`).
pub async fn get_org(
    conn: &mut AnyConnection,
    id: &str,
    lock: &str,
) -> Result<Option<Org>, sqlx::Error> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1{lock}");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| org_from_row(&r))
        .transpose()
}

/// Inserts an org. Returns false when its id or slug is taken.
pub async fn insert_org(conn: &mut AnyConnection, org: &Org) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO organizations (id, name, slug, tier, managed_by, stripe_customer_id, settings, \
         subscription_id, license_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(&org.slug)
    .bind(org.tier.as_str())
    .bind(managed_by_str(org.managed_by))
    .bind(&org.stripe_customer_id)
    .bind(org.settings.to_string())
    .bind(&org.subscription_id)
    .bind(&org.license_id)
    .bind(org.created_at)
    .bind(org.updated_at)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Writes an org's name, tier, `managed_by`, settings and current license.
pub async fn update_org(conn: &mut AnyConnection, org: &Org, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE organizations SET name = $1, tier = $2, managed_by = $3, settings = $4, \
         license_id = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(&org.name)
    .bind(org.tier.as_str())
    .bind(managed_by_str(org.managed_by))
    .bind(org.settings.to_string())
    .bind(&org.license_id)
    .bind(now)
    .bind(&org.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The id of the org an event concerns, by the core's rule (`BillingLedger::find_org`): the org
/// its `org_id` names (an `org_id` naming no org finds nothing: fail closed, never a fall-through
/// to the customer link), else the org linked to its customer, else the org whose subscription it is.
pub async fn find_org_for_event(
    conn: &mut AnyConnection,
    org_ref: &OrgRef,
) -> Result<Option<String>, sqlx::Error> {
    if let Some(id) = &org_ref.org_id {
        return org_id_where(conn, "SELECT id FROM organizations WHERE id = $1", id).await;
    }
    if let Some(customer) = &org_ref.customer_id {
        let sql = "SELECT id FROM organizations WHERE stripe_customer_id = $1 ORDER BY created_at, id LIMIT 1";
        if let Some(found) = org_id_where(conn, sql, customer).await? {
            return Ok(Some(found));
        }
    }
    match &org_ref.subscription_id {
        Some(subscription) => {
            let sql = "SELECT id FROM organizations WHERE subscription_id = $1 LIMIT 1";
            org_id_where(conn, sql, subscription).await
        }
        None => Ok(None),
    }
}

/// The `id` column of the first row `sql` (one `$1` parameter) returns.
async fn org_id_where(
    conn: &mut AnyConnection,
    sql: &'static str,
    value: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(sql)
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| row.try_get("id")).transpose()
}

/// The org (locked on PostgreSQL) and its billing state for an event about subscription
/// `event_subscription` (if any): the org's current subscription and, when the event is about
/// another one, what is recorded about that one (`BillingState::event_subscription`).
///
/// The org row is locked by a statement of its own, and the subscriptions are read by later
/// statements: under PostgreSQL's read committed, a statement that waited for the lock sees the
/// locked row as committed by the transaction it waited for, but the other rows of a join only as
/// they were when the statement started. One joined `SELECT … FOR UPDATE OF o` could therefore pair
/// the new org row with its subscription as it was before a concurrent event changed it.
pub async fn locked_billing_state(
    conn: &mut AnyConnection,
    id: &str,
    backend: Backend,
    about: &EventAbout<'_>,
) -> Result<Option<(Org, BillingState)>, sqlx::Error> {
    let event_subscription = about.subscription;
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    let Some(org) = get_org(&mut *conn, id, lock).await? else {
        return Ok(None);
    };
    let subscription = match &org.subscription_id {
        Some(current) => get_subscription(&mut *conn, current).await?,
        None => None,
    };
    let event_subscription = match event_subscription {
        Some(named) if org.subscription_id.as_deref() != Some(named) => {
            get_subscription(&mut *conn, named).await?
        }
        _ => None,
    };
    let state = BillingState {
        org_id: org.id.clone(),
        tier: org.tier,
        managed_by: org.managed_by,
        stripe_customer_id: org.stripe_customer_id.clone(),
        subscription,
        license_id: org.license_id.clone(),
        event_subscription,
        server_checkout_sessions: match about.checkout_session {
            Some(session) => made_for(&mut *conn, "checkout_sessions", session, &org.id).await?,
            None => Vec::new(),
        },
        server_customers: match about.customer {
            Some(customer) => made_for(&mut *conn, "stripe_customers", customer, &org.id).await?,
            None => Vec::new(),
        },
        event_deployment_license: match about.deployment {
            Some(deployment) => deployment_license(&mut *conn, &org.id, deployment).await?,
            None => None,
        },
    };
    Ok(Some((org, state)))
}

/// What a Stripe event names, for [`locked_billing_state`] to load what is recorded about it.
#[derive(Debug, Default, Clone, Copy)]
pub struct EventAbout<'a> {
    /// The subscription the event is about.
    pub subscription: Option<&'a str>,
    /// The checkout session, for `checkout.session.*` events.
    pub checkout_session: Option<&'a str>,
    /// The customer.
    pub customer: Option<&'a str>,
    /// The self-hosted deployment a subscription pays for.
    pub deployment: Option<&'a str>,
}

/// `[id]` when the server created `id` (a row of `table`) for `org_id`, else empty.
async fn made_for(
    conn: &mut AnyConnection,
    table: &'static str,
    id: &str,
    org_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!("SELECT id FROM {table} WHERE id = $1 AND org_id = $2");
    let found = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(org_id)
        .fetch_optional(conn)
        .await?;
    found.map(|row| row.try_get("id")).into_iter().collect()
}

/// A checkout session the server created.
#[derive(Debug, Clone, Serialize)]
pub struct CheckoutRow {
    /// `cs_...`.
    pub id: String,
    /// The org it is for.
    pub org_id: String,
    /// The customer it was created for.
    pub customer_id: String,
    /// The tier bought.
    pub tier: String,
    /// The price chosen.
    pub price_id: String,
    /// `saas` or `self_hosted`.
    pub license_type: String,
    /// For a self-hosted purchase: the deployment the license is for.
    pub deployment_id: Option<String>,
    /// Who started it (`user:<sub>` or `admin`).
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

/// Records a checkout session the server created.
pub async fn insert_checkout_session(
    conn: &mut AnyConnection,
    c: &CheckoutRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO checkout_sessions (id, org_id, customer_id, tier, price_id, license_type, \
         deployment_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(&c.org_id)
    .bind(&c.customer_id)
    .bind(&c.tier)
    .bind(&c.price_id)
    .bind(&c.license_type)
    .bind(&c.deployment_id)
    .bind(&c.created_by)
    .bind(c.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a Stripe customer the server created for an org, and links it to the org when the
/// org has no customer yet. Returns whether it was linked.
pub async fn insert_stripe_customer(
    conn: &mut AnyConnection,
    customer_id: &str,
    org_id: &str,
    created_by: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "INSERT INTO stripe_customers (id, org_id, created_by, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(customer_id)
    .bind(org_id)
    .bind(created_by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let linked = sqlx::query(
        "UPDATE organizations SET stripe_customer_id = $1, updated_at = $2 \
         WHERE id = $3 AND stripe_customer_id IS NULL",
    )
    .bind(customer_id)
    .bind(now)
    .bind(org_id)
    .execute(conn)
    .await?;
    Ok(linked.rows_affected() == 1)
}

/// What is recorded about one subscription.
pub async fn get_subscription(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<SubscriptionState>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, status, price_id, current_period_end, last_event_created \
         FROM subscriptions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(SubscriptionState {
            id: row.try_get("id")?,
            status: row.try_get("status")?,
            price_id: row.try_get("price_id")?,
            current_period_end: row.try_get("current_period_end")?,
            last_event_created: row.try_get("last_event_created")?,
        })
    })
    .transpose()
}

/// Records the new state of a subscription that is not the org's current one (the core's
/// `record_for_other_subscription`), unless a newer event about it is already recorded. The
/// org's own row is not touched.
pub async fn record_other_subscription(
    conn: &mut AnyConnection,
    org_id: &str,
    customer_id: Option<&str>,
    s: &SubscriptionState,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO subscriptions (id, org_id, customer_id, status, price_id, current_period_end, \
         last_event_created) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET \
         customer_id = COALESCE(excluded.customer_id, subscriptions.customer_id), \
         status = excluded.status, price_id = excluded.price_id, \
         current_period_end = excluded.current_period_end, \
         last_event_created = excluded.last_event_created \
         WHERE subscriptions.last_event_created <= excluded.last_event_created",
    )
    .bind(&s.id)
    .bind(org_id)
    .bind(customer_id)
    .bind(&s.status)
    .bind(&s.price_id)
    .bind(s.current_period_end)
    .bind(s.last_event_created)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores an org's billing state (tier, customer, subscription, license).
pub async fn store_billing_state(
    conn: &mut AnyConnection,
    state: &BillingState,
    customer_of_subscription: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    if let Some(s) = &state.subscription {
        sqlx::query(
            "INSERT INTO subscriptions (id, org_id, customer_id, status, price_id, current_period_end, \
             last_event_created) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, \
             customer_id = COALESCE(excluded.customer_id, subscriptions.customer_id), \
             status = excluded.status, price_id = excluded.price_id, \
             current_period_end = excluded.current_period_end, \
             last_event_created = excluded.last_event_created",
        )
        .bind(&s.id)
        .bind(&state.org_id)
        .bind(customer_of_subscription)
        .bind(&s.status)
        .bind(&s.price_id)
        .bind(s.current_period_end)
        .bind(s.last_event_created)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE organizations SET tier = $1, stripe_customer_id = $2, subscription_id = $3, \
         license_id = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(state.tier.as_str())
    .bind(&state.stripe_customer_id)
    .bind(state.subscription.as_ref().map(|s| s.id.clone()))
    .bind(&state.license_id)
    .bind(now)
    .bind(&state.org_id)
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Licenses

/// A license row.
#[derive(Debug, Clone, Serialize)]
pub struct LicenseRow {
    /// `jti`.
    pub id: String,
    /// `sub`.
    pub org_id: String,
    /// The signed token.
    pub token: String,
    /// Tier.
    pub tier: String,
    /// `saas`, `self_hosted`, ...
    pub license_type: String,
    /// The signing key id.
    pub kid: String,
    /// `iat`.
    pub issued_at: i64,
    /// `exp`.
    pub expires_at: i64,
    /// The end of the grace period (`dev_health_entitlements::verify::grace_end`); `None` while not known (a row from before
    /// the column, until the start-up backfill; a row an earlier version inserted).
    pub grace_ends_at: Option<i64>,
    /// When revoked.
    pub revoked_at: Option<i64>,
    /// The deployment (`aud`) of a self-hosted license, when it has one.
    pub deployment_id: Option<String>,
}

const LICENSE_COLUMNS: &str = "id, org_id, token, tier, license_type, kid, issued_at, expires_at, \
                               grace_ends_at, revoked_at, deployment_id";

/// The grace assumed for a stored token whose claims cannot be read (no verifier accepts it, so
/// the bound is only cautious): the most a `grace_days` claim may carry.
pub const UNKNOWN_GRACE_DAYS: u32 = 3650;

fn license_from_row(row: &AnyRow) -> Result<LicenseRow, sqlx::Error> {
    Ok(LicenseRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        token: row.try_get("token")?,
        tier: row.try_get("tier")?,
        license_type: row.try_get("license_type")?,
        kid: row.try_get("kid")?,
        issued_at: row.try_get("issued_at")?,
        expires_at: row.try_get("expires_at")?,
        grace_ends_at: row.try_get("grace_ends_at")?,
        revoked_at: row.try_get("revoked_at")?,
        deployment_id: row.try_get("deployment_id")?,
    })
}

/// Inserts a license.
pub async fn insert_license(conn: &mut AnyConnection, l: &LicenseRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO licenses (id, org_id, token, tier, license_type, kid, issued_at, expires_at, \
         grace_ends_at, revoked_at, deployment_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&l.id)
    .bind(&l.org_id)
    .bind(&l.token)
    .bind(&l.tier)
    .bind(&l.license_type)
    .bind(&l.kid)
    .bind(l.issued_at)
    .bind(l.expires_at)
    .bind(l.grace_ends_at)
    .bind(l.revoked_at)
    .bind(&l.deployment_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads a license (`lock` adds `FOR UPDATE`).
pub async fn get_license(
    conn: &mut AnyConnection,
    id: &str,
    lock: &str,
) -> Result<Option<LicenseRow>, sqlx::Error> {
    let sql = format!("SELECT {LICENSE_COLUMNS} FROM licenses WHERE id = $1{lock}");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| license_from_row(&r))
        .transpose()
}

/// The org's current license: its Stripe (SaaS) license when it has one, else the newest
/// unrevoked license issued to it. With `org_scoped_only`, only `saas` and `trial` licenses count:
/// `self_hosted` and `evaluation` licenses are deliverables for the customer's own deployment and
/// do not change what this server answers for the org.
pub async fn current_license(
    conn: &mut AnyConnection,
    org: &Org,
    org_scoped_only: bool,
) -> Result<Option<LicenseRow>, sqlx::Error> {
    if let Some(id) = &org.license_id {
        if let Some(l) = get_license(&mut *conn, id, "").await? {
            if l.revoked_at.is_none() {
                return Ok(Some(l));
            }
        }
    }
    let scope = if org_scoped_only {
        " AND license_type IN ('saas', 'trial')"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {LICENSE_COLUMNS} FROM licenses WHERE org_id = $1 AND revoked_at IS NULL{scope} \
         ORDER BY issued_at DESC, id DESC LIMIT 1"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&org.id)
        .fetch_optional(conn)
        .await?
        .map(|r| license_from_row(&r))
        .transpose()
}

/// The current (unrevoked, newest) `self_hosted` license of one of the org's deployments.
pub async fn deployment_license(
    conn: &mut AnyConnection,
    org_id: &str,
    deployment_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query(
        "SELECT id FROM licenses WHERE org_id = $1 AND deployment_id = $2 AND revoked_at IS NULL \
         AND license_type = 'self_hosted' ORDER BY issued_at DESC, id DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(deployment_id)
    .fetch_optional(conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()
}

/// Every license issued to the org, newest first (at most `limit`).
pub async fn org_licenses(
    conn: &mut AnyConnection,
    org_id: &str,
    limit: i64,
) -> Result<Vec<LicenseRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {LICENSE_COLUMNS} FROM licenses WHERE org_id = $1 \
         ORDER BY issued_at DESC, id DESC LIMIT $2"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(org_id)
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(license_from_row)
        .collect()
}

/// The org's unrevoked `saas` and `trial` licenses (the ones that can answer for the org),
/// oldest first.
pub async fn unrevoked_org_licenses(
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Vec<LicenseRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {LICENSE_COLUMNS} FROM licenses WHERE org_id = $1 AND revoked_at IS NULL \
         AND license_type IN ('saas', 'trial') ORDER BY issued_at, id"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(license_from_row)
        .collect()
}

/// For entitlements, in one query: the org and its newest unrevoked `saas` or `trial` license
/// (id, token). `self_hosted` and `evaluation` licenses are deliverables for the customer's own
/// deployment and do not change what this server answers for the org.
pub async fn org_for_entitlements(
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Option<(Org, Option<(String, String)>)>, sqlx::Error> {
    let columns: String = ORG_COLUMNS
        .split(", ")
        .map(|c| format!("o.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {columns}, l.id AS l_id, l.token AS l_token FROM organizations o \
         LEFT JOIN licenses l ON l.id = (SELECT x.id FROM licenses x WHERE x.org_id = o.id \
         AND x.revoked_at IS NULL AND x.license_type IN ('saas', 'trial') \
         ORDER BY x.issued_at DESC, x.id DESC LIMIT 1) WHERE o.id = $1"
    );
    let Some(row) = sqlx::query(AssertSqlSafe(sql))
        .bind(org_id)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let org = org_from_row(&row)?;
    let license = match row.try_get::<Option<String>, _>("l_id")? {
        Some(id) => Some((id, row.try_get("l_token")?)),
        None => None,
    };
    Ok(Some((org, license)))
}

/// Marks a license revoked. Returns false when it was revoked already (or does not exist).
pub async fn revoke_license(
    conn: &mut AnyConnection,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE licenses SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Ids of the revoked licenses a verifier could still accept at `usable_at` or later (grace end
/// not before it, or not known), oldest revocation first. Licenses past their grace end are
/// expired for every verifier, revoked or not, so the list does not grow with them forever.
pub async fn revoked_ids(
    conn: &mut AnyConnection,
    usable_at: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT id FROM licenses WHERE revoked_at IS NOT NULL \
         AND (grace_ends_at IS NULL OR grace_ends_at >= $1) ORDER BY revoked_at, id",
    )
    .bind(usable_at)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect()
}

/// Up to `limit` licenses whose grace end is not known: (id, token, `exp`).
pub async fn licenses_without_grace_end(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT id, token, expires_at FROM licenses WHERE grace_ends_at IS NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("token")?, r.try_get("expires_at")?)))
    .collect()
}

/// Records a license's grace end, unless one is recorded already.
pub async fn set_grace_end(
    conn: &mut AnyConnection,
    id: &str,
    grace_ends_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE licenses SET grace_ends_at = $1 WHERE id = $2 AND grace_ends_at IS NULL")
        .bind(grace_ends_at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Feature flags (kill switches) and overrides

/// A feature flag row.
#[derive(Debug, Clone, Serialize)]
pub struct FlagRow {
    /// Feature key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Minimum tier.
    pub min_tier: String,
    /// False = killed everywhere.
    pub enabled: bool,
    /// Must be bought explicitly.
    pub explicit_purchase: bool,
    /// Description.
    pub description: String,
}

/// Inserts the catalog's features that the table lacks.
pub async fn seed_flags(
    conn: &mut AnyConnection,
    catalog: &dev_health_entitlements::Catalog,
) -> Result<(), sqlx::Error> {
    for f in catalog.features() {
        sqlx::query(
            "INSERT INTO feature_flags (key, name, min_tier, enabled, explicit_purchase, description) \
             VALUES ($1, $2, $3, 1, $4, $5) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&f.key)
        .bind(&f.name)
        .bind(f.min_tier.as_str())
        .bind(i64::from(f.explicit_purchase))
        .bind(&f.description)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn flag_from_row(row: &AnyRow) -> Result<FlagRow, sqlx::Error> {
    Ok(FlagRow {
        key: row.try_get("key")?,
        name: row.try_get("name")?,
        min_tier: row.try_get("min_tier")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        explicit_purchase: row.try_get::<i64, _>("explicit_purchase")? != 0,
        description: row.try_get("description")?,
    })
}

/// Every flag, by key.
pub async fn list_flags(conn: &mut AnyConnection) -> Result<Vec<FlagRow>, sqlx::Error> {
    sqlx::query(
        "SELECT key, name, min_tier, enabled, explicit_purchase, description FROM feature_flags \
         ORDER BY key",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(flag_from_row)
    .collect()
}

/// One flag (`lock` adds `FOR UPDATE`).
pub async fn get_flag(
    conn: &mut AnyConnection,
    key: &str,
    lock: &str,
) -> Result<Option<FlagRow>, sqlx::Error> {
    let sql = format!(
        "SELECT key, name, min_tier, enabled, explicit_purchase, description FROM feature_flags \
         WHERE key = $1{lock}"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await?
        .map(|r| flag_from_row(&r))
        .transpose()
}

/// Sets a kill switch.
pub async fn set_flag_enabled(
    conn: &mut AnyConnection,
    key: &str,
    enabled: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE feature_flags SET enabled = $1, updated_at = $2 WHERE key = $3")
        .bind(i64::from(enabled))
        .bind(now)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// The keys of the features switched off everywhere.
pub async fn killed_features(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT key FROM feature_flags WHERE enabled = 0")
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| r.try_get("key"))
        .collect()
}

/// An org feature override row.
#[derive(Debug, Clone, Serialize)]
pub struct OverrideRow {
    /// Id.
    pub id: String,
    /// Org.
    pub org_id: String,
    /// Feature key.
    pub feature_key: String,
    /// On or off.
    pub enabled: bool,
    /// Expiry (Unix seconds), none = never.
    pub expires_at: Option<i64>,
    /// Why.
    pub reason: Option<String>,
    /// Who.
    pub created_by: String,
    /// When.
    pub created_at: i64,
}

const OVERRIDE_COLUMNS: &str =
    "id, org_id, feature_key, enabled, expires_at, reason, created_by, created_at";

fn override_from_row(row: &AnyRow) -> Result<OverrideRow, sqlx::Error> {
    Ok(OverrideRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        feature_key: row.try_get("feature_key")?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        expires_at: row.try_get("expires_at")?,
        reason: row.try_get("reason")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The org's overrides, oldest first.
pub async fn list_overrides(
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Vec<OverrideRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM org_feature_overrides WHERE org_id = $1 \
         ORDER BY created_at, id"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(override_from_row)
        .collect()
}

/// One override of an org.
pub async fn get_override(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
) -> Result<Option<OverrideRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {OVERRIDE_COLUMNS} FROM org_feature_overrides WHERE org_id = $1 AND id = $2"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(org_id)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| override_from_row(&r))
        .transpose()
}

/// Inserts or replaces an override (by id).
pub async fn upsert_override(conn: &mut AnyConnection, o: &OverrideRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO org_feature_overrides (id, org_id, feature_key, enabled, expires_at, reason, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET feature_key = excluded.feature_key, \
         enabled = excluded.enabled, expires_at = excluded.expires_at, reason = excluded.reason",
    )
    .bind(&o.id)
    .bind(&o.org_id)
    .bind(&o.feature_key)
    .bind(i64::from(o.enabled))
    .bind(o.expires_at)
    .bind(&o.reason)
    .bind(&o.created_by)
    .bind(o.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes an override.
pub async fn delete_override(
    conn: &mut AnyConnection,
    org_id: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM org_feature_overrides WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Stripe events, audit, signing keys

/// Records an event as received. Returns false when its id is known already: a second delivery
/// (on PostgreSQL it waits here until the first delivery's transaction ends).
pub async fn insert_event(
    conn: &mut AnyConnection,
    id: &str,
    event_type: &str,
    created: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, received_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(event_type)
    .bind(created)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Records what an event did.
pub async fn finish_event(
    conn: &mut AnyConnection,
    id: &str,
    org_id: Option<&str>,
    outcome: &str,
    detail: &Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE stripe_events SET org_id = $1, outcome = $2, detail = $3, processed_at = $4 \
         WHERE id = $5",
    )
    .bind(org_id)
    .bind(outcome)
    .bind(detail.to_string())
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an audit row: who, what, before, after.
pub async fn audit(
    conn: &mut AnyConnection,
    actor: &str,
    action: &str,
    org_id: Option<&str>,
    before: Value,
    after: Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    let detail = serde_json::json!({"before": before, "after": after});
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, org_id, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(org_id)
    .bind(detail.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// One audit row to write.
pub struct AuditRow {
    /// Who.
    pub actor: String,
    /// What.
    pub action: &'static str,
    /// Which org.
    pub org_id: Option<String>,
    /// Before.
    pub before: Value,
    /// After.
    pub after: Value,
}

/// Writes several audit rows in one statement.
pub async fn audit_many(
    conn: &mut AnyConnection,
    rows: &[AuditRow],
    now: i64,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = String::from("INSERT INTO audit_log (at, actor, action, org_id, detail) VALUES ");
    for i in 0..rows.len() {
        let b = i * 5;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5
        ));
    }
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        let detail = serde_json::json!({"before": row.before, "after": row.after});
        query = query
            .bind(now)
            .bind(row.actor.clone())
            .bind(row.action)
            .bind(row.org_id.clone())
            .bind(detail.to_string());
    }
    query.execute(conn).await?;
    Ok(())
}

/// Records the public part of a signing key. Returns the key already recorded under this kid.
pub async fn register_signing_key(
    conn: &mut AnyConnection,
    kid: &str,
    public_key: &str,
    now: i64,
) -> Result<String, sqlx::Error> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, public_key, first_used_at) VALUES ($1, $2, $3) \
         ON CONFLICT (kid) DO NOTHING",
    )
    .bind(kid)
    .bind(public_key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT public_key FROM signing_keys WHERE kid = $1")
        .bind(kid)
        .fetch_one(conn)
        .await?
        .try_get("public_key")
}

/// Every signing key ever used: (kid, base64 public key), oldest first.
pub async fn signing_keys(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query("SELECT kid, public_key FROM signing_keys ORDER BY first_used_at, kid")
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("kid")?, r.try_get("public_key")?)))
        .collect()
}

/// Audit rows, newest first: all, or one org's.
pub async fn audit_rows(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Value>, sqlx::Error> {
    let rows = match org_id {
        Some(org) => {
            sqlx::query(
                "SELECT id, at, actor, action, org_id, detail FROM audit_log WHERE org_id = $1 \
                 ORDER BY id DESC LIMIT $2",
            )
            .bind(org)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => sqlx::query(
            "SELECT id, at, actor, action, org_id, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(conn)
        .await?,
    };
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get("detail")?;
            let detail: Value = serde_json::from_str(&detail).unwrap_or(Value::Null);
            Ok(serde_json::json!({
                "id": r.try_get::<i64, _>("id")?,
                "at": r.try_get::<i64, _>("at")?,
                "actor": r.try_get::<String, _>("actor")?,
                "action": r.try_get::<String, _>("action")?,
                "org_id": r.try_get::<Option<String>, _>("org_id")?,
                "before": detail.get("before").cloned().unwrap_or(Value::Null),
                "after": detail.get("after").cloned().unwrap_or(Value::Null),
            }))
        })
        .collect()
}

/// How an event was recorded: (outcome, org id), or `None` when it was never received.
pub async fn event_outcome(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query("SELECT outcome, org_id FROM stripe_events WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| Ok((r.try_get("outcome")?, r.try_get("org_id")?)))
        .transpose()
}
