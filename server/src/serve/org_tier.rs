//! An operator's tier change (`PATCH /api/v1/admin/orgs/{id}` with a new `tier`): the org's SaaS
//! and trial licenses follow it, so that the new tier answers at once and not only when the
//! license it held runs out.
//!
//! A `saas` or `trial` license of the org decides its entitlements while it is valid (SPEC §3),
//! whatever the org row says. So every unrevoked one is revoked, and, when the org is paid for (its
//! recorded subscription holds a paid tier and the new tier is not community), a `saas` license for
//! the new tier is signed exactly as a Stripe event would sign it: the same claims, and `exp` the
//! subscription's period end plus the new tier's grace days (the core's rule). `self_hosted` and
//! `evaluation` licenses are left alone: they are deliverables for the customer's own deployment
//! and never answer for the org here; revoking one is a decision of its own
//! (`POST /api/v1/admin/licenses/{id}/revoke`).

use dev_health_entitlements::Tier;
use serde_json::{json, Value};
use sqlx::AnyConnection;

use super::db::{self, AuditRow, Org};
use super::error::{ApiError, ApiResult};
use super::state::AppState;
use super::stripe::sign_saas_license;

/// What a tier change did to the org's licenses.
#[derive(Default)]
pub struct LicensesFollowed {
    /// The licenses revoked (they go on the revocation list).
    pub revoked: Vec<String>,
    /// The audit rows to write: one `license.revoke` per revoked license, one `license.sign`.
    pub audit: Vec<AuditRow>,
}

/// Makes the org's licenses follow its new tier `org.tier`, inside the caller's transaction (the
/// org row locked): revokes its unrevoked `saas`/`trial` licenses and, when it is paid for, signs
/// one for the new tier. Sets `org.license_id` to the signed license, or clears it when it named
/// a revoked one.
pub async fn follow_tier(
    state: &AppState,
    conn: &mut AnyConnection,
    org: &mut Org,
    actor: &str,
    now: i64,
) -> ApiResult<LicensesFollowed> {
    let mut done = LicensesFollowed::default();
    let audit = |action: &'static str, before: Value, after: Value| AuditRow {
        actor: actor.to_owned(),
        action,
        org_id: Some(org.id.clone()),
        before,
        after,
    };
    let mut rows = Vec::new();
    for license in db::unrevoked_org_licenses(&mut *conn, &org.id).await? {
        if db::revoke_license(&mut *conn, &license.id, now).await? {
            rows.push(audit(
                "license.revoke",
                json!({"license_id": license.id, "tier": license.tier, "revoked_at": null}),
                json!({"license_id": license.id, "tier": license.tier, "revoked_at": now,
                       "reason": "org.tier_change"}),
            ));
            done.revoked.push(license.id);
        }
    }
    let signed = match paid_license_expiry(state, conn, org, now).await? {
        Some(expires_at) => {
            let row = sign_saas_license(state, &org.id, &org.name, org.tier, expires_at, now)
                .map_err(|e| ApiError::internal(&e))?;
            db::insert_license(&mut *conn, &row).await?;
            rows.push(audit(
                "license.sign",
                Value::Null,
                json!({"license_id": row.id, "tier": row.tier, "license_type": row.license_type,
                       "expires_at": row.expires_at, "replaces": done.revoked,
                       "reason": "org.tier_change"}),
            ));
            Some(row.id)
        }
        None => None,
    };
    match signed {
        Some(id) => org.license_id = Some(id),
        None => {
            if org
                .license_id
                .as_ref()
                .is_some_and(|id| done.revoked.contains(id))
            {
                org.license_id = None;
            }
        }
    }
    done.audit = rows;
    Ok(done)
}

/// The `exp` of the `saas` license the org's new tier gets when the org is paid for: its recorded
/// subscription holds a paid tier (`active`, `trialing`, `past_due`: the core's rule), the new tier
/// is not community, and the license would still be valid now. `None` otherwise: the org row's
/// tier then answers alone.
async fn paid_license_expiry(
    state: &AppState,
    conn: &mut AnyConnection,
    org: &Org,
    now: i64,
) -> ApiResult<Option<i64>> {
    if org.tier == Tier::Community {
        return Ok(None);
    }
    let Some(subscription_id) = &org.subscription_id else {
        return Ok(None);
    };
    let Some(subscription) = db::get_subscription(conn, subscription_id).await? else {
        return Ok(None);
    };
    if !subscription.holds_paid_tier() {
        return Ok(None);
    }
    // A recorded period that ended (grace included) pays for nothing now: the record of a manual
    // org, say, that Stripe events no longer update.
    let expires_at = subscription.license_expiry(org.tier, now, &state.billing);
    Ok((expires_at > now).then_some(expires_at))
}
