//! Catalogs (SPEC §2) and entitlements (SPEC §3): resolution, feature and limit checks, RBAC and
//! the UpgradeGate decision, as exports over handles and JSON text for `js/api.js`.

use std::collections::BTreeMap;
use std::sync::Arc;

use core::{Catalog, Entitlements, Tier};
use dev_health_entitlements as core;
use serde_json::Value;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::table::{error, get, handle_or_error, list, put, seconds, stale, text, Handle, Obj};

/// A tier by name, or an `invalid_input` error that lists the names.
fn tier(name: &str) -> Result<Tier, core::Error> {
    Tier::parse(name).ok_or_else(|| {
        core::Error::input(format!(
            "{name:?} is not a tier (expected community, team or enterprise)"
        ))
    })
}

fn tier_or_null(tier: Option<Tier>) -> Value {
    tier.map_or(Value::Null, |t| t.as_str().into())
}

/// A catalog, as the handle's text or the error. `kind` 0: the default catalog; 1:
/// `dev-health-ops`; 2: a shipped catalog by name (`source`); 3: a catalog JSON document.
#[wasm_bindgen]
pub fn catalog(kind: u32, source: &str) -> String {
    let catalog = match kind {
        0 => Catalog::default_catalog(),
        1 => Catalog::dev_health_ops(),
        2 => Catalog::builtin(source),
        _ => Catalog::from_json(source).map(Arc::new),
    };
    handle_or_error(catalog.map(Obj::Catalog))
}

/// A catalog's contents as JSON text, in lists (the JS layer names the members):
/// `[name, [[tier, name, graceDays]], [[key, name, category, minTier, explicitPurchase, tierBound,
/// description]], [[key, name, direction, [community, team, enterprise]]], [role]]`, each list in
/// catalog order; a limit value of `null` is unlimited.
#[wasm_bindgen]
pub fn catalog_info(handle: Handle) -> String {
    get!(handle, Catalog, |c| {
        let tiers: Vec<Value> = c
            .tiers()
            .iter()
            .map(|t| list![t.tier.as_str(), t.name.as_str(), t.grace_days])
            .collect();
        let features: Vec<Value> = c
            .features()
            .iter()
            .map(|f| {
                list![
                    f.key.as_str(),
                    f.name.as_str(),
                    f.category.as_str(),
                    f.min_tier.as_str(),
                    f.explicit_purchase,
                    f.tier_bound,
                    f.description.as_str(),
                ]
            })
            .collect();
        let limits: Vec<Value> = c
            .limits()
            .iter()
            .map(|l| {
                let values: Vec<Value> = Tier::ALL
                    .iter()
                    .map(|t| core::claims::limit_to_json(l.values.get(*t)))
                    .collect();
                list![
                    l.key.as_str(),
                    l.name.as_str(),
                    l.direction.as_str(),
                    values
                ]
            })
            .collect();
        let roles: Vec<&str> = c.roles().iter().map(|r| r.name.as_str()).collect();
        text(&list![c.name(), tiers, features, limits, roles])
    })
    .unwrap_or_else(stale)
}

/// A tier's display name in a catalog (e.g. `Enterprise`) as JSON text, or the error for an unknown
/// tier.
#[wasm_bindgen]
pub fn tier_name(handle: Handle, name: &str) -> String {
    match tier(name) {
        Ok(t) => {
            get!(handle, Catalog, |c| text(&Value::from(c.tier_name(t)))).unwrap_or_else(stale)
        }
        Err(e) => error(&e),
    }
}

/// Every permission of `role`, own and inherited, in catalog order, as a JSON list.
#[wasm_bindgen]
pub fn permissions(handle: Handle, role: &str) -> String {
    get!(handle, Catalog, |c| text(&Value::from(
        c.permissions_of(role)
    )))
    .unwrap_or_else(stale)
}

/// Whether `role` has `permission`, in a catalog or in an entitlements' catalog.
#[wasm_bindgen]
pub fn can(handle: Handle, role: &str, permission: &str) -> bool {
    crate::table::with(handle, |o| match o {
        Obj::Catalog(c) => Some(c.can(role, permission)),
        Obj::Entitlements(e) => Some(e.can(role, permission)),
        _ => None,
    })
    .unwrap_or(false)
}

/// Whether a revocation list holds `key` (a license id), or entitlements allow `key` (a feature).
#[wasm_bindgen]
pub fn contains(handle: Handle, key: &str) -> bool {
    crate::table::with(handle, |o| match o {
        Obj::Revocations(r) => Some(r.contains(key)),
        Obj::Entitlements(e) => Some(e.has(key)),
        _ => None,
    })
    .unwrap_or(false)
}

/// New entitlements as JSON text, `[handle, tier, orgId, staleAt]`.
fn entitlements(e: Entitlements) -> String {
    let tier = e.tier().as_str();
    let org_id = e.org_id().map(str::to_owned);
    let stale_at = e.stale_at();
    match put(Obj::Entitlements(e)) {
        Ok(handle) => text(&list![handle, tier, org_id, stale_at]),
        Err(text) => text,
    }
}

/// Resolves an org's entitlements (SPEC §3) from a catalog and a license (`undefined`: none)
/// at `now`, for `org_id` with its own `org_tier`. `overrides` is JSON text `[[feature, enabled,
/// expiresAt]]` and `kill_switches` `{feature: enabled}`, both checked by the JS layer. Returns
/// `[handle, tier, orgId, staleAt]` as JSON text, or the error (an unknown `org_tier`).
#[wasm_bindgen]
pub fn resolve(
    catalog: Handle,
    license: Option<Handle>,
    org_id: Option<String>,
    org_tier: Option<String>,
    overrides: &str,
    kill_switches: &str,
    now: f64,
) -> String {
    let Some(catalog) = get!(catalog, Catalog, |c| c.clone()) else {
        return stale();
    };
    let org_tier = match org_tier.as_deref().map(tier) {
        Some(Err(e)) => return error(&e),
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let (overrides, kill_switches) = match (
        core::json::parse(overrides.as_bytes()),
        core::json::parse(kill_switches.as_bytes()),
    ) {
        (Ok(o), Ok(k)) => (o, k),
        // JSON.stringify writes a lone surrogate as `\ud800`, which the core's reader refuses.
        (Err(e), _) | (_, Err(e)) => {
            return error(&core::Error::input(format!("resolve options: {e}")))
        }
    };
    let overrides: Vec<core::Override> = match overrides {
        Value::Array(items) => items
            .iter()
            .map(|o| core::Override {
                feature: o
                    .get(0)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                enabled: o.get(1).and_then(Value::as_bool).unwrap_or_default(),
                expires_at: o.get(2).and_then(Value::as_i64),
            })
            .collect(),
        _ => Vec::new(),
    };
    // Inserted one by one: `collect` into a map adds a sort to the size-budgeted module.
    let mut switches = BTreeMap::new();
    if let Value::Object(given) = kill_switches {
        for (feature, enabled) in given {
            switches.insert(feature, enabled.as_bool().unwrap_or_default());
        }
    }
    let run = |catalog, license: Option<&core::License>| {
        let input = core::ResolveInput {
            license,
            org_id: org_id.as_deref(),
            org_tier,
            overrides: &overrides,
            kill_switches: Some(&switches),
            now: seconds(now),
        };
        Entitlements::resolve(catalog, &input)
    };
    let resolved = match license {
        None => Some(run(catalog, None)),
        Some(handle) => get!(handle, License, |l| run(catalog, Some(l))),
    };
    resolved.map_or_else(stale, entitlements)
}

/// Rebuilds entitlements from the JSON text of `toJSON()`: `[handle, tier, orgId, staleAt]` as
/// JSON text, or the error.
#[wasm_bindgen]
pub fn entitlements_from_json(catalog: Handle, json: &str) -> String {
    let Some(catalog) = get!(catalog, Catalog, |c| c.clone()) else {
        return stale();
    };
    let built = core::json::parse(json.as_bytes())
        .map_err(|e| core::Error::input(format!("entitlements JSON: {e}")))
        .and_then(|value| Entitlements::from_json(catalog, &value));
    match built {
        Ok(e) => entitlements(e),
        Err(e) => error(&e),
    }
}

/// `[feature, allowed, reason, denial, requiredTier, expiresAt]` (the current tier is the
/// entitlements' own)
fn decision(d: &core::Decision<'_>) -> Value {
    list![
        d.feature,
        d.allowed,
        d.reason.as_str(),
        d.reason.denial().map(core::Denial::as_str),
        tier_or_null(d.required_tier),
        d.expires_at,
    ]
}

/// Reads entitlements, as JSON text: `op` 0 the decision for the feature `key`; 1 the decision for
/// every feature of the catalog, in catalog order; 2 `toJSON()` (the JSON dev-health-web reads).
/// A decision is `[feature, allowed, reason, denial, requiredTier, expiresAt]`.
#[wasm_bindgen]
pub fn query(handle: Handle, op: u32, key: &str) -> String {
    get!(handle, Entitlements, |e| text(&match op {
        0 => decision(&e.check(key)),
        1 => Value::Array(
            e.catalog()
                .features()
                .iter()
                .map(|f| decision(&e.check(&f.key)))
                .collect()
        ),
        _ => e.to_json(),
    }))
    .unwrap_or_else(stale)
}

/// Checks `current` against a limit: `[allowed, maximum, direction, reason]` as JSON text.
/// `maximum` is the bound in force (`null`: unlimited, or an unknown limit); `direction` is `null`
/// exactly when the catalog has no such limit.
#[wasm_bindgen]
pub fn check_limit(handle: Handle, limit: &str, current: f64) -> String {
    get!(handle, Entitlements, |e| {
        let d = e.check_limit(limit, current);
        text(&list![
            d.allowed,
            d.maximum,
            d.direction.map(core::LimitDirection::as_str),
            d.reason.as_str()
        ])
    })
    .unwrap_or_else(stale)
}

/// The UpgradeGate decision for a feature: `[state, requiredTier, upgradeHref]` as JSON text, or
/// the error for an unknown `required_tier`.
#[wasm_bindgen]
pub fn gate(
    handle: Handle,
    feature: &str,
    required_tier: Option<String>,
    upgrade_href: Option<String>,
) -> String {
    let required = match required_tier.as_deref().map(tier) {
        Some(Err(e)) => return error(&e),
        Some(Ok(t)) => Some(t),
        None => None,
    };
    get!(handle, Entitlements, |e| {
        let g = e.upgrade_gate(feature, required, upgrade_href.as_deref());
        text(&list![
            g.state.as_str(),
            tier_or_null(g.required_tier),
            g.upgrade_href
        ])
    })
    .unwrap_or_else(stale)
}

/// Whether entitlements must be resolved again at `now`.
#[wasm_bindgen]
pub fn is_stale(handle: Handle, now: f64) -> bool {
    get!(handle, Entitlements, |e| e.is_stale(seconds(now))).unwrap_or(false)
}
