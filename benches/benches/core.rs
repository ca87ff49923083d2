//! One criterion run, one token: the engine against what a user would write without it.
//!
//! * `verify_v2` (`Verifier::verify`: format, JWS parse, alg, kid, strict signature, claims
//!   schema, time checks) against `bare_verify_strict` (ed25519-dalek `verify_strict` of the
//!   token's signing input and decoded signature, nothing else);
//! * `has_hit`/`has_miss` (`Entitlements::has`) against `hashset_hit`/`hashset_miss`
//!   (`HashSet<&str>::contains`, default SipHash, over the same allowed feature keys);
//! * informational: `verify_v1`, `check`, `check_limit`, `resolve`.
//!
//! The clock is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so time the thread
//! spends descheduled on a busy machine is not counted; `BENCH_CLOCK=wall` uses criterion's
//! wall clock instead. `cargo run -p dev-health-benches --bin ratios` prints the ratios
//! afterwards (`make bench-rust` does both).

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput};
use dev_health_benches::{fixture, ids, Fixture, FEATURE_HIT, FEATURE_MISS, GROUP, LIMIT, NOW};
use dev_health_entitlements::Entitlements;
use rustix::time::{clock_gettime, ClockId};

/// CPU time of the calling thread, in nanoseconds.
struct ThreadCpuTime;

fn thread_cpu_ns() -> u64 {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a.saturating_add(*b)
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

/// Formats nanoseconds the way criterion's wall clock does.
struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1.0 {
            (1e3, "ps")
        } else if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_iteration = match *throughput {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Elements(n) => n,
        } as f64;
        values
            .iter_mut()
            .for_each(|v| *v = per_iteration * 1e9 / *v);
        "/s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn load() -> Fixture {
    match fixture() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("the benchmark fixture cannot be built: {e}");
            std::process::exit(1);
        }
    }
}

fn benches<M: Measurement>(c: &mut Criterion<M>) {
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

/// Modest defaults so the whole run stays well under two minutes on a quiet machine;
/// command-line flags (`--measurement-time`, `--warm-up-time`, `--sample-size`) override them.
fn configured<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

fn main() {
    if std::env::var("BENCH_CLOCK").is_ok_and(|clock| clock == "wall") {
        let mut c = configured(Criterion::default());
        benches(&mut c);
        c.final_summary();
    } else {
        let mut c = configured(Criterion::default().with_measurement(ThreadCpuTime));
        benches(&mut c);
        c.final_summary();
    }
}
