// The static server behind `make viewer`: the viewer's default JWKS URL (/.well-known/jwks.json on
// its own origin) leads to a license server's keys, or is served from a file (the browser tests).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { serve } from "./support/serve.mjs";

test("the default JWKS URL redirects to the license server named by make viewer", async () => {
  const upstream = "http://127.0.0.1:8080/.well-known/jwks.json";
  const server = await serve({ jwksUrl: upstream });
  try {
    const res = await fetch(`${server.url}/.well-known/jwks.json`, { redirect: "manual" });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get("location"), upstream);
    const page = await fetch(`${server.url}/examples/license-viewer/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /JWKS URL/);
  } finally {
    await server.close();
  }
});

test("a JWKS file, when given, is served at the default JWKS URL instead", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dh-serve-"));
  const file = join(dir, "jwks.json");
  writeFileSync(file, '{"keys":[]}');
  const server = await serve({ jwksFile: file, jwksUrl: "http://127.0.0.1:8080/.well-known/jwks.json" });
  try {
    const res = await fetch(`${server.url}/.well-known/jwks.json`, { redirect: "manual" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { keys: [] });
  } finally {
    await server.close();
  }
});

test("without either, the default JWKS URL is not found", async () => {
  const server = await serve();
  try {
    assert.equal((await fetch(`${server.url}/.well-known/jwks.json`)).status, 404);
  } finally {
    await server.close();
  }
});
