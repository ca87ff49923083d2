//! One criterion run, one token: the engine against what a user would write without it.
//!
//! * `verify_v2` (`Verifier::verify`: format, JWS parse, alg, kid, strict signature, claims
//!   schema, time checks) against `bare_verify_strict` (ed25519-dalek `verify_strict` of the
//!   token's signing input and decoded signature, nothing else);
//! * `has_hit`/`has_miss` (`Entitlements::has`) against `hashset_hit`/`hashset_miss`
//!   (`HashSet<&str>::contains`, default SipHash, over the same allowed feature keys);
//! * informational: `verify_v1`, `check`, `check_limit`, `resolve`.
//!
//! `cargo run -p dev-health-benches --bin ratios` prints the ratios afterwards (`make bench-rust`).

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use dev_health_benches::{fixture, ids, Fixture, FEATURE_HIT, FEATURE_MISS, GROUP, LIMIT, NOW};
use dev_health_entitlements::Entitlements;

fn load() -> Fixture {
    match fixture() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("the benchmark fixture cannot be built: {e}");
            std::process::exit(1);
        }
    }
}

fn benches(c: &mut Criterion) {
    let f = load();
    let set = f.allowed_feature_set();
    let mut g = c.benchmark_group(GROUP);

    g.bench_function(ids::VERIFY_V2, |b| {
        b.iter(|| f.verifier.verify(black_box(&f.token_v2), black_box(NOW)))
    });
    g.bench_function(ids::BARE_VERIFY_STRICT, |b| {
        b.iter(|| {
            f.verifying_key
                .verify_strict(black_box(&f.signing_input), black_box(&f.signature))
        })
    });
    g.bench_function(ids::VERIFY_V1, |b| {
        b.iter(|| f.verifier.verify(black_box(&f.token_v1), black_box(NOW)))
    });

    g.bench_function(ids::HAS_HIT, |b| {
        b.iter(|| f.entitlements.has(black_box(FEATURE_HIT)))
    });
    g.bench_function(ids::HASHSET_HIT, |b| {
        b.iter(|| set.contains(black_box(FEATURE_HIT)))
    });
    g.bench_function(ids::HAS_MISS, |b| {
        b.iter(|| f.entitlements.has(black_box(FEATURE_MISS)))
    });
    g.bench_function(ids::HASHSET_MISS, |b| {
        b.iter(|| set.contains(black_box(FEATURE_MISS)))
    });

    g.bench_function(ids::CHECK, |b| {
        b.iter(|| f.entitlements.check(black_box(FEATURE_HIT)))
    });
    g.bench_function(ids::CHECK_LIMIT, |b| {
        b.iter(|| {
            f.entitlements
                .check_limit(black_box(LIMIT.0), black_box(LIMIT.1))
        })
    });
    let input = f.resolve_input();
    g.bench_function(ids::RESOLVE, |b| {
        b.iter(|| Entitlements::resolve(f.catalog.clone(), black_box(&input)))
    });
    g.finish();
}

criterion_group! {
    name = core;
    // Modest defaults so the whole run stays well under two minutes; command-line flags
    // (`--measurement-time`, `--warm-up-time`, `--sample-size`) override them.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(core);
