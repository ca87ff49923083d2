# SPEC §1.3 and §7.4: the vendor keys compiled in from DEV_HEALTH_EMBEDDED_JWKS. The core's tests
# are built without it (an empty embedded keyring), so this target builds the `embedded_keys`
# example with several key files, in a target directory of its own (the variable is part of the
# build: sharing target/ would rebuild the core and everything above it twice):
#   no file            -> no embedded key; a token signed by the vendor key is unknown_key_id
#   a vendor key       -> embedded; the environment verifier accepts that token (active)
#   RFC 8032's TEST 1  -> built, but the embedded keyring is refused at run time (invalid_key)
#   the all-zero key   -> the build itself fails, naming the documented test key
.PHONY: test-embedded-keys

EMBEDDED_TARGET := $(CURDIR)/target/embedded-keys
EMBEDDED_RUN = CARGO_TARGET_DIR=$(EMBEDDED_TARGET) cargo run -q -p dev-health-entitlements --example embedded_keys --

test-embedded-keys: ## the build-time embedded keyring: a vendor key trusted, test keys refused
	@tmp=$$(mktemp -d /tmp/dhl-embedded.XXXXXX); trap 'rm -rf "$$tmp"' EXIT; \
	token=$$(python3 -c 'import json,sys; c={c["name"]: c for c in json.load(open("tests/vectors/verify.json"))["cases"]}["v2_signed_by_second_trusted_key"]; print(c["token"], c["now"])'); \
	jwk() { printf '{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"%s","x":"%s"}]}' "$$1" "$$2" > "$$tmp/$$1.json"; }; \
	jwk test-one iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w; \
	jwk rfc8032-1 11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo; \
	jwk zero O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik; \
	expect() { if ! grep -qF -- "$$2" <<<"$$3"; then echo "test-embedded-keys: $$1: expected '$$2' in: $$3" >&2; exit 1; fi; }; \
	out=$$(DEV_HEALTH_EMBEDDED_JWKS= $(EMBEDDED_RUN) $$token); \
	expect "no file" "embedded: " "$$out"; expect "no file" "verify: error unknown_key_id" "$$out"; \
	out=$$(DEV_HEALTH_EMBEDDED_JWKS=$$tmp/test-one.json $(EMBEDDED_RUN) $$token); \
	expect "vendor key" "embedded: test-one" "$$out"; expect "vendor key" "verify: active" "$$out"; \
	out=$$(DEV_HEALTH_EMBEDDED_JWKS=$$tmp/rfc8032-1.json $(EMBEDDED_RUN) $$token); \
	expect "RFC 8032 key" "embedded: error invalid_key" "$$out"; expect "RFC 8032 key" "RFC 8032" "$$out"; \
	expect "RFC 8032 key" "verify: error invalid_key" "$$out"; \
	if out=$$(DEV_HEALTH_EMBEDDED_JWKS=$$tmp/zero.json $(EMBEDDED_RUN) $$token 2>&1); then \
	  echo "test-embedded-keys: a build embedding the all-zero test key succeeded: $$out" >&2; exit 1; fi; \
	expect "all-zero key" "is the documented test key" "$$out"; \
	echo "test-embedded-keys: 4 passed, 0 failed"

TEST_TARGETS += test-embedded-keys
