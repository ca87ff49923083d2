//! Scratch measurement: a thin binding of the core. Rust exports coarse functions over strings,
//! numbers and handles; the JS classes, getters, option checks and object shapes live in JS.
use std::collections::BTreeMap;
use std::sync::Arc;

use dev_health_entitlements as core;
use core::{Catalog, Decision, Entitlements, License, Tier, UpgradeGate};
use serde_json::Value;

#[cfg(not(feature = "structs"))]
mod handles;
#[cfg(feature = "structs")]
mod structs;
#[cfg(feature = "raw")]
mod raw;

#[cfg(target_family = "wasm")]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// An error as text: "\x01code\x01message" (the JS wrapper throws it as an EntitlementsError).
pub(crate) fn err(e: core::Error) -> String {
    let mut s = String::from("\u{1}");
    s.push_str(e.code().as_str());
    s.push('\u{1}');
    s.push_str(e.message());
    s
}

pub(crate) fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn tier_or_null(t: Option<Tier>) -> Value {
    t.map_or(Value::Null, |t| t.as_str().into())
}

/// [graceDays, verifiedAt, toJSON(), notBefore, audience, orgName, contactEmail]: the typed
/// claims whose members in `claims` may also come from unknown (ignored) members.
pub(crate) fn license_blob(l: &License) -> Value {
    let c = &l.claims;
    Value::Array(vec![
        l.grace_days.into(),
        l.verified_at.into(),
        l.to_json(),
        c.nbf.map_or(Value::Null, Value::from),
        c.aud.clone().into(),
        c.org_name.clone().into(),
        c.contact_email.clone().into(),
    ])
}

/// [name, [[tier,name,graceDays]], [[key,name,category,minTier,explicitPurchase,tierBound,description]],
///  [[key,name,dir(0 max,1 min),[community,team,enterprise]]], [role names]]
pub(crate) fn catalog_info(c: &Catalog) -> Value {
    let tiers = c
        .tiers()
        .iter()
        .map(|t| Value::Array(vec![t.tier.as_str().into(), t.name.as_str().into(), t.grace_days.into()]))
        .collect();
    let features = c
        .features()
        .iter()
        .map(|f| {
            Value::Array(vec![
                f.key.as_str().into(),
                f.name.as_str().into(),
                f.category.as_str().into(),
                f.min_tier.as_str().into(),
                f.explicit_purchase.into(),
                f.tier_bound.into(),
                f.description.as_str().into(),
            ])
        })
        .collect();
    let limits = c
        .limits()
        .iter()
        .map(|l| {
            Value::Array(vec![
                l.key.as_str().into(),
                l.name.as_str().into(),
                matches!(l.direction, core::LimitDirection::Min).into(),
                Value::Array(Tier::ALL.iter().map(|t| core::claims::limit_to_json(l.values.get(*t))).collect()),
            ])
        })
        .collect();
    let roles = c.roles().iter().map(|r| Value::from(r.name.as_str())).collect();
    Value::Array(vec![
        c.name().into(),
        Value::Array(tiers),
        Value::Array(features),
        Value::Array(limits),
        Value::Array(roles),
    ])
}

pub(crate) fn permissions(c: &Catalog, role: &str) -> String {
    text(&Value::Array(c.permissions_of(role).into_iter().map(Value::from).collect()))
}

/// [feature, allowed, reason, requiredTier, expiresAt]
fn decision(d: &Decision<'_>) -> Value {
    Value::Array(vec![
        d.feature.into(),
        d.allowed.into(),
        d.reason.as_str().into(),
        tier_or_null(d.required_tier),
        d.expires_at.map_or(Value::Null, Value::from),
    ])
}

/// op 0: check(s) -> decision; 1: decisions() -> [decision]; 2: toJSON()
pub(crate) fn query(e: &Entitlements, op: u32, s: &str) -> String {
    text(&match op {
        0 => decision(&e.check(s)),
        1 => Value::Array(
            e.catalog()
                .features()
                .iter()
                .map(|f| decision(&e.check(&f.key)))
                .collect(),
        ),
        _ => e.to_json(),
    })
}

/// op 0: checkLimit code (allowed | direction << 1 (0 none, 1 max, 2 min) | reason << 3);
/// op 1: limit in force (NaN: not registered, Infinity: unlimited).
pub(crate) fn limit(e: &Entitlements, name: &str, current: f64, op: u32) -> f64 {
    if op == 0 {
        let d = e.check_limit(name, current);
        let dir = match d.direction {
            None => 0,
            Some(core::LimitDirection::Max) => 1,
            Some(core::LimitDirection::Min) => 2,
        };
        let reason = match d.reason {
            core::LimitReason::WithinLimit => 0,
            core::LimitReason::LimitExceeded => 1,
            core::LimitReason::LimitNotRegistered => 2,
        };
        f64::from(u32::from(d.allowed) | dir << 1 | reason << 3)
    } else {
        match e.limit(name) {
            None => f64::NAN,
            Some(None) => f64::INFINITY,
            Some(Some(v)) => v,
        }
    }
}

/// [state (0 allowed, 1 upgrade, 2 unavailable), requiredTier, upgradeHref]
pub(crate) fn gate(e: &Entitlements, feature: &str, tier: Option<String>, href: Option<String>) -> String {
    let g: UpgradeGate = e.upgrade_gate(feature, tier.as_deref().and_then(Tier::parse), href.as_deref());
    let state = match g.state {
        core::GateState::Allowed => 0,
        core::GateState::Upgrade => 1,
        core::GateState::Unavailable => 2,
    };
    text(&Value::Array(vec![state.into(), tier_or_null(g.required_tier), g.upgrade_href.map_or(Value::Null, Value::from)]))
}

/// [tier, orgId, staleAt]
pub(crate) fn ent_info(e: &Entitlements) -> Value {
    Value::Array(vec![
        e.tier().as_str().into(),
        e.org_id().map_or(Value::Null, Value::from),
        e.stale_at().map_or(Value::Null, Value::from),
    ])
}

/// `opts`: {"o": orgId, "t": orgTier, "v": [[feature, enabled, expiresAt]], "k": {feature: bool}},
/// already checked by the JS wrapper.
pub(crate) fn resolve(cat: Arc<Catalog>, license: Option<&License>, opts: &str, now: f64) -> Entitlements {
    let v = core::json::parse(opts.as_bytes()).unwrap_or(Value::Null);
    let mut overrides = Vec::new();
    if let Some(Value::Array(items)) = v.get("v") {
        for o in items {
            overrides.push(core::Override {
                feature: o[0].as_str().unwrap_or_default().to_owned(),
                enabled: o[1].as_bool().unwrap_or_default(),
                expires_at: o[2].as_i64(),
            });
        }
    }
    let mut kill = BTreeMap::new();
    if let Some(Value::Object(m)) = v.get("k") {
        for (k, b) in m {
            kill.insert(k.clone(), b.as_bool().unwrap_or_default());
        }
    }
    let input = core::ResolveInput {
        license,
        org_id: v.get("o").and_then(Value::as_str),
        org_tier: v.get("t").and_then(Value::as_str).and_then(Tier::parse),
        overrides: &overrides,
        kill_switches: Some(&kill),
        now: now as i64,
    };
    Entitlements::resolve(cat, &input)
}

pub(crate) fn ent_from_json(cat: Arc<Catalog>, json: &str) -> Result<Entitlements, core::Error> {
    let value = core::json::parse(json.as_bytes())
        .map_err(|e| core::Error::new(core::ErrorCode::InvalidInput, format!("entitlements JSON: {e}")))?;
    Entitlements::from_json(cat, &value)
}

pub(crate) fn builtin(kind: u32, text: &str) -> Result<Arc<Catalog>, core::Error> {
    match kind {
        0 => Catalog::default_catalog(),
        1 => Catalog::dev_health_ops(),
        2 => Catalog::builtin(text),
        _ => Catalog::from_json(text).map(Arc::new),
    }
}

pub(crate) fn inspect(token: &str) -> String {
    match core::token::unverified::UnverifiedToken::decode(token) {
        Ok(t) => text(&t.to_json()),
        Err(e) => err(e),
    }
}

/// op 0: statusAt (0 active, 1 grace, 2 expired); 1: graceDaysLeftAt (-1: none)
pub(crate) fn license_at(l: &License, op: u32, now: f64) -> f64 {
    let now = now as i64;
    if op == 0 {
        match l.status_at(now) {
            core::LicenseStatus::Active => 0.0,
            core::LicenseStatus::Grace => 1.0,
            core::LicenseStatus::Expired => 2.0,
        }
    } else {
        l.grace_days_left(now).map_or(-1.0, f64::from)
    }
}
