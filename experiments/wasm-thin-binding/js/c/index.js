// Hand-written glue for variant C (no wasm-bindgen): one `call` export, strings through memory.
let x;
const enc = new TextEncoder();
const dec = new TextDecoder();
const call = (op, a = 0, b = 0, n = 0, y = 0, flags = 0, s1 = "", s2 = "", s3 = "") => {
  const e = [s1, s2, s3].map((s) => enc.encode(s ?? ""));
  const p = x.buf(e[0].length + e[1].length + e[2].length);
  const m = new Uint8Array(x.memory.buffer);
  m.set(e[0], p);
  m.set(e[1], p + e[0].length);
  m.set(e[2], p + e[0].length + e[1].length);
  return x.call(op, a, b, n, y, flags, e[0].length, e[1].length);
};
const S = (...a) => {
  const n = call(...a);
  return dec.decode(new Uint8Array(x.memory.buffer, x.out(), n));
};
const some = (v) => v != null;
export const keyring = (kind, text) => S(0, kind, 0, 0, 0, 0, text);
export const keyring_add = (h, kid, key) => S(1, h, 0, 0, 0, 0, kid, key);
export const keyring_jwks = (h) => S(2, h);
export const verifier = (kh, issuer, leeway, acceptV1, deploymentId, hwm) =>
  call(3, kh, 0, leeway ?? 0, hwm ?? 0,
    some(issuer) | (some(leeway) << 1) | (some(acceptV1) << 2) | (!!acceptV1 << 3) | (some(deploymentId) << 4) | (some(hwm) << 5),
    issuer, deploymentId);
export const verifier_set = (vh, what, h) => call(4, vh, h, 0, 0, what);
export const verify = (vh, token, now) => S(5, vh, 0, now, 0, 0, token);
export const num = (h, op, v) => call(6, h, op, v);
export const revocation = (token, kh, issuer, now) => S(7, kh, 0, now, 0, some(issuer), token, issuer);
export const contains = (h, s) => !!call(8, h, 0, 0, 0, 0, s);
export const inspect = (token) => S(9, 0, 0, 0, 0, 0, token);
export const catalog = (kind, text) => S(10, kind, 0, 0, 0, 0, text);
export const catalog_info = (h) => S(11, h);
export const permissions = (h, role) => S(12, h, 0, 0, 0, 0, role);
export const can = (h, role, perm) => !!call(13, h, 0, 0, 0, 0, role, perm);
export const resolve = (ch, lh, opts, now) => S(14, ch, lh, now, 0, 0, opts);
export const entitlements_from_json = (ch, json) => S(15, ch, 0, 0, 0, 0, json);
export const query = (h, op, s) => S(16, h, op, 0, 0, 0, s);
export const limit = (h, name, current, op) => call(17, h, op, current, 0, 0, name);
export const gate = (h, f, tier, href) => S(18, h, 0, 0, 0, some(tier) | (some(href) << 1), f, tier, href);
export const free = (h) => call(19, h);
export const license_json = (h) => S(20, h);

export function initSync(module) {
  if (module && module.module) module = module.module;
  if (!(module instanceof WebAssembly.Module)) module = new WebAssembly.Module(module);
  x = new WebAssembly.Instance(module, {}).exports;
  return x;
}
export default async function init(input) {
  if (x) return x;
  if (input && input.module_or_path) input = input.module_or_path;
  input ??= new URL("index_bg.wasm", import.meta.url);
  if (typeof input === "string" || input instanceof URL || (typeof Request === "function" && input instanceof Request)) input = fetch(input);
  input = await input;
  if (input instanceof WebAssembly.Module) return initSync(input);
  const r = typeof Response === "function" && input instanceof Response
    ? await WebAssembly.instantiateStreaming(input, {}).catch(async () => WebAssembly.instantiate(await input.arrayBuffer(), {}))
    : await WebAssembly.instantiate(input, {});
  x = (r.instance ?? r).exports;
  return x;
}
