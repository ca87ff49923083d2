//! Entitlements JSON read back (SPEC §3, §7.6): `Entitlements::from_json` on what a host was
//! handed (the entitlements API's answer), read the way the bindings read it (`json::parse`,
//! which refuses repeated members, then `from_json`), with the default and the dev-health-ops
//! catalog.
//!
//! Invariants: a refusal is `invalid_input`; accepted JSON answers each feature as its
//! `features` member says, and its `to_json` reads back to the same JSON with the same answers.

#![no_main]

use std::sync::{Arc, LazyLock};

use dev_health_entitlements::{Catalog, Entitlements, ErrorCode};
use dev_health_fuzz::{check_error, check_json_round_trip};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

static CATALOGS: LazyLock<[Arc<Catalog>; 2]> =
    LazyLock::new(
        || match (Catalog::default_catalog(), Catalog::dev_health_ops()) {
            (Ok(default), Ok(ops)) => [default, ops],
            _ => unreachable!("the shipped catalogs load"),
        },
    );

fuzz_target!(|data: &[u8]| {
    let Ok(json) = dev_health_entitlements::json::parse(data) else {
        return;
    };
    for catalog in CATALOGS.iter() {
        match Entitlements::from_json(Arc::clone(catalog), &json) {
            Err(e) => check_error(
                &e,
                &[ErrorCode::InvalidInput],
                "",
                "Entitlements::from_json",
            ),
            Ok(entitlements) => {
                for feature in catalog.features() {
                    let stated = json
                        .get("features")
                        .and_then(|f| f.get(&feature.key))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    assert_eq!(
                        entitlements.has(&feature.key),
                        stated,
                        "{:?} is not decided as the JSON states",
                        feature.key
                    );
                }
                check_json_round_trip(&entitlements);
            }
        }
    }
});
