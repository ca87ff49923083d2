//! `verify.json`: license verification, contract §1. Every case states its outcome by hand (the error
//! code, or the status with its key and days of grace left); the generator fails when the engine
//! disagrees.

use dev_health_entitlements::issue::{sign_revocation_list, sign_v1};
use dev_health_entitlements::{
    Catalog, Error, Keyring, License, LicenseType, RevocationList, Tier, Verifier,
};
use serde_json::{json, Value};

use crate::common::*;
use crate::ensure;
use crate::oracle;
use crate::spec;

const IAT: i64 = T - DAY;
const EXP: i64 = T + 30 * DAY;

/// The outcome written by hand from the contract.
enum Want {
    Error(&'static str),
    Status {
        status: &'static str,
        kid: &'static str,
        days_left: Option<u32>,
    },
}

fn err(code: &'static str) -> Want {
    Want::Error(code)
}

fn active(kid: &'static str) -> Want {
    Want::Status {
        status: "active",
        kid,
        days_left: None,
    }
}

fn grace(kid: &'static str, days_left: u32) -> Want {
    Want::Status {
        status: "grace",
        kid,
        days_left: Some(days_left),
    }
}

fn expired(kid: &'static str) -> Want {
    Want::Status {
        status: "expired",
        kid,
        days_left: None,
    }
}

struct V {
    name: String,
    description: String,
    jwks: Value,
    token: String,
    now: i64,
    options: Value,
    want: Want,
    claim: Option<&'static str>,
}

/// Verifies exactly as a binding would from the case's JSON.
pub fn engine(jwks: &Value, token: &str, now: i64, options: &Value) -> Res<Result<License, Error>> {
    let keyring = Keyring::from_jwks(&jwks.to_string())?;
    let opt = |k: &str| options.get(k);
    let issuer = opt("issuer")
        .and_then(Value::as_str)
        .unwrap_or(dev_health_entitlements::DEFAULT_ISSUER)
        .to_owned();
    let mut verifier = Verifier::new(keyring.clone()).with_issuer(issuer.clone());
    if let Some(leeway) = opt("leeway").and_then(Value::as_i64) {
        verifier = verifier.with_leeway(leeway);
    }
    if let Some(accept) = opt("accept_v1").and_then(Value::as_bool) {
        verifier = verifier.with_accept_v1(accept);
    }
    if let Some(dep) = opt("deployment_id").and_then(Value::as_str) {
        verifier = verifier.with_deployment_id(Some(dep.to_owned()));
    }
    if let Some(name) = opt("catalog").and_then(Value::as_str) {
        verifier = verifier.with_catalog(Catalog::builtin(name)?.as_ref());
    }
    if let Some(list) = opt("revocation_list").and_then(Value::as_str) {
        verifier =
            verifier.with_revocations(Some(RevocationList::verify(list, &keyring, &issuer, now)?));
    }
    if let Some(mark) = opt("high_water_mark").and_then(Value::as_i64) {
        verifier = verifier.with_high_water_mark(Some(mark));
    }
    Ok(verifier.verify(token, now))
}

/// The `expect` object of a verification result.
pub fn expect_of(result: &Result<License, Error>) -> Value {
    match result {
        Err(e) => json!({ "error": e.code().as_str() }),
        Ok(l) => json!({
            "status": l.status.as_str(),
            "format": l.format.as_str(),
            "kid": l.kid,
            "tier": l.tier().as_str(),
            "sub": l.sub(),
            "license_id": l.license_id(),
            "license_type": l.claims.license_type.as_str(),
            "expires_at": l.expires_at(),
            "grace_ends_at": l.grace_ends_at(),
            "grace_days_left": l.grace_days_left(l.verified_at),
        }),
    }
}

fn check(v: &V, result: &Result<License, Error>) -> Res<()> {
    match (&v.want, result) {
        (Want::Error(code), Err(e)) => {
            agree(&v.name, "error", e.code().as_str(), code)?;
            if let Some(claim) = v.claim {
                ensure!(
                    e.message().contains(&format!("`{claim}")),
                    "vector {}: the invalid_claims message {:?} does not name `{claim}`",
                    v.name,
                    e.message()
                );
            }
            Ok(())
        }
        (
            Want::Status {
                status,
                kid,
                days_left,
            },
            Ok(l),
        ) => {
            // The case states the status, key and days left; the oracle reads every other field
            // from the token's bytes and derives the same three from contract §1.4.
            let hand = oracle::read(&v.token)?;
            let (hand_status, hand_days_left) = hand.status_at(v.now);
            agree(
                &v.name,
                "status (contract §1.4 from exp)",
                hand_status,
                status,
            )?;
            agree(
                &v.name,
                "grace days left (contract §1.4 from exp)",
                hand_days_left,
                days_left.map(i64::from),
            )?;
            if let Some(header_kid) = &hand.kid {
                agree(&v.name, "kid (token header)", header_kid.as_str(), kid)?;
            }
            agree_json(
                &v.name,
                "expect",
                &expect_of(result),
                &json!({
                    "status": status,
                    "format": hand.format,
                    "kid": kid,
                    "tier": hand.tier.as_str(),
                    "sub": hand.sub,
                    "license_id": hand.license_id,
                    "license_type": hand.license_type,
                    "expires_at": hand.exp,
                    "grace_ends_at": hand.grace_ends_at(),
                    "grace_days_left": days_left,
                }),
            )?;
            // The engine's own day count at the verification time, which the bindings report.
            agree(
                &v.name,
                "grace days left at now",
                l.grace_days_left(v.now),
                *days_left,
            )
        }
        (Want::Error(code), Ok(l)) => Err(format!(
            "vector {}: the contract says {code}, the engine verified it ({})",
            v.name,
            l.status.as_str()
        )
        .into()),
        (Want::Status { status, .. }, Err(e)) => Err(format!(
            "vector {}: the contract says {status}, the engine refused it: {e}",
            v.name
        )
        .into()),
    }
}

fn no_options() -> Value {
    json!({})
}

/// Every verification vector.
pub fn cases(k: &Keys) -> Res<Vec<Case>> {
    let mut vs = Vs::default();
    let trusted = jwks(vec![k.zero.jwk(), k.one.jwk()]);
    let zero_only = jwks(vec![k.zero.jwk()]);

    // ---- statuses, v2 -------------------------------------------------------------------
    let team = claims(Tier::Team, "lic_v2_team", IAT, EXP);
    let team_tok = v2(&team, &k.zero)?;
    vs.add(
        "v2_active",
        "A team license well before its exp is active.",
        &trusted,
        team_tok.clone(),
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "v2_active_at_exp_exactly",
        "At now == exp the license is still active (valid while now <= exp).",
        &trusted,
        team_tok.clone(),
        EXP,
        no_options(),
        active("test-zero"),
    );
    vs.add("v2_grace_one_second_after_exp", "One second after exp a team license enters its 14 grace days, with 14 days left (rounded up).", &trusted, team_tok.clone(), EXP + 1, no_options(), grace("test-zero", 14));
    vs.add("v2_grace_days_left_rounds_up", "One day and one second after exp, 12 days and 86399 seconds of grace remain: 13 days left.", &trusted, team_tok.clone(), EXP + DAY + 1, no_options(), grace("test-zero", 13));
    vs.add(
        "v2_grace_last_second",
        "At exactly exp + 14·86400 the team license is still in grace, with 0 days left.",
        &trusted,
        team_tok.clone(),
        EXP + 14 * DAY,
        no_options(),
        grace("test-zero", 0),
    );
    vs.add(
        "v2_expired_one_second_after_grace",
        "At exp + 14·86400 + 1 the team license is expired.",
        &trusted,
        team_tok.clone(),
        EXP + 14 * DAY + 1,
        no_options(),
        expired("test-zero"),
    );
    vs.add(
        "v2_expired_long_ago",
        "A year after expiry the license still verifies, with status expired.",
        &trusted,
        team_tok.clone(),
        EXP + 365 * DAY,
        no_options(),
        expired("test-zero"),
    );
    vs.add(
        "v2_grace_with_dev_health_ops_catalog",
        "The dev-health-ops catalog also gives team 14 grace days.",
        &trusted,
        team_tok.clone(),
        EXP + 14 * DAY,
        json!({"catalog": "dev-health-ops"}),
        grace("test-zero", 0),
    );
    let community = claims(Tier::Community, "lic_v2_community", IAT, EXP);
    let community_tok = v2(&community, &k.zero)?;
    vs.add(
        "v2_community_active_at_exp",
        "A community license is active at exp.",
        &trusted,
        community_tok.clone(),
        EXP,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "v2_community_has_no_grace",
        "Community has 0 grace days: one second after exp it is expired.",
        &trusted,
        community_tok,
        EXP + 1,
        no_options(),
        expired("test-zero"),
    );
    let ent = claims(Tier::Enterprise, "lic_v2_enterprise", IAT, EXP);
    let ent_tok = v2(&ent, &k.zero)?;
    vs.add(
        "v2_enterprise_grace_last_second",
        "Enterprise has 30 grace days: at exp + 30·86400 it is in grace.",
        &trusted,
        ent_tok.clone(),
        EXP + 30 * DAY,
        no_options(),
        grace("test-zero", 0),
    );
    vs.add(
        "v2_enterprise_grace_first_second",
        "One second after exp an enterprise license has 30 days of grace left.",
        &trusted,
        ent_tok.clone(),
        EXP + 1,
        no_options(),
        grace("test-zero", 30),
    );
    vs.add(
        "v2_enterprise_expired_after_30_days",
        "At exp + 30·86400 + 1 an enterprise license is expired.",
        &trusted,
        ent_tok,
        EXP + 30 * DAY + 1,
        no_options(),
        expired("test-zero"),
    );
    let mut short = claims(Tier::Team, "lic_v2_grace3", IAT, EXP);
    short.grace_days = Some(3);
    let short_tok = v2(&short, &k.zero)?;
    vs.add(
        "v2_grace_days_claim_last_second",
        "A grace_days claim of 3 replaces the tier default: exp + 3·86400 is in grace.",
        &trusted,
        short_tok.clone(),
        EXP + 3 * DAY,
        no_options(),
        grace("test-zero", 0),
    );
    vs.add(
        "v2_grace_days_claim_then_expired",
        "With grace_days 3, exp + 3·86400 + 1 is expired.",
        &trusted,
        short_tok,
        EXP + 3 * DAY + 1,
        no_options(),
        expired("test-zero"),
    );
    let mut nograce = claims(Tier::Enterprise, "lic_v2_grace0", IAT, EXP);
    nograce.grace_days = Some(0);
    vs.add(
        "v2_grace_days_zero_claim",
        "grace_days 0 on an enterprise license: one second after exp it is expired.",
        &trusted,
        v2(&nograce, &k.zero)?,
        EXP + 1,
        no_options(),
        expired("test-zero"),
    );
    vs.add(
        "v2_signed_by_second_trusted_key",
        "A token whose kid names the second trusted key verifies under it.",
        &trusted,
        v2(&claims(Tier::Team, "lic_v2_k1", IAT, EXP), &k.one)?,
        T,
        no_options(),
        active("test-one"),
    );
    let mut saas = claims(Tier::Team, "lic_v2_saas", IAT, EXP);
    saas.license_type = LicenseType::Saas;
    vs.add(
        "v2_license_type_saas",
        "The license_type claim is reported (saas).",
        &trusted,
        v2(&saas, &k.zero)?,
        T,
        no_options(),
        active("test-zero"),
    );
    let mut extra = claims_object(Tier::Team, "lic_v2_extra", IAT, EXP);
    if let Some(o) = extra.as_object_mut() {
        o.insert("seats_note".into(), json!("kept"));
        o.insert("x_custom".into(), json!({"a": [1, 2]}));
        o.remove("org_name");
        o.remove("contact_email");
        o.remove("license_type");
        o.remove("features");
        o.remove("limits");
    }
    vs.add("v2_unknown_claims_ignored", "Unknown claims are kept and otherwise ignored; optional claims may be absent (license_type defaults to self_hosted).", &trusted, raw(extra, &k.zero)?, T, no_options(), active("test-zero"));
    let mut nulls = claims_object(Tier::Team, "lic_v2_nulls", IAT, EXP);
    if let Some(o) = nulls.as_object_mut() {
        for name in [
            "features",
            "limits",
            "grace_days",
            "org_name",
            "contact_email",
            "nbf",
            "aud",
        ] {
            o.insert(name.into(), Value::Null);
        }
    }
    vs.add(
        "v2_null_optional_claims",
        "Optional claims set to null count as absent.",
        &trusted,
        raw(nulls, &k.zero)?,
        T,
        no_options(),
        active("test-zero"),
    );

    // ---- v1 (dev-health-ops legacy) -----------------------------------------------------
    let v1_team = claims(Tier::Team, "lic_v1_team", IAT, EXP);
    let v1_tok = sign_v1(&v1_team, &k.zero.key)?;
    check_v1_known_answer(&v1_tok)?;
    vs.add("v1_known_answer_zero_seed", "A v1 token signed the dev-health-ops way with the all-zero seed (public O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=) verifies.", &zero_only, v1_tok.clone(), T, no_options(), active("test-zero"));
    vs.add(
        "v1_active_at_exp_exactly",
        "A v1 token is active at now == exp.",
        &zero_only,
        v1_tok.clone(),
        EXP,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "v1_grace_one_second_after_exp",
        "A v1 team token carries grace_days 14: one second after exp it is in grace.",
        &zero_only,
        v1_tok.clone(),
        EXP + 1,
        no_options(),
        grace("test-zero", 14),
    );
    vs.add(
        "v1_grace_last_second",
        "A v1 team token is in grace at exp + 14·86400.",
        &zero_only,
        v1_tok.clone(),
        EXP + 14 * DAY,
        no_options(),
        grace("test-zero", 0),
    );
    vs.add(
        "v1_expired_after_grace",
        "A v1 team token is expired at exp + 14·86400 + 1.",
        &zero_only,
        v1_tok.clone(),
        EXP + 14 * DAY + 1,
        no_options(),
        expired("test-zero"),
    );
    vs.add("v1_tried_against_every_key", "A v1 token has no kid: it is tried against every trusted key and reports the one that verified.", &jwks(vec![k.one.jwk(), k.two.jwk(), k.zero.jwk()]), v1_tok.clone(), T, no_options(), active("test-zero"));
    let mut v1_ent = claims(Tier::Enterprise, "lic_v1_ent", IAT, EXP);
    v1_ent.features.insert("ask_dev".into(), true);
    v1_ent.features.insert("audit_log".into(), false);
    v1_ent.limits.insert("max_users".into(), Some(250.0));
    vs.add("v1_enterprise_with_features_and_limits", "A v1 enterprise token with features and limits verifies (dev-health-ops writes -1 for unlimited).", &zero_only, sign_v1(&v1_ent, &k.zero.key)?, T, no_options(), active("test-zero"));
    vs.add(
        "v1_enterprise_signed_by_second_key",
        "The same v1 enterprise token signed with the second trusted key verifies under it.",
        &trusted,
        sign_v1(&v1_ent, &k.one.key)?,
        T,
        no_options(),
        active("test-one"),
    );
    let v1_comm = claims(Tier::Community, "lic_v1_comm", IAT, EXP);
    vs.add(
        "v1_community_no_grace",
        "A v1 community token carries grace_days 0: one second after exp it is expired.",
        &zero_only,
        sign_v1(&v1_comm, &k.zero.key)?,
        EXP + 1,
        no_options(),
        expired("test-zero"),
    );
    vs.add(
        "v1_turned_off",
        "With accept_v1 false a genuine v1 token is refused as unsupported_algorithm.",
        &zero_only,
        v1_tok.clone(),
        T,
        json!({"accept_v1": false}),
        err("unsupported_algorithm"),
    );
    vs.add(
        "v1_accept_v1_true_explicit",
        "accept_v1 true is the default and accepts the v1 token.",
        &zero_only,
        v1_tok.clone(),
        T,
        json!({"accept_v1": true}),
        active("test-zero"),
    );
    vs.add(
        "v2_still_accepted_with_v1_off",
        "Turning v1 off does not affect v2 tokens.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"accept_v1": false}),
        active("test-zero"),
    );

    let v1_nbf = format!(
        r#"{{"iss":"fullchaos.studio","sub":"org_acme","iat":{IAT},"exp":{EXP},"tier":"team","features":null,"limits":{{"users":20,"repos":10,"api_rate":500,"backfill_days":90}},"grace_days":14,"org_name":null,"contact_email":null,"license_id":"lic_v1_nbf","nbf":{}}}"#,
        T + 30 * DAY
    );
    vs.add("v1_nbf_claim_ignored", "nbf is not a v1 claim: a v1 payload carrying a future nbf is still active (the claim is kept as extra).", &zero_only, format!("{}.{}", b64(v1_nbf.as_bytes()), b64(&k.zero.key.sign_bytes(v1_nbf.as_bytes()))), T, no_options(), active("test-zero"));
    let v1_gold = format!(
        r#"{{"iss":"fullchaos.studio","sub":"org_acme","iat":{IAT},"exp":{EXP},"tier":"gold","features":null,"limits":{{"users":-1,"repos":-1,"api_rate":-1,"backfill_days":null}},"grace_days":30,"org_name":null,"contact_email":null,"license_id":"lic_v1_gold"}}"#
    );
    vs.add(
        "claims_v1_tier_unknown",
        "A signed v1 payload with tier gold is invalid_claims naming tier.",
        &zero_only,
        format!(
            "{}.{}",
            b64(v1_gold.as_bytes()),
            b64(&k.zero.key.sign_bytes(v1_gold.as_bytes()))
        ),
        T,
        no_options(),
        err("invalid_claims"),
    );
    vs.names_claim("tier");
    vs.add("v2_surrounding_whitespace_trimmed", "Whitespace around a token (a trailing newline from a file or an environment variable) is trimmed.", &trusted, format!("  {team_tok}\n"), T, no_options(), active("test-zero"));
    vs.add(
        "v1_surrounding_whitespace_trimmed",
        "Whitespace around a v1 token is trimmed.",
        &zero_only,
        format!("\n{v1_tok}\r\n"),
        T,
        no_options(),
        active("test-zero"),
    );

    // ---- token_too_large ----------------------------------------------------------------
    let exactly = padded_token(k, 16 * 1024)?;
    let over = padded_token(k, 16 * 1024 + 1)?;
    vs.add(
        "v2_exactly_16_kib_accepted",
        "A genuine v2 token of exactly 16384 bytes is within the limit.",
        &trusted,
        exactly,
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "v2_one_byte_over_16_kib",
        "A genuine v2 token of 16385 bytes is refused as token_too_large before decoding.",
        &trusted,
        over,
        T,
        no_options(),
        err("token_too_large"),
    );
    vs.add("v2_16_kib_plus_newline_too_large", "The size limit applies to the token as handed over: 16384 bytes plus a trailing newline is token_too_large.", &trusted, format!("{}\n", padded_token(k, 16 * 1024)?), T, no_options(), err("token_too_large"));
    let mut big_v1 = claims(Tier::Team, "lic_v1_big", IAT, EXP);
    big_v1.org_name = Some("A".repeat(13_000));
    vs.add(
        "v1_over_16_kib",
        "A genuine v1 token over 16 KiB is refused as token_too_large.",
        &zero_only,
        sign_v1(&big_v1, &k.zero.key)?,
        T,
        no_options(),
        err("token_too_large"),
    );
    vs.add(
        "garbage_over_16_kib",
        "16385 dots-free bytes are token_too_large, not malformed_token: size is checked first.",
        &trusted,
        "A".repeat(16 * 1024 + 1),
        T,
        no_options(),
        err("token_too_large"),
    );

    // ---- malformed_token ----------------------------------------------------------------
    vs.add(
        "malformed_empty",
        "The empty string is malformed_token.",
        &trusted,
        String::new(),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_no_dots",
        "A token without dots is malformed_token.",
        &trusted,
        "eyJhbGciOiJFZERTQSJ9".into(),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_three_dots",
        "A token with three dots is neither v1 nor v2: malformed_token.",
        &trusted,
        format!("{team_tok}.AAAA"),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_four_dots",
        "A token with four dots is malformed_token.",
        &trusted,
        "a.b.c.d.e".into(),
        T,
        no_options(),
        err("malformed_token"),
    );
    let (h, c, s) = segments(&team_tok)?;
    vs.add(
        "malformed_v2_header_bad_base64",
        "A header segment that is not base64url is malformed_token.",
        &trusted,
        format!("!!{h}.{c}.{s}"),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v2_header_not_json",
        "A header that decodes to something other than JSON is malformed_token.",
        &trusted,
        format!("{}.{c}.{s}", b64u(b"{not json")),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v2_header_json_array",
        "A header that is a JSON array is malformed_token.",
        &trusted,
        format!("{}.{c}.{s}", b64u(b"[\"EdDSA\"]")),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v2_header_without_alg",
        "A header without alg is malformed_token.",
        &trusted,
        jws_by_hand(r#"{"typ":"JWT","kid":"test-zero"}"#, &unb64u(&c)?, &k.zero),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v2_header_without_kid",
        "An EdDSA header without kid is malformed_token (kid is required).",
        &trusted,
        jws_by_hand(r#"{"alg":"EdDSA","typ":"JWT"}"#, &unb64u(&c)?, &k.zero),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add("malformed_v2_signature_padded", "A signature segment with base64 padding is malformed_token (JWS base64url has no padding).", &trusted, format!("{team_tok}=="), T, no_options(), err("malformed_token"));
    vs.add(
        "malformed_v2_signature_bad_base64",
        "A signature segment with characters outside base64url is malformed_token.",
        &trusted,
        format!("{h}.{c}.{}", s.replacen(|_: char| true, "*", 1)),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v2_claims_bad_base64",
        "A claims segment with characters outside base64url is malformed_token.",
        &trusted,
        format!("{h}.*{c}.{s}"),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v2_empty_segments",
        "Two dots and nothing else is malformed_token.",
        &trusted,
        "..".into(),
        T,
        no_options(),
        err("malformed_token"),
    );
    let (p1, s1) = v1_tok.split_once('.').ok_or("v1 has a dot")?;
    vs.add(
        "malformed_v1_payload_bad_base64",
        "A v1 payload that is not standard base64 is malformed_token.",
        &zero_only,
        format!("*{p1}.{s1}"),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v1_signature_unpadded",
        "A v1 signature without its = padding is malformed_token (v1 uses padded standard base64).",
        &zero_only,
        format!("{p1}.{}", s1.trim_end_matches('=')),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v1_signature_base64url",
        "A v1 signature written in the URL-safe alphabet is malformed_token.",
        &zero_only,
        format!("{p1}.{}", url_safe_variant(s1)?),
        T,
        no_options(),
        err("malformed_token"),
    );

    vs.add("malformed_v2_crit_header", "A header listing critical extensions (crit) is refused as malformed_token: RFC 7515 requires refusing extensions the verifier does not implement.", &trusted, jws_by_hand(r#"{"alg":"EdDSA","typ":"JWT","kid":"test-zero","crit":["exp"]}"#, &unb64u(&c)?, &k.zero), T, no_options(), err("malformed_token"));

    vs.add("malformed_v2_duplicate_alg", "A header naming alg twice (none, then EdDSA) is malformed_token: no reading of an ambiguous header is trusted.", &trusted, jws_by_hand(r#"{"alg":"none","alg":"EdDSA","typ":"JWT","kid":"test-zero"}"#, &unb64u(&c)?, &k.zero), T, no_options(), err("malformed_token"));
    vs.add(
        "malformed_non_ascii",
        "A token holding non-ASCII characters is malformed_token.",
        &trusted,
        format!("{h}.{c}é.{s}"),
        T,
        no_options(),
        err("malformed_token"),
    );
    vs.add(
        "malformed_v1_non_ascii",
        "A v1 token holding non-ASCII characters is malformed_token.",
        &zero_only,
        format!("{p1}.{s1}ü"),
        T,
        no_options(),
        err("malformed_token"),
    );

    // ---- unsupported_algorithm ----------------------------------------------------------
    let body = unb64u(&c)?;
    vs.add(
        "alg_none_empty_signature",
        "alg none with an empty signature is unsupported_algorithm.",
        &trusted,
        format!("{}.{c}.", b64u(br#"{"alg":"none","typ":"JWT"}"#)),
        T,
        no_options(),
        err("unsupported_algorithm"),
    );
    vs.add(
        "alg_none_with_kid",
        "alg none naming a trusted kid is still unsupported_algorithm.",
        &trusted,
        format!(
            "{}.{c}.",
            b64u(br#"{"alg":"none","typ":"JWT","kid":"test-zero"}"#)
        ),
        T,
        no_options(),
        err("unsupported_algorithm"),
    );
    for (name, alg, desc) in [
        (
            "alg_hs256",
            "HS256",
            "alg HS256 (an HMAC keyed with the public key) is refused before any key is used.",
        ),
        ("alg_rs256", "RS256", "alg RS256 is unsupported_algorithm."),
        ("alg_es256", "ES256", "alg ES256 is unsupported_algorithm."),
        (
            "alg_eddsa_lower_case",
            "eddsa",
            "alg eddsa in lower case is unsupported_algorithm (the name is case-sensitive).",
        ),
        (
            "alg_eddsa_upper_case",
            "EDDSA",
            "alg EDDSA in upper case is unsupported_algorithm.",
        ),
        (
            "alg_ed25519",
            "Ed25519",
            "alg Ed25519 (the curve, not the JWS name) is unsupported_algorithm.",
        ),
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"test-zero"}}"#);
        vs.add(
            name,
            desc,
            &trusted,
            jws_by_hand(&header, &body, &k.zero),
            T,
            no_options(),
            err("unsupported_algorithm"),
        );
    }
    vs.add("alg_checked_before_kid", "alg HS256 with an unknown kid is unsupported_algorithm: alg is checked before any key lookup.", &trusted, jws_by_hand(r#"{"alg":"HS256","typ":"JWT","kid":"nobody"}"#, &body, &k.zero), T, no_options(), err("unsupported_algorithm"));

    // ---- unknown_key_id -----------------------------------------------------------------
    vs.add(
        "unknown_kid",
        "A kid that names no trusted key (test-two) is unknown_key_id.",
        &trusted,
        v2(&team, &k.two)?,
        T,
        no_options(),
        err("unknown_key_id"),
    );
    vs.add(
        "unknown_kid_empty_keyring",
        "With no trusted keys a v2 token is unknown_key_id.",
        &jwks(vec![]),
        team_tok.clone(),
        T,
        no_options(),
        err("unknown_key_id"),
    );
    vs.add(
        "unknown_kid_v1_empty_keyring",
        "With no trusted keys a v1 token is unknown_key_id.",
        &jwks(vec![]),
        v1_tok.clone(),
        T,
        no_options(),
        err("unknown_key_id"),
    );
    vs.add("unknown_kid_before_signature", "An unknown kid with a garbage signature is unknown_key_id: no signature check without a key.", &trusted, format!("{}.{c}.{}", b64u(br#"{"alg":"EdDSA","typ":"JWT","kid":"ghost"}"#), b64u(&[7u8; 64])), T, no_options(), err("unknown_key_id"));
    vs.add(
        "unknown_kid_case_sensitive",
        "kid TEST-ZERO does not name test-zero: unknown_key_id.",
        &trusted,
        jws_by_hand(
            r#"{"alg":"EdDSA","typ":"JWT","kid":"TEST-ZERO"}"#,
            &body,
            &k.zero,
        ),
        T,
        no_options(),
        err("unknown_key_id"),
    );

    // ---- key_not_valid_now (key windows, checked against iat) ----------------------------
    let win = |nb: Option<i64>, na: Option<i64>| jwks(vec![k.zero.jwk_window(nb, na), k.one.jwk()]);
    vs.add(
        "key_window_not_yet_published",
        "A key with not_before after the token's iat does not verify it: key_not_valid_now.",
        &win(Some(IAT + 1), None),
        team_tok.clone(),
        T,
        no_options(),
        err("key_not_valid_now"),
    );
    vs.add(
        "key_window_retired",
        "A key retired (not_after) before the token's iat does not verify it: key_not_valid_now.",
        &win(None, Some(IAT - 1)),
        team_tok.clone(),
        T,
        no_options(),
        err("key_not_valid_now"),
    );
    vs.add(
        "key_window_not_before_equals_iat",
        "not_before == iat is inside the (inclusive) window.",
        &win(Some(IAT), None),
        team_tok.clone(),
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "key_window_not_after_equals_iat",
        "not_after == iat is inside the (inclusive) window.",
        &win(None, Some(IAT)),
        team_tok.clone(),
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add("key_window_retired_key_keeps_old_licenses", "A key retired after the token was issued still verifies it, even after not_after: the window bounds iat, not now.", &win(Some(IAT - DAY), Some(T - 1)), team_tok.clone(), T, no_options(), active("test-zero"));
    vs.add(
        "key_window_v1",
        "A v1 token whose only verifying key was retired before its iat is key_not_valid_now.",
        &jwks(vec![k.zero.jwk_window(None, Some(IAT - 1))]),
        v1_tok.clone(),
        T,
        no_options(),
        err("key_not_valid_now"),
    );

    vs.add("signature_before_key_window", "A forged signature under a kid whose window excludes the token is invalid_signature: the signature is checked before the key window.", &win(Some(IAT + 1), None), jws_by_hand(r#"{"alg":"EdDSA","typ":"JWT","kid":"test-zero"}"#, &body, &k.two), T, no_options(), err("invalid_signature"));

    vs.add("key_window_v1_same_key_under_two_kids", "A v1 token names no key: when its key is trusted under a retired kid and a current one, the entry whose window holds iat verifies it.", &jwks(vec![k.zero.jwk_window(None, Some(IAT - 1)).as_object().map(|o| { let mut o = o.clone(); o.insert("kid".into(), json!("zero-retired")); Value::Object(o) }).ok_or("jwk")?, k.zero.jwk_window(Some(IAT - DAY), None)]), v1_tok.clone(), T, no_options(), active("test-zero"));

    // ---- invalid_signature --------------------------------------------------------------
    let mut upgraded = team.clone();
    upgraded.tier = Tier::Enterprise;
    let (_, up_c, _) = segments(&v2(&upgraded, &k.zero)?)?;
    vs.add("tampered_payload_tier", "The claims re-encoded with tier enterprise under the original signature: invalid_signature.", &trusted, format!("{h}.{up_c}.{s}"), T, no_options(), err("invalid_signature"));
    let mut later = team.clone();
    later.exp = EXP + 365 * DAY;
    let (_, later_c, _) = segments(&v2(&later, &k.zero)?)?;
    vs.add(
        "tampered_payload_exp",
        "The claims re-encoded with a later exp under the original signature: invalid_signature.",
        &trusted,
        format!("{h}.{later_c}.{s}"),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add(
        "signature_from_another_key",
        "Signed by an untrusted key but naming the trusted kid test-zero: invalid_signature.",
        &trusted,
        jws_by_hand(
            r#"{"alg":"EdDSA","typ":"JWT","kid":"test-zero"}"#,
            &body,
            &k.two,
        ),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add(
        "signature_by_other_trusted_key",
        "Signed by trusted key test-one but naming test-zero: invalid_signature.",
        &trusted,
        jws_by_hand(
            r#"{"alg":"EdDSA","typ":"JWT","kid":"test-zero"}"#,
            &body,
            &k.one,
        ),
        T,
        no_options(),
        err("invalid_signature"),
    );
    let sig = unb64u(&s)?;
    vs.add(
        "signature_truncated",
        "A 63-byte signature is invalid_signature.",
        &trusted,
        format!("{h}.{c}.{}", b64u(sig.get(..63).ok_or("sig")?)),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add(
        "signature_empty",
        "An EdDSA token with an empty signature is invalid_signature.",
        &trusted,
        format!("{h}.{c}."),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add(
        "signature_all_zero",
        "A 64-byte all-zero signature is invalid_signature.",
        &trusted,
        format!("{h}.{c}.{}", b64u(&[0u8; 64])),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add("signature_non_canonical_s", "The genuine signature with L added to S (a malleated, non-canonical S) is invalid_signature: verification is strict.", &trusted, format!("{h}.{c}.{}", b64u(&add_l_to_s(&sig)?)), T, no_options(), err("invalid_signature"));
    let mut flipped = sig.clone();
    if let Some(b) = flipped.get_mut(10) {
        *b ^= 1;
    }
    vs.add(
        "signature_one_bit_flipped",
        "The genuine signature with one bit flipped is invalid_signature.",
        &trusted,
        format!("{h}.{c}.{}", b64u(&flipped)),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add("signature_before_claims", "An unsigned claim set that is also invalid (no jti) reports invalid_signature: claims are read only after the signature verified.", &trusted, format!("{h}.{}.{s}", b64u(br#"{"iss":"fullchaos.studio"}"#)), T, no_options(), err("invalid_signature"));
    let v1_p = unb64(p1)?;
    let v1_up = String::from_utf8(v1_p)?.replace("\"tier\":\"team\"", "\"tier\":\"enterprise\"");
    vs.add(
        "v1_tampered_payload",
        "A v1 payload edited to tier enterprise under the original signature: invalid_signature.",
        &zero_only,
        format!("{}.{s1}", b64(v1_up.as_bytes())),
        T,
        no_options(),
        err("invalid_signature"),
    );
    vs.add(
        "v1_signed_by_untrusted_key",
        "A v1 token signed by a key that is not trusted: invalid_signature.",
        &trusted,
        sign_v1(&v1_team, &k.two.key)?,
        T,
        no_options(),
        err("invalid_signature"),
    );
    let v1_sig = unb64(s1)?;
    vs.add(
        "v1_signature_truncated",
        "A v1 signature of 63 bytes is invalid_signature.",
        &zero_only,
        format!("{p1}.{}", b64(v1_sig.get(..63).ok_or("sig")?)),
        T,
        no_options(),
        err("invalid_signature"),
    );

    // ---- invalid_claims -----------------------------------------------------------------
    let mut claim_cases: Vec<(&'static str, &'static str, &'static str, Value)> = Vec::new();
    let base = claims_object(Tier::Team, "lic_claims", IAT, EXP);
    for name in ["iss", "sub", "iat", "exp", "jti", "tier"] {
        let mut c = base.clone();
        if let Some(o) = c.as_object_mut() {
            o.remove(name);
        }
        claim_cases.push((missing_name(name), missing_description(name), name, c));
    }
    let edits: [(&'static str, &'static str, &'static str, Value); 16] = [
        (
            "claims_tier_capitalised",
            "tier",
            "tier Team (not lower case) is invalid_claims.",
            json!("Team"),
        ),
        (
            "claims_tier_unknown",
            "tier",
            "tier gold is invalid_claims.",
            json!("gold"),
        ),
        (
            "claims_tier_free",
            "tier",
            "tier free (the web's word for community) is not a token tier: invalid_claims.",
            json!("free"),
        ),
        (
            "claims_exp_float",
            "exp",
            "exp with a fraction is invalid_claims.",
            json!(1_800_000_000.5),
        ),
        (
            "claims_exp_string",
            "exp",
            "exp as a string is invalid_claims.",
            json!("1802592000"),
        ),
        (
            "claims_iat_string",
            "iat",
            "iat as a string is invalid_claims.",
            json!("yesterday"),
        ),
        (
            "claims_sub_empty",
            "sub",
            "An empty sub is invalid_claims.",
            json!(""),
        ),
        (
            "claims_iss_number",
            "iss",
            "iss as a number is invalid_claims.",
            json!(42),
        ),
        (
            "claims_jti_number",
            "jti",
            "jti as a number is invalid_claims.",
            json!(7),
        ),
        (
            "claims_features_not_bool",
            "features",
            "A feature value other than true/false is invalid_claims.",
            json!({"sso_saml": "yes"}),
        ),
        (
            "claims_features_not_object",
            "features",
            "features as a list is invalid_claims.",
            json!(["sso_saml"]),
        ),
        (
            "claims_limits_negative",
            "limits",
            "A limit of -2 (only -1 means unlimited) is invalid_claims.",
            json!({"users": -2}),
        ),
        (
            "claims_limits_string",
            "limits",
            "A limit given as a string is invalid_claims.",
            json!({"users": "many"}),
        ),
        (
            "claims_grace_days_negative",
            "grace_days",
            "grace_days -1 is invalid_claims.",
            json!(-1),
        ),
        (
            "claims_license_type_unknown",
            "license_type",
            "license_type perpetual is invalid_claims.",
            json!("perpetual"),
        ),
        (
            "claims_aud_number",
            "aud",
            "aud as a number is invalid_claims.",
            json!(5),
        ),
    ];
    for (name, claim, desc, value) in edits {
        let mut c = base.clone();
        if let Some(o) = c.as_object_mut() {
            o.insert(claim.into(), value);
        }
        claim_cases.push((name, desc, claim, c));
    }
    let more: [(&'static str, &'static str, &'static str, Value); 4] = [
        (
            "claims_nbf_string",
            "nbf",
            "nbf as a string is invalid_claims.",
            json!("soon"),
        ),
        (
            "claims_grace_days_float",
            "grace_days",
            "grace_days 1.5 is invalid_claims.",
            json!(1.5),
        ),
        (
            "claims_org_name_number",
            "org_name",
            "org_name as a number is invalid_claims.",
            json!(12),
        ),
        (
            "claims_aud_list_of_numbers",
            "aud",
            "aud as a list holding a number is invalid_claims.",
            json!(["dep-1", 2]),
        ),
    ];
    for (name, claim, desc, value) in more {
        let mut c = base.clone();
        if let Some(o) = c.as_object_mut() {
            o.insert(claim.into(), value);
        }
        claim_cases.push((name, desc, claim, c));
    }
    for (name, desc, claim, c) in claim_cases {
        vs.add(
            name,
            desc,
            &trusted,
            raw(c, &k.zero)?,
            T,
            no_options(),
            err("invalid_claims"),
        );
        vs.names_claim(claim);
    }
    vs.add(
        "claims_not_an_object",
        "Signed claims that are a JSON array are invalid_claims.",
        &trusted,
        jws_by_hand(
            r#"{"alg":"EdDSA","typ":"JWT","kid":"test-zero"}"#,
            b"[1,2,3]",
            &k.zero,
        ),
        T,
        no_options(),
        err("invalid_claims"),
    );
    vs.add(
        "claims_not_json",
        "Signed claims that are not JSON are invalid_claims.",
        &trusted,
        jws_by_hand(
            r#"{"alg":"EdDSA","typ":"JWT","kid":"test-zero"}"#,
            b"tier=enterprise",
            &k.zero,
        ),
        T,
        no_options(),
        err("invalid_claims"),
    );
    v1_without_license_id(&mut vs, k, p1)?;
    let v1_json = b"[\"not an object\"]";
    vs.add(
        "claims_v1_payload_not_object",
        "A signed v1 payload that is not a JSON object is invalid_claims.",
        &zero_only,
        format!("{}.{}", b64(v1_json), b64(&k.zero.key.sign_bytes(v1_json))),
        T,
        no_options(),
        err("invalid_claims"),
    );

    // ---- issuer_mismatch ----------------------------------------------------------------
    let mut evil = team.clone();
    evil.iss = "evil.example".into();
    vs.add(
        "issuer_other",
        "iss evil.example is issuer_mismatch.",
        &trusted,
        v2(&evil, &k.zero)?,
        T,
        no_options(),
        err("issuer_mismatch"),
    );
    let mut cased = team.clone();
    cased.iss = "FullChaos.Studio".into();
    vs.add(
        "issuer_case_sensitive",
        "iss FullChaos.Studio is not fullchaos.studio: issuer_mismatch.",
        &trusted,
        v2(&cased, &k.zero)?,
        T,
        no_options(),
        err("issuer_mismatch"),
    );
    vs.add(
        "issuer_configured_other",
        "A verifier configured for issuer licenses.example refuses fullchaos.studio tokens.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"issuer": "licenses.example"}),
        err("issuer_mismatch"),
    );
    let mut custom = team.clone();
    custom.iss = "licenses.example".into();
    vs.add(
        "issuer_configured_match",
        "A verifier configured for issuer licenses.example accepts its tokens.",
        &trusted,
        v2(&custom, &k.zero)?,
        T,
        json!({"issuer": "licenses.example"}),
        active("test-zero"),
    );
    let mut v1_evil = v1_team.clone();
    v1_evil.iss = "evil.example".into();
    vs.add(
        "issuer_v1_other",
        "A v1 token with another iss is issuer_mismatch.",
        &zero_only,
        sign_v1(&v1_evil, &k.zero.key)?,
        T,
        no_options(),
        err("issuer_mismatch"),
    );
    vs.add(
        "issuer_before_status",
        "An expired token from another issuer is issuer_mismatch, not expired.",
        &trusted,
        v2(&evil, &k.zero)?,
        EXP + 400 * DAY,
        no_options(),
        err("issuer_mismatch"),
    );

    // ---- audience_mismatch --------------------------------------------------------------
    let dep = json!({"deployment_id": "dep-1"});
    vs.add(
        "audience_missing",
        "With a deployment id configured, a token without aud is audience_mismatch.",
        &trusted,
        team_tok.clone(),
        T,
        dep.clone(),
        err("audience_mismatch"),
    );
    let aud = |a: Vec<&str>, jti: &str| -> Res<String> {
        let mut c = claims(Tier::Team, jti, IAT, EXP);
        c.aud = a.into_iter().map(str::to_owned).collect();
        v2(&c, &k.zero)
    };
    vs.add(
        "audience_other",
        "aud [dep-2] does not list dep-1: audience_mismatch.",
        &trusted,
        aud(vec!["dep-2"], "lic_aud_other")?,
        T,
        dep.clone(),
        err("audience_mismatch"),
    );
    vs.add(
        "audience_listed",
        "aud [dep-0, dep-1] lists dep-1: accepted.",
        &trusted,
        aud(vec!["dep-0", "dep-1"], "lic_aud_list")?,
        T,
        dep.clone(),
        active("test-zero"),
    );
    let mut single = claims_object(Tier::Team, "lic_aud_str", IAT, EXP);
    if let Some(o) = single.as_object_mut() {
        o.insert("aud".into(), json!("dep-1"));
    }
    vs.add(
        "audience_string",
        "aud as the single string dep-1 is accepted.",
        &trusted,
        raw(single, &k.zero)?,
        T,
        dep.clone(),
        active("test-zero"),
    );
    vs.add(
        "audience_not_configured",
        "A token with aud verifies where no deployment id is configured.",
        &trusted,
        aud(vec!["dep-2"], "lic_aud_free")?,
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "audience_v1_cannot_list",
        "A v1 token has no aud, so a verifier with a deployment id refuses it: audience_mismatch.",
        &zero_only,
        v1_tok.clone(),
        T,
        dep,
        err("audience_mismatch"),
    );

    // ---- issued_in_future / not_yet_valid (leeway edges) ---------------------------------
    let at = |iat: i64, nbf: Option<i64>, jti: &str| -> Res<String> {
        let mut c = claims(Tier::Team, jti, iat, EXP);
        c.nbf = nbf;
        v2(&c, &k.zero)
    };
    vs.add(
        "iat_at_leeway_edge",
        "iat = now + 60 (the default leeway) is accepted.",
        &trusted,
        at(T + 60, None, "lic_iat_60")?,
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "iat_past_leeway",
        "iat = now + 61 is issued_in_future.",
        &trusted,
        at(T + 61, None, "lic_iat_61")?,
        T,
        no_options(),
        err("issued_in_future"),
    );
    vs.add(
        "iat_leeway_zero_now",
        "With leeway 0, iat = now is accepted.",
        &trusted,
        at(T, None, "lic_iat_0")?,
        T,
        json!({"leeway": 0}),
        active("test-zero"),
    );
    vs.add(
        "iat_leeway_zero_plus_one",
        "With leeway 0, iat = now + 1 is issued_in_future.",
        &trusted,
        at(T + 1, None, "lic_iat_1")?,
        T,
        json!({"leeway": 0}),
        err("issued_in_future"),
    );
    vs.add(
        "iat_leeway_300",
        "With leeway 300, iat = now + 300 is accepted.",
        &trusted,
        at(T + 300, None, "lic_iat_300")?,
        T,
        json!({"leeway": 300}),
        active("test-zero"),
    );
    let v1_future = claims(Tier::Team, "lic_v1_future", T + 3600, EXP);
    vs.add(
        "iat_future_v1",
        "The v2 rules apply to v1 too: a v1 token issued an hour ahead is issued_in_future.",
        &zero_only,
        sign_v1(&v1_future, &k.zero.key)?,
        T,
        no_options(),
        err("issued_in_future"),
    );
    vs.add(
        "nbf_at_leeway_edge",
        "nbf = now + 60 is accepted (now + leeway < nbf is false).",
        &trusted,
        at(IAT, Some(T + 60), "lic_nbf_60")?,
        T,
        no_options(),
        active("test-zero"),
    );
    vs.add(
        "nbf_past_leeway",
        "nbf = now + 61 is not_yet_valid.",
        &trusted,
        at(IAT, Some(T + 61), "lic_nbf_61")?,
        T,
        no_options(),
        err("not_yet_valid"),
    );
    vs.add(
        "nbf_leeway_zero_equal",
        "With leeway 0, nbf = now is accepted.",
        &trusted,
        at(IAT, Some(T), "lic_nbf_0")?,
        T,
        json!({"leeway": 0}),
        active("test-zero"),
    );
    vs.add(
        "nbf_leeway_zero_plus_one",
        "With leeway 0, nbf = now + 1 is not_yet_valid.",
        &trusted,
        at(IAT, Some(T + 1), "lic_nbf_1")?,
        T,
        json!({"leeway": 0}),
        err("not_yet_valid"),
    );
    vs.add(
        "nbf_in_past",
        "nbf a day ago is accepted.",
        &trusted,
        at(IAT, Some(T - DAY), "lic_nbf_past")?,
        T,
        no_options(),
        active("test-zero"),
    );

    // ---- revoked ------------------------------------------------------------------------
    let list = |ids: &[&str]| {
        sign_revocation_list(ids, ISS, T - 3600, T + 7 * DAY, &k.zero.key, k.zero.kid)
    };
    vs.add(
        "revoked_listed",
        "A license whose jti is on a valid signed revocation list is revoked.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"revocation_list": list(&["lic_other", "lic_v2_team"])?}),
        err("revoked"),
    );
    vs.add(
        "revoked_not_listed",
        "A license not on the revocation list verifies.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"revocation_list": list(&["lic_other"])?}),
        active("test-zero"),
    );
    vs.add(
        "revoked_empty_list",
        "An empty revocation list revokes nothing.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"revocation_list": list(&[])?}),
        active("test-zero"),
    );
    vs.add(
        "revoked_v1_license_id",
        "A v1 license whose license_id is listed is revoked.",
        &trusted,
        v1_tok.clone(),
        T,
        json!({"revocation_list": list(&["lic_v1_team"])?}),
        err("revoked"),
    );
    vs.add(
        "revoked_even_when_expired",
        "An expired license that is also listed is reported as revoked.",
        &trusted,
        team_tok.clone(),
        EXP + 400 * DAY,
        json!({"revocation_list": list(&["lic_v2_team"])?}),
        err("revoked"),
    );
    let old_list = sign_revocation_list(
        &["lic_v2_team"],
        ISS,
        T - 30 * DAY,
        T - 20 * DAY,
        &k.one.key,
        k.one.kid,
    )?;
    vs.add(
        "revoked_by_stale_list",
        "A revocation list past its own exp still revokes: revocations never lapse.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"revocation_list": old_list}),
        err("revoked"),
    );

    // ---- clock_rollback -----------------------------------------------------------------
    vs.add(
        "clock_rollback_beyond_leeway",
        "A high-water mark 61 s after now is clock_rollback.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"high_water_mark": T + 61}),
        err("clock_rollback"),
    );
    vs.add(
        "clock_rollback_within_leeway",
        "A high-water mark 60 s after now is tolerated by the leeway.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"high_water_mark": T + 60}),
        active("test-zero"),
    );
    vs.add(
        "clock_rollback_mark_in_past",
        "A high-water mark before now is fine.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"high_water_mark": T - DAY}),
        active("test-zero"),
    );
    vs.add(
        "clock_rollback_leeway_zero",
        "With leeway 0 a mark one second after now is clock_rollback.",
        &trusted,
        team_tok.clone(),
        T,
        json!({"high_water_mark": T + 1, "leeway": 0}),
        err("clock_rollback"),
    );
    vs.add(
        "clock_rollback_v1",
        "The rollback guard applies to v1 tokens too.",
        &zero_only,
        v1_tok.clone(),
        T,
        json!({"high_water_mark": T + 30 * DAY}),
        err("clock_rollback"),
    );
    vs.add("clock_rollback_hides_expiry", "Rolling the clock back to before exp does not make an expired license active: clock_rollback.", &trusted, community_v2(k)?, EXP - DAY, json!({"high_water_mark": EXP + 10 * DAY}), err("clock_rollback"));

    order_cases(&mut vs, k)?;
    finish(vs.out)
}

/// v1 tokens without `license_id` (dev-health-ops' model makes it optional and its helpers sign
/// `null`): accepted, with the id `v1-sha512-` + the first 16 bytes of SHA-512 of the token in hex
/// (worked out here with `sha2`, not the engine), which a revocation list can name.
fn v1_without_license_id(vs: &mut Vs, k: &Keys, team_payload_b64: &str) -> Res<()> {
    use sha2::{Digest, Sha512};
    let zero_only = jwks(vec![k.zero.jwk()]);
    let team = String::from_utf8(unb64(team_payload_b64)?)?;
    let signed = |payload: &str| {
        format!(
            "{}.{}",
            b64(payload.as_bytes()),
            b64(&k.zero.key.sign_bytes(payload.as_bytes()))
        )
    };
    let by_hand = |token: &str| {
        let digest = Sha512::digest(token.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("v1-sha512-{hex}")
    };
    let absent = signed(&team.replace(",\"license_id\":\"lic_v1_team\"", ""));
    let null = signed(&team.replace("\"license_id\":\"lic_v1_team\"", "\"license_id\":null"));
    ensure!(absent != null, "the two v1 payloads differ");
    for (name, description, token) in [
        ("v1_without_license_id", "A v1 payload without license_id verifies; its license id is v1-sha512- and the first 16 bytes of SHA-512 of the token, in hex.", &absent),
        ("v1_license_id_null", "A v1 payload with license_id null (what dev-health-ops' helpers sign) verifies with the id derived from the token.", &null),
    ] {
        let result = engine(&zero_only, token, T, &no_options())?;
        let id = result.as_ref().map(|l| l.license_id().to_owned()).map_err(|e| format!("vector {name}: {e}"))?;
        agree(name, "derived license id", id, by_hand(token))?;
        vs.add(name, description, &zero_only, token.clone(), T, no_options(), active("test-zero"));
    }
    let list = sign_revocation_list(
        &[by_hand(&absent)],
        ISS,
        T - DAY,
        T + DAY,
        &k.zero.key,
        k.zero.kid,
    )?;
    vs.add(
        "v1_without_license_id_revoked_by_derived_id",
        "A revocation list naming the derived id of a v1 token without license_id revokes it.",
        &zero_only,
        absent,
        T,
        json!({"revocation_list": list}),
        err("revoked"),
    );
    Ok(())
}

/// contract §7.2's order, pinned: for every adjacent pair of checks a token failing both, and for
/// every check a token failing it and every later one. The expected code is the earlier check's,
/// read from the order written by hand in [`spec::VERIFY_ORDER`]; a verifier that swapped any
/// two checks reports the later one's code on at least one of these.
fn order_cases(vs: &mut Vs, k: &Keys) -> Res<()> {
    let checks: Vec<&'static str> = spec::VERIFY_ORDER.iter().map(|(c, _)| *c).collect();
    // Each fault alone must be a fault, or a pair holding it would pin nothing.
    for check in &checks {
        let (keys, token, options) = with_faults(k, &[check], &format!("lic_fault_{check}"))?;
        let alone = engine(&keys, &token, T, &options)?;
        agree(
            &format!("fault {check} alone"),
            "error",
            alone.err().map(|e| e.code().as_str()),
            Some(spec::first_failing(&[check])?),
        )?;
    }
    for pair in checks.windows(2) {
        let (first, second) = match pair {
            [a, b] => (*a, *b),
            _ => return Err("windows(2) gives pairs".into()),
        };
        let code = spec::first_failing(pair)?;
        let name = format!("order_{first}_before_{second}");
        let (keys, token, options) = with_faults(k, pair, &format!("lic_{name}"))?;
        vs.add(
            name,
            &format!(
                "Two faults, {} and {}: contract §7.2 checks {} before {}, so {code}.",
                fault_words(first),
                fault_words(second),
                first.replace('_', " "),
                second.replace('_', " "),
            ),
            &keys,
            token,
            T,
            options,
            err(code),
        );
    }
    for (i, first) in checks.iter().enumerate() {
        let faults = checks.get(i..).unwrap_or_default();
        if faults.len() < 3 {
            continue;
        }
        let code = spec::first_failing(faults)?;
        let name = format!("order_every_fault_from_{first}");
        let (keys, token, options) = with_faults(k, faults, &format!("lic_{name}"))?;
        vs.add(
            name,
            &format!(
                "All {} faults from {} to revoked at once: {} is checked first, so {code}.",
                faults.len(),
                first.replace('_', " "),
                first.replace('_', " "),
            ),
            &keys,
            token,
            T,
            options,
            err(code),
        );
    }
    Ok(())
}

/// What each fault of [`with_faults`] is, for the descriptions.
fn fault_words(check: &str) -> &'static str {
    match check {
        "size" => "a token over 16 KiB",
        "structure" => "a claims segment that is not base64url",
        "alg" => "alg HS256",
        "kid" => "an unknown kid",
        "signature" => "a signature by an untrusted key",
        "claims" => "tier gold",
        "key_window" => "a key retired before iat",
        "issuer" => "iss evil.example",
        "audience" => "no aud where deployment dep-1 is required",
        "clock_rollback" => "a high-water mark a day ahead",
        "iat" => "iat an hour ahead",
        "nbf" => "nbf two hours ahead",
        _ => "a jti on the revocation list",
    }
}

/// A v2 token with the named faults (checks of [`spec::VERIFY_ORDER`]) and the JWKS and options
/// that expose them at `now` = T; every check not named passes.
fn with_faults(k: &Keys, faults: &[&str], jti: &str) -> Res<(Value, String, Value)> {
    let has = |check: &str| faults.contains(&check);
    let iat = if has("iat") { T + 3600 } else { IAT };
    let mut c = claims(Tier::Team, jti, iat, EXP);
    if has("issuer") {
        c.iss = "evil.example".into();
    }
    if has("nbf") {
        c.nbf = Some(T + 7200);
    }
    let mut body = c.to_json();
    let o = body.as_object_mut().ok_or("claims are an object")?;
    if has("claims") {
        o.insert("tier".into(), json!("gold"));
    }
    if has("size") {
        o.insert("padding".into(), "p".repeat(17 * 1024).into());
    }
    let header = format!(
        r#"{{"alg":"{}","typ":"JWT","kid":"{}"}}"#,
        if has("alg") { "HS256" } else { "EdDSA" },
        if has("kid") { "ghost" } else { k.zero.kid },
    );
    let signer = if has("signature") { &k.two } else { &k.zero };
    let mut token = jws_by_hand(&header, body.to_string().as_bytes(), signer);
    if has("structure") {
        let (h, c, s) = segments(&token)?;
        token = format!("{h}.*{c}.{s}");
    }
    let zero = if has("key_window") {
        k.zero.jwk_window(None, Some(iat - 1))
    } else {
        k.zero.jwk()
    };
    let mut options = serde_json::Map::new();
    if has("audience") {
        options.insert("deployment_id".into(), json!("dep-1"));
    }
    if has("clock_rollback") {
        options.insert("high_water_mark".into(), json!(T + DAY));
    }
    if has("revoked") {
        // Signed by the other trusted key, whose window is never narrowed.
        let list = sign_revocation_list(&[jti], ISS, T - 3600, T + 7 * DAY, &k.one.key, k.one.kid)?;
        options.insert("revocation_list".into(), json!(list));
    }
    Ok((jwks(vec![zero, k.one.jwk()]), token, Value::Object(options)))
}

#[derive(Default)]
struct Vs {
    out: Vec<V>,
}

impl Vs {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        name: impl Into<String>,
        description: &str,
        jwks: &Value,
        token: String,
        now: i64,
        options: Value,
        want: Want,
    ) {
        self.out.push(V {
            name: name.into(),
            description: description.to_owned(),
            jwks: jwks.clone(),
            token,
            now,
            options,
            want,
            claim: None,
        });
    }

    /// Marks the last case as an `invalid_claims` case whose message must name `claim`.
    fn names_claim(&mut self, claim: &'static str) {
        if let Some(v) = self.out.last_mut() {
            v.claim = Some(claim);
        }
    }
}

fn finish(cases: Vec<V>) -> Res<Vec<Case>> {
    let mut out = Vec::with_capacity(cases.len());
    for v in cases {
        let result = engine(&v.jwks, &v.token, v.now, &v.options)?;
        check(&v, &result)?;
        let mut body = json!({
            "jwks": v.jwks,
            "token": v.token,
            "now": v.now,
            "options": v.options,
            "expect": expect_of(&result),
        });
        if let (Some(claim), Some(o)) = (v.claim, body.as_object_mut()) {
            o.insert("claim".into(), claim.into());
        }
        out.push(Case::new(v.name, v.description, body)?);
    }
    Ok(out)
}

fn missing_description(claim: &str) -> &'static str {
    match claim {
        "iss" => "A v2 token without iss is invalid_claims naming iss.",
        "sub" => "A v2 token without sub is invalid_claims naming sub.",
        "iat" => "A v2 token without iat is invalid_claims naming iat.",
        "exp" => "A v2 token without exp is invalid_claims naming exp.",
        "jti" => "A v2 token without jti (required in v2) is invalid_claims naming jti.",
        _ => "A v2 token without tier is invalid_claims naming tier.",
    }
}

fn missing_name(claim: &str) -> &'static str {
    match claim {
        "iss" => "claims_missing_iss",
        "sub" => "claims_missing_sub",
        "iat" => "claims_missing_iat",
        "exp" => "claims_missing_exp",
        "jti" => "claims_missing_jti",
        _ => "claims_missing_tier",
    }
}

/// The v1 payload must be dev-health-ops' compact JSON in its field order (the contract's appendix), with
/// its team defaults 20/10/500/90 and 14 grace days.
fn check_v1_known_answer(token: &str) -> Res<()> {
    let (payload, _) = token.split_once('.').ok_or("a v1 token has one dot")?;
    let payload = String::from_utf8(unb64(payload)?)?;
    let hand = format!(
        concat!(
            r#"{{"iss":"fullchaos.studio","sub":"org_acme","iat":{},"exp":{},"tier":"team","#,
            r#""features":null,"limits":{{"users":20,"repos":10,"api_rate":500,"backfill_days":90}},"#,
            r#""grace_days":14,"org_name":"Acme Inc","contact_email":"it@acme.example","license_id":"lic_v1_team"}}"#
        ),
        IAT, EXP
    );
    agree("v1_known_answer_zero_seed", "v1 payload", payload, hand)
}

/// A genuine v2 token of exactly `len` bytes: an extra claim pads it, and spaces in the header
/// reach the lengths base64 cannot (an encoded segment is never 1 mod 4 characters long).
fn padded_token(k: &Keys, len: usize) -> Res<String> {
    for spaces in 0..4 {
        let header = format!(
            r#"{{"alg":"EdDSA",{}"typ":"JWT","kid":"test-zero"}}"#,
            " ".repeat(spaces)
        );
        let token_with = |pad: usize| {
            let mut c = claims_object(Tier::Team, "lic_v2_padded", IAT, EXP);
            if let Some(o) = c.as_object_mut() {
                o.insert("padding".into(), "p".repeat(pad).into());
            }
            jws_by_hand(&header, c.to_string().as_bytes(), &k.zero)
        };
        // Each padding byte adds 4/3 of a character: start just below the estimate.
        let estimate = len.saturating_sub(token_with(0).len()) * 3 / 4;
        for pad in estimate.saturating_sub(8)..estimate + 8 {
            let token = token_with(pad);
            if token.len() == len {
                return Ok(token);
            }
        }
    }
    Err(format!("no padding gives a token of {len} bytes").into())
}

/// The segment in the URL-safe alphabet; fails if it would not differ from the standard one.
fn url_safe_variant(segment: &str) -> Res<String> {
    let out = segment.replace('+', "-").replace('/', "_");
    ensure!(
        out != segment,
        "the v1 signature has no + or /: pick another"
    );
    Ok(out)
}

/// The signature with the group order L added to its S half (little-endian), a non-canonical S.
fn add_l_to_s(sig: &[u8]) -> Res<Vec<u8>> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    ensure!(sig.len() == 64, "a signature is 64 bytes");
    let mut out = sig.to_vec();
    let mut carry = 0u16;
    for (i, l) in L.iter().enumerate() {
        let b = out.get_mut(32 + i).ok_or("index")?;
        let sum = u16::from(*b) + u16::from(*l) + carry;
        *b = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    ensure!(carry == 0, "S + L overflowed 256 bits");
    Ok(out)
}

fn community_v2(k: &Keys) -> Res<String> {
    v2(
        &claims(Tier::Community, "lic_v2_rollback", IAT, EXP),
        &k.zero,
    )
}
