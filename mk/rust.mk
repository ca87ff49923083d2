# The Rust workspace: formatting, lints, tests.
.PHONY: fmt fmt-check clippy test-rust test-core-slim types

fmt: ## format the Rust code
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --all-features -- -D warnings

test-rust: ## every Rust test (unit, integration, doc, conformance)
	cargo test --workspace --all-features

# The core as the size-budgeted wasm build compiles it: without its default `fast-json` (typed
# serde readers tried before the general ones) and `fast-tables`; `issue` only because the tests
# sign, `ops-compat` (dev-health-ops compatibility) because the vectors exercise it (the wasm runs
# of the vectors use the `full` build, which has it; only the web module leaves it out). test-rust builds everything with all features: without this target the general readers,
# which the wasm build uses for every token, would be exercised only by the wasm runs. Compiles
# the core alone.
test-core-slim: ## the core's tests without its default features (fast-json and fast-tables off)
	cargo test -p dev-health-entitlements --no-default-features --features issue,ops-compat

TEST_TARGETS += test-core-slim

# The TypeScript declarations both JS packages ship (bindings-node/interface.d.ts,
# bindings-wasm/js/interface.d.ts) are generated from the core's interface types; test-rust fails
# when the committed files are stale.
types: ## regenerate the JS packages' interface.d.ts from core/src/interface.rs (ts-rs)
	UPDATE_TYPES=1 cargo test -q -p dev-health-entitlements --features typescript --lib \
	  interface::tests::the_committed_typescript_declarations_are_generated_from_the_interface
