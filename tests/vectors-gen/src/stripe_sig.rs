//! `stripe_signatures.json`: the `Stripe-Signature` header (contract §5): `t=…,v1=…`, HMAC-SHA256 of
//! `t.body`, any of several `v1`, several secrets, 300 s tolerance both ways.

use dev_health_entitlements::stripe::{signature_header, verify_signature};
use serde_json::json;

use crate::common::*;

const SECRET: &str = "whsec_test_primary_0123456789";
const OLD: &str = "whsec_test_previous_9876543210";
const BODY: &str = r#"{"id":"evt_sig_1","object":"event","type":"customer.subscription.updated","created":1800000000,"data":{"object":{"id":"sub_1","object":"subscription","status":"active"}}}"#;

/// name, description, payload, header, secrets, now, tolerance, and the answer by hand.
type Row = (
    &'static str,
    &'static str,
    String,
    String,
    Vec<&'static str>,
    i64,
    i64,
    Want,
);

enum Want {
    Ok,
    Error(&'static str),
}

/// Every Stripe signature vector.
pub fn cases() -> Res<Vec<Case>> {
    let sig = |t: i64, secret: &str| signature_header(BODY.as_bytes(), secret, t);
    let v1_of = |t: i64, secret: &str| -> String {
        let h = sig(t, secret);
        h.split_once(",v1=")
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default()
    };
    let bogus = "0".repeat(64);
    let s = [SECRET];
    let list: Vec<Row> = vec![
        ("valid_now", "A header signed now with the configured secret verifies and returns t.", BODY.into(), sig(T, SECRET), s.to_vec(), T, 300, Want::Ok),
        ("valid_299_s_old", "A delivery signed 299 s ago is within the 300 s tolerance.", BODY.into(), sig(T - 299, SECRET), s.to_vec(), T, 300, Want::Ok),
        ("exactly_at_tolerance_past", "A delivery signed exactly 300 s ago is accepted (the tolerance is inclusive).", BODY.into(), sig(T - 300, SECRET), s.to_vec(), T, 300, Want::Ok),
        ("stale_301_s", "A delivery signed 301 s ago is out of tolerance.", BODY.into(), sig(T - 301, SECRET), s.to_vec(), T, 300, Want::Error("stripe_timestamp_out_of_tolerance")),
        ("stale_one_day", "A replay of a day-old delivery is out of tolerance.", BODY.into(), sig(T - 86_400, SECRET), s.to_vec(), T, 300, Want::Error("stripe_timestamp_out_of_tolerance")),
        ("exactly_at_tolerance_future", "A timestamp exactly 300 s in the future is accepted (tolerance both ways).", BODY.into(), sig(T + 300, SECRET), s.to_vec(), T, 300, Want::Ok),
        ("future_301_s", "A timestamp 301 s in the future is out of tolerance.", BODY.into(), sig(T + 301, SECRET), s.to_vec(), T, 300, Want::Error("stripe_timestamp_out_of_tolerance")),
        ("custom_tolerance_60", "With a tolerance of 60 s, a 61 s old delivery is out of tolerance.", BODY.into(), sig(T - 61, SECRET), s.to_vec(), T, 60, Want::Error("stripe_timestamp_out_of_tolerance")),
        ("tolerance_zero_exact", "A tolerance of 0 accepts t == now.", BODY.into(), sig(T, SECRET), s.to_vec(), T, 0, Want::Ok),
        ("tolerance_zero_one_off", "A tolerance of 0 refuses t == now - 1.", BODY.into(), sig(T - 1, SECRET), s.to_vec(), T, 0, Want::Error("stripe_timestamp_out_of_tolerance")),
        ("wrong_secret", "A header signed with another secret is a mismatch.", BODY.into(), sig(T, "whsec_attacker"), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("stale_and_wrong_secret", "A forged, stale delivery is reported as forged: signatures are compared before the timestamp.", BODY.into(), sig(T - 3600, "whsec_attacker"), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("tampered_body", "The body changed after signing: mismatch.", BODY.replace("active", "canceled"), sig(T, SECRET), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("body_whitespace_changed", "Re-serialised JSON (a space added) no longer matches: the raw body is signed.", BODY.replacen(':', ": ", 1), sig(T, SECRET), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("timestamp_swapped", "A genuine v1 with a different t is a mismatch (t is signed).", BODY.into(), format!("t={},v1={}", T - 10, v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("several_v1_second_matches", "Several v1 entries: one matching is enough.", BODY.into(), format!("t={T},v1={bogus},v1={}", v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Ok),
        ("several_v1_first_matches", "Several v1 entries where the first matches.", BODY.into(), format!("t={T},v1={},v1={bogus}", v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Ok),
        ("several_v1_none_match", "Several v1 entries, none matching: mismatch.", BODY.into(), format!("t={T},v1={bogus},v1={}", v1_of(T, "whsec_other")), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("v0_ignored", "A v0 entry is ignored; the v1 entry decides.", BODY.into(), format!("t={T},v1={},v0={bogus}", v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Ok),
        ("v0_only_matching", "A matching signature under v0 alone does not count: no v1 is malformed.", BODY.into(), format!("t={T},v0={}", v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("rotated_secret_old_still_configured", "During our rotation both secrets are configured: a delivery signed with the old one verifies.", BODY.into(), sig(T, OLD), vec![SECRET, OLD], T, 300, Want::Ok),
        ("rotated_secret_new", "During our rotation a delivery signed with the new secret verifies.", BODY.into(), sig(T, SECRET), vec![OLD, SECRET], T, 300, Want::Ok),
        ("rotated_secret_old_removed", "After the rotation the old secret is gone: its deliveries are a mismatch.", BODY.into(), sig(T, OLD), s.to_vec(), T, 300, Want::Error("stripe_signature_mismatch")),
        ("stripe_rolling_two_v1", "While Stripe rolls the endpoint secret it sends one v1 per secret; either matches.", BODY.into(), format!("t={T},v1={},v1={}", v1_of(T, OLD), v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Ok),
        ("no_secret_configured", "With no secret configured nothing verifies.", BODY.into(), sig(T, SECRET), vec![], T, 300, Want::Error("stripe_signature_mismatch")),
        ("empty_secret_skipped", "An empty secret is skipped, never used as an HMAC key.", BODY.into(), sig(T, ""), vec![""], T, 300, Want::Error("stripe_signature_mismatch")),
        ("malformed_empty_header", "An empty header is malformed.", BODY.into(), String::new(), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_garbage", "A header without key=value items is malformed.", BODY.into(), "garbage".into(), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_no_timestamp", "A header without t is malformed.", BODY.into(), format!("v1={}", v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_no_v1", "A header without v1 is malformed.", BODY.into(), format!("t={T}"), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_timestamp_not_integer", "t=soon is malformed.", BODY.into(), format!("t=soon,v1={}", v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_timestamp_negative", "t=-5 is malformed.", BODY.into(), format!("t=-5,v1={bogus}"), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_two_timestamps", "Two t entries are malformed (which one was signed?).", BODY.into(), format!("t={T},t={},v1={}", T + 1, v1_of(T, SECRET)), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_v1_not_hex", "A v1 that is not hex is malformed.", BODY.into(), format!("t={T},v1={}", "z".repeat(64)), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
        ("malformed_v1_short", "A v1 of 63 hex digits is malformed.", BODY.into(), format!("t={T},v1={}", &v1_of(T, SECRET).get(..63).unwrap_or_default()), s.to_vec(), T, 300, Want::Error("stripe_signature_malformed")),
    ];
    let mut out = Vec::new();
    for (name, description, payload, header, secrets, now, tolerance, want) in list {
        let result = verify_signature(payload.as_bytes(), &header, &secrets, now, tolerance);
        let expect = match (&want, &result) {
            (Want::Ok, Ok(t)) => json!({"timestamp": t}),
            (Want::Error(code), Err(e)) => {
                agree(name, "error", e.code().as_str(), code)?;
                json!({"error": e.code().as_str()})
            }
            (Want::Ok, Err(e)) => {
                return Err(
                    format!("vector {name}: the contract says valid, the engine says {e}").into(),
                )
            }
            (Want::Error(code), Ok(_)) => {
                return Err(format!(
                    "vector {name}: the contract says {code}, the engine accepted it"
                )
                .into())
            }
        };
        if let (Want::Ok, Some(t)) = (&want, header.split(',').find_map(|i| i.strip_prefix("t="))) {
            agree(
                name,
                "timestamp",
                expect.get("timestamp").and_then(|v| v.as_i64()),
                t.parse::<i64>().ok(),
            )?;
        }
        out.push(Case::new(
            format!("stripe_sig_{name}"),
            description,
            json!({"payload": payload, "header": header, "secrets": secrets, "now": now, "tolerance": tolerance, "expect": expect}),
        )?);
    }
    Ok(out)
}
