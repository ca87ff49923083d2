// Every conformance vector (tests/vectors, files 1-6) through the Node build.
import { describe, test } from "node:test";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { casesOf, runCase, vectorFilesIn, wycheproofMismatches } from "./conformance.mjs";

const require = createRequire(import.meta.url);
const api = require("../pkg/node/index.js");
const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));

// Every file of the directory: one without a runner fails here instead of being skipped.
for (const file of vectorFilesIn(readdirSync(vectors))) {
  const doc = JSON.parse(readFileSync(`${vectors}${file}.json`, "utf8"));
  describe(`${file}.json (node)`, () => {
    for (const c of casesOf(file, doc)) {
      test(c.name, () => runCase(api, file, c));
    }
  });
}

test("wycheproof_ed25519.json (node): every case gets its expected answer", () => {
  const suite = JSON.parse(readFileSync(`${vectors}wycheproof_ed25519.json`, "utf8"));
  const { wrong, counts } = wycheproofMismatches(api, suite);
  assert.deepEqual(wrong, []);
  assert.deepEqual(counts, { valid: 88, invalid: 63 });
});
