# The Python binding (bindings-python/): a venv at .venv with the pinned tools, the native module
# built into it by maturin, then mypy --strict and pytest. Benchmarks use a release build.
.PHONY: python-venv python-develop python-develop-release test-python bench-python bench-python-compat

PY_DIR := bindings-python
VENV := $(CURDIR)/.venv
VENV_PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.dhe-requirements-installed
PY_ENV := VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH

$(PY_STAMP): $(PY_DIR)/requirements-dev.txt
	test -x $(VENV_PY) || python3 -m venv $(VENV)
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r $(PY_DIR)/requirements-dev.txt
	@touch $@

python-venv: $(PY_STAMP) ## the Python venv with the pinned test and bench tools

python-develop: $(PY_STAMP) ## build the native module (debug) into the venv
	cd $(PY_DIR) && $(PY_ENV) maturin develop -q

python-develop-release: $(PY_STAMP)
	cd $(PY_DIR) && $(PY_ENV) maturin develop -q --release

test-python: python-develop ## mypy --strict and stubtest on the package and stubs, then every pytest (vectors, FastAPI, interop)
	cd $(PY_DIR) && $(PY_ENV) mypy --strict python tests ../benches/python
	cd $(PY_DIR) && $(PY_ENV) python -m mypy.stubtest dev_health_entitlements._native
	cd $(PY_DIR) && $(PY_ENV) python -m pytest -q tests

bench-python: python-develop-release ## Python binding vs PyJWT, cryptography, frozenset, bare FastAPI
	$(PY_ENV) python benches/python/bench.py

bench-python-compat: python-develop-release ## dev-health-ops' validator (PyNaCl + pydantic) vs the compat validator
	$(PY_ENV) python benches/python/compat_bench.py

TEST_TARGETS += test-python
BENCH_TARGETS += bench-python bench-python-compat
