# Mutation testing (issue 18): cargo-mutants (pinned, installed into .tools) changes the core one
# mutant at a time (an operator swapped, a function body replaced by a default, a match guard
# forced) and runs the core's tests; a mutant no test fails is "missed". Not part of `make test`:
# each mutant rebuilds the core and its test binaries, about 30 s here, and the seven modules
# below hold about 900 mutants. The last run's counts and every survivor's status are in
# docs/mutants.md.
#
#   make mutants                               every module below
#   make mutants MUTANTS_FILES=core/src/verify.rs   one module (a glob works: 'core/src/token/*.rs')
#
# The tests run are the core's unit and integration tests (`--lib --tests`; the doctests add
# a minute per mutant and kill nothing the others miss) with all features, as `make test-rust`
# builds them. Results go to target/mutants/mutants.out (missed.txt, caught.txt, timeout.txt,
# unviable.txt, outcomes.json).
.PHONY: deps-mutants mutants

CARGO_MUTANTS_VERSION := 27.1.0
CARGO_MUTANTS := $(TOOLS)/bin/cargo-mutants
MUTANTS_FILES ?= core/src/verify.rs core/src/token/*.rs core/src/session.rs core/src/keys.rs \
  core/src/claims.rs core/src/stripe/*.rs core/src/stripe/**/*.rs core/src/resolve.rs
MUTANTS_JOBS ?= 1

deps-mutants: ## cargo-mutants (pinned) into .tools
	@test "$$($(CARGO_MUTANTS) mutants --version 2>/dev/null)" = "cargo-mutants $(CARGO_MUTANTS_VERSION)" || \
	  cargo install cargo-mutants --version $(CARGO_MUTANTS_VERSION) --locked --debug --root $(TOOLS) --force

mutants: deps-mutants ## mutation testing of the core (slow: see mk/mutants.mk); report in target/mutants
	$(CARGO_MUTANTS) mutants -p dev-health-entitlements --all-features \
	  $(foreach f,$(MUTANTS_FILES),--file '$(f)') \
	  --jobs $(MUTANTS_JOBS) --timeout 90 --build-timeout 600 --output target/mutants \
	  --cargo-test-arg=--lib --cargo-test-arg=--tests
