# The WebAssembly binding (bindings-wasm/, npm @dev-health/entitlements-wasm) and its license viewer.
#
#   make wasm        build bindings-wasm/pkg/: web/ (ES module, verify-only, size-budgeted),
#                    node/ (CommonJS) and web-full/ (the Node module's features as an ES module,
#                    for the browser conformance run)
#   make test-wasm   size and verify-only checks, tsc --strict, every vector in Node and in
#                    headless Chromium, the viewer in Chromium
#   make bench-wasm  verify in wasm vs bare ed25519-dalek verify_strict in wasm vs @noble/curves
.PHONY: deps-wasm wasm wasm-size wasm-verify-only test-wasm bench-wasm viewer

TEST_TARGETS += test-wasm
BENCH_TARGETS += bench-wasm

WASM_DIR := bindings-wasm
WASM_PKG := $(WASM_DIR)/pkg
WASM_CRATE := dev-health-entitlements-wasm
# The wasm builds use a pinned nightly for one thing: rebuilding the standard library with
# `-Cpanic=immediate-abort` (-Zbuild-std), which drops the panic machinery (message formatting,
# source locations): 8.4 KB gzipped of the web module. The engine returns errors and never panics
# on any input, and with plain panic=abort a panic was already a bare wasm trap in the browser, so
# no behaviour changes. Everything else in the project builds with the stable toolchain.
WASM_TOOLCHAIN := nightly-2026-05-20
WASM_TARGET_DIR := target/wasm
WASM_ARTIFACT := $(WASM_TARGET_DIR)/wasm32-unknown-unknown/release/dev_health_entitlements_wasm.wasm
WASM_BINDGEN_VERSION := 0.2.130
WASM_BINDGEN := $(TOOLS)/bin/wasm-bindgen
WASM_OPT := $(WASM_DIR)/node_modules/.bin/wasm-opt
# Size-oriented release settings for the wasm32 target only (no other part builds for it): the
# engine at opt-level z, the Ed25519/SHA-512 arithmetic at opt-level 3 (at z, verify_strict takes
# about twice as long, for 14 KB gzipped less).
WASM_CARGO_ENV := CARGO_TARGET_DIR=$(WASM_TARGET_DIR) \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort" \
	CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat \
	CARGO_PROFILE_RELEASE_PANIC=abort CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
WASM_CARGO := cargo +$(WASM_TOOLCHAIN) build -q -p $(WASM_CRATE) --target wasm32-unknown-unknown --release \
	-Zbuild-std=std,panic_abort
WASM_CARGO_FLAGS := $(foreach p,curve25519-dalek ed25519-dalek sha2,--config profile.release.package.$(p).opt-level=3)
# The web module is built without ed25519-dalek's precomputed tables (the wasm crate depends on the
# core with default-features = false, leaving out its `fast-tables`): 8.5 KB gzipped less, verify
# about 8 % slower (bench-wasm measures both sides without them). It also leaves out the core's
# `fast-json` (typed serde readers for the usual header and claims): 20 KB gzipped, and its
# `ops-compat` (dev-health-ops compatibility: derived ids for v1 tokens without license_id, error
# details, token limit names, the exclusive license-feature mode, org records): 1.4 KB gzipped
# (web module 79,947 B gzipped without it).
# The `full` builds (node/, web-full/, where the vectors run) keep it.
# The gzipped size (gzip -9) the web module must not exceed: the issue's goal, 80 KB, read as 80,000
# bytes (the stricter reading; measured 79,584). `make test` fails above it.
WASM_GZIP_BUDGET ?= 80000
WASM_NPM_STAMP := $(WASM_DIR)/node_modules/.installed

deps-wasm: $(WASM_NPM_STAMP) ## pinned nightly with rust-src, wasm-bindgen CLI (pinned), npm tools (binaryen, tsc, playwright-core)
	@rustup component list --installed --toolchain $(WASM_TOOLCHAIN) 2>/dev/null | grep -qx rust-src || \
	  rustup toolchain install $(WASM_TOOLCHAIN) --profile minimal --component rust-src --no-self-update
	@test "$$($(WASM_BINDGEN) --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" || \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --debug --no-default-features \
	    --root $(TOOLS) --force

$(WASM_NPM_STAMP): $(WASM_DIR)/package.json $(WASM_DIR)/package-lock.json
	cd $(WASM_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# One wasm file per feature set, then wasm-bindgen per target, wasm-opt -Oz (npm binaryen), and the
# JS layer (js/build.mjs: js/api.js over the glue, and the hand-written declarations).
define wasm_cargo
	$(WASM_CARGO_ENV) $(WASM_CARGO) $(WASM_CARGO_FLAGS) $(1)
	@mkdir -p $(WASM_PKG)/.build && cp $(WASM_ARTIFACT) $(WASM_PKG)/.build/$(2).wasm
endef
define wasm_bindgen
	@rm -rf $(WASM_PKG)/$(3)
	$(WASM_BINDGEN) $(WASM_PKG)/.build/$(1).wasm --target $(2) --out-dir $(WASM_PKG)/$(3) --out-name index
	$(WASM_OPT) -Oz --converge --strip-debug --strip-producers $(WASM_PKG)/$(3)/index_bg.wasm -o $(WASM_PKG)/$(3)/index_bg.wasm
	node $(WASM_DIR)/js/build.mjs $(WASM_PKG)/$(3) $(2) $(4)
endef

wasm: deps-wasm ## build bindings-wasm/pkg (web, node, web-full)
	@rm -f $(WASM_PKG)/.built
	$(call wasm_cargo,,slim)
	$(call wasm_cargo,--features full,full)
	$(call wasm_bindgen,slim,web,web)
	$(call wasm_bindgen,full,nodejs,node,full)
	$(call wasm_bindgen,full,web,web-full,full)
	cp $(WASM_DIR)/npm/package.json $(WASM_DIR)/README.md $(WASM_PKG)/
	cp $(WASM_DIR)/npm/web.package.json $(WASM_PKG)/web/package.json
	cp $(WASM_DIR)/npm/web.package.json $(WASM_PKG)/web-full/package.json
	cp $(WASM_DIR)/npm/node.package.json $(WASM_PKG)/node/package.json
	@touch $(WASM_PKG)/.built

wasm-size: wasm ## the web module's gzipped size against the budget (80 KB)
	@size=$$(gzip -9 -c $(WASM_PKG)/web/index_bg.wasm | wc -c); \
	  raw=$$(wc -c < $(WASM_PKG)/web/index_bg.wasm); \
	  echo "wasm web module: $$raw bytes, $$size bytes gzipped (budget $(WASM_GZIP_BUDGET))"; \
	  test $$size -le $(WASM_GZIP_BUDGET) || { echo "wasm web module is over its size budget of $(WASM_GZIP_BUDGET) bytes gzipped" >&2; exit 1; }

wasm-verify-only: ## the wasm crate must not enable the core's `issue` (signing) feature
	@if cargo tree -q -p $(WASM_CRATE) --target wasm32-unknown-unknown -e features -i dev-health-entitlements \
	    | grep -q 'feature "issue"'; then echo "the wasm build enables the core's issue feature" >&2; exit 1; fi
	@echo "wasm build is verify-only (core without its issue feature)"

test-wasm: wasm-size wasm-verify-only $(WASM_NPM_STAMP) ## tsc, vectors in Node and Chromium, the viewer
	cd $(WASM_DIR) && node_modules/.bin/tsc -p tests/tsconfig.json
	$(MAKE) -s deps-chromium
	cd $(WASM_DIR) && node --test tests/

bench-wasm: deps-wasm ## verify: wasm vs bare dalek verify_strict in wasm vs @noble/curves
	$(WASM_CARGO_ENV) $(WASM_CARGO) $(WASM_CARGO_FLAGS) --features bench
	@rm -rf $(WASM_DIR)/pkg-bench && mkdir -p $(WASM_DIR)/pkg-bench
	$(WASM_BINDGEN) $(WASM_ARTIFACT) --target nodejs --out-dir $(WASM_DIR)/pkg-bench --out-name index
	$(WASM_OPT) -Oz --converge $(WASM_DIR)/pkg-bench/index_bg.wasm -o $(WASM_DIR)/pkg-bench/index_bg.wasm
	node $(WASM_DIR)/js/build.mjs $(WASM_DIR)/pkg-bench nodejs bench
	cp $(WASM_DIR)/npm/node.package.json $(WASM_DIR)/pkg-bench/package.json
	node benches/wasm/bench.mjs

# The viewer's default JWKS URL (/.well-known/jwks.json on its own origin) leads to the license
# server `make run` starts (LISTEN_ADDR, default 127.0.0.1:8080). The package is rebuilt only when
# a source of it changed (`make wasm` always rebuilds).
VIEWER_PORT ?= 8088
VIEWER_JWKS_URL ?= http://$(or $(LISTEN_ADDR),127.0.0.1:8080)/.well-known/jwks.json
WASM_SOURCES = $(shell find core/src core/catalogs core/Cargo.toml core/build.rs $(WASM_DIR)/src $(WASM_DIR)/js \
	$(WASM_DIR)/npm $(WASM_DIR)/Cargo.toml -type f 2>/dev/null) Cargo.lock
$(WASM_PKG)/.built: $(WASM_SOURCES)
	$(MAKE) wasm

viewer: $(WASM_PKG)/.built ## serve the license viewer on http://127.0.0.1:8088/ (keys from the server of make run)
	node $(WASM_DIR)/tests/support/serve.mjs $(VIEWER_PORT) $(VIEWER_JWKS_URL)
