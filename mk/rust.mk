# The Rust workspace: formatting, lints, tests.
.PHONY: fmt fmt-check clippy test-rust

fmt: ## format the Rust code
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --all-features -- -D warnings

test-rust: ## every Rust test (unit, integration, doc, conformance)
	cargo test --workspace --all-features
