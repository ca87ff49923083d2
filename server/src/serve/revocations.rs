//! The signed revocation list of `GET /api/v1/licensing/revocations`: which revoked licenses it
//! holds, how long one answer is served, its ETag, and the size verifiers accept.
//!
//! What it holds: every revoked license some verifier could still accept. A license is accepted
//! until its grace end (`exp` plus its `grace_days` claim, or the catalog's grace days for its
//! tier: the `grace_ends_at` column), and a verifier refuses a list issued more than its leeway
//! after its own clock. So once `now - leeway` has passed a license's grace end, every verifier
//! that accepts this list finds the license expired, revoked or not, and the id can go. The
//! cut-off is rounded down to the start of its UTC day: a dead id stays up to a day longer, and in
//! exchange the list changes only when a license is revoked and once a day, which is what makes
//! its ETag worth keeping.
//!
//! The ETag is weak and names the content, not the bytes: a hash of the cut-off day and of the
//! ids in order. Every instance on one database, and a restarted one, gives the same list the
//! same ETag, although each signs its own copy. A verifier that sends it back in
//! `If-None-Match` gets 304 only while its copy lists exactly the ids the current list would:
//! it can never miss a revocation that way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode};
use dev_health_entitlements::issue::sign_revocation_list;
use dev_health_entitlements::rfc3339;
use dev_health_entitlements::verify::MAX_REVOCATION_LIST_BYTES;
use dev_health_entitlements::DEFAULT_LEEWAY_SECS;
use sha2::{Digest, Sha256};

use super::db;
use super::error::{ApiError, ApiResult};
use super::state::AppState;

/// How long a signed revocation list is valid (`exp - iat`).
pub const REVOCATION_LIST_TTL_SECS: i64 = 24 * 3600;
/// How long an answer is served before the database is asked again: how late another instance's
/// revocation can show here (this instance's own show at once).
const REVOCATION_CACHE_TTL: Duration = Duration::from_secs(60);
/// Above this share of [`MAX_REVOCATION_LIST_BYTES`] every new list is logged as a warning.
const WARN_AT_BYTES: usize = MAX_REVOCATION_LIST_BYTES / 4 * 3;
const DAY_SECS: i64 = 86_400;

/// One answer: the body and its ETag.
#[derive(Debug, Clone)]
pub struct Published {
    /// `W/"…"`: names the list's content (see the module documentation).
    pub etag: HeaderValue,
    /// `{revocation_list, revoked, issued_at, expires_at}`.
    pub body: Bytes,
}

/// The last answer, and when this instance last compared it with the database.
struct Cached {
    checked: Instant,
    generation: u64,
    etag: HeaderValue,
    /// The signed list's `exp`: a list is never served past it (it is signed anew instead).
    expires_at: i64,
    /// The answer, or why no list can be published (it is cached too, so that a list over the
    /// limit is not rebuilt for every request).
    outcome: Result<Bytes, String>,
}

impl Cached {
    fn answer(&self) -> ApiResult<Published> {
        match &self.outcome {
            Ok(body) => Ok(Published {
                etag: self.etag.clone(),
                body: body.clone(),
            }),
            Err(why) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                why.clone(),
            )),
        }
    }
}

/// The published list of one instance.
pub struct RevocationCache {
    /// The async lock makes one request rebuild the answer while the others wait for it.
    cached: tokio::sync::Mutex<Option<Cached>>,
    /// Bumped after every revocation this instance commits: an answer of an older generation is
    /// compared with the database again before it is served.
    generation: AtomicU64,
}

impl RevocationCache {
    /// Nothing published yet.
    pub fn new() -> RevocationCache {
        RevocationCache {
            cached: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// After this instance committed a revocation: the next answer reads the database again.
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The current answer: served again for up to REVOCATION_CACHE_TTL (and not after a
    /// revocation here); else the ids are read again, and the list is signed anew only when its
    /// content (the ETag) changed or the signed copy reached its `exp`. A list over the size
    /// verifiers accept is refused with 500 and a message that says so, and logged as an error.
    pub async fn current(&self, state: &AppState, now: i64) -> ApiResult<Published> {
        let mut cache = self.cached.lock().await;
        // Read before the query: a revocation committed after it bumps the generation, and the
        // answer built here is then compared with the database again at the next request.
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some(cached) = cache.as_ref() {
            if cached.generation == generation
                && cached.checked.elapsed() < REVOCATION_CACHE_TTL
                && now < cached.expires_at
            {
                return cached.answer();
            }
        }
        let cut_off = cut_off(now);
        let mut conn = state.db.pool().acquire().await?;
        let revoked = db::revoked_ids(&mut conn, cut_off).await?;
        drop(conn);
        let etag = etag_of(cut_off, &revoked);
        if let Some(cached) = cache.as_mut() {
            if cached.etag == etag && now < cached.expires_at {
                cached.checked = Instant::now();
                cached.generation = generation;
                return cached.answer();
            }
        }
        let expires_at = now.saturating_add(REVOCATION_LIST_TTL_SECS);
        let outcome = sign(state, &revoked, now, expires_at);
        let cached = cache.insert(Cached {
            checked: Instant::now(),
            generation,
            etag,
            expires_at,
            outcome,
        });
        cached.answer()
    }
}

impl Default for RevocationCache {
    fn default() -> Self {
        RevocationCache::new()
    }
}

/// The grace ends a list issued at `now` must still cover: from the start of the UTC day of
/// `now - leeway` on (see the module documentation).
fn cut_off(now: i64) -> i64 {
    let t = now.saturating_sub(DEFAULT_LEEWAY_SECS);
    t.saturating_sub(t.rem_euclid(DAY_SECS))
}

/// The weak ETag of the list with cut-off `cut_off` and these ids, in this order.
fn etag_of(cut_off: i64, revoked: &[String]) -> HeaderValue {
    let mut hash = Sha256::new();
    hash.update(cut_off.to_be_bytes());
    for id in revoked {
        hash.update(id.as_bytes());
        hash.update(b"\n");
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    // Hex digits and quotes only: always a valid header value.
    HeaderValue::from_str(&format!("W/\"{hex}\"")).unwrap_or(HeaderValue::from_static("W/\"\""))
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, RFC 9110 §13.1.2), or is `*`.
pub fn if_none_match_names(header: &str, etag: &HeaderValue) -> bool {
    let opaque = |tag: &str| {
        let tag = tag.trim();
        tag.strip_prefix("W/").unwrap_or(tag).to_owned()
    };
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    let ours = opaque(etag);
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == ours)
}

/// Signs the list and builds the body, or says why it cannot be published: a signed list over
/// [`MAX_REVOCATION_LIST_BYTES`] would be refused by every verifier (`token_too_large`).
fn sign(state: &AppState, revoked: &[String], now: i64, expires_at: i64) -> Result<Bytes, String> {
    let token = sign_revocation_list(
        revoked,
        &state.issuer,
        now,
        expires_at,
        &state.signing_key,
        &state.key_id,
    )
    .map_err(|e| {
        tracing::error!(error = e.message(), "cannot sign the revocation list");
        "Internal error".to_owned()
    })?;
    if token.len() > MAX_REVOCATION_LIST_BYTES {
        let why = format!(
            "The revocation list is not published: it holds {} licenses, {} bytes signed, over \
             the {MAX_REVOCATION_LIST_BYTES} bytes (4 MiB) a verifier accepts. Revoked licenses \
             leave it when their grace ends; until then, revoke fewer licenses or shorten the \
             grace of those you issue.",
            revoked.len(),
            token.len()
        );
        tracing::error!(
            licenses = revoked.len(),
            bytes = token.len(),
            limit = MAX_REVOCATION_LIST_BYTES,
            "the revocation list is over the size verifiers accept; it is not published"
        );
        return Err(why);
    }
    if token.len() > WARN_AT_BYTES {
        tracing::warn!(
            licenses = revoked.len(),
            bytes = token.len(),
            limit = MAX_REVOCATION_LIST_BYTES,
            "the revocation list nears the size verifiers accept"
        );
    }
    let body = serde_json::to_vec(&serde_json::json!({
        "revocation_list": token,
        "revoked": revoked,
        "issued_at": rfc3339(now),
        "expires_at": rfc3339(expires_at),
    }))
    .map_err(|e| {
        tracing::error!(error = %e, "cannot write the revocation list");
        "Internal error".to_owned()
    })?;
    Ok(Bytes::from(body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_off_is_the_start_of_the_day_of_now_minus_the_leeway() {
        let midnight = 1_767_225_600; // 2026-01-01T00:00:00Z
        assert_eq!(cut_off(midnight + 3600), midnight);
        // Within the leeway after midnight, the day before still counts.
        assert_eq!(cut_off(midnight + 30), midnight - DAY_SECS);
        assert_eq!(cut_off(midnight + 60), midnight);
    }

    #[test]
    fn the_etag_names_the_ids_and_the_day() {
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let a = etag_of(0, &ids(&["lic_a", "lic_b"]));
        assert_eq!(a, etag_of(0, &ids(&["lic_a", "lic_b"])));
        assert_ne!(a, etag_of(0, &ids(&["lic_a", "lic_b", "lic_c"])));
        assert_ne!(a, etag_of(0, &ids(&["lic_ab"])));
        assert_ne!(a, etag_of(DAY_SECS, &ids(&["lic_a", "lic_b"])));
        assert!(a.to_str().unwrap().starts_with("W/\""));
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let etag = HeaderValue::from_static("W/\"abc\"");
        assert!(if_none_match_names("W/\"abc\"", &etag));
        assert!(if_none_match_names("\"abc\"", &etag));
        assert!(if_none_match_names("\"x\", W/\"abc\"", &etag));
        assert!(if_none_match_names("*", &etag));
        assert!(!if_none_match_names("W/\"abd\"", &etag));
        assert!(!if_none_match_names("", &etag));
    }
}
