# Packages built on the bindings: @dev-health/entitlements-react (packages/entitlements-react).
.PHONY: test-react

REACT_DIR := packages/entitlements-react

TEST_TARGETS += test-react

$(REACT_DIR)/node_modules/.package-lock.json: $(REACT_DIR)/package-lock.json
	cd $(REACT_DIR) && npm ci --no-audit --no-fund --loglevel=error

# The package's tests import the addon from bindings-node (a symlink in its node_modules).
test-react: node-build $(REACT_DIR)/node_modules/.package-lock.json ## React/Next.js package: tsc --strict build (ESM + .d.ts), UpgradeGate, hooks, gated handlers, getEntitlements
	cd $(REACT_DIR) && npm run build && npm test
