//! The three ordered tiers: community < team < enterprise.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};

/// A product tier. Tiers are ordered: `Community < Team < Enterprise`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The free tier.
    Community,
    /// The paid team tier.
    Team,
    /// The paid enterprise tier.
    Enterprise,
}

impl Tier {
    /// All tiers, lowest first.
    pub const ALL: [Tier; 3] = [Tier::Community, Tier::Team, Tier::Enterprise];

    /// The tier's lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::Community => "community",
            Tier::Team => "team",
            Tier::Enterprise => "enterprise",
        }
    }

    /// The tier's position, 0 for community.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Parses a lower-case tier name (`community`, `team`, `enterprise`); nothing else.
    pub fn parse(name: &str) -> Option<Tier> {
        match name {
            "community" => Some(Tier::Community),
            "team" => Some(Tier::Team),
            "enterprise" => Some(Tier::Enterprise),
            _ => None,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tier {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::parse(s).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidInput,
                format!("unknown tier {s:?}: expected community, team or enterprise"),
            )
        })
    }
}

/// One value per tier, indexed by [`Tier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PerTier<T>(pub [T; 3]);

impl<T: Copy> PerTier<T> {
    /// The value for `tier`.
    pub fn get(&self, tier: Tier) -> T {
        match tier {
            Tier::Community => self.0[0],
            Tier::Team => self.0[1],
            Tier::Enterprise => self.0[2],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered_community_team_enterprise() {
        assert!(Tier::Community < Tier::Team && Tier::Team < Tier::Enterprise);
    }

    #[test]
    fn unknown_tier_names_are_rejected_with_the_name() {
        let err = "gold".parse::<Tier>().err().map(|e| e.message().to_owned());
        assert!(err.unwrap_or_default().contains("gold"));
        assert_eq!(Tier::parse("Team"), None);
    }
}
