//! License verification: the decision order of SPEC §1, from bytes to a [`License`] with a status.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::Catalog;
use crate::claims::LicenseClaims;
use crate::error::{shown, Error, ErrorCode, Result};
use crate::index::KeyIndex;
use crate::keys::Keyring;
use crate::tier::{PerTier, Tier};
use crate::token::{detect_format, v1, v2, TokenFormat};

/// The issuer a verifier expects unless told otherwise.
pub const DEFAULT_ISSUER: &str = "fullchaos.studio";
/// Seconds of clock skew tolerated for `iat`, `nbf` and the rollback guard.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;
const DAY: i64 = 86_400;

/// The grace days a verifier grants a license of `tier`: its `grace_days` claim, else the
/// default for its tier (the catalog's, SPEC §1.1). Hosts that record when a license stops being
/// accepted (the server's revocation list) use the same rule.
pub fn grace_days_for(tier: Tier, claim: Option<u32>, defaults: PerTier<u32>) -> u32 {
    claim.unwrap_or_else(|| defaults.get(tier))
}

/// The last second of a license's grace period: `exp + grace_days·86400` (SPEC §1.4).
pub fn grace_end(exp: i64, grace_days: u32) -> i64 {
    exp.saturating_add(i64::from(grace_days).saturating_mul(DAY))
}
/// Where a license with this `exp` and these grace days stands at `now` (SPEC §1.4): the one place
/// where active, grace and expired are decided ([`License::status_at`] asks it; hosts holding only
/// a payload's `exp` and `grace_days` ask it too).
pub fn status_of(exp: i64, grace_days: u32, now: i64) -> LicenseStatus {
    if now <= exp {
        LicenseStatus::Active
    } else if now <= grace_end(exp, grace_days) {
        LicenseStatus::Grace
    } else {
        LicenseStatus::Expired
    }
}

/// Revocation lists only grow, so they get a far larger limit than a license (16 KiB): 4 MiB
/// holds well over 100,000 license ids.
pub const MAX_REVOCATION_LIST_BYTES: usize = 4 * 1024 * 1024;

/// Where a verified license stands at a moment in time (SPEC §1.4).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    /// `now <= exp`.
    Active,
    /// `exp < now <= exp + grace_days·86400`.
    Grace,
    /// After the grace period.
    Expired,
}

impl LicenseStatus {
    /// `"active"`, `"grace"` or `"expired"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LicenseStatus::Active => "active",
            LicenseStatus::Grace => "grace",
            LicenseStatus::Expired => "expired",
        }
    }

    /// Whether the license grants its tier (`active` or `grace`).
    pub const fn is_valid(self) -> bool {
        matches!(self, LicenseStatus::Active | LicenseStatus::Grace)
    }
}

/// A license whose signature and claims verified.
#[derive(Debug, Clone, PartialEq)]
pub struct License {
    /// The token format.
    pub format: TokenFormat,
    /// The id of the key that verified it (for v1, the first trusted key that did).
    pub kid: String,
    /// The verified claims.
    pub claims: LicenseClaims,
    /// Grace days in force: the claim, or the catalog's default for the tier.
    pub grace_days: u32,
    /// The status at the moment of verification.
    pub status: LicenseStatus,
    /// The `now` the license was verified at.
    pub verified_at: i64,
}

impl License {
    /// The licensed tier.
    pub fn tier(&self) -> Tier {
        self.claims.tier
    }

    /// The org id the license is for (`sub`).
    pub fn sub(&self) -> &str {
        &self.claims.sub
    }

    /// The license id (`jti`, or v1 `license_id`).
    pub fn license_id(&self) -> &str {
        &self.claims.license_id
    }

    /// `exp`, Unix seconds.
    pub fn expires_at(&self) -> i64 {
        self.claims.exp
    }

    /// The last second of the grace period: `exp + grace_days·86400`.
    pub fn grace_ends_at(&self) -> i64 {
        grace_end(self.claims.exp, self.grace_days)
    }

    /// The status at `now` ([`status_of`] its `exp` and grace days).
    pub fn status_at(&self, now: i64) -> LicenseStatus {
        status_of(self.claims.exp, self.grace_days, now)
    }

    /// Whole days of grace left at `now` (rounded up), when the license is in grace.
    pub fn grace_days_left(&self, now: i64) -> Option<u32> {
        if self.status_at(now) != LicenseStatus::Grace {
            return None;
        }
        let seconds = self.grace_ends_at().saturating_sub(now);
        u32::try_from((seconds + DAY - 1) / DAY).ok()
    }

    /// The moment the status will next change after `now`, if it will.
    pub fn next_status_change(&self, now: i64) -> Option<i64> {
        match self.status_at(now) {
            LicenseStatus::Active => Some(self.claims.exp.saturating_add(1)),
            LicenseStatus::Grace => Some(self.grace_ends_at().saturating_add(1)),
            LicenseStatus::Expired => None,
        }
    }

    /// The verification result as JSON, the shape of `dev-health-license verify --json`:
    /// `{"valid","status","format","kid","claims","expires_at","grace_ends_at",...}`, where
    /// `valid` is whether the status grants the tier (`active` or `grace`).
    pub fn to_json(&self) -> Value {
        crate::json::object(&mut [
            ("valid", self.status.is_valid().into()),
            ("status", self.status.as_str().into()),
            ("format", self.format.as_str().into()),
            ("kid", self.kid.as_str().into()),
            ("license_id", self.license_id().into()),
            ("tier", self.tier().as_str().into()),
            ("sub", self.sub().into()),
            ("claims", self.claims.to_json()),
            ("expires_at", self.expires_at().into()),
            ("grace_ends_at", self.grace_ends_at().into()),
            (
                "grace_days_left",
                self.grace_days_left(self.verified_at).into(),
            ),
        ])
    }
}

/// A signed list of revoked license ids (SPEC §1.5).
///
/// An expired list is still accepted: revocations never lapse, so an old list can only miss newer
/// revocations, never wrongly revoke. Hosts should fetch a fresh one before `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationList {
    /// Who signed it.
    pub issuer: String,
    /// When it was signed.
    pub issued_at: i64,
    /// When the issuer expects it to be replaced.
    pub expires_at: i64,
    revoked: KeyIndex,
}

impl RevocationList {
    /// Verifies a signed revocation list `{"iss","iat","exp","revoked":[jti,...]}`.
    pub fn verify(
        token: &str,
        keyring: &Keyring,
        issuer: &str,
        now: i64,
    ) -> Result<RevocationList> {
        if token.len() > MAX_REVOCATION_LIST_BYTES {
            return Err(Error::new(
                ErrorCode::TokenTooLarge,
                format!(
                    "the revocation list is {} bytes; the limit is {MAX_REVOCATION_LIST_BYTES}",
                    token.len()
                ),
            ));
        }
        let token = token.trim();
        if token.bytes().filter(|&b| b == b'.').count() != 2 {
            return Err(Error::malformed("a revocation list is an EdDSA JWT"));
        }
        // Read with `get`, not `remove`: in the size-budgeted wasm build the map's `remove` (and
        // its rebalancing) would be linked for this function alone, 7 KB.
        let claims = v2::verify_jws(token, keyring)?.claims;
        if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                format!("the revocation list is not issued by {issuer:?}"),
            ));
        }
        let int = |name: &str| {
            claims.get(name).and_then(Value::as_i64).ok_or_else(|| {
                Error::claims(format!("revocation list claim `{name}` must be an integer"))
            })
        };
        let issued_at = int("iat")?;
        let expires_at = int("exp")?;
        if issued_at > now.saturating_add(DEFAULT_LEEWAY_SECS) {
            return Err(Error::new(
                ErrorCode::IssuedInFuture,
                "the revocation list is issued in the future",
            ));
        }
        let Some(Value::Array(items)) = claims.get("revoked") else {
            return Err(Error::claims(
                "revocation list claim `revoked` must be a list of license ids",
            ));
        };
        let mut revoked = KeyIndex::default();
        for item in items {
            let Value::String(id) = item else {
                return Err(Error::claims(
                    "revocation list claim `revoked` must hold only strings",
                ));
            };
            let _ = revoked.insert(id);
        }
        Ok(RevocationList {
            issuer: issuer.to_owned(),
            issued_at,
            expires_at,
            revoked,
        })
    }

    /// A list built from ids, e.g. by a host that keeps its own store of revocations.
    pub fn from_ids<I: IntoIterator<Item = String>>(ids: I) -> RevocationList {
        let mut revoked = KeyIndex::default();
        for id in ids {
            let _ = revoked.insert(&id);
        }
        RevocationList {
            revoked,
            ..RevocationList::default()
        }
    }

    /// Whether the license id is revoked.
    pub fn contains(&self, license_id: &str) -> bool {
        self.revoked.contains(license_id)
    }

    /// How many ids the list holds.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// Whether `now` is past the list's `exp`.
    pub fn is_expired(&self, now: i64) -> bool {
        now > self.expires_at
    }
}

/// Verifies license tokens against a keyring, with the options of SPEC §1.
///
/// ```
/// use dev_health_entitlements::{Keyring, Verifier};
/// let keys = Keyring::parse("k1=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
/// let verifier = Verifier::new(keys).with_leeway(30);
/// let err = verifier.verify("not.a.token", 1_700_000_000).unwrap_err();
/// assert_eq!(err.code().as_str(), "malformed_token");
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    keyring: Keyring,
    issuer: String,
    leeway: i64,
    accept_v1: bool,
    deployment_id: Option<String>,
    grace_days: PerTier<u32>,
    revocations: Option<RevocationList>,
    high_water_mark: Option<i64>,
}

impl Verifier {
    /// A verifier with the default options: issuer `fullchaos.studio`, 60 s leeway, v1 accepted,
    /// the default catalog's grace days.
    pub fn new(keyring: Keyring) -> Verifier {
        Verifier {
            keyring,
            issuer: DEFAULT_ISSUER.to_owned(),
            leeway: DEFAULT_LEEWAY_SECS,
            accept_v1: true,
            deployment_id: None,
            grace_days: Catalog::default_grace_days(),
            revocations: None,
            high_water_mark: None,
        }
    }

    /// Expects this `iss`.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Verifier {
        self.issuer = issuer.into();
        self
    }

    /// Tolerates this many seconds of clock skew (negative values count as 0).
    pub fn with_leeway(mut self, seconds: i64) -> Verifier {
        self.leeway = seconds.max(0);
        self
    }

    /// Accepts or refuses v1 legacy tokens.
    pub fn with_accept_v1(mut self, accept: bool) -> Verifier {
        self.accept_v1 = accept;
        self
    }

    /// Requires this deployment id to be listed in `aud`.
    pub fn with_deployment_id(mut self, deployment_id: Option<String>) -> Verifier {
        self.deployment_id = deployment_id;
        self
    }

    /// Takes default grace days per tier from a catalog.
    pub fn with_catalog(mut self, catalog: &Catalog) -> Verifier {
        self.grace_days = catalog.grace_days();
        self
    }

    /// Rejects licenses on this list with `revoked`.
    pub fn with_revocations(mut self, list: Option<RevocationList>) -> Verifier {
        self.revocations = list;
        self
    }

    /// Sets the clock-rollback guard: the latest `now` the host has seen (it persists it).
    pub fn with_high_water_mark(mut self, latest_seen: Option<i64>) -> Verifier {
        self.high_water_mark = latest_seen;
        self
    }

    /// The trusted keys.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The expected issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The leeway in seconds.
    pub fn leeway(&self) -> i64 {
        self.leeway
    }

    /// Verifies `token` at `now` (Unix seconds): either a stable error code, or a [`License`]
    /// with a status. Checks run in this order: size, structure, algorithm, key id, signature,
    /// claims schema, key window, issuer, audience, clock rollback, `iat`, `nbf`, revocation.
    pub fn verify(&self, token: &str, now: i64) -> Result<License> {
        // The limit applies to what was handed over, before surrounding whitespace is dropped
        // (which leaves the number of dots, and so the format, as it was).
        let format = detect_format(token)?;
        let token = token.trim();
        let (entry, claims) = match format {
            TokenFormat::V2 => {
                let (key, claims_json) = v2::verify_signature(token, &self.keyring)?;
                (key, LicenseClaims::from_v2_json(&claims_json)?)
            }
            TokenFormat::V1 if !self.accept_v1 => {
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    "v1 legacy tokens are turned off for this verifier",
                ))
            }
            TokenFormat::V1 => {
                let v1 = v1::verify_v1(token, &self.keyring)?;
                let mut claims = LicenseClaims::from_json(v1.claims, format)?;
                if claims.license_id.is_empty() {
                    if !cfg!(feature = "ops-compat") {
                        return Err(Error::claims(
                            "claim `license_id` must be a non-empty string, found nothing",
                        ));
                    }
                    claims.license_id = v1::derived_license_id(token);
                }
                (v1.key, claims)
            }
        };
        // A v1 token names no key: when one public key is trusted under several kids (say a
        // retired and a current entry), any entry whose window holds `iat` vouches for it.
        let entry = match format {
            TokenFormat::V1 if !entry.valid_at(claims.iat) => self
                .keyring
                .entries()
                .iter()
                .find(|e| e.key == entry.key && e.valid_at(claims.iat))
                .unwrap_or(entry),
            _ => entry,
        };
        entry.check_window(Some(claims.iat), now)?;
        if claims.iss != self.issuer {
            return Err(Error::new(
                ErrorCode::IssuerMismatch,
                format!(
                    "the issuer is {:?}; expected {:?}",
                    shown(&claims.iss, 64, "(a long value)"),
                    self.issuer
                ),
            ));
        }
        if let Some(deployment) = &self.deployment_id {
            if !claims.aud.iter().any(|a| a == deployment) {
                return Err(Error::new(
                    ErrorCode::AudienceMismatch,
                    format!("the license's aud does not list this deployment ({deployment:?})"),
                ));
            }
        }
        if let Some(mark) = self.high_water_mark {
            if now.saturating_add(self.leeway) < mark {
                return Err(Error::new(
                    ErrorCode::ClockRollback,
                    format!(
                        "the clock reads {now}, more than {} s before the latest time seen ({mark})",
                        self.leeway
                    ),
                ));
            }
        }
        if claims.iat > now.saturating_add(self.leeway) {
            return Err(Error::new(
                ErrorCode::IssuedInFuture,
                format!(
                    "iat {} is more than {} s after now ({now})",
                    claims.iat, self.leeway
                ),
            ));
        }
        if let Some(nbf) = claims.nbf {
            if now.saturating_add(self.leeway) < nbf {
                return Err(Error::new(
                    ErrorCode::NotYetValid,
                    format!(
                        "the license is not valid before {nbf} (now {now}, leeway {} s)",
                        self.leeway
                    ),
                ));
            }
        }
        if let Some(list) = &self.revocations {
            if list.contains(&claims.license_id) {
                return Err(Error::new(
                    ErrorCode::Revoked,
                    format!(
                        "the license {:?} is revoked",
                        shown(&claims.license_id, 64, "(a long value)")
                    ),
                ));
            }
        }
        let grace_days = grace_days_for(claims.tier, claims.grace_days, self.grace_days);
        let mut license = License {
            format,
            kid: entry.kid.clone(),
            claims,
            grace_days,
            status: LicenseStatus::Expired,
            verified_at: now,
        };
        license.status = license.status_at(now);
        Ok(license)
    }

    /// A verifier from the environment (SPEC §1.3): the embedded keys plus the first of
    /// `DEV_HEALTH_LICENSE_PUBLIC_KEYS` (JWKS or `kid=base64,...`) and `LICENSE_PUBLIC_KEY`
    /// (one base64 key, kid `default`). The documented test keys, whose secrets are published
    /// (the all-zero seed's and RFC 8032's TEST 1 to 3, [`crate::keys::is_test_key`]), are
    /// refused here (`invalid_key`) unless `DEV_HEALTH_ALLOW_TEST_KEYS=1`: a copied development
    /// `.env` must not turn licensing off in production.
    pub fn from_env() -> Result<Verifier> {
        Verifier::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`Verifier::from_env`] reading variables through `lookup` (for hosts and tests).
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Verifier> {
        let mut keyring = Keyring::embedded()?;
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(keys) = set("DEV_HEALTH_LICENSE_PUBLIC_KEYS") {
            let parsed = Keyring::parse(&keys).map_err(|e| {
                Error::key(format!("DEV_HEALTH_LICENSE_PUBLIC_KEYS: {}", e.message()))
            })?;
            keyring.extend(parsed);
        } else if let Some(key) = set("LICENSE_PUBLIC_KEY") {
            let key = crate::keys::PublicKey::from_base64(&key)
                .map_err(|e| Error::key(format!("LICENSE_PUBLIC_KEY: {}", e.message())))?;
            keyring.add("default", key);
        }
        keyring.refuse_test_keys(crate::keys::test_keys_allowed(&lookup))?;
        Ok(Verifier::new(keyring))
    }
}

/// The license token from the environment (SPEC §1.3): `DEV_HEALTH_LICENSE`, then `LICENSE_KEY`,
/// then the file named by `DEV_HEALTH_LICENSE_FILE`. `Ok(None)` when none is set. A file longer
/// than a license can be (16 KiB, plus 1 KiB of whitespace) is `token_too_large`, and no more of
/// it than that is read.
pub fn license_token_from_env() -> Result<Option<String>> {
    license_token_from_env_with(|name| std::env::var(name).ok())
}

/// [`license_token_from_env`] reading variables through `lookup`.
pub fn license_token_from_env_with(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>> {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let Some(token) = set("DEV_HEALTH_LICENSE").or_else(|| set("LICENSE_KEY")) {
        return Ok(Some(token.trim().to_owned()));
    }
    let Some(path) = set("DEV_HEALTH_LICENSE_FILE") else {
        return Ok(None);
    };
    // A license plus room for surrounding whitespace. Reading stops one byte past it, so a huge
    // file (or /dev/zero) costs no more than that before it is refused.
    const MAX_FILE_BYTES: usize = crate::token::MAX_TOKEN_BYTES + 1024;
    let cannot_read = |e: std::io::Error| {
        Error::new(
            ErrorCode::LicenseNotFound,
            format!("DEV_HEALTH_LICENSE_FILE cannot be read: {e}"),
        )
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path.trim())
        .and_then(|file| {
            use std::io::Read;
            file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes)
        })
        .map_err(cannot_read)?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::new(
            ErrorCode::TokenTooLarge,
            "DEV_HEALTH_LICENSE_FILE is larger than a license can be",
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::malformed("DEV_HEALTH_LICENSE_FILE is not UTF-8 text"))?;
    // Editors on Windows may start a saved text file with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    Ok(Some(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::MAX_TOKEN_BYTES;

    /// A file in the temp directory, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str) -> TempFile {
            let path = std::env::temp_dir().join(format!(
                "dev-health-entitlements-{}-{name}",
                std::process::id()
            ));
            TempFile(path)
        }

        fn token_from_it(&self) -> Result<Option<String>> {
            let path = self.0.to_string_lossy().into_owned();
            license_token_from_env_with(|name| {
                (name == "DEV_HEALTH_LICENSE_FILE").then(|| path.clone())
            })
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn a_huge_license_file_is_refused_without_reading_it_whole() {
        // A sparse file of 8 TiB (no disk used): reading it whole would need 8 TiB of memory, so
        // only a bounded read answers `token_too_large` (as for an over-long token).
        let file = TempFile::new("huge.lic");
        let handle = std::fs::File::create(&file.0).unwrap();
        let sizes = [8u64 << 40, 1 << 30];
        assert!(
            sizes.iter().any(|&size| handle.set_len(size).is_ok()),
            "cannot make a large sparse file in {}",
            file.0.display()
        );
        drop(handle);
        let err = file.token_from_it().unwrap_err();
        assert_eq!(err.code(), ErrorCode::TokenTooLarge, "{err}");
        assert!(err.message().contains("DEV_HEALTH_LICENSE_FILE"), "{err}");
    }

    #[test]
    fn a_license_file_may_hold_a_full_size_token_and_some_whitespace() {
        let file = TempFile::new("edge.lic");
        let limit = MAX_TOKEN_BYTES + 1024;
        let token = "a.b";
        let at_limit = format!("{token}{}", "\n".repeat(limit - token.len()));
        std::fs::write(&file.0, &at_limit).unwrap();
        assert_eq!(file.token_from_it().unwrap().as_deref(), Some(token));
        std::fs::write(&file.0, format!("{at_limit}\n")).unwrap();
        let err = file.token_from_it().unwrap_err();
        assert_eq!(err.code(), ErrorCode::TokenTooLarge, "{err}");
    }

    #[test]
    fn a_byte_order_mark_before_the_license_is_left_out() {
        let file = TempFile::new("bom.lic");
        std::fs::write(&file.0, "\u{feff}a.b.c\r\n").unwrap();
        assert_eq!(file.token_from_it().unwrap().as_deref(), Some("a.b.c"));
    }

    #[test]
    fn a_missing_license_file_is_license_not_found() {
        let file = TempFile::new("missing.lic");
        let err = file.token_from_it().unwrap_err();
        assert_eq!(err.code(), ErrorCode::LicenseNotFound, "{err}");
    }
}
