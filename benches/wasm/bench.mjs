// make bench-wasm: license verification in WebAssembly (V8, Node) against
//   * bare ed25519-dalek verify_strict in the same wasm module (BenchStrictVerifier, feature `bench`),
//   * @noble/curves ed25519.verify (pure JS, strict RFC 8032 mode: zip215 false),
// on one EdDSA license token signed here. Goals (issue 5): full verify <= 1.15x bare verify_strict,
// >= 10x faster than @noble/curves. Reports figures; the numbers never fail a test.
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WASM_DIR = join(ROOT, "bindings-wasm");
const require = createRequire(join(WASM_DIR, "package.json"));
const api = require(process.env.WASM_BENCH_PKG ?? join(WASM_DIR, "pkg-bench", "index.js"));
const { ed25519 } = await import(pathToFileURL(join(WASM_DIR, "node_modules/@noble/curves/ed25519.js")).href);

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
const NOW = 1_800_000_000;

// A realistic v2 license, signed with a fixed seed.
const seed = new Uint8Array(32).map((_, i) => i + 1);
const publicKey = ed25519.getPublicKey(seed);
const header = b64url(Buffer.from(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid: "bench" })));
const claims = b64url(
  Buffer.from(
    JSON.stringify({
      iss: "fullchaos.studio",
      sub: "org_acme",
      iat: NOW - 86_400,
      exp: NOW + 365 * 86_400,
      jti: "lic_bench_0001",
      tier: "enterprise",
      features: { ask_dev: true },
      limits: { users: 250, repos: -1 },
      org_name: "Acme Inc",
      contact_email: "it@acme.example",
      license_type: "self_hosted",
    }),
  ),
);
const signingInput = new TextEncoder().encode(`${header}.${claims}`);
const signature = ed25519.sign(signingInput, seed);
const token = `${header}.${claims}.${b64url(signature)}`;

const keyring = api.Keyring.fromJwks({ keys: [{ kty: "OKP", crv: "Ed25519", kid: "bench", x: b64url(publicKey) }] });
const verifier = new api.Verifier(keyring);
const bare = new api.BenchStrictVerifier(publicKey);

// Every contender must accept the token before it is timed.
const license = verifier.verify(token, NOW);
if (license.status !== "active" || license.tier !== "enterprise") throw new Error("the wasm verifier rejected the bench token");
license.free();
if (!bare.verify(signingInput, signature)) throw new Error("bare verify_strict rejected the bench signature");
if (!ed25519.verify(signature, signingInput, publicKey, { zip215: false })) throw new Error("noble rejected the bench signature");

const contenders = {
  "wasm Verifier.verify (full license check)": () => verifier.verify(token, NOW).free(),
  "wasm bare dalek verify_strict": () => bare.verify(signingInput, signature),
  "@noble/curves ed25519.verify (JS)": () => ed25519.verify(signature, signingInput, publicKey, { zip215: false }),
};

/** Microseconds per call of one batch of `iterations` calls. */
function batch(fn, iterations) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

// Rounds interleave the contenders so that load on a shared machine hits them alike; each
// figure is the median of its rounds, after a warm-up round.
const ROUNDS = 15;
const iterations = (name) => (name.startsWith("@noble") ? 20 : 200);
const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, fn] of Object.entries(contenders)) {
    const us = batch(fn, iterations(name));
    if (round > 0) samples[name].push(us);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.fromEntries(Object.entries(samples).map(([name, xs]) => [name, median(xs)]));
const [full, bareUs, noble] = Object.values(results);

console.log(`\nEd25519 license verification, Node ${process.version} (V8), median µs per call`);
console.log("| contender | µs/verify |");
console.log("|---|---:|");
for (const [name, us] of Object.entries(results)) console.log(`| ${name} | ${us.toFixed(1)} |`);
const overhead = full / bareUs;
const speedup = noble / full;
console.log(`\nfull verify / bare verify_strict: ${overhead.toFixed(2)}x (goal <= 1.15x: ${overhead <= 1.15 ? "met" : "NOT met"})`);
console.log(`@noble/curves / full verify: ${speedup.toFixed(1)}x faster (goal >= 10x: ${speedup >= 10 ? "met" : "NOT met"})`);
