# Packages built on the bindings: @dev-health/entitlements-react (packages/entitlements-react).
.PHONY: test-react

REACT_DIR := packages/entitlements-react

TEST_TARGETS += test-react

$(REACT_DIR)/node_modules/.package-lock.json: $(REACT_DIR)/package-lock.json
	cd $(REACT_DIR) && npm ci --no-audit --no-fund --loglevel=error

# The package's tests import the addon from bindings-node (a symlink in its node_modules).
test-react: node-build $(REACT_DIR)/node_modules/.package-lock.json ## React/Next.js package: tsc --strict build (ESM + .d.ts), UpgradeGate, hooks, gated handlers, getEntitlements
	cd $(REACT_DIR) && npm run build && npm test

# OpenFeature providers: one boolean evaluation through each official SDK against `has`, on
# release builds (the Node addon into benches/node/addon/ with the provider beside it).
.PHONY: bench-openfeature
BENCH_TARGETS += bench-openfeature

bench-openfeature: python-develop-release node-deps $(NODE_BENCH_DIR)/node_modules/.package-lock.json ## OpenFeature SDK evaluation vs has (Python and Node)
	$(PY_ENV) python benches/python/openfeature_bench.py
	cd $(NODE_DIR) && npx napi build --platform --release --output-dir ../$(NODE_BENCH_DIR)/addon
	cp $(NODE_DIR)/openfeature.js $(NODE_BENCH_DIR)/addon/
	cd $(NODE_BENCH_DIR) && node openfeature.mjs
