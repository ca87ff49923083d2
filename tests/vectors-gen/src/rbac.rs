//! `rbac.json`: every role × every permission of contract §2 in both catalogs, plus unknown roles and
//! permissions. The answers come from the contract's role table ([`crate::spec::role_has`]).

use dev_health_entitlements::Catalog;
use serde_json::json;

use crate::common::*;
use crate::spec;

/// Every RBAC vector.
pub fn cases() -> Res<Vec<Case>> {
    let mut out = Vec::new();
    for (catalog, short) in [("default", "default"), ("dev-health-ops", "ops")] {
        spec::check_roles(catalog)?;
        let engine = Catalog::builtin(catalog)?;
        let mut add = |role: &str,
                       permission: &str,
                       allowed: bool,
                       description: String|
         -> Res<()> {
            let name = format!("{short}_{}_{}", slug(role), slug(permission));
            agree(&name, "can", engine.can(role, permission), allowed)?;
            out.push(Case::new(
                name,
                description,
                json!({"catalog": catalog, "role": role, "permission": permission, "allowed": allowed}),
            )?);
            Ok(())
        };
        for (role, _) in spec::ROLES {
            for permission in spec::all_permissions() {
                let allowed = spec::role_has(role, permission);
                let verb = if allowed { "has" } else { "lacks" };
                add(
                    role,
                    permission,
                    allowed,
                    format!("In the {catalog} catalog, {role} {verb} {permission}."),
                )?;
            }
            add(
                role,
                "billing:delete",
                false,
                format!("An unknown permission is denied, even to {role}."),
            )?;
        }
        for (role, why) in [
            ("superuser", "a role the catalog does not define"),
            ("Owner", "role names are case-sensitive"),
            ("", "the empty role"),
            ("guest", "a role the catalog does not define"),
        ] {
            add(
                role,
                "org:read",
                false,
                format!("No permissions for {why} ({role:?}), not even org:read."),
            )?;
        }
        add(
            "owner",
            "",
            false,
            "The empty permission is denied.".to_owned(),
        )?;
        add(
            "owner",
            "ORG:READ",
            false,
            "Permission names are case-sensitive.".to_owned(),
        )?;
        add(
            "admin",
            "org:*",
            false,
            "There are no wildcard permissions.".to_owned(),
        )?;
    }
    Ok(out)
}

fn slug(s: &str) -> String {
    if s.is_empty() {
        return "empty".to_owned();
    }
    let lower: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let cased = if s.chars().any(|c| c.is_ascii_uppercase()) {
        "_upper"
    } else {
        ""
    };
    let wild = if s.contains('*') { "wildcard" } else { "" };
    format!("{}{wild}{cased}", lower.trim_end_matches('_'))
}
