// Every conformance vector (tests/vectors, files 1-6) through the Node build.
import { describe, test } from "node:test";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { casesOf, runCase, vectorFilesIn } from "./conformance.mjs";

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
