//! A load-tolerant cross-check of the criterion figures, and a loop to attach a profiler to.
//!
//! * `profile paired [ROUNDS]`: alternates single calls of `Verifier::verify` and of bare
//!   `verify_strict` on the same token (and short batches of `has` and `HashSet::contains`), and
//!   compares the medians and 10th percentiles of the two sides. Both sides see the same machine
//!   load, so on a busy machine these ratios are steadier than two figures measured apart.
//! * `profile loop OP SECONDS`: runs one operation (`verify_v2`, `bare`, `verify_v1`, `has`,
//!   `hashset`, `resolve`) in a loop, e.g. under `perf record -g`.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use dev_health_benches::{fixture, Fixture, FEATURE_HIT, NOW};
use dev_health_entitlements::Entitlements;

fn run(f: &Fixture, op: &str, n: u32) -> Option<Duration> {
    let set = f.allowed_feature_set();
    let input = f.resolve_input();
    let start = Instant::now();
    match op {
        "verify_v2" => (0..n).for_each(|_| {
            black_box(
                f.verifier
                    .verify(black_box(&f.token_v2), black_box(NOW))
                    .is_ok(),
            );
        }),
        "verify_v1" => (0..n).for_each(|_| {
            black_box(
                f.verifier
                    .verify(black_box(&f.token_v1), black_box(NOW))
                    .is_ok(),
            );
        }),
        "bare" => (0..n).for_each(|_| {
            black_box(
                f.verifying_key
                    .verify_strict(black_box(&f.signing_input), black_box(&f.signature))
                    .is_ok(),
            );
        }),
        "has" => (0..n).for_each(|_| {
            black_box(f.entitlements.has(black_box(FEATURE_HIT)));
        }),
        "hashset" => (0..n).for_each(|_| {
            black_box(set.contains(black_box(FEATURE_HIT)));
        }),
        "resolve" => (0..n).for_each(|_| {
            black_box(Entitlements::resolve(f.catalog.clone(), black_box(&input)));
        }),
        _ => return None,
    }
    Some(start.elapsed())
}

fn ns(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} µs", v / 1000.0)
    } else {
        format!("{v:.2} ns")
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let at = ((values.len().saturating_sub(1)) as f64 * p).round() as usize;
    values.get(at).copied().unwrap_or(f64::NAN)
}

/// Alternates short batches of `a` and `b` (`batch` calls each, the order flipped every round)
/// and returns the per-call times of each side, in nanoseconds.
fn paired(
    f: &Fixture,
    a: &str,
    b: &str,
    batch: u32,
    rounds: usize,
) -> Option<(Vec<f64>, Vec<f64>)> {
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    run(f, a, batch)?;
    run(f, b, batch)?;
    let per_call = |d: Duration| d.as_nanos() as f64 / f64::from(batch);
    for round in 0..rounds {
        if round % 2 == 0 {
            ta.push(per_call(run(f, a, batch)?));
            tb.push(per_call(run(f, b, batch)?));
        } else {
            tb.push(per_call(run(f, b, batch)?));
            ta.push(per_call(run(f, a, batch)?));
        }
    }
    Some((ta, tb))
}

fn main() -> ExitCode {
    let f = match fixture() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("profile: the fixture cannot be built: {e}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["paired", rest @ ..] => {
            let rounds = rest.first().and_then(|r| r.parse().ok()).unwrap_or(20_000);
            // One verify per batch: a 30 µs call is rarely preempted, so the median and the
            // 10th percentile of each side are what the code costs, whatever else runs.
            let pairs = [
                (
                    "verify_v2",
                    "bare",
                    1,
                    rounds,
                    "verify v2 / bare verify_strict",
                ),
                (
                    "has",
                    "hashset",
                    2000,
                    rounds / 4,
                    "has / HashSet contains (hit)",
                ),
            ];
            println!(
                "{:<32} {:>22} {:>22}",
                "paired, interleaved", "median (a / b)", "p10 (a / b)"
            );
            for (a, b, batch, rounds, what) in pairs {
                let Some((mut ta, mut tb)) = paired(&f, a, b, batch, rounds) else {
                    return ExitCode::FAILURE;
                };
                let (ma, mb) = (percentile(&mut ta, 0.5), percentile(&mut tb, 0.5));
                let (pa, pb) = (percentile(&mut ta, 0.1), percentile(&mut tb, 0.1));
                println!(
                    "{what:<32} {:>8.3}× ({} / {})   {:>6.3}× ({} / {})",
                    ma / mb,
                    ns(ma),
                    ns(mb),
                    pa / pb,
                    ns(pa),
                    ns(pb)
                );
            }
            ExitCode::SUCCESS
        }
        ["pair", a, b, batch, rounds] => {
            let (Ok(batch), Ok(rounds)) = (batch.parse::<u32>(), rounds.parse::<usize>()) else {
                eprintln!("profile: BATCH and ROUNDS must be numbers");
                return ExitCode::FAILURE;
            };
            let Some((mut ta, mut tb)) = paired(&f, a, b, batch, rounds) else {
                eprintln!("profile: unknown operation");
                return ExitCode::FAILURE;
            };
            let (ma, mb) = (percentile(&mut ta, 0.5), percentile(&mut tb, 0.5));
            let (pa, pb) = (percentile(&mut ta, 0.1), percentile(&mut tb, 0.1));
            println!(
                "{a} / {b}: median {:.3}× ({} / {}), p10 {:.3}× ({} / {})",
                ma / mb,
                ns(ma),
                ns(mb),
                pa / pb,
                ns(pa),
                ns(pb)
            );
            ExitCode::SUCCESS
        }
        ["loop", op, seconds] => {
            let Ok(seconds) = seconds.parse::<f64>() else {
                eprintln!("profile: SECONDS must be a number");
                return ExitCode::FAILURE;
            };
            let until = Instant::now() + Duration::from_secs_f64(seconds);
            let mut total = 0u64;
            while Instant::now() < until {
                if run(&f, op, 1000).is_none() {
                    eprintln!("profile: unknown operation {op:?}");
                    return ExitCode::FAILURE;
                }
                total += 1000;
            }
            println!("{op}: {total} iterations");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: profile paired [ROUNDS] | profile pair A B BATCH ROUNDS | profile loop OP SECONDS"
            );
            ExitCode::FAILURE
        }
    }
}
