# The license server (server/src/serve): `make run`, its tests and its benchmark.
# PostgreSQL: Debian's server binaries from mk/deps.mk; every cluster is private (temp data dir,
# loopback port, run as `nobody` under root) and stopped afterwards, even on failure.
.PHONY: run install test-server test-server-rust test-server-e2e bench-server

SERVER_BIN := $(CURDIR)/target/debug/dev-health-license
E2E_DIR := tests/e2e
E2E_STAMP := $(E2E_DIR)/node_modules/.package-lock.json
FREE_PORT = $$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

TEST_TARGETS += test-server
BENCH_TARGETS += bench-server

# RUN_PROFILE=dev runs (and installs) the debug build the tests compile (make docs-test sets it).
RUN_PROFILE ?= release

run: ## start the license server on 127.0.0.1:8080 (configuration from the environment; see docs/server.md)
	cargo run --profile $(RUN_PROFILE) -p dev-health-license-server -- serve

# Into cargo's bin directory (~/.cargo/bin, or CARGO_INSTALL_ROOT/bin), built in this checkout's
# target/ so that it reuses what `make run` built.
install: ## put the dev-health-license binary on PATH (cargo install --path server)
	cargo install --locked --path server --profile $(RUN_PROFILE) --target-dir $(CURDIR)/target

# `cargo test --workspace` (test-rust) runs the server's PostgreSQL tests too.
test-rust: deps-postgres

$(E2E_STAMP): $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund --loglevel=error

# The server's Rust integration tests (SQLite, PostgreSQL, auth, reliability) already run in
# test-rust (`cargo test --workspace`); test-server adds the end-to-end run over HTTP.
test-server: test-server-e2e ## server: end to end over HTTP (its Rust tests run in test-rust)

# The PostgreSQL tests use the cluster started here (the outage test starts and stops its own).
test-server-rust: deps-postgres
	@pg=$$(mktemp -d /tmp/dhl-test-pg.XXXXXX); port=$(FREE_PORT); \
	  trap 'bash $(CURDIR)/$(E2E_DIR)/pg-cluster.sh stop '"$$pg" EXIT; \
	  bash $(E2E_DIR)/pg-cluster.sh start "$$pg" "$$port"; \
	  DEV_HEALTH_TEST_PG_PORT="$$port" cargo test -p dev-health-license-server --test 'server_*'

# The built binary over HTTP, webhooks signed by npm `stripe`: on SQLite, then on PostgreSQL.
test-server-e2e: deps-postgres $(E2E_STAMP)
	cargo build -p dev-health-license-server
	cd $(E2E_DIR) && DHL_BIN=$(SERVER_BIN) node --test server.test.mjs
	@pg=$$(mktemp -d /tmp/dhl-e2e-pg.XXXXXX); port=$(FREE_PORT); \
	  trap 'bash $(CURDIR)/$(E2E_DIR)/pg-cluster.sh stop '"$$pg" EXIT; \
	  bash $(E2E_DIR)/pg-cluster.sh start "$$pg" "$$port" e2e; \
	  cd $(E2E_DIR) && DHL_BIN=$(SERVER_BIN) DATABASE_URL="postgres://postgres@127.0.0.1:$$port/e2e" \
	    node --test server.test.mjs

# Loopback load: webhook events/s (p50/p99) on SQLite and PostgreSQL, entitlements GETs/s,
# licenses signed/s. Bounded request counts; the PostgreSQL cluster is private and stopped after.
bench-server: deps-postgres ## server: webhook events/s, entitlements GETs/s, licenses signed/s (SQLite, PostgreSQL)
	cargo build --profile bench -p dev-health-license-server --bench server_load
	@pg=$$(mktemp -d /tmp/dhl-bench-pg.XXXXXX); port=$(FREE_PORT); \
	  trap 'bash $(CURDIR)/$(E2E_DIR)/pg-cluster.sh stop '"$$pg" EXIT; \
	  bash $(E2E_DIR)/pg-cluster.sh start "$$pg" "$$port" bench; \
	  BENCH_POSTGRES_URL="postgres://postgres@127.0.0.1:$$port/bench" \
	    cargo bench -p dev-health-license-server --bench server_load
