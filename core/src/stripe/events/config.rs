//! What the event engine needs to know about the vendor's Stripe account: which price sells which
//! tier, and how many grace days a signed SaaS license gets after its billing period ends.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, ErrorCode, Result};
use crate::tier::{PerTier, Tier};

/// Stripe price id → the tier it sells (`STRIPE_PRICE_TIERS`).
///
/// Serialized as a JSON object, e.g. `{"price_team":"team","price_ent":"enterprise"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PriceTiers(BTreeMap<String, Tier>);

impl PriceTiers {
    /// An empty mapping: every price is unknown, so no subscription grants a paid tier.
    pub fn new() -> Self {
        PriceTiers::default()
    }

    /// Parses the `STRIPE_PRICE_TIERS` form `price_a=team,price_b=enterprise`.
    ///
    /// Whitespace around entries is trimmed and empty entries (a trailing comma) are skipped, so
    /// an empty string is an empty mapping. An entry without `=`, with an empty price id, with a
    /// tier other than `community`/`team`/`enterprise`, or repeating a price id is an
    /// [`ErrorCode::InvalidInput`] error naming the entry.
    ///
    /// ```
    /// use dev_health_entitlements::stripe::PriceTiers;
    /// use dev_health_entitlements::Tier;
    ///
    /// let prices = PriceTiers::parse("price_team=team, price_ent=enterprise")?;
    /// assert_eq!(prices.get("price_ent"), Some(Tier::Enterprise));
    /// assert_eq!(prices.get("price_other"), None);
    /// # Ok::<(), dev_health_entitlements::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<PriceTiers> {
        let mut prices = PriceTiers::new();
        for (number, entry) in s
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let bad = |why: &str| {
                Error::new(
                    ErrorCode::InvalidInput,
                    format!("price tier entry {} {entry:?} {why}", number + 1),
                )
            };
            let (price, tier) = entry
                .split_once('=')
                .ok_or_else(|| bad("has no `=`: expected price_id=tier"))?;
            let (price, tier) = (price.trim(), tier.trim());
            if price.is_empty() {
                return Err(bad("has an empty price id"));
            }
            let tier = Tier::parse(tier).ok_or_else(|| {
                bad("names an unknown tier: expected community, team or enterprise")
            })?;
            if prices.insert(price, tier).is_some() {
                return Err(bad("repeats a price id listed before it"));
            }
        }
        Ok(prices)
    }

    /// Maps `price_id` to `tier`, returning the tier it was mapped to before, if any.
    pub fn insert(&mut self, price_id: impl Into<String>, tier: Tier) -> Option<Tier> {
        self.0.insert(price_id.into(), tier)
    }

    /// The tier `price_id` sells, or `None` when the price is not mapped.
    pub fn get(&self, price_id: &str) -> Option<Tier> {
        self.0.get(price_id).copied()
    }

    /// The number of mapped prices.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no price is mapped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The mapped prices, ordered by price id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Tier)> {
        self.0.iter().map(|(price, tier)| (price.as_str(), *tier))
    }
}

impl FromStr for PriceTiers {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        PriceTiers::parse(s)
    }
}

/// The configuration of the event engine.
///
/// JSON shape (both fields optional; a partial `grace_days` keeps the defaults of the tiers it
/// leaves out):
/// `{"price_tiers":{"price_x":"team"},"grace_days":{"community":0,"team":14,"enterprise":30}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "BillingConfigWire", into = "BillingConfigWire")]
pub struct BillingConfig {
    /// Which price sells which tier.
    pub price_tiers: PriceTiers,
    /// Days a signed SaaS license stays usable after the subscription's period end, per tier.
    pub grace_days: PerTier<u32>,
}

impl BillingConfig {
    /// A configuration with the given prices and the default catalog's grace days
    /// ([`Catalog::default_grace_days`]).
    pub fn new(price_tiers: PriceTiers) -> Self {
        BillingConfig {
            price_tiers,
            grace_days: Catalog::default_grace_days(),
        }
    }

    /// Takes the grace days per tier from a catalog (the one a host's verifiers use).
    pub fn with_catalog(mut self, catalog: &Catalog) -> Self {
        self.grace_days = catalog.grace_days();
        self
    }
}

impl Default for BillingConfig {
    /// No prices mapped, the default catalog's grace days.
    fn default() -> Self {
        BillingConfig::new(PriceTiers::new())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BillingConfigWire {
    #[serde(default)]
    price_tiers: PriceTiers,
    #[serde(default)]
    grace_days: GraceDaysWire,
}

#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GraceDaysWire {
    community: u32,
    team: u32,
    enterprise: u32,
}

impl Default for GraceDaysWire {
    fn default() -> Self {
        let PerTier([community, team, enterprise]) = Catalog::default_grace_days();
        GraceDaysWire {
            community,
            team,
            enterprise,
        }
    }
}

impl From<BillingConfigWire> for BillingConfig {
    fn from(wire: BillingConfigWire) -> Self {
        let g = wire.grace_days;
        BillingConfig {
            price_tiers: wire.price_tiers,
            grace_days: PerTier([g.community, g.team, g.enterprise]),
        }
    }
}

impl From<BillingConfig> for BillingConfigWire {
    fn from(config: BillingConfig) -> Self {
        let days = |tier| config.grace_days.get(tier);
        BillingConfigWire {
            grace_days: GraceDaysWire {
                community: days(Tier::Community),
                team: days(Tier::Team),
                enterprise: days(Tier::Enterprise),
            },
            price_tiers: config.price_tiers,
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn price_tiers_parse_the_environment_form() {
        let prices = PriceTiers::parse(" price_a=team ,price_b = enterprise,").unwrap();
        assert_eq!(prices.len(), 2);
        assert_eq!(prices.get("price_a"), Some(Tier::Team));
        assert_eq!(prices.get("price_b"), Some(Tier::Enterprise));
        assert!(PriceTiers::parse("").unwrap().is_empty());
        assert_eq!(
            "p=team".parse::<PriceTiers>().unwrap().get("p"),
            Some(Tier::Team)
        );
    }

    #[test]
    fn price_tier_errors_name_the_bad_entry() {
        for (input, needle) in [
            ("price_a=team,price_b", "entry 2 \"price_b\" has no `=`"),
            (
                "price_a=gold",
                "entry 1 \"price_a=gold\" names an unknown tier",
            ),
            ("price_a=Team", "unknown tier"),
            ("=team", "empty price id"),
            ("p=team,p=enterprise", "entry 2 \"p=enterprise\" repeats"),
        ] {
            let err = PriceTiers::parse(input).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert!(err.message().contains(needle), "{}", err.message());
        }
    }

    #[test]
    fn default_grace_days_are_0_14_30() {
        let config = BillingConfig::default();
        assert_eq!(config.grace_days, PerTier([0, 14, 30]));
        assert!(config.price_tiers.is_empty());
    }

    #[test]
    fn billing_config_has_a_stable_json_shape() {
        let mut prices = PriceTiers::new();
        prices.insert("price_x", Tier::Team);
        let json = serde_json::to_value(BillingConfig::new(prices)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "price_tiers": {"price_x": "team"},
                "grace_days": {"community": 0, "team": 14, "enterprise": 30}
            })
        );
        let back: BillingConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back.price_tiers.get("price_x"), Some(Tier::Team));
    }

    #[test]
    fn billing_config_json_fields_are_optional_and_typos_rejected() {
        let partial: BillingConfig = serde_json::from_str(r#"{"grace_days":{"team":7}}"#).unwrap();
        assert_eq!(partial.grace_days, PerTier([0, 7, 30]));
        assert!(serde_json::from_str::<BillingConfig>(r#"{"price_tier":{}}"#).is_err());
        assert!(serde_json::from_str::<BillingConfig>(r#"{"price_tiers":{"p":"gold"}}"#).is_err());
    }
}
