// Every conformance vector (tests/vectors, files 1-6) through the Node build.
import { describe, test } from "node:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { VECTOR_FILES, casesOf, runCase } from "./conformance.mjs";

const require = createRequire(import.meta.url);
const api = require("../pkg/node/index.js");
const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));

for (const file of VECTOR_FILES) {
  const doc = JSON.parse(readFileSync(`${vectors}${file}.json`, "utf8"));
  describe(`${file}.json (node)`, () => {
    for (const c of casesOf(file, doc)) {
      test(c.name, () => runCase(api, file, c));
    }
  });
}
