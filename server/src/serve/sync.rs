//! Reconciling with Stripe: `dev-health-license stripe sync [--org ID] [--dry-run]`, and the same
//! sync every `STRIPE_SYNC_INTERVAL` in `serve`.
//!
//! Stripe retries a failed webhook for three days and then gives up; endpoints get deleted. A sync
//! reads each linked customer's subscriptions from the API and applies each one, as Stripe shows
//! it, through the same path as a webhook (`stripe::apply_in`, the core's `apply_event`): as a
//! `customer.subscription.updated` created at the moment it was fetched. So the core's rules hold
//! unchanged: a webhook created after the fetch (newer) is never undone (the sync's update is
//! then `stale_event`), another customer's subscription never acts on the org, a manual org is
//! never changed. Each org is synced in one transaction, after its API call succeeded: a failed
//! call changes nothing. Changes are audited with actor `stripe:sync`. `--dry-run` applies each
//! org's updates in a transaction that is rolled back, and reports what they would do.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use dev_health_entitlements::stripe::{Action, StripeEvent};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use super::state::AppState;
use super::stripe::{apply_in, Delivery, Origin};
use super::stripe_api::StripeApi;

/// `STRIPE_SYNC_INTERVAL`'s default: six hours.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Subscriptions read per API page (Stripe's maximum).
const PAGE: &str = "100";
/// Pages read per customer at most (10,000 subscriptions).
const MAX_PAGES: usize = 100;

/// Arguments of `stripe sync`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SyncArgs {
    /// Sync only this org.
    #[arg(long = "org")]
    pub org: Option<String>,
    /// Show what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a sync did for one org.
#[derive(Debug, Clone)]
pub struct OrgSync {
    /// The org.
    pub org_id: String,
    /// Its linked customer.
    pub customer_id: String,
    /// What each subscription did; or why the org was not synced.
    pub result: Result<Vec<SubscriptionSync>, String>,
}

/// What the sync did with one subscription. JSON:
/// `{"id","status","applied":true,"actions":[...]}` or `{..., "applied":false,"reason":"no_change"}`.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionSync {
    /// The subscription.
    pub id: String,
    /// Its status in Stripe.
    pub status: String,
    /// Whether the core's engine acted on it.
    pub applied: bool,
    /// What was (or in a dry run would be) done.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// Why nothing was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl OrgSync {
    /// Whether anything changed (or, in a dry run, would change).
    pub fn changed(&self) -> bool {
        self.result
            .as_ref()
            .is_ok_and(|subs| subs.iter().any(|s| s.applied))
    }

    fn to_json(&self) -> Value {
        match &self.result {
            Ok(subs) => json!({
                "org_id": self.org_id,
                "customer_id": self.customer_id,
                "subscriptions": subs,
            }),
            Err(e) => json!({"org_id": self.org_id, "customer_id": self.customer_id, "error": e}),
        }
    }
}

/// Syncs every Stripe-managed org with a linked customer (or only `only`).
pub async fn sync(
    state: &AppState,
    only: Option<&str>,
    dry_run: bool,
) -> Result<Vec<OrgSync>, String> {
    let api = state
        .stripe_api
        .as_ref()
        .ok_or("STRIPE_SECRET_KEY is not set: there is no Stripe account to sync with")?;
    let orgs = linked_orgs(state, only).await.map_err(|e| e.to_string())?;
    if let (Some(org), true) = (only, orgs.is_empty()) {
        return Err(format!(
            "org {org:?} is not a Stripe-managed org with a linked customer"
        ));
    }
    let mut report = Vec::with_capacity(orgs.len());
    for (org_id, customer_id) in orgs {
        let result = sync_org(state, api, &customer_id, dry_run).await;
        if let Err(e) = &result {
            tracing::warn!(org_id = %org_id, error = %e, "stripe sync: org not synced");
        }
        report.push(OrgSync {
            org_id,
            customer_id,
            result,
        });
    }
    Ok(report)
}

/// `(org id, customer id)` of the Stripe-managed orgs with a linked customer.
async fn linked_orgs(
    state: &AppState,
    only: Option<&str>,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut conn = state.db.pool().acquire().await?;
    let sql = "SELECT id, stripe_customer_id FROM organizations \
               WHERE stripe_customer_id IS NOT NULL AND managed_by = 'stripe' \
               AND ($1 = '' OR id = $1) ORDER BY id";
    sqlx::query(sql)
        .bind(only.unwrap_or(""))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("stripe_customer_id")?)))
        .collect()
}

/// Reads the customer's subscriptions, then applies them in one transaction.
async fn sync_org(
    state: &AppState,
    api: &StripeApi,
    customer: &str,
    dry_run: bool,
) -> Result<Vec<SubscriptionSync>, String> {
    // Taken before the call: a webhook created after this moment is newer than what we read.
    let fetched_at = super::now();
    let mut subscriptions = list_subscriptions(api, customer).await?;
    // Ended subscriptions first, the ones granting a tier last: the org ends on the subscription
    // that pays for it (an active one replaces a current one; an ended one never does).
    subscriptions.sort_by_key(|s| {
        let rank = match s.get("status").and_then(Value::as_str) {
            Some("active" | "trialing") => 2,
            Some("past_due") => 1,
            _ => 0,
        };
        (rank, s.get("created").and_then(Value::as_i64).unwrap_or(0))
    });
    let mut tx = state.db.begin_write().await.map_err(|e| e.to_string())?;
    let mut done = Vec::with_capacity(subscriptions.len());
    let mut stale = Vec::new();
    for object in subscriptions {
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let status = object
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let event = StripeEvent {
            id: format!("sync:{id}:{fetched_at}"),
            event_type: "customer.subscription.updated".to_owned(),
            created: fetched_at,
            object,
        };
        let (delivery, changed) = apply_in(state, tx.conn(), &event, Origin::Sync)
            .await
            .map_err(|e| e.to_string())?;
        stale.push(changed);
        let (actions, reason) = match delivery {
            Delivery::Applied(actions) => (actions, None),
            Delivery::Ignored(reason) => (Vec::new(), Some(reason)),
            Delivery::Duplicate => (Vec::new(), Some("duplicate".to_owned())),
        };
        done.push(SubscriptionSync {
            id,
            status,
            applied: reason.is_none(),
            actions,
            reason,
        });
    }
    if dry_run {
        tx.rollback().await.map_err(|e| e.to_string())?;
    } else {
        tx.commit().await.map_err(|e| e.to_string())?;
        for changed in stale {
            changed.forget(state);
        }
    }
    Ok(done)
}

/// Every subscription of the customer, whatever its status, page by page.
async fn list_subscriptions(api: &StripeApi, customer: &str) -> Result<Vec<Value>, String> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut query = vec![
            ("customer".to_owned(), customer.to_owned()),
            ("status".to_owned(), "all".to_owned()),
            ("limit".to_owned(), PAGE.to_owned()),
        ];
        if let Some(after) = &after {
            query.push(("starting_after".to_owned(), after.clone()));
        }
        let page = api
            .get("/v1/subscriptions", &query)
            .await
            .map_err(|e| e.to_string())?;
        let data = page
            .get("data")
            .and_then(Value::as_array)
            .ok_or("Stripe's subscription list has no data")?;
        all.extend(data.iter().cloned());
        let more = page.get("has_more").and_then(Value::as_bool) == Some(true);
        after = data
            .last()
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if !more || after.is_none() {
            return Ok(all);
        }
    }
    Err(format!(
        "customer has more than {} subscriptions",
        MAX_PAGES * 100
    ))
}

/// The periodic sync of `serve`: every `interval`, the first one an interval after the start.
pub async fn every(state: Arc<AppState>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        match sync(&state, None, false).await {
            Ok(report) => {
                let failed = report.iter().filter(|o| o.result.is_err()).count();
                let changed = report.iter().filter(|o| o.changed()).count();
                tracing::info!(orgs = report.len(), changed, failed, "stripe sync done");
            }
            Err(e) => tracing::warn!(error = %e, "stripe sync not run"),
        }
    }
}

/// `dev-health-license stripe sync`: the configuration of `serve`, one sync, a report. Exit 1 when
/// an org could not be synced.
pub fn run(args: SyncArgs) -> ExitCode {
    super::init_tracing();
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
    let outcome = runtime.block_on(async {
        let config = super::Config::from_env().map_err(|e| format!("configuration: {e}"))?;
        let (state, _queue) = AppState::start(config)
            .await
            .map_err(|e| format!("cannot start: {e}"))?;
        sync(&state, args.org.as_deref(), args.dry_run).await
    });
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    json!({"error": {"code": "sync_failed", "message": e}})
                );
            } else {
                eprintln!("error: sync_failed: {e}");
            }
            return ExitCode::FAILURE;
        }
    };
    let failed = report.iter().any(|o| o.result.is_err());
    if args.json {
        let orgs: Vec<Value> = report.iter().map(OrgSync::to_json).collect();
        println!("{}", json!({"dry_run": args.dry_run, "orgs": orgs}));
    } else {
        print!("{}", text(&report, args.dry_run));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn text(report: &[OrgSync], dry_run: bool) -> String {
    let mut out = String::new();
    let verb = if dry_run { "would apply" } else { "applied" };
    for org in report {
        match &org.result {
            Err(e) => out.push_str(&format!(
                "{} ({}): not synced: {e}\n",
                org.org_id, org.customer_id
            )),
            Ok(subs) if subs.is_empty() => out.push_str(&format!(
                "{} ({}): no subscriptions\n",
                org.org_id, org.customer_id
            )),
            Ok(subs) => {
                for sub in subs {
                    let detail = match &sub.reason {
                        None => {
                            let actions: Vec<String> = sub
                                .actions
                                .iter()
                                .filter_map(|a| serde_json::to_value(a).ok())
                                .filter_map(|a| {
                                    a.get("action").and_then(Value::as_str).map(str::to_owned)
                                })
                                .collect();
                            format!("{verb} {}", actions.join(", "))
                        }
                        Some(reason) => format!("unchanged ({reason})"),
                    };
                    out.push_str(&format!(
                        "{} {} {}: {detail}\n",
                        org.org_id, sub.id, sub.status
                    ));
                }
            }
        }
    }
    let changed = report.iter().filter(|o| o.changed()).count();
    out.push_str(&format!(
        "{} org(s) synced, {changed} {}\n",
        report.iter().filter(|o| o.result.is_ok()).count(),
        if dry_run { "would change" } else { "changed" }
    ));
    out
}
