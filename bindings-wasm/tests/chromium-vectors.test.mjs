// Every conformance vector in headless Chromium, through the web build (ES module).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launch } from "./support/browser.mjs";
import { serve } from "./support/serve.mjs";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { casesOf, vectorFilesIn } from "./conformance.mjs";

let server;
let browser;
let run;
let clock;
let wycheproof;

// Every file of the directory (the page cannot list it): one without a runner fails here.
const vectors = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));
const files = vectorFilesIn(readdirSync(vectors));

before(async () => {
  server = await serve();
  browser = await launch();
  const page = await browser.context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  await page.goto(`${server.url}/bindings-wasm/tests/browser/vectors.html`);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
  run = await page.evaluate((names) => window.runVectors(names), files);
  clock = await page.evaluate(() => window.clockCheck());
  wycheproof = await page.evaluate(() => window.runWycheproof());
  assert.deepEqual(problems, []);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

describe("conformance vectors in Chromium (web build)", () => {
  test("the page ran in Chromium and ran every case of every file", () => {
    assert.match(run.userAgent, /Chrome\//);
    assert.deepEqual([...new Set(run.results.map((r) => r.file))], files);
  });
  test("an omitted now reads the browser's clock", () => {
    assert.deepEqual(clock.atVectorNow, ["active", clock.expectedNow]);
    assert.equal(clock.afterGrace, "expired");
  });
  test("wycheproof_ed25519.json (chromium, web build): every case gets its expected answer", () => {
    assert.deepEqual(wycheproof.wrong, []);
    assert.deepEqual(wycheproof.counts, { valid: 88, invalid: 63 });
  });
  for (const file of files) {
    const doc = JSON.parse(readFileSync(`${vectors}${file}.json`, "utf8"));
    describe(`${file}.json (chromium)`, () => {
      for (const c of casesOf(file, doc)) {
        test(c.name, () => {
          const r = run.results.find((x) => x.file === file && x.name === c.name);
          assert.ok(r, "the case did not run in the page");
          assert.ok(r.ok, r.error);
          if (r.webRefused !== null) {
            assert.equal(r.webRefused, true, "the web module (no ops-compat) gave the compatibility answer");
          }
        });
      }
    });
  }
});
