# Rust benchmarks (benches/): the engine against bare ed25519-dalek and a HashSet, in one criterion
# run on one token, then the ratios, then an interleaved cross-check that tolerates a busy machine.
# About a minute of measuring; BENCH_RUST_ARGS passes criterion flags.
.PHONY: bench-rust

BENCH_RUST_ARGS ?= --warm-up-time 1 --measurement-time 3 --noplot

bench-rust: ## Rust: verify vs bare verify_strict, has vs HashSet (criterion), then the ratios
	cargo bench -p dev-health-benches --bench core -- $(BENCH_RUST_ARGS)
	cargo run -q -p dev-health-benches --bin ratios
	cargo run -q --profile bench -p dev-health-benches --bin profile -- paired

BENCH_TARGETS += bench-rust
