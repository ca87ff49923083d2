//! `entitlements.json`: resolution and decisions (contract §3), limits and UpgradeGate states. Each
//! case states its tier, limit answers and gate states by hand; every feature's decision is
//! checked against the plain reading of §3 in [`crate::spec::decide`].

use std::collections::BTreeMap;

use dev_health_entitlements::issue::sign_v1;
use dev_health_entitlements::{
    Catalog, Entitlements, Keyring, License, LicenseClaims, LicenseType, Override, ResolveInput,
    Tier, Verifier,
};
use serde_json::{json, Value};

use crate::common::*;
use crate::ensure;
use crate::oracle;
use crate::spec::{self, Inputs};

use Tier::{Community as C, Enterprise as E, Team as Tm};

const IAT: i64 = T - DAY;
const EXP: i64 = T + 30 * DAY;

/// One limit check: limit, current, allowed, maximum (`None` unregistered, `Some(None)`
/// unlimited), all by hand.
type LimitCheck = (&'static str, f64, bool, Option<Option<f64>>);

struct Ec {
    name: &'static str,
    description: &'static str,
    catalog: &'static str,
    license: Option<String>,
    org_id: Option<&'static str>,
    org_tier: Option<Tier>,
    overrides: Vec<Override>,
    kill: BTreeMap<String, bool>,
    now: i64,
    /// By hand: the resolved tier.
    tier: Tier,
    /// By hand: whether the license applies (valid and in scope).
    license_applies: bool,
    limits: Vec<LimitCheck>,
    /// Feature, requested tier, and by hand the gate state.
    gates: Vec<(&'static str, Option<Tier>, &'static str)>,
}

fn case(name: &'static str, description: &'static str, catalog: &'static str, tier: Tier) -> Ec {
    Ec {
        name,
        description,
        catalog,
        license: None,
        org_id: Some(ORG),
        org_tier: None,
        overrides: Vec::new(),
        kill: BTreeMap::new(),
        now: T,
        tier,
        license_applies: false,
        limits: Vec::new(),
        gates: Vec::new(),
    }
}

fn ov(feature: &str, enabled: bool, expires_at: Option<i64>) -> Override {
    Override {
        feature: feature.to_owned(),
        enabled,
        expires_at,
    }
}

fn kill(items: &[(&str, bool)]) -> BTreeMap<String, bool> {
    items.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn lic(
    tier: Tier,
    jti: &str,
    license_type: LicenseType,
    edit: impl FnOnce(&mut LicenseClaims),
    k: &Keys,
) -> Res<String> {
    let mut c = claims(tier, jti, IAT, EXP);
    c.license_type = license_type;
    edit(&mut c);
    v2(&c, &k.zero)
}

fn none(_: &mut LicenseClaims) {}

/// Every entitlements vector.
pub fn cases(k: &Keys) -> Res<Vec<Case>> {
    let sh = LicenseType::SelfHosted;
    let mut all: Vec<Ec> = Vec::new();

    // ---- tier resolution ------------------------------------------------------------------
    let mut e = case("no_license_no_org_tier_is_community", "Without a license or an org tier the org is community: community features on, team and enterprise ones tier_required; max_users 3 is inclusive.", "default", C);
    e.limits = vec![
        ("max_users", 3.0, true, Some(Some(3.0))),
        ("max_users", 4.0, false, Some(Some(3.0))),
        ("max_orgs", 1.0, true, Some(Some(1.0))),
        ("max_orgs", 2.0, false, Some(Some(1.0))),
        ("max_widgets", 1.0, false, None),
    ];
    e.gates = vec![
        ("basic_analytics", None, "allowed"),
        ("multi_org", None, "upgrade"),
        ("sso_saml", None, "upgrade"),
        ("not_a_feature", None, "unavailable"),
    ];
    all.push(e);
    let mut e = case(
        "org_tier_team",
        "A SaaS org on team (from billing) gets team features; max_users is unlimited (null).",
        "default",
        Tm,
    );
    e.org_tier = Some(Tm);
    e.limits = vec![
        ("max_users", 1_000_000.0, true, Some(None)),
        ("max_orgs", 50.0, true, Some(None)),
    ];
    e.gates = vec![
        ("multi_org", None, "allowed"),
        ("sso_saml", None, "upgrade"),
        ("basic_analytics", Some(Tm), "allowed"),
    ];
    all.push(e);
    let mut e = case(
        "org_tier_enterprise",
        "An org on enterprise gets every feature of the default catalog.",
        "default",
        E,
    );
    e.org_tier = Some(E);
    e.gates = vec![
        ("sso_saml", None, "allowed"),
        ("not_a_feature", Some(E), "unavailable"),
    ];
    all.push(e);
    let mut e = case("license_enterprise_self_hosted", "A valid self-hosted enterprise license gives enterprise; enabled_by_tier decisions expire with the license.", "default", E);
    e.license = Some(lic(E, "lic_ent_sh", sh, none, k)?);
    e.license_applies = true;
    e.org_id = None;
    all.push(e);
    let mut e = case(
        "license_tier_beats_org_tier",
        "A valid team license decides the tier even where the org's billing tier is enterprise.",
        "default",
        Tm,
    );
    e.license = Some(lic(Tm, "lic_team_vs_org", sh, none, k)?);
    e.license_applies = true;
    e.org_tier = Some(E);
    e.gates = vec![("sso_saml", None, "upgrade")];
    all.push(e);
    let mut e = case("expired_license_falls_back_to_org_tier", "An enterprise license past its grace no longer counts: the org tier team applies, and is_valid is false.", "default", Tm);
    e.license = Some(lic(E, "lic_expired", sh, none, k)?);
    e.org_tier = Some(Tm);
    e.now = EXP + 30 * DAY + 1;
    all.push(e);
    let mut e = case(
        "expired_license_without_org_tier_is_community",
        "An expired team license with no org tier leaves community.",
        "default",
        C,
    );
    e.license = Some(lic(Tm, "lic_expired_team", sh, none, k)?);
    e.now = EXP + 14 * DAY + 1;
    e.limits = vec![("max_users", 4.0, false, Some(Some(3.0)))];
    all.push(e);
    let mut e = case(
        "grace_license_keeps_tier",
        "A team license in its grace period still gives team (in_grace_period true).",
        "default",
        Tm,
    );
    e.license = Some(lic(Tm, "lic_grace", sh, none, k)?);
    e.license_applies = true;
    e.now = EXP + DAY;
    all.push(e);
    let mut e = case(
        "license_at_exp_is_active",
        "At now == exp the license's tier applies.",
        "default",
        E,
    );
    e.license = Some(lic(E, "lic_at_exp", sh, none, k)?);
    e.license_applies = true;
    e.now = EXP;
    all.push(e);
    let mut e = case("saas_license_for_another_org_ignored", "A saas enterprise license for org_acme is ignored when resolving org_other, which keeps its own tier team.", "default", Tm);
    e.license = Some(lic(E, "lic_saas_acme", LicenseType::Saas, none, k)?);
    e.org_id = Some("org_other");
    e.org_tier = Some(Tm);
    all.push(e);
    let mut e = case(
        "saas_license_for_its_org",
        "A saas enterprise license applies to the org named in its sub.",
        "default",
        E,
    );
    e.license = Some(lic(E, "lic_saas_own", LicenseType::Saas, none, k)?);
    e.license_applies = true;
    e.org_tier = Some(Tm);
    all.push(e);
    let mut e = case(
        "saas_license_without_org_id",
        "Resolving for the instance as a whole (org_id null), a saas license does not apply: one org's license never unlocks every org.",
        "default",
        C,
    );
    e.license = Some(lic(E, "lic_saas_instance", LicenseType::Saas, none, k)?);
    e.license_applies = false;
    e.org_id = None;
    all.push(e);
    let mut e = case(
        "trial_license_for_another_org_ignored",
        "A trial license covers only its sub: another org stays community.",
        "default",
        C,
    );
    e.license = Some(lic(E, "lic_trial_acme", LicenseType::Trial, none, k)?);
    e.org_id = Some("org_other");
    all.push(e);
    let mut e = case(
        "self_hosted_license_covers_every_org",
        "A self_hosted enterprise license for org_acme covers org_other too.",
        "default",
        E,
    );
    e.license = Some(lic(E, "lic_sh_acme", sh, none, k)?);
    e.license_applies = true;
    e.org_id = Some("org_other");
    e.org_tier = Some(C);
    all.push(e);
    let mut e = case(
        "evaluation_license_covers_every_org",
        "An evaluation team license covers every org of the instance.",
        "default",
        Tm,
    );
    e.license = Some(lic(Tm, "lic_eval", LicenseType::Evaluation, none, k)?);
    e.license_applies = true;
    e.org_id = Some("org_other");
    all.push(e);

    // ---- kill switches and overrides -------------------------------------------------------
    let mut e = case("kill_switch_off_global_disabled", "A kill switch set to false turns a feature off everywhere (global_disabled, gate unavailable); one set to true changes nothing.", "default", E);
    e.org_tier = Some(E);
    e.kill = kill(&[("sso_saml", false), ("basic_analytics", true)]);
    e.gates = vec![
        ("sso_saml", None, "unavailable"),
        ("basic_analytics", None, "allowed"),
    ];
    all.push(e);
    let mut e = case(
        "kill_switch_beats_org_override",
        "Rule 2 before rule 3: a kill switch off wins over an org override on.",
        "default",
        C,
    );
    e.kill = kill(&[("sso_saml", false)]);
    e.overrides = vec![ov("sso_saml", true, None)];
    e.gates = vec![("sso_saml", None, "unavailable")];
    all.push(e);
    let mut e = case(
        "unknown_feature_beats_kill_switch",
        "Rule 1 before rule 2: a kill switch off for a key the catalog lacks leaves it feature_not_registered, not global_disabled.",
        "default",
        E,
    );
    e.org_tier = Some(E);
    e.kill = kill(&[("not_a_feature", false), ("sso_saml", true)]);
    e.gates = vec![("not_a_feature", None, "unavailable")];
    all.push(e);
    let mut e = case(
        "kill_switch_beats_license_grant",
        "A kill switch off wins over a license grant.",
        "default",
        Tm,
    );
    e.license = Some(lic(
        Tm,
        "lic_grant_killed",
        sh,
        |c| {
            c.features.insert("audit_log".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    e.kill = kill(&[("audit_log", false)]);
    all.push(e);
    let mut e = case("org_override_on_above_tier", "An override on lifts a community org's sso_saml (enabled_by_org_override, expiring with the override).", "default", C);
    e.overrides = vec![
        ov("sso_saml", true, Some(T + DAY)),
        ov("multi_org", true, None),
    ];
    e.gates = vec![("sso_saml", None, "allowed")];
    all.push(e);
    let mut e = case("org_override_off", "An override off turns an enterprise feature off (org_override_disabled, gate unavailable).", "default", E);
    e.org_tier = Some(E);
    e.overrides = vec![ov("audit_log", false, Some(T + 7 * DAY))];
    e.gates = vec![("audit_log", None, "unavailable")];
    all.push(e);
    let mut e = case(
        "org_override_expires_at_now_is_expired",
        "An override whose expires_at equals now is expired: the tier decides again.",
        "default",
        C,
    );
    e.overrides = vec![
        ov("sso_saml", true, Some(T)),
        ov("basic_analytics", false, Some(T)),
    ];
    e.gates = vec![
        ("sso_saml", None, "upgrade"),
        ("basic_analytics", None, "allowed"),
    ];
    all.push(e);
    let mut e = case(
        "org_override_expires_one_second_later",
        "An override whose expires_at is now + 1 is in force.",
        "default",
        C,
    );
    e.overrides = vec![
        ov("sso_saml", true, Some(T + 1)),
        ov("basic_analytics", false, Some(T + 1)),
    ];
    e.gates = vec![
        ("sso_saml", None, "allowed"),
        ("basic_analytics", None, "unavailable"),
    ];
    all.push(e);
    let mut e = case(
        "org_override_long_expired",
        "An override that expired a day ago is ignored.",
        "default",
        Tm,
    );
    e.org_tier = Some(Tm);
    e.overrides = vec![ov("api_access", false, Some(T - DAY))];
    all.push(e);
    let mut e = case(
        "conflicting_overrides_off_wins",
        "Two overrides in force for one feature, one on and one off: off wins (fail closed).",
        "default",
        E,
    );
    e.org_tier = Some(E);
    e.overrides = vec![
        ov("sso_oidc", true, None),
        ov("sso_oidc", false, Some(T + DAY)),
    ];
    all.push(e);
    let mut e = case(
        "override_for_unknown_feature",
        "An override cannot register a feature: an unknown key stays feature_not_registered.",
        "default",
        E,
    );
    e.org_tier = Some(E);
    e.overrides = vec![ov("not_a_feature", true, None)];
    e.gates = vec![("not_a_feature", None, "unavailable")];
    all.push(e);
    let mut e = case("license_feature_false", "A license's features.sso_saml false removes it from enterprise (license_override_disabled, expiring with the license).", "default", E);
    e.license = Some(lic(
        E,
        "lic_no_saml",
        sh,
        |c| {
            c.features.insert("sso_saml".into(), false);
        },
        k,
    )?);
    e.license_applies = true;
    e.gates = vec![("sso_saml", None, "unavailable")];
    all.push(e);
    let mut e = case("license_feature_false_below_tier_gate_upgrade", "A license removal of an enterprise feature on a team license: the gate offers the upgrade.", "default", Tm);
    e.license = Some(lic(
        Tm,
        "lic_team_no_saml",
        sh,
        |c| {
            c.features.insert("sso_saml".into(), false);
        },
        k,
    )?);
    e.license_applies = true;
    e.gates = vec![("sso_saml", None, "upgrade")];
    all.push(e);
    let mut e = case(
        "license_feature_true",
        "A team license granting sso_saml enables it (enabled_by_license_override).",
        "default",
        Tm,
    );
    e.license = Some(lic(
        Tm,
        "lic_team_saml",
        sh,
        |c| {
            c.features.insert("sso_saml".into(), true);
            c.features.insert("audit_log".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    e.gates = vec![("sso_saml", None, "allowed"), ("sso_oidc", None, "upgrade")];
    all.push(e);
    let mut e = case("org_override_beats_license", "Rule 3 before rule 4: an override on beats a license removal, an override off beats a license grant.", "default", Tm);
    e.license = Some(lic(
        Tm,
        "lic_vs_override",
        sh,
        |c| {
            c.features.insert("webhooks".into(), false);
            c.features.insert("audit_log".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    e.overrides = vec![ov("webhooks", true, None), ov("audit_log", false, None)];
    all.push(e);
    let mut e = case(
        "expired_license_grants_nothing",
        "The grants of an expired license do not apply.",
        "default",
        C,
    );
    e.license = Some(lic(
        Tm,
        "lic_expired_grant",
        sh,
        |c| {
            c.features.insert("sso_saml".into(), true);
        },
        k,
    )?);
    e.now = EXP + 15 * DAY;
    all.push(e);
    let mut e = case(
        "license_grant_for_unknown_feature",
        "A license grant for a key the catalog lacks does not register it.",
        "default",
        Tm,
    );
    e.license = Some(lic(
        Tm,
        "lic_unknown_grant",
        sh,
        |c| {
            c.features.insert("not_a_feature".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    all.push(e);
    let mut e = case(
        "saas_license_other_org_grants_ignored",
        "The grants of a saas license for another org do not apply either.",
        "default",
        C,
    );
    e.license = Some(lic(
        Tm,
        "lic_saas_grant",
        LicenseType::Saas,
        |c| {
            c.features.insert("sso_saml".into(), true);
        },
        k,
    )?);
    e.org_id = Some("org_other");
    all.push(e);

    // ---- dev-health-ops: explicit purchase, tier-bound, limits -----------------------------
    let ops = "dev-health-ops";
    let mut e = case("ops_community_limits", "dev-health-ops community: max_users 5 and max_repos 3 inclusive; min_sync_interval_hours is a floor of 24.", ops, C);
    e.limits = vec![
        ("max_users", 5.0, true, Some(Some(5.0))),
        ("max_users", 6.0, false, Some(Some(5.0))),
        ("max_repos", 3.0, true, Some(Some(3.0))),
        ("max_repos", 4.0, false, Some(Some(3.0))),
        ("retention_days", 30.0, true, Some(Some(30.0))),
        ("retention_days", 31.0, false, Some(Some(30.0))),
        ("min_sync_interval_hours", 24.0, true, Some(Some(24.0))),
        ("min_sync_interval_hours", 23.0, false, Some(Some(24.0))),
        ("min_sync_interval_hours", 48.0, true, Some(Some(24.0))),
        ("max_orgs", 1.0, false, None),
    ];
    e.gates = vec![
        ("github_integration", None, "upgrade"),
        ("ask_dev", None, "upgrade"),
    ];
    all.push(e);
    let mut e = case(
        "ops_team_limits",
        "dev-health-ops team: 20 users, 500 API requests per minute, a 6-hour sync floor.",
        ops,
        Tm,
    );
    e.org_tier = Some(Tm);
    e.limits = vec![
        ("max_users", 20.0, true, Some(Some(20.0))),
        ("max_users", 21.0, false, Some(Some(20.0))),
        ("api_rate_limit_per_min", 500.0, true, Some(Some(500.0))),
        ("max_work_items", 10001.0, false, Some(Some(10000.0))),
        ("min_sync_interval_hours", 6.0, true, Some(Some(6.0))),
        ("min_sync_interval_hours", 5.5, false, Some(Some(6.0))),
    ];
    e.gates = vec![
        ("ask_dev", None, "upgrade"),
        ("sso_saml", None, "upgrade"),
        ("investment_view", None, "allowed"),
    ];
    all.push(e);
    let mut e = case("ops_enterprise_explicit_purchase", "dev-health-ops enterprise: everything but the explicit-purchase keys (explicit_purchase_required; no higher tier, so the gate is unavailable); limits unlimited, sync floor 0.25 h.", ops, E);
    e.org_tier = Some(E);
    e.limits = vec![
        ("max_users", 1_000_000.0, true, Some(None)),
        ("backfill_days", 3650.0, true, Some(None)),
        ("min_sync_interval_hours", 0.25, true, Some(Some(0.25))),
        ("min_sync_interval_hours", 0.1, false, Some(Some(0.25))),
    ];
    e.gates = vec![
        ("ask_dev", None, "unavailable"),
        ("data_export", None, "allowed"),
    ];
    all.push(e);
    let mut e = case(
        "ops_explicit_purchase_license_grant",
        "A license grant enables explicit-purchase keys (enabled_by_license_override).",
        ops,
        E,
    );
    e.license = Some(lic(
        E,
        "lic_ask_dev",
        sh,
        |c| {
            c.features.insert("ask_dev".into(), true);
            c.features.insert("agent_context_runtime".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    e.gates = vec![
        ("ask_dev", None, "allowed"),
        ("ask_dev_wave_3_1", None, "unavailable"),
    ];
    all.push(e);
    let mut e = case(
        "ops_explicit_purchase_org_override",
        "An org override enables an explicit-purchase key even on team (it is not tier-bound).",
        ops,
        Tm,
    );
    e.org_tier = Some(Tm);
    e.overrides = vec![ov("ask_dev", true, Some(T + 30 * DAY))];
    all.push(e);
    let mut e = case("ops_tier_bound_override_below_floor", "customer_push_ingest and byo_llm are tier-bound: an override on cannot lift a community org (tier_required, gate upgrade to team).", ops, C);
    e.overrides = vec![
        ov("customer_push_ingest", true, None),
        ov("byo_llm", true, Some(T + DAY)),
        ov("github_integration", true, None),
    ];
    e.gates = vec![
        ("customer_push_ingest", None, "upgrade"),
        ("byo_llm", Some(E), "upgrade"),
        ("github_integration", None, "allowed"),
    ];
    all.push(e);
    let mut e = case("ops_tier_bound_license_grant_below_floor", "A community license granting byo_llm cannot lift it below its team floor (tier_required); a non-bound grant works.", ops, C);
    e.license = Some(lic(
        C,
        "lic_comm_byo",
        sh,
        |c| {
            c.features.insert("byo_llm".into(), true);
            c.features.insert("work_graph".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    all.push(e);
    let mut e = case("ops_tier_bound_override_at_floor", "On team, a tier-bound feature follows its overrides: on is enabled_by_org_override, off is org_override_disabled.", ops, Tm);
    e.org_tier = Some(Tm);
    e.overrides = vec![
        ov("byo_llm", true, None),
        ov("customer_push_ingest", false, None),
    ];
    e.gates = vec![("customer_push_ingest", None, "unavailable")];
    all.push(e);
    let mut e = case("ops_tier_bound_override_off_below_floor", "Below its floor, an override off on a tier-bound feature is still org_override_disabled (rule 3 off comes first).", ops, C);
    e.overrides = vec![ov("customer_push_ingest", false, None)];
    e.gates = vec![("customer_push_ingest", None, "unavailable")];
    all.push(e);
    let mut e = case("ops_license_limit_names_mapped", "License limits users 50, repos -1, api_rate null, backfill_days 365 map to max_users, max_repos, api_rate_limit_per_min, backfill_days; -1 and null are unlimited.", ops, Tm);
    e.license = Some(lic(
        Tm,
        "lic_limits",
        sh,
        |c| {
            c.limits.insert("max_users".into(), Some(50.0));
            c.limits.insert("max_repos".into(), None);
            c.limits.insert("api_rate_limit_per_min".into(), None);
            c.limits.insert("backfill_days".into(), Some(365.0));
        },
        k,
    )?);
    e.license_applies = true;
    e.limits = vec![
        ("max_users", 50.0, true, Some(Some(50.0))),
        ("max_users", 51.0, false, Some(Some(50.0))),
        ("max_repos", 1_000_000.0, true, Some(None)),
        ("api_rate_limit_per_min", 1_000_000.0, true, Some(None)),
        ("backfill_days", 365.0, true, Some(Some(365.0))),
        ("backfill_days", 366.0, false, Some(Some(365.0))),
        ("max_work_items", 10000.0, true, Some(Some(10000.0))),
    ];
    all.push(e);
    let mut e = case("ops_license_limits_token_names", "A token written with dev-health-ops' limit names (users, repos, api_rate, backfill_days) and -1 resolves to the catalog names.", ops, E);
    e.license = Some(raw_limits(
        k,
        json!({"users": 12, "repos": -1, "api_rate": 250, "backfill_days": null}),
    )?);
    e.license_applies = true;
    e.limits = vec![
        ("max_users", 12.0, true, Some(Some(12.0))),
        ("max_users", 13.0, false, Some(Some(12.0))),
        ("max_repos", 1e9, true, Some(None)),
        ("api_rate_limit_per_min", 251.0, false, Some(Some(250.0))),
        ("backfill_days", 1e6, true, Some(None)),
    ];
    all.push(e);
    let mut e = case(
        "ops_license_limit_zero",
        "A limit of 0 allows 0 and nothing more.",
        ops,
        Tm,
    );
    e.license = Some(lic(
        Tm,
        "lic_zero_users",
        sh,
        |c| {
            c.limits.insert("max_users".into(), Some(0.0));
        },
        k,
    )?);
    e.license_applies = true;
    e.limits = vec![
        ("max_users", 0.0, true, Some(Some(0.0))),
        ("max_users", 1.0, false, Some(Some(0.0))),
    ];
    all.push(e);
    let mut e = case(
        "ops_license_min_sync_floor",
        "A license floor of 1 hour for min_sync_interval_hours: 1 and 2 are within, 0.5 is not.",
        ops,
        Tm,
    );
    e.license = Some(lic(
        Tm,
        "lic_sync",
        sh,
        |c| {
            c.limits.insert("min_sync_interval_hours".into(), Some(1.0));
        },
        k,
    )?);
    e.license_applies = true;
    e.limits = vec![
        ("min_sync_interval_hours", 1.0, true, Some(Some(1.0))),
        ("min_sync_interval_hours", 2.0, true, Some(Some(1.0))),
        ("min_sync_interval_hours", 0.5, false, Some(Some(1.0))),
    ];
    all.push(e);
    let mut e = case(
        "ops_expired_license_limits_fall_back",
        "The limits of an expired license no longer apply: the org tier's do.",
        ops,
        C,
    );
    e.license = Some(lic(
        E,
        "lic_expired_limits",
        sh,
        |c| {
            c.limits.insert("max_users".into(), Some(500.0));
        },
        k,
    )?);
    e.now = EXP + 31 * DAY;
    e.limits = vec![("max_users", 6.0, false, Some(Some(5.0)))];
    all.push(e);
    let mut v1c = claims(Tm, "lic_v1_ops", IAT, EXP);
    v1c.features.insert("ask_dev".into(), true);
    let mut e = case("ops_v1_team_license_defaults", "A v1 team license signed the dev-health-ops way carries 20/10/500/90: its limits and grants apply.", ops, Tm);
    e.license = Some(sign_v1(&v1c, &k.zero.key)?);
    e.license_applies = true;
    e.limits = vec![
        ("max_users", 20.0, true, Some(Some(20.0))),
        ("max_repos", 11.0, false, Some(Some(10.0))),
        ("api_rate_limit_per_min", 500.0, true, Some(Some(500.0))),
        ("backfill_days", 91.0, false, Some(Some(90.0))),
    ];
    e.gates = vec![("ask_dev", None, "allowed")];
    all.push(e);
    let v1e = claims(E, "lic_v1_ops_ent", IAT, EXP);
    let mut e = case("ops_v1_enterprise_unlimited", "A v1 enterprise license writes -1 (users, repos, api_rate) and null (backfill_days): all unlimited.", ops, E);
    e.license = Some(sign_v1(&v1e, &k.zero.key)?);
    e.license_applies = true;
    e.limits = vec![
        ("max_users", 1e6, true, Some(None)),
        ("max_repos", 1e6, true, Some(None)),
        ("api_rate_limit_per_min", 1e6, true, Some(None)),
        ("backfill_days", 1e6, true, Some(None)),
    ];
    all.push(e);
    let mut e = case(
        "ops_kill_switch_and_override_mix",
        "Kill switches, overrides and the tier together on dev-health-ops team.",
        ops,
        Tm,
    );
    e.org_tier = Some(Tm);
    e.kill = kill(&[("webhooks", false), ("jira_integration", true)]);
    e.overrides = vec![
        ov("sso_saml", true, Some(T + 3600)),
        ov("github_integration", false, None),
        ov("webhooks", true, None),
    ];
    e.gates = vec![
        ("webhooks", None, "unavailable"),
        ("github_integration", None, "unavailable"),
        ("sso_oidc", None, "upgrade"),
    ];
    all.push(e);

    compat_cases(&mut all, k)?;

    let jwks_doc = jwks(vec![k.zero.jwk()]);
    all.into_iter().map(|e| finish(e, &jwks_doc)).collect()
}

/// The dev-health-ops compatibility cases: the exclusive reading of a license's feature map (the
/// `dev-health-ops-exclusive` catalog) and limits asked for by their token names.
fn compat_cases(all: &mut Vec<Ec>, k: &Keys) -> Res<()> {
    let sh = LicenseType::SelfHosted;
    let ex = "dev-health-ops-exclusive";
    let mut e = case("exclusive_license_map_is_the_whole_answer", "dev-health-ops-exclusive: a team license with {sso: true, capacity_forecast: false} has sso (a key the catalog lacks) and not capacity_forecast (license_override_disabled); webhooks, a team feature it does not name, is not_in_license (a 402 denial).", ex, Tm);
    e.license = Some(lic(
        Tm,
        "lic_exclusive_team",
        sh,
        |c| {
            c.features.insert("sso".into(), true);
            c.features.insert("capacity_forecast".into(), false);
        },
        k,
    )?);
    e.license_applies = true;
    e.gates = vec![
        ("webhooks", None, "unavailable"),
        ("sso_saml", None, "upgrade"),
        ("sso", None, "allowed"),
    ];
    all.push(e);
    let mut e = case("exclusive_kill_switch_and_override_come_first", "dev-health-ops-exclusive: a kill switch (global_disabled) and an org override (enabled_by_org_override) still decide before the license's map.", ex, E);
    e.license = Some(lic(
        E,
        "lic_exclusive_ent",
        sh,
        |c| {
            c.features.insert("audit_log".into(), true);
            c.features.insert("sso_saml".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    e.kill = kill(&[("audit_log", false)]);
    e.overrides = vec![ov("data_export", true, None)];
    all.push(e);
    let mut e = case("exclusive_tier_bound_grant_below_floor", "dev-health-ops-exclusive: a community license naming byo_llm true is still tier_required (tier-bound); git_sync, not named, is not_in_license.", ex, C);
    e.license = Some(lic(
        C,
        "lic_exclusive_comm",
        sh,
        |c| {
            c.features.insert("byo_llm".into(), true);
            c.features.insert("work_graph".into(), true);
        },
        k,
    )?);
    e.license_applies = true;
    all.push(e);
    let mut e = case("exclusive_without_license_follows_the_tier", "dev-health-ops-exclusive without a valid license: the tier decides as in the dev-health-ops catalog.", ex, Tm);
    e.org_tier = Some(Tm);
    all.push(e);
    let mut e = case("exclusive_expired_license_follows_the_tier", "dev-health-ops-exclusive with an expired license: the map no longer answers; the org tier does.", ex, Tm);
    e.license = Some(lic(
        E,
        "lic_exclusive_expired",
        sh,
        |c| {
            c.features.insert("sso".into(), true);
        },
        k,
    )?);
    e.org_tier = Some(Tm);
    e.now = EXP + 31 * DAY;
    all.push(e);
    let mut e = case("limits_by_token_names", "Limits may be asked for by the names license tokens use: users is max_users, repos max_repos, api_rate api_rate_limit_per_min (dev-health-ops team: 20, 10, 500).", "dev-health-ops", Tm);
    e.org_tier = Some(Tm);
    e.limits = vec![
        ("users", 20.0, true, Some(Some(20.0))),
        ("users", 21.0, false, Some(Some(20.0))),
        ("repos", 11.0, false, Some(Some(10.0))),
        ("api_rate", 500.0, true, Some(Some(500.0))),
        ("seats", 1.0, false, None),
    ];
    all.push(e);
    Ok(())
}

fn raw_limits(k: &Keys, limits: Value) -> Res<String> {
    let mut c = claims_object(E, "lic_token_names", IAT, EXP);
    if let Some(o) = c.as_object_mut() {
        o.insert("limits".into(), limits);
    }
    raw(c, &k.zero)
}

fn finish(e: Ec, jwks_doc: &Value) -> Res<Case> {
    let catalog = Catalog::builtin(e.catalog)?;
    let license: Option<License> = match &e.license {
        Some(token) => Some(
            Verifier::new(Keyring::from_jwks(&jwks_doc.to_string())?)
                .verify(token, e.now)
                .map_err(|err| format!("vector {}: the license must verify: {err}", e.name))?,
        ),
        None => None,
    };
    let ent = Entitlements::resolve(
        catalog.clone(),
        &ResolveInput {
            license: license.as_ref(),
            org_id: e.org_id,
            org_tier: e.org_tier,
            overrides: &e.overrides,
            kill_switches: Some(&e.kill),
            now: e.now,
        },
    );
    agree(e.name, "tier", ent.tier(), e.tier)?;

    // The license as the oracle reads it from the token, and §3's reading of it: in scope
    // (§7.3), valid (active or grace), and the tier that follows. The case's hand-stated tier and
    // "applies" must agree with that reading.
    let hand = e.license.as_deref().map(oracle::read).transpose()?;
    let in_scope = hand.as_ref().filter(|h| h.covers(e.org_id));
    let valid = in_scope.filter(|h| h.is_valid_at(e.now));
    agree(
        e.name,
        "tier (contract §3 from the token)",
        valid.map(|h| h.tier).or(e.org_tier).unwrap_or(C),
        e.tier,
    )?;
    agree(
        e.name,
        "license applies (contract §3 from the token)",
        valid.is_some(),
        e.license_applies,
    )?;
    let applying = valid.map(|h| (&h.features, h.grace_ends_at()));
    let inputs = Inputs {
        tier: e.tier,
        kill: &e.kill,
        overrides: &e.overrides,
        license: applying,
        now: e.now,
    };
    let mut keys: Vec<&str> = spec::features_of(e.catalog).iter().map(|f| f.0).collect();
    // In the exclusive reading the license's own keys outside the catalog are answered too.
    if let Some((features, _)) = applying.filter(|_| spec::license_map_is_whole_answer(e.catalog)) {
        for key in features.keys() {
            if !keys.contains(&key.as_str()) {
                keys.push(key.as_str());
            }
        }
    }
    keys.push("not_a_feature");
    let mut decisions = Vec::new();
    let mut features_json = serde_json::Map::new();
    let mut reasons_json = serde_json::Map::new();
    for key in keys {
        let d = ent.check(key);
        let hand = spec::decide(e.catalog, key, &inputs);
        let what = format!("decision for {key}");
        agree(
            e.name,
            &what,
            (d.allowed, d.reason.as_str(), d.required_tier, d.expires_at),
            (
                hand.allowed,
                hand.reason,
                hand.required_tier,
                hand.expires_at,
            ),
        )?;
        agree(e.name, &format!("has({key})"), ent.has(key), hand.allowed)?;
        if key != "not_a_feature" {
            features_json.insert(key.to_owned(), hand.allowed.into());
            reasons_json.insert(key.to_owned(), hand.reason.into());
        }
        decisions.push(json!({
            "feature": key,
            "allowed": d.allowed,
            "reason": d.reason.as_str(),
            "required_tier": d.required_tier.map(Tier::as_str),
            "expires_at": d.expires_at,
        }));
    }

    let mut limits = Vec::new();
    let mut checked = std::collections::BTreeSet::new();
    for (limit, current, allowed, maximum) in &e.limits {
        let d = ent.check_limit(limit, *current);
        agree(
            e.name,
            &format!("{limit} at {current} allowed"),
            d.allowed,
            *allowed,
        )?;
        match maximum {
            None => agree(
                e.name,
                &format!("{limit} reason"),
                limit_reason(d.reason),
                "limit_not_registered",
            )?,
            Some(max) => {
                agree(e.name, &format!("{limit} maximum"), d.maximum, *max)?;
                let hand_reason = if *allowed {
                    "within_limit"
                } else {
                    "limit_exceeded"
                };
                agree(
                    e.name,
                    &format!("{limit} reason"),
                    limit_reason(d.reason),
                    hand_reason,
                )?;
            }
        }
        checked.insert(*limit);
        limits.push(json!({
            "limit": limit,
            "current": number(*current),
            "allowed": d.allowed,
            "maximum": d.maximum.map_or(Value::Null, number),
            "reason": limit_reason(d.reason),
        }));
    }
    // Every limit: the applying license's value (by catalog name), else the contract's table's value
    // for the tier.
    let hand_limit = |key: &str| -> Option<Option<f64>> {
        valid
            .and_then(|h| h.limits.get(key).copied())
            .or_else(|| spec::limit_value(e.catalog, key, e.tier))
    };
    for (key, _, _) in spec::limits_of(e.catalog) {
        agree(
            e.name,
            &format!("limit {key}"),
            ent.limit(key),
            hand_limit(key),
        )?;
    }

    let mut gates = Vec::new();
    for (feature, requested, state) in &e.gates {
        let g = ent.upgrade_gate(feature, *requested, None);
        let hand = spec::decide(e.catalog, feature, &inputs);
        let (spec_state, spec_required) = spec::gate(&hand, *requested, e.tier);
        agree(
            e.name,
            &format!("gate {feature} (the contract's reading)"),
            spec_state,
            *state,
        )?;
        agree(
            e.name,
            &format!("gate {feature}"),
            g.state.as_str_for_vectors(),
            *state,
        )?;
        agree(
            e.name,
            &format!("gate {feature} required tier"),
            g.required_tier,
            spec_required,
        )?;
        // The vector's one `required_tier` field is both the request and the answer: it must be
        // a fixed point (a request never below the feature's own tier).
        if let Some(r) = requested {
            ensure!(
                g.required_tier == Some(*r),
                "vector {}: gate {feature} requests {r}, below the feature's tier",
                e.name
            );
        }
        let upgrade_href = g.upgrade_href.clone();
        agree(
            e.name,
            &format!("gate {feature} href"),
            upgrade_href.is_some(),
            *state == "upgrade",
        )?;
        gates.push(json!({
            "feature": feature,
            "required_tier": g.required_tier.map(Tier::as_str),
            "state": g.state.as_str_for_vectors(),
            "upgrade_href": upgrade_href,
        }));
    }

    let ent_json = ent.to_json();
    // The rest of the dev-health-web JSON (contract §3, §7.6), field by field from the token and the
    // case's inputs: the license summary of an in-scope license (expired or not), its limits and
    // grants when valid, then the overrides in force on top.
    let status = in_scope.map(|h| h.status_at(e.now).0);
    let time = |t: Option<i64>| t.map(oracle::rfc3339);
    let limit_json = |v: Option<f64>| v.map_or(Value::Null, number);
    let mut features_override: serde_json::Map<String, Value> = valid
        .map(|h| {
            h.features
                .iter()
                .map(|(k, on)| (k.clone(), Value::Bool(*on)))
                .collect()
        })
        .unwrap_or_default();
    for o in &e.overrides {
        if o.expires_at.is_some_and(|at| at <= e.now) {
            continue;
        }
        // Several overrides in force for one feature: an off one wins (as in spec::decide).
        let others_off = e.overrides.iter().any(|p| {
            p.feature == o.feature && !p.enabled && p.expires_at.is_none_or(|at| at > e.now)
        });
        features_override.insert(o.feature.clone(), Value::Bool(o.enabled && !others_off));
    }
    let limits_override: serde_json::Map<String, Value> = valid
        .map(|h| {
            h.limits
                .iter()
                .map(|(k, v)| (k.clone(), limit_json(*v)))
                .collect()
        })
        .unwrap_or_default();
    // licensed_users / licensed_repos: the license's limit, else the limit in force (null when
    // unlimited or not in the catalog).
    let licensed = |key: &str| {
        valid
            .and_then(|h| h.limits.get(key).copied())
            .or_else(|| hand_limit(key))
            .flatten()
            .map_or(Value::Null, number)
    };
    let table: serde_json::Map<String, Value> = spec::limits_of(e.catalog)
        .iter()
        .map(|(key, _, _)| ((*key).to_owned(), limit_json(hand_limit(key).flatten())))
        .collect();
    agree_json(
        e.name,
        "json (contract §3 by hand)",
        &ent_json,
        &json!({
            "org_id": e.org_id,
            "tier": e.tier.as_str(),
            "licensed_users": licensed("max_users"),
            "licensed_repos": licensed("max_repos"),
            "features": features_json,
            "reasons": reasons_json,
            "features_override": features_override,
            "limits_override": limits_override,
            "expires_at": time(in_scope.map(|h| h.exp)),
            "is_valid": status.is_none_or(|s| s != "expired"),
            "limits": table,
            "status": status,
            "in_grace_period": status == Some("grace"),
            "grace_ends_at": time(in_scope.map(oracle::HandLicense::grace_ends_at)),
            "license_id": in_scope.map(|h| h.license_id.as_str()),
        }),
    )?;

    let mut body = json!({
        "catalog": e.catalog,
        "org_id": e.org_id,
        "org_tier": e.org_tier.map(Tier::as_str),
        "overrides": e.overrides.iter().map(|o| {
            let mut v = json!({"feature": o.feature, "enabled": o.enabled});
            if let (Some(at), Some(obj)) = (o.expires_at, v.as_object_mut()) {
                obj.insert("expires_at".into(), at.into());
            }
            v
        }).collect::<Vec<_>>(),
        "kill_switches": e.kill,
        "now": e.now,
        "expect": {
            "tier": ent.tier().as_str(),
            "decisions": decisions,
            "limits": limits,
            "gates": gates,
            "json": ent_json,
        },
    });
    if let (Some(token), Some(obj)) = (&e.license, body.as_object_mut()) {
        obj.insert("jwks".into(), jwks_doc.clone());
        obj.insert("license".into(), token.clone().into());
    }
    Case::new(e.name, e.description, body)
}

/// The gate state's string.
trait GateStr {
    fn as_str_for_vectors(&self) -> &'static str;
}

impl GateStr for dev_health_entitlements::GateState {
    fn as_str_for_vectors(&self) -> &'static str {
        match self {
            dev_health_entitlements::GateState::Allowed => "allowed",
            dev_health_entitlements::GateState::Upgrade => "upgrade",
            dev_health_entitlements::GateState::Unavailable => "unavailable",
        }
    }
}

/// The limit reason's snake_case string.
fn limit_reason(reason: dev_health_entitlements::LimitReason) -> &'static str {
    match reason {
        dev_health_entitlements::LimitReason::WithinLimit => "within_limit",
        dev_health_entitlements::LimitReason::LimitExceeded => "limit_exceeded",
        dev_health_entitlements::LimitReason::LimitNotRegistered => "limit_not_registered",
    }
}
