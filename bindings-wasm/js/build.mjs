// Wraps one wasm-bindgen output directory into a build of the package (called by `make wasm`):
//   node js/build.mjs <dir> <web|nodejs> [full|bench]
// <dir> holds wasm-bindgen's output for that target (`--out-name index`). Its glue moves to
// glue.js, and index.js becomes js/api.js over it: an ES module for `web`, a CommonJS module
// with static named exports for `nodejs` (so that Node's `import { Catalog }` finds them). The
// declarations index.d.ts are js/interface.d.ts (generated from the core's interface layer) +
// js/types.d.ts + js/api.d.ts, plus js/full.d.ts for the `full`
// build and js/init.d.ts (the loader) for the web one.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [dir, target, variant] = process.argv.slice(2);
if (!dir || !["web", "nodejs"].includes(target) || (variant && !["full", "bench"].includes(variant))) {
  console.error("usage: node js/build.mjs <dir> <web|nodejs> [full|bench]");
  process.exit(2);
}
const full = variant === "full";
const js = (name) => readFileSync(fileURLToPath(new URL(name, import.meta.url)), "utf8");

const names = ["Keyring", "Verifier", "License", "RevocationList", "Catalog", "Entitlements"]
  .concat(["upgradeGate", "inspectToken", "isEntitlementsError", "LicenseError", "EntitlementsError", "version"])
  .concat(full ? ["SessionVerifier", "verifyStripeSignature", "replayStripeEvents"] : [])
  .concat(variant === "bench" ? ["BenchStrictVerifier"] : []);

renameSync(join(dir, "index.js"), join(dir, "glue.js"));
rmSync(join(dir, "index.d.ts"));
const banner = "// @dev-health/entitlements-wasm: built by js/build.mjs from js/api.js; edit those, not this.\n";
const api = js("api.js");
let index;
if (target === "web") {
  index = `${banner}import init, { initSync } from "./glue.js";
import * as w from "./glue.js";

${api}
const api = entitlementsApi(w);
export const { ${names.join(", ")} } = api;
export { init as default, initSync };
`;
} else {
  index = `${banner}"use strict";
const w = require("./glue.js");

${api}
const api = entitlementsApi(w);
${names.map((n) => `exports.${n} = api.${n};`).join("\n")}
`;
}
writeFileSync(join(dir, "index.js"), index);
const types = [js("interface.d.ts"), js("types.d.ts"), js("api.d.ts")]
  .concat(full ? [js("full.d.ts")] : [])
  .concat(target === "web" ? [js("init.d.ts")] : []);
writeFileSync(join(dir, "index.d.ts"), types.join("\n"));
