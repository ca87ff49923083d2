// The Node build loads (CommonJS, synchronously) and answers with the core's codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const api = require("../pkg/node/index.js");

test("the node build loads and verifies with stable error codes", () => {
  const keys = api.Keyring.parse("k1=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=");
  assert.deepEqual(keys.kids, ["k1"]);
  const verifier = new api.Verifier(keys);
  assert.throws(
    () => verifier.verify("eyJhbGciOiJub25lIn0.e30.", 1_700_000_000),
    (e) => e instanceof Error && e.name === "EntitlementsError" && e.code === "unsupported_algorithm",
  );
});
