//! What a web framework answers when a check fails (SPEC §4): the status and the `detail` body
//! every binding's HTTP glue sends (FastAPI's dependencies, the Next.js `withFeature` /
//! `withPermission` wrappers), written once here so the bodies cannot drift between runtimes.
//!
//! * 402 `{"error":"feature_not_licensed","feature","required_tier","current_tier","upgrade_url"}`
//!   when a purchase would unlock the feature;
//! * 403 `{"error":"feature_not_enabled","feature","message"}` when an administrator turned it off
//!   (or the catalog has no such feature);
//! * 402 `{"error":"limit_exceeded","limit","current","maximum","current_tier"}`;
//! * 403 `{"error":"permission_denied","permission","role"}`.

use serde_json::Value;

use crate::resolve::{Denial, Entitlements, GateState, LimitDecision, Reason};
use crate::tier::Tier;

/// Where the 402 body's `upgrade_url` points unless the host says otherwise.
pub const DEFAULT_UPGRADE_URL: &str = crate::resolve::DEFAULT_UPGRADE_HREF;

/// The machine-readable kind of a denial: the `error` member of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialKind {
    /// 402: a purchase would unlock the feature.
    FeatureNotLicensed,
    /// 403: an administrator turned the feature off, or it does not exist.
    FeatureNotEnabled,
    /// 402: a limit would be crossed.
    LimitExceeded,
    /// 403: the role lacks the permission.
    PermissionDenied,
}

impl DenialKind {
    /// The `error` string of the body.
    pub const fn as_str(self) -> &'static str {
        match self {
            DenialKind::FeatureNotLicensed => "feature_not_licensed",
            DenialKind::FeatureNotEnabled => "feature_not_enabled",
            DenialKind::LimitExceeded => "limit_exceeded",
            DenialKind::PermissionDenied => "permission_denied",
        }
    }

    /// The HTTP status that carries it.
    pub const fn status(self) -> u16 {
        match self {
            DenialKind::FeatureNotLicensed | DenialKind::LimitExceeded => 402,
            DenialKind::FeatureNotEnabled | DenialKind::PermissionDenied => 403,
        }
    }
}

/// A denied check as HTTP glue answers it: `status` with the JSON body `{"detail": detail}`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpDenial {
    /// Which denial (the body's `error`).
    pub kind: DenialKind,
    /// 402 or 403.
    pub status: u16,
    /// The `detail` object of the body.
    pub detail: Value,
    /// A sentence for logs and exception messages (never a secret).
    pub message: String,
}

impl HttpDenial {
    fn new(kind: DenialKind, detail: Vec<(&str, Value)>, message: String) -> HttpDenial {
        let mut members = vec![("error", Value::from(kind.as_str()))];
        members.extend(detail);
        HttpDenial {
            kind,
            status: kind.status(),
            detail: crate::json::object(&mut members),
            message,
        }
    }

    /// The whole body: `{"detail": …}`.
    pub fn body(&self) -> Value {
        crate::json::object(&mut [("detail", self.detail.clone())])
    }
}

fn not_enabled_message(feature: &str, reason: Reason) -> String {
    match reason {
        Reason::GlobalDisabled => {
            format!("The feature '{feature}' is turned off by a kill switch.")
        }
        Reason::OrgOverrideDisabled => {
            format!("The feature '{feature}' is turned off for this organization.")
        }
        Reason::FeatureNotRegistered => format!("There is no feature named '{feature}'."),
        _ => format!("The feature '{feature}' is turned off."),
    }
}

/// The denial for `feature`, or `None` when it is allowed. `required_tier` only raises the tier
/// named in a 402 body (as for [`Entitlements::upgrade_gate`]); the engine decides.
pub fn feature_denial(
    entitlements: &Entitlements,
    feature: &str,
    required_tier: Option<Tier>,
    upgrade_url: Option<&str>,
) -> Option<HttpDenial> {
    let decision = entitlements.check(feature);
    match decision.reason.denial()? {
        Denial::NotLicensed => {
            let gate = entitlements.upgrade_gate(feature, required_tier, None);
            let current = decision.current_tier.as_str();
            let message = match gate.required_tier {
                Some(_) if gate.state == GateState::Upgrade => {
                    format!("The feature '{feature}' is not included in the {current} tier.")
                }
                _ => format!("The feature '{feature}' must be purchased separately."),
            };
            Some(HttpDenial::new(
                DenialKind::FeatureNotLicensed,
                vec![
                    ("feature", feature.into()),
                    ("required_tier", gate.required_tier.map(Tier::as_str).into()),
                    ("current_tier", current.into()),
                    (
                        "upgrade_url",
                        upgrade_url.unwrap_or(DEFAULT_UPGRADE_URL).into(),
                    ),
                ],
                message,
            ))
        }
        Denial::NotEnabled => {
            let message = not_enabled_message(feature, decision.reason);
            Some(HttpDenial::new(
                DenialKind::FeatureNotEnabled,
                vec![
                    ("feature", feature.into()),
                    ("message", message.clone().into()),
                ],
                message,
            ))
        }
    }
}

/// The denial for a limit decision, or `None` when `current` is within it.
pub fn limit_denial(decision: &LimitDecision<'_>) -> Option<HttpDenial> {
    if decision.allowed {
        return None;
    }
    let maximum = crate::claims::limit_to_json(decision.maximum);
    let message = format!(
        "{} is {}, beyond {}.",
        decision.limit,
        decision.current,
        decision
            .maximum
            .map_or_else(|| "no registered limit".to_owned(), |m| m.to_string())
    );
    Some(HttpDenial::new(
        DenialKind::LimitExceeded,
        vec![
            ("limit", decision.limit.into()),
            ("current", number(decision.current)),
            ("maximum", maximum),
            ("current_tier", decision.current_tier.as_str().into()),
        ],
        message,
    ))
}

/// The denial for a role lacking `permission` (`role` is `None` without a session).
pub fn permission_denial(permission: &str, role: Option<&str>) -> HttpDenial {
    let message = match role {
        Some(role) => format!("The role '{role}' lacks the permission '{permission}'."),
        None => format!("The permission '{permission}' needs a session with a role."),
    };
    HttpDenial::new(
        DenialKind::PermissionDenied,
        vec![("permission", permission.into()), ("role", role.into())],
        message,
    )
}

/// A JSON number for `value`, integral values as integers (`null` for NaN or an infinity).
fn number(value: f64) -> Value {
    crate::claims::limit_to_json(Some(value))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::{Catalog, Override, ResolveInput};

    fn resolve(tier: Tier, overrides: &[Override], switches: &[(&str, bool)]) -> Entitlements {
        let switches: BTreeMap<String, bool> = switches
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        Entitlements::resolve(
            Catalog::default_catalog().unwrap(),
            &ResolveInput {
                org_tier: Some(tier),
                org_id: Some("org_1"),
                overrides,
                kill_switches: Some(&switches),
                now: 1_700_000_000,
                ..Default::default()
            },
        )
    }

    #[test]
    fn an_allowed_feature_has_no_denial() {
        assert_eq!(
            feature_denial(&resolve(Tier::Team, &[], &[]), "api_access", None, None),
            None
        );
    }

    #[test]
    fn a_feature_of_a_higher_tier_is_402_naming_the_tier_and_the_upgrade_url() {
        let d = feature_denial(&resolve(Tier::Team, &[], &[]), "audit_log", None, None).unwrap();
        assert_eq!(d.status, 402);
        assert_eq!(
            d.body(),
            json!({"detail": {"error": "feature_not_licensed", "feature": "audit_log",
                "required_tier": "enterprise", "current_tier": "team",
                "upgrade_url": "/org/admin/settings"}})
        );
        assert_eq!(
            d.message,
            "The feature 'audit_log' is not included in the team tier."
        );
        let custom = feature_denial(
            &resolve(Tier::Community, &[], &[]),
            "api_access",
            Some(Tier::Enterprise),
            Some("/billing"),
        )
        .unwrap();
        assert_eq!(custom.detail["required_tier"], "enterprise");
        assert_eq!(custom.detail["upgrade_url"], "/billing");
    }

    #[test]
    fn a_switched_off_or_unknown_feature_is_403_with_a_message() {
        let off = resolve(Tier::Enterprise, &[], &[("audit_log", false)]);
        let d = feature_denial(&off, "audit_log", None, None).unwrap();
        assert_eq!(d.status, 403);
        assert_eq!(
            d.detail,
            json!({"error": "feature_not_enabled", "feature": "audit_log",
                "message": "The feature 'audit_log' is turned off by a kill switch."})
        );
        let overridden = resolve(
            Tier::Enterprise,
            &[Override {
                feature: "audit_log".into(),
                enabled: false,
                expires_at: None,
            }],
            &[],
        );
        let d = feature_denial(&overridden, "audit_log", None, None).unwrap();
        assert_eq!(
            d.detail["message"],
            "The feature 'audit_log' is turned off for this organization."
        );
        let d = feature_denial(&off, "no_such", None, None).unwrap();
        assert_eq!(
            (d.kind, d.detail["message"].as_str()),
            (
                DenialKind::FeatureNotEnabled,
                Some("There is no feature named 'no_such'.")
            )
        );
    }

    #[test]
    fn a_crossed_limit_is_402_with_current_and_maximum() {
        let ent = resolve(Tier::Community, &[], &[]);
        assert_eq!(limit_denial(&ent.check_limit("max_users", 3.0)), None);
        let d = limit_denial(&ent.check_limit("max_users", 4.0)).unwrap();
        assert_eq!(d.status, 402);
        assert_eq!(
            d.detail,
            json!({"error": "limit_exceeded", "limit": "max_users", "current": 4,
                "maximum": 3, "current_tier": "community"})
        );
        assert_eq!(d.message, "max_users is 4, beyond 3.");
        let unknown = limit_denial(&ent.check_limit("no_such", 1.0)).unwrap();
        assert_eq!(unknown.detail["maximum"], Value::Null);
    }

    #[test]
    fn a_missing_permission_is_403_naming_the_role() {
        let d = permission_denial("org:delete", Some("viewer"));
        assert_eq!(
            (d.status, d.body()),
            (
                403,
                json!({"detail": {"error": "permission_denied", "permission": "org:delete",
                    "role": "viewer"}})
            )
        );
        assert_eq!(
            permission_denial("org:delete", None).detail["role"],
            Value::Null
        );
    }
}
