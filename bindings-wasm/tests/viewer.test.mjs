// The license viewer (examples/license-viewer) in headless Chromium: licenses signed here with the
// reference CLI (dev-health-license keygen / issue), keys served as /.well-known/jwks.json on the
// page's origin, and what the page shows for a valid, a tampered, an expired and a grace license.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "./support/browser.mjs";
import { serve } from "./support/serve.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUTPUT = join(ROOT, "tests", "output", "wasm-viewer");
const DAY = 86_400;
const NOW = Math.floor(Date.now() / 1000);

function cli(...args) {
  return execFileSync("cargo", ["run", "-q", "-p", "dev-health-license-server", "--", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

let dir;
let server;
let browser;
let page;
const licenses = {};

function issue(...args) {
  return cli("issue", "--signing-key", join(dir, "viewer-test.seed"), ...args);
}

/** Rewrites the claims of a v2 token (keeping its signature): a tampered license. */
function tamper(token) {
  const [header, claims, signature] = token.split(".");
  const json = JSON.parse(Buffer.from(claims, "base64url").toString("utf8"));
  json.tier = "enterprise";
  json.limits = { users: -1 };
  return [header, Buffer.from(JSON.stringify(json)).toString("base64url"), signature].join(".");
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "dh-viewer-"));
  cli("keygen", "--kid", "viewer-test", "--out", dir);
  const jwk = JSON.parse(readFileSync(join(dir, "viewer-test.jwk.json"), "utf8"));
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [jwk] }));
  licenses.valid = issue(
    "--org", "org_acme", "--org-name", "Acme Inc", "--tier", "enterprise",
    "--iat", String(NOW - 10 * DAY), "--exp", String(NOW + 200 * DAY), "--license-id", "lic_viewer_valid",
    "--feature", "ask_dev=true", "--limit", "users=250",
  );
  licenses.tampered = tamper(
    issue("--org", "org_acme", "--tier", "team", "--iat", String(NOW - DAY), "--exp", String(NOW + 100 * DAY)),
  );
  // Team: 14 grace days. Expired 60 days ago → past grace; expired 3 days (and 100 s) ago → 11 left.
  licenses.expired = issue(
    "--org", "org_old", "--tier", "team", "--iat", String(NOW - 425 * DAY), "--exp", String(NOW - 60 * DAY),
    "--license-id", "lic_viewer_expired",
  );
  licenses.grace = issue(
    "--org", "org_late", "--org-name", "Late Payers Ltd", "--tier", "team",
    "--iat", String(NOW - 368 * DAY), "--exp", String(NOW - 3 * DAY - 100), "--license-id", "lic_viewer_grace",
  );
  // A "perpetual" license: exp past what a JS Date can hold (±8.64e12 s).
  licenses.farFuture = issue(
    "--org", "org_forever", "--org-name", '<img src=x onerror="document.body.dataset.pwned=1">',
    "--tier", "enterprise", "--iat", String(NOW - DAY), "--exp", "9000000000000",
    "--license-id", "lic_viewer_forever",
  );
  mkdirSync(OUTPUT, { recursive: true });
  server = await serve({ jwksFile: join(dir, "jwks.json") });
  browser = await launch();
  page = await browser.context.newPage();
  page.on("pageerror", (e) => {
    throw e;
  });
  await page.goto(`${server.url}/examples/license-viewer/`);
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function paste(token) {
  await page.fill("#license-text", token);
  await page.click("#check");
  await page.waitForSelector("#result:not([hidden])");
}

const text = (testId) => page.textContent(`[data-testid="${testId}"]`).then((t) => (t ?? "").trim());
const localDate = (unix) =>
  page.evaluate(
    (u) => new Intl.DateTimeFormat(undefined, { dateStyle: "long", timeStyle: "short" }).format(new Date(u * 1000)),
    unix,
  );

describe("license viewer in Chromium", () => {
  test("loads the trusted keys from /.well-known/jwks.json on its origin", async () => {
    assert.equal(await text("keys-status"), "1 trusted key loaded: viewer-test.");
  });

  test("a valid license: active, its facts, and what it unlocks", async () => {
    await paste(licenses.valid);
    assert.match(await text("verdict"), /^Valid — active/);
    assert.equal(await page.getAttribute("#verdict", "data-kind"), "active");
    assert.equal(await text("status"), "Active");
    assert.equal(await text("tier"), "Enterprise");
    assert.equal(await text("org"), "Acme Inc (org_acme)");
    assert.equal(await text("license-id"), "lic_viewer_valid");
    assert.equal(await text("kid"), "viewer-test");
    assert.equal(await text("expires"), await localDate(NOW + 200 * DAY));
    assert.equal(await text("issued"), await localDate(NOW - 10 * DAY));
    assert.match(await text("grace-end"), /30 days after expiry/);
    // Enterprise features on; the explicit grant shows as granted by the license; limits.
    assert.equal(await page.getAttribute('tr[data-feature="sso_saml"]', "data-on"), "true");
    assert.equal(await page.getAttribute('tr[data-feature="audit_log"]', "data-on"), "true");
    assert.match(await page.textContent('tr[data-feature="sso_saml"]'), /Included in the plan/);
    assert.match(await page.textContent('tr[data-limit="max_users"]'), /250/);
    assert.match(await page.textContent('tr[data-limit="max_orgs"]'), /Unlimited/);
    await page.screenshot({ path: join(OUTPUT, "valid.png"), fullPage: true });
  });

  test("a tampered license: not valid, invalid_signature, with what it claims", async () => {
    await paste(licenses.tampered);
    assert.match(await text("verdict"), /^Not valid/);
    assert.match(await text("verdict"), /altered/);
    assert.equal(await text("error-code"), "invalid_signature");
    assert.match(await text("claimed"), /"tier": "enterprise"/);
    assert.equal(await page.locator('[data-testid="tier"]').count(), 0);
    assert.equal(await page.isHidden("#unlocks"), true);
    await page.screenshot({ path: join(OUTPUT, "tampered.png"), fullPage: true });
  });

  test("an expired license: expired, and it unlocks only community features", async () => {
    await paste(licenses.expired);
    assert.match(await text("verdict"), /^Expired/);
    assert.equal(await page.getAttribute("#verdict", "data-kind"), "expired");
    assert.equal(await text("status"), "Expired");
    assert.equal(await text("tier"), "Team");
    assert.equal(await text("license-id"), "lic_viewer_expired");
    assert.equal(await text("expires"), await localDate(NOW - 60 * DAY));
    assert.equal(await page.getAttribute('tr[data-feature="api_access"]', "data-on"), "false");
    assert.equal(await page.getAttribute('tr[data-feature="basic_analytics"]', "data-on"), "true");
    assert.match(await page.textContent('tr[data-limit="max_users"]'), /3/);
    await page.screenshot({ path: join(OUTPUT, "expired.png"), fullPage: true });
  });

  test("a license in grace: days left and the grace end date", async () => {
    await paste(licenses.grace);
    assert.equal(await text("verdict").then((t) => t.split("It expired")[0].trim()), "Valid — in its grace period, 11 days left");
    assert.equal(await page.getAttribute("#verdict", "data-kind"), "grace");
    assert.equal(await text("status"), "Grace period");
    assert.equal(await text("org"), "Late Payers Ltd (org_late)");
    assert.equal(await text("grace-end"), `${await localDate(NOW - 3 * DAY - 100 + 14 * DAY)} (14 days after expiry)`);
    assert.equal(await page.getAttribute('tr[data-feature="api_access"]', "data-on"), "true");
    assert.equal(await page.getAttribute('tr[data-feature="sso_saml"]', "data-on"), "false");
    assert.match(await page.textContent('tr[data-feature="sso_saml"]'), /Needs a higher plan \(Enterprise\)/);
    await page.screenshot({ path: join(OUTPUT, "grace.png"), fullPage: true });
  });

  test("a license file chosen with the file picker is read and checked", async () => {
    await page.fill("#license-text", "");
    await page.setInputFiles("#license-file", {
      name: "acme.lic",
      mimeType: "text/plain",
      buffer: Buffer.from(`${licenses.valid}\n`),
    });
    await page.waitForSelector('[data-testid="license-id"]');
    assert.equal(await text("license-id"), "lic_viewer_valid");
    assert.match(await text("verdict"), /^Valid — active/);
  });

  test("keyboard only: tab to the license box, type, check with Enter on the button", async () => {
    await page.fill("#license-text", "");
    await page.focus("#jwks-url");
    // URL field → Load keys → (license box)
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.id), "load-keys");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.id), "license-text");
    await page.keyboard.insertText("not-a-license");
    await page.focus("#check");
    await page.keyboard.press("Enter");
    assert.equal(await text("error-code"), "malformed_token");
  });

  test("a license expiring past the JS Date range is valid and shown; its org name is text", async () => {
    await paste(licenses.farFuture);
    assert.match(await text("verdict"), /^Valid — active/);
    assert.equal(await text("license-id"), "lic_viewer_forever");
    assert.equal(await text("tier"), "Enterprise");
    assert.match(await text("expires"), /9000000000000/);
    assert.equal(await text("org"), '<img src=x onerror="document.body.dataset.pwned=1"> (org_forever)');
    assert.equal(await page.locator("#facts img").count(), 0);
    assert.equal(await page.evaluate(() => document.body.dataset.pwned), undefined);
    assert.equal(await page.getAttribute('tr[data-feature="sso_saml"]', "data-on"), "true");
  });

  test("keys pasted as JWKS replace the URL's; an unknown key is named", async () => {
    await page.check('input[name="key-source"][value="paste"]');
    await page.fill(
      "#jwks-text",
      JSON.stringify({ keys: [{ kty: "OKP", crv: "Ed25519", kid: "other", x: "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik" }] }),
    );
    assert.equal(await text("keys-status"), "1 trusted key loaded: other.");
    await paste(licenses.valid);
    assert.equal(await text("error-code"), "unknown_key_id");
    assert.match(await text("verdict"), /does not trust/);
  });
});
