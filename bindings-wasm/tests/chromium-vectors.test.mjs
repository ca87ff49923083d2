// Every conformance vector in headless Chromium, through the web build (ES module).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./support/browser.mjs";
import { serve } from "./support/serve.mjs";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { VECTOR_FILES, casesOf } from "./conformance.mjs";

let server;
let browser;
let run;
let clock;

before(async () => {
  server = await serve();
  browser = await launch();
  const page = await browser.context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${server.url}/bindings-wasm/tests/browser/vectors.html`);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  run = await page.evaluate(() => window.runVectors());
  clock = await page.evaluate(() => window.clockCheck());
  assert.deepEqual(problems, []);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));

describe("conformance vectors in Chromium (web build)", () => {
  test("the page ran in Chromium and ran every case of every file", () => {
    assert.match(run.userAgent, /Chrome\//);
    const files = [...new Set(run.results.map((r) => r.file))];
    assert.deepEqual(files, VECTOR_FILES);
  });
  test("an omitted now reads the browser's clock", () => {
    assert.deepEqual(clock.atVectorNow, ["active", clock.expectedNow]);
    assert.equal(clock.afterGrace, "expired");
  });
  for (const file of VECTOR_FILES) {
    const doc = JSON.parse(readFileSync(`${vectors}${file}.json`, "utf8"));
    describe(`${file}.json (chromium)`, () => {
      for (const c of casesOf(file, doc)) {
        test(c.name, () => {
          const r = run.results.find((x) => x.file === file && x.name === c.name);
          assert.ok(r, "the case did not run in the page");
          assert.ok(r.ok, r.error);
        });
      }
    });
  }
});
