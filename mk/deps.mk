# System packages some tests need, installed once (CI runs as root on a fresh machine).
.PHONY: deps-apt-update deps-chromium deps-postgres

APT_STAMP := $(TOOLS)/.apt-updated
$(APT_STAMP):
	@mkdir -p $(TOOLS)
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	@touch $@

deps-chromium: ## Debian's Chromium for headless browser tests
	@command -v chromium >/dev/null || { $(MAKE) -s $(APT_STAMP) && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

deps-postgres: ## Debian's PostgreSQL server binaries (a private cluster is started by the tests)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(MAKE) -s $(APT_STAMP) && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
