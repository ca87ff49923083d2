# The docs check: every code block of README.md and docs/**/*.md runs as a reader would paste it
# (tests/docs/docs_harness.py, a Sybil plugin for pytest; the conventions are docs/writing-docs.md).
# It runs in the Python venv of mk/python.mk, with the native module built into it for the
# Python blocks; shell blocks build what they need through make targets, which reuse what the
# other targets of `make test` build.
# `make test` runs it last (see the Makefile), when what its blocks build is already built.
.PHONY: docs-test

DOCS_STAMP := $(CURDIR)/.venv/.dhe-docs-requirements-installed
# The pages checked; `make docs-test DOCS=docs/cli.md` checks one.
DOCS ?= README.md $(wildcard docs/*.md docs/*/*.md)

$(DOCS_STAMP): tests/docs/requirements.txt | python-venv
	$(VENV_PY) -m pip install -q --disable-pip-version-check -r tests/docs/requirements.txt
	@touch $@

docs-test: $(DOCS_STAMP) python-develop ## run every code block of README.md and docs/ (see docs/writing-docs.md)
	cd tests/docs && $(VENV_PY) -m mypy --strict docs_harness.py test_harness.py
	cd tests/docs && $(VENV_PY) -m pytest -p docs_harness -p no:cacheprovider -q --durations=8 \
	  --rootdir=$(CURDIR) test_harness.py $(addprefix $(CURDIR)/,$(DOCS))
