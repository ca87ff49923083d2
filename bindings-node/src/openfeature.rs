//! `FlagEvaluator`: the engine's OpenFeature evaluation (core `openfeature`) for the provider
//! in `openfeature.mjs` (`@dev-health/entitlements/openfeature`).

use std::collections::{BTreeMap, HashMap};

use dev_health_entitlements as core;
use dev_health_entitlements::openfeature::{FlagSource, FlagType, FlagValue};
use napi::bindgen_prelude::{ClassInstance, Either, Either3, Null, Object};
use napi::Env;
use napi_derive::napi;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::errors::{check_keys, invalid_input, nullable, OrThrow};
use crate::verify::License;

/// What a [`FlagEvaluator`] holds from its host.
#[napi(object, object_to_js = false)]
// Declares the argument's type for index.d.ts; the binding reads the JS object field by field.
#[allow(dead_code)]
pub struct FlagEvaluatorOptions {
    /// The catalog (default: `Catalog.default()`).
    #[napi(ts_type = "Catalog | null")]
    pub catalog: Option<Either<&'static Catalog, Null>>,
    /// A verified license (the instance's), or none.
    #[napi(ts_type = "License | null")]
    pub license: Option<Either<&'static License, Null>>,
    /// The host's kill switches: feature → enabled.
    pub kill_switches: Option<HashMap<String, bool>>,
}

/// One flag evaluation in OpenFeature's terms (core `openfeature::FlagResolution`).
#[napi(object, use_nullable = true)]
pub struct FlagResolution {
    /// The value; `null` on error (the SDK then answers the caller's default).
    #[napi(ts_type = "boolean | number | string | null")]
    pub value: Option<Either3<bool, f64, String>>,
    /// `STATIC`, `TARGETING_MATCH`, `DISABLED` or `ERROR`.
    #[napi(ts_type = "'STATIC' | 'TARGETING_MATCH' | 'DISABLED' | 'ERROR'")]
    pub reason: String,
    /// `FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `PARSE_ERROR` or `INVALID_CONTEXT` with `ERROR`.
    #[napi(ts_type = "'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'PARSE_ERROR' | 'INVALID_CONTEXT'")]
    pub error_code: Option<String>,
    /// What went wrong, with `ERROR`.
    pub error_message: Option<String>,
    /// The engine's own reason (a SPEC §3 reason for a feature).
    pub engine_reason: Option<String>,
}

/// Evaluates features (boolean), limits (number) and the tier (string) as OpenFeature flags for
/// the org an evaluation context names (core `openfeature`).
#[napi]
pub struct FlagEvaluator {
    source: FlagSource,
}

#[napi]
impl FlagEvaluator {
    /// An evaluator over the host's catalog, instance license and kill switches.
    #[napi(
        constructor,
        ts_args_type = "options?: FlagEvaluatorOptions | undefined | null"
    )]
    pub fn new(env: Env, options: Option<Object<'_>>) -> napi::Result<FlagEvaluator> {
        let mut catalog = None;
        let mut license = None;
        let mut kill_switches = BTreeMap::new();
        if let Some(o) = options {
            check_keys(
                &env,
                &o,
                "FlagEvaluator options",
                &["catalog", "license", "killSwitches"],
            )?;
            let c: Option<Either<ClassInstance<'_, Catalog>, Null>> = o.get("catalog")?;
            catalog = nullable(c).map(|c| std::sync::Arc::clone(&c.inner));
            let l: Option<Either<ClassInstance<'_, License>, Null>> = o.get("license")?;
            license = nullable(l).map(|l| l.inner.clone());
            let k: Option<HashMap<String, bool>> = o.get("killSwitches")?;
            kill_switches = k.unwrap_or_default().into_iter().collect();
        }
        let catalog = match catalog {
            Some(c) => c,
            None => core::Catalog::default_catalog().or_throw(&env)?,
        };
        Ok(FlagEvaluator {
            source: FlagSource {
                catalog,
                license,
                kill_switches,
            },
        })
    }

    /// Evaluates `key` as a `boolean`, `number` or `string` flag for the org `context` names
    /// (`targetingKey` or `orgId`, with `tier`, `overrides`, `killSwitches`) at `now`
    /// (default now).
    #[napi(
        ts_args_type = "key: string, type: 'boolean' | 'number' | 'string' | 'object', context?: Record<string, unknown> | null, now?: number | null"
    )]
    pub fn evaluate(
        &self,
        env: Env,
        key: String,
        flag_type: String,
        context: Option<Value>,
        now: Option<f64>,
    ) -> napi::Result<FlagResolution> {
        let wanted = FlagType::parse(&flag_type).ok_or_else(|| {
            invalid_input(
                &env,
                format!("flag type must be boolean, number, string or object, not {flag_type:?}"),
            )
        })?;
        let now = crate::now_or_clock(&env, now)?;
        let r = self
            .source
            .evaluate(&context.unwrap_or(Value::Null), &key, wanted, now);
        Ok(FlagResolution {
            value: r.value.map(|v| match v {
                FlagValue::Bool(b) => Either3::A(b),
                FlagValue::Number(n) => Either3::B(n),
                FlagValue::String(s) => Either3::C(s.to_owned()),
            }),
            reason: r.reason.as_str().to_owned(),
            error_code: r.error_code.map(|c| c.as_str().to_owned()),
            error_message: r.error_message,
            engine_reason: r.engine_reason.map(str::to_owned),
        })
    }
}
