// The built package as an npm consumer sees it: its exports resolve for import and require in
// Node (the `node` condition, CommonJS, synchronous), and `npm pack` ships both builds.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const PKG = fileURLToPath(new URL("../pkg/", import.meta.url));
let dir;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "dh-wasm-consumer-"));
  mkdirSync(join(dir, "node_modules", "@dev-health"), { recursive: true });
  symlinkSync(PKG, join(dir, "node_modules", "@dev-health", "entitlements-wasm"), "dir");
});

after(() => rmSync(dir, { recursive: true, force: true }));

const node = (...args) => execFileSync(process.execPath, args, { cwd: dir, encoding: "utf8" }).trim();

test("import and require of @dev-health/entitlements-wasm load the Node build", () => {
  const program = `Catalog.default().name + " " + typeof SessionVerifier + " " + new Verifier(Keyring.parse("k=O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=")).issuer`;
  assert.equal(
    node("--input-type=module", "-e", `import { Catalog, Keyring, Verifier, SessionVerifier } from "@dev-health/entitlements-wasm"; console.log(${program});`),
    "default function fullchaos.studio",
  );
  assert.equal(
    node("-e", `const { Catalog, Keyring, Verifier, SessionVerifier } = require("@dev-health/entitlements-wasm"); console.log(${program});`),
    "default function fullchaos.studio",
  );
});

test("npm pack ships the web and node builds with their types", () => {
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PKG, encoding: "utf8" }));
  assert.equal(packed.name, "@dev-health/entitlements-wasm");
  const files = packed.files.map((f) => f.path).sort();
  for (const f of ["web/index.js", "web/glue.js", "web/index.d.ts", "web/index_bg.wasm", "node/index.js", "node/glue.js", "node/index.d.ts", "node/index_bg.wasm", "package.json", "README.md"]) {
    assert.ok(files.includes(f), `${f} is not in the package: ${files.join(", ")}`);
  }
  assert.ok(!files.some((f) => f.startsWith("web-full/") || f.startsWith(".build/")), files.join(", "));
});
