//! The hand oracle: what a license token says, read from its bytes with base64 and serde_json
//! alone (no engine call), and what contract §1.4, §3 and §5 derive from that. The generator compares
//! every field a vector carries about a license (its format, tier, org, id, type, times and
//! status; the entitlements JSON built from it; the expiry of a license a Stripe event signs) with
//! these readings, so an engine that misreads a token fails the generation, not only a runner.

use std::collections::BTreeMap;

use dev_health_entitlements::Tier;
use serde_json::{Map, Value};

use crate::common::{unb64, unb64u, Res, DAY};
use crate::ensure;

/// A license as contract §1.1/§1.2 describes it, read by hand from the token.
#[derive(Debug, Clone)]
pub struct HandLicense {
    /// `v1` (one dot) or `v2` (two dots), contract §1.2.
    pub format: &'static str,
    /// The header's `kid` (v2); v1 has none.
    pub kid: Option<String>,
    /// `tier`.
    pub tier: Tier,
    /// `sub`.
    pub sub: String,
    /// `jti` (v2) or `license_id` (v1).
    pub license_id: String,
    /// `license_type`, default `self_hosted`; v1 has no such claim.
    pub license_type: &'static str,
    /// `exp`.
    pub exp: i64,
    /// The `grace_days` claim, else the tier's default (contract §2: 0 / 14 / 30 in both catalogs).
    pub grace_days: i64,
    /// `features` (absent or null: none).
    pub features: BTreeMap<String, bool>,
    /// `limits` by catalog name (contract §2's token names mapped); `None` is unlimited (-1, null).
    pub limits: BTreeMap<String, Option<f64>>,
}

/// contract §2's tiers, read by hand.
pub fn tier_named(name: &str) -> Res<Tier> {
    match name {
        "community" => Ok(Tier::Community),
        "team" => Ok(Tier::Team),
        "enterprise" => Ok(Tier::Enterprise),
        _ => Err(format!("{name:?} is not a tier of contract §2").into()),
    }
}

/// contract §2's grace days per tier (the same in both shipped catalogs).
pub fn default_grace_days(tier: Tier) -> i64 {
    match tier {
        Tier::Community => 0,
        Tier::Team => 14,
        Tier::Enterprise => 30,
    }
}

/// contract §2: license-token limit names and their catalog names.
fn catalog_limit_name(token_name: &str) -> &str {
    match token_name {
        "users" => "max_users",
        "repos" => "max_repos",
        "api_rate" => "api_rate_limit_per_min",
        other => other,
    }
}

impl HandLicense {
    /// `exp + grace_days·86400`.
    pub fn grace_ends_at(&self) -> i64 {
        self.exp + self.grace_days * DAY
    }

    /// contract §1.4's status at `now`, with whole days of grace left (rounded up) while in grace.
    pub fn status_at(&self, now: i64) -> (&'static str, Option<i64>) {
        let end = self.grace_ends_at();
        if now <= self.exp {
            ("active", None)
        } else if now <= end {
            ("grace", Some((end - now + DAY - 1) / DAY))
        } else {
            ("expired", None)
        }
    }

    /// `active` or `grace` (contract §3: a valid license).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.status_at(now).0 != "expired"
    }

    /// contract §3 / §7.3: a `saas` or `trial` license applies only to exactly the org in its `sub`.
    pub fn covers(&self, org_id: Option<&str>) -> bool {
        match self.license_type {
            "saas" | "trial" => org_id == Some(self.sub.as_str()),
            _ => true,
        }
    }
}

/// Reads a token the way contract §1.1 and §1.2 write it: surrounding whitespace trimmed, told apart
/// by its number of dots, the payload standard base64 (v1) or the middle segment base64url (v2).
pub fn read(token: &str) -> Res<HandLicense> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    let (format, kid, payload) = match parts.as_slice() {
        [payload, _signature] => ("v1", None, unb64(payload)?),
        [header, claims, _signature] => {
            let header: Value = serde_json::from_slice(&unb64u(header)?)?;
            let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
            ("v2", kid, unb64u(claims)?)
        }
        _ => return Err(format!("a token has one or two dots: {token}").into()),
    };
    let claims: Map<String, Value> = serde_json::from_slice(&payload)?;
    let text = |name: &str| -> Res<String> {
        claims
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("claim {name} is not a string").into())
    };
    let int = |name: &str| -> Res<i64> {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("claim {name} is not an integer").into())
    };
    let tier = tier_named(&text("tier")?)?;
    let license_id = match (format, claims.get("license_id")) {
        // A v1 payload without license_id (absent or null, as dev-health-ops signs it): the id is
        // `v1-sha512-` and the first 16 bytes of SHA-512 of the token, in hex.
        ("v1", None | Some(Value::Null)) => {
            use sha2::{Digest, Sha512};
            let digest = Sha512::digest(token.as_bytes());
            let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("v1-sha512-{hex}")
        }
        _ => text(if format == "v1" { "license_id" } else { "jti" })?,
    };
    let license_type = match (format, claims.get("license_type").and_then(Value::as_str)) {
        ("v2", Some("saas")) => "saas",
        ("v2", Some("trial")) => "trial",
        ("v2", Some("evaluation")) => "evaluation",
        ("v2", Some(other)) if other != "self_hosted" => {
            return Err(format!("license_type {other:?} is not one of contract §1.1").into())
        }
        _ => "self_hosted",
    };
    let grace_days = match claims.get("grace_days") {
        None | Some(Value::Null) => default_grace_days(tier),
        Some(v) => v.as_i64().ok_or("grace_days is not an integer")?,
    };
    let mut features = BTreeMap::new();
    if let Some(Value::Object(map)) = claims.get("features") {
        for (name, on) in map {
            features.insert(name.clone(), on.as_bool().ok_or("a feature is a bool")?);
        }
    }
    let mut limits = BTreeMap::new();
    if let Some(Value::Object(map)) = claims.get("limits") {
        for (name, value) in map {
            let value = match value {
                Value::Null => None,
                v => {
                    let n = v.as_f64().ok_or("a limit is a number")?;
                    (n != -1.0).then_some(n)
                }
            };
            let key = catalog_limit_name(name).to_owned();
            ensure!(
                limits.insert(key, value).is_none(),
                "limit {name} is named twice"
            );
        }
    }
    Ok(HandLicense {
        format,
        kid,
        tier,
        sub: text("sub")?,
        license_id,
        license_type,
        exp: int("exp")?,
        grace_days,
        features,
        limits,
    })
}

/// RFC 3339 UTC with whole seconds, `YYYY-MM-DDTHH:MM:SSZ` (contract §7.6), from the proleptic
/// Gregorian calendar (days from 1970-01-01 to a civil date).
pub fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    // Civil date of a day count: eras of 400 years, each 146097 days, starting on 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
