# Fuzz targets (fuzz/: cargo-fuzz with libFuzzer, on the pinned nightly of mk/wasm.mk): license
# tokens v1 and v2, the Stripe-Signature header and event reader, the catalog reader, session
# tokens, Entitlements JSON read back, and the server's request handlers in-process.
#
#   make fuzz        each target for FUZZ_SECONDS (default 60), from its committed seeds
#                    (fuzz/corpus/<target>) and what earlier runs found (fuzz/target/corpus/<target>,
#                    not committed); prints executions per second per target
#   make test-fuzz   each target for FUZZ_TEST_SECONDS (default 5) on its committed corpus only,
#                    so that an input that once crashed a target (kept in fuzz/corpus) keeps passing;
#                    an unoptimised build (`--dev`, a third of the release build's time: the first
#                    `make test` on a machine builds it), whose every run still replays the corpus
#
# A crash leaves its input in fuzz/artifacts/<target>/: fix the bug, add a regression test where
# the behaviour belongs, and copy the input into fuzz/corpus/<target>/.
.PHONY: deps-fuzz fuzz test-fuzz fmt-fuzz fmt-check-fuzz

TEST_TARGETS += test-fuzz

CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := $(TOOLS)/bin/cargo-fuzz
FUZZ_TARGETS := token stripe catalog session entitlements_json server
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 5
# The nightly the wasm build pins (recursive: mk/wasm.mk is read after this file).
FUZZ_TOOLCHAIN = $(WASM_TOOLCHAIN)
# No sanitizer: the engine and the server forbid `unsafe` (libFuzzer still finds panics, overflows
# (debug assertions are on) and hangs), and AddressSanitizer would slow every build and run.
FUZZ_CARGO = RUSTUP_TOOLCHAIN=$(FUZZ_TOOLCHAIN) $(CARGO_FUZZ) fuzz
FUZZ_FLAGS := --sanitizer none
FUZZ_TEST_FLAGS := --sanitizer none --dev
# libFuzzer options of every run: a 30 s hang is a failure; the exec/s figures come from the
# final stats.
FUZZ_OPTIONS := -timeout=30 -print_final_stats=1

deps-fuzz: ## pinned nightly (minimal) and cargo-fuzz (pinned)
	@rustup toolchain list | grep -q '^$(FUZZ_TOOLCHAIN)' || \
	  rustup toolchain install $(FUZZ_TOOLCHAIN) --profile minimal --no-self-update
	@test "$$($(CARGO_FUZZ) --version 2>/dev/null)" = "cargo-fuzz $(CARGO_FUZZ_VERSION)" || \
	  cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked --debug --root $(TOOLS) --force

# fuzz/ is a workspace of its own: `make fmt` and `make lint` take it in too.
fmt: fmt-fuzz
fmt-check: fmt-check-fuzz
fmt-fuzz:
	cargo fmt --manifest-path fuzz/Cargo.toml
fmt-check-fuzz:
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check

# Builds with the cargo-fuzz flags $(3), then runs every target: $(1) seconds each, new inputs kept
# in $(2)/<target> (a directory under the run's temporary one when empty). Every target runs even
# after one fails; the recipe fails then. The server target keeps its SQLite database under
# TMPDIR, here the run's temporary directory.
define fuzz_each
	$(FUZZ_CARGO) build $(3)
	@tmp=$$(mktemp -d /tmp/dhl-fuzz.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; failed=; \
	printf '%-18s %10s %10s %8s\n' target exec/s runs corpus; \
	for t in $(FUZZ_TARGETS); do \
	  found=$(if $(2),$(2)/$$t,$$tmp/found/$$t); mkdir -p $$found; \
	  if TMPDIR=$$tmp $(FUZZ_CARGO) run $(3) $$t $$found fuzz/corpus/$$t -- \
	      -max_total_time=$(1) $(FUZZ_OPTIONS) > $$tmp/$$t.log 2>&1; then \
	    printf '%-18s %10s %10s %8s\n' $$t \
	      "$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$tmp/$$t.log)" \
	      "$$(sed -n 's/^stat::number_of_executed_units: *//p' $$tmp/$$t.log)" \
	      "$$(grep -o 'corp: [0-9]*' $$tmp/$$t.log | tail -1 | cut -d' ' -f2)"; \
	  else \
	    grep -A2 -m1 'panicked at' $$tmp/$$t.log || tail -20 $$tmp/$$t.log; \
	    grep -A2 -E '^(Failing input|Reproduce with):' $$tmp/$$t.log || true; failed="$$failed $$t"; \
	    echo "fuzz target $$t FAILED; its input is in fuzz/artifacts/$$t/ (see the top of mk/fuzz.mk)"; \
	  fi; \
	done; \
	test -z "$$failed" || { echo "failed fuzz targets:$$failed" >&2; exit 1; }
endef

fuzz: deps-fuzz ## run each fuzz target for FUZZ_SECONDS (default 60); prints executions/s
	$(call fuzz_each,$(FUZZ_SECONDS),fuzz/target/corpus,$(FUZZ_FLAGS))

test-fuzz: deps-fuzz ## each fuzz target for a few seconds on its committed corpus
	$(call fuzz_each,$(FUZZ_TEST_SECONDS),,$(FUZZ_TEST_FLAGS))
