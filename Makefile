# The one entry point for people and CI. `make run` starts the license server; `make test` installs
# what it needs and runs every check. Each part of the project keeps its targets in mk/<part>.mk and
# adds them to TEST_TARGETS / BENCH_TARGETS.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export CARGO_TERM_COLOR ?= never
TOOLS := $(CURDIR)/.tools
TEST_TARGETS :=
BENCH_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help test bench lint
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

# docs-test last: its blocks build the server, the packages and the examples, which the other
# targets have built by then.
test: lint test-rust $(TEST_TARGETS) docs-test ## install what is needed and run every check
	@echo "make test: all checks passed"

bench: $(BENCH_TARGETS) ## run every benchmark against its peer

lint: fmt-check clippy ## cargo fmt --check and clippy -D warnings
