# The Node binding (bindings-node, napi-rs), its Next.js example and its benchmark.
# Fresh machine: `npm ci` from the committed package-lock.json files; Chromium from mk/deps.mk.
.PHONY: node-deps node-build test-node test-node-unit test-node-nextjs bench-node

NODE_DIR := bindings-node
NEXT_DIR := examples/nextjs
NODE_BENCH_DIR := benches/node
export NEXT_TELEMETRY_DISABLED := 1

TEST_TARGETS += test-node
BENCH_TARGETS += bench-node

$(NODE_DIR)/node_modules/.package-lock.json: $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error

node-deps: $(NODE_DIR)/node_modules/.package-lock.json

# Debug build for tests; writes entitlements.linux-x64-gnu.node, index.js and index.d.ts. The two
# generated files are committed: the build must reproduce them exactly.
node-build: node-deps ## build the Node addon (debug) and regenerate index.js / index.d.ts
	cd $(NODE_DIR) && npx napi build --platform
	@git diff --quiet -- $(NODE_DIR)/index.js $(NODE_DIR)/index.d.ts || { \
	  echo "bindings-node/index.js or index.d.ts changed on build: commit the regenerated files"; \
	  git --no-pager diff --stat -- $(NODE_DIR)/index.js $(NODE_DIR)/index.d.ts; exit 1; }

test-node-unit: node-build
	cd $(NODE_DIR) && npx tsc --strict --noEmit -p tsconfig.json
	cd $(NODE_DIR) && node --expose-gc --test test/

$(NEXT_DIR)/node_modules/.package-lock.json: $(NEXT_DIR)/package-lock.json
	cd $(NEXT_DIR) && npm ci --no-audit --no-fund --loglevel=error

# The example builds what it needs itself: `npm run build` first runs scripts/prepare-packages.mjs
# (prebuild), which builds bindings-node and packages/entitlements-react with their own npm scripts
# and replaces their copies in node_modules (.npmrc install-links=true: Next.js must see them
# inside node_modules to keep the native addon external) with the files `npm pack` would ship.
# test/billing.test.mjs runs the license server's debug binary (the one test-server-e2e builds).
test-node-nextjs: node-build $(NEXT_DIR)/node_modules/.package-lock.json
	@$(MAKE) -s deps-chromium
	cargo build -p dev-health-license-server
	cd $(NEXT_DIR) && node scripts/readme-page.mjs && npm run build
	cd $(NEXT_DIR) && DHL_BIN=$(SERVER_BIN) node --test test/

test-node: test-node-unit test-node-nextjs ## Node binding: d.ts check, vectors, jose interop, Next.js app in Chromium

$(NODE_BENCH_DIR)/node_modules/.package-lock.json: $(NODE_BENCH_DIR)/package-lock.json
	cd $(NODE_BENCH_DIR) && npm ci --no-audit --no-fund --loglevel=error

# A release build of the addon into benches/node/addon/ (the test build stays debug).
bench-node: node-deps $(NODE_BENCH_DIR)/node_modules/.package-lock.json ## verify vs jose and crypto.verify, has vs Set.has
	cd $(NODE_DIR) && npx napi build --platform --release --output-dir ../$(NODE_BENCH_DIR)/addon
	cd $(NODE_BENCH_DIR) && node bench.mjs
