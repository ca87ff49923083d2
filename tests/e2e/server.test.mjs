// End to end, as Stripe and a customer would see it: the built `dev-health-license serve` binary
// over real HTTP on loopback, webhooks signed by the official Stripe library
// (`stripe.webhooks.generateTestHeaderString`), licenses and the revocation list verified with
// Node's own Ed25519 against /.well-known/jwks.json (no project code on this side).
//
// Environment: DHL_BIN (the binary; default target/debug/dev-health-license), DATABASE_URL
// (default: SQLite in a temp dir; the Makefile also runs it against PostgreSQL).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.DHL_BIN ?? path.join(here, '..', '..', 'target', 'debug', 'dev-health-license');
const WEBHOOK_SECRET = 'whsec_e2e_' + crypto.randomBytes(16).toString('hex');
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
const PRICE_TEAM = 'price_e2e_team';
const PRICE_ENTERPRISE = 'price_e2e_enterprise';
const DAY = 86400;

const stripe = new Stripe('sk_test_e2e_not_used_for_network');
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dhl-e2e-'));
const databaseUrl = process.env.DATABASE_URL ?? `sqlite://${workDir}/e2e.db`;

let child;
let base;
let logs = '';

async function startServer() {
  child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      LICENSE_SIGNING_KEY: crypto.randomBytes(32).toString('base64'),
      LICENSE_KEY_ID: 'e2e-key-1',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_PRICE_ID_TEAM: PRICE_TEAM,
      STRIPE_PRICE_ID_ENTERPRISE: PRICE_ENTERPRISE,
      ADMIN_TOKEN,
      RUST_LOG: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.on('data', (d) => {
    logs += d;
  });
  const lines = readline.createInterface({ input: child.stdout });
  base = await new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${logs}`)));
    lines.on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]);
    });
  });
}

after(() => {
  child?.kill('SIGTERM');
  fs.rmSync(workDir, { recursive: true, force: true });
});

async function call(method, urlPath, { body, token, headers = {} } = {}) {
  const res = await fetch(base + urlPath, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Sends an event exactly as Stripe would: raw JSON body, Stripe-Signature from the Stripe SDK. */
async function deliver(event, secret = WEBHOOK_SECRET) {
  const payload = JSON.stringify(event);
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
  // The SDK's own verifier accepts what we send: the header is genuine.
  if (secret === WEBHOOK_SECRET) stripe.webhooks.constructEvent(payload, header, secret);
  return call('POST', '/api/v1/billing/webhooks/stripe', {
    body: payload,
    headers: { 'stripe-signature': header },
  });
}

let seq = 0;
function subscriptionEvent(type, { org, status, price, periodEnd, created }) {
  seq += 1;
  return {
    id: `evt_e2e_${seq}_${crypto.randomBytes(4).toString('hex')}`,
    object: 'event',
    api_version: '2025-03-31.basil',
    type,
    created,
    livemode: false,
    data: {
      object: {
        id: 'sub_e2e_1',
        object: 'subscription',
        customer: 'cus_e2e_1',
        status,
        metadata: { org_id: org },
        items: {
          object: 'list',
          data: [{ id: `si_${seq}`, object: 'subscription_item', price: { id: price, object: 'price' }, current_period_end: periodEnd }],
        },
      },
    },
  };
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Verifies an EdDSA JWT against the server's JWKS with node:crypto; returns its claims. */
async function verifyWithJwks(token) {
  const jwks = (await call('GET', '/.well-known/jwks.json')).json;
  const [h, p, s] = token.split('.');
  const header = b64urlJson(h);
  assert.equal(header.alg, 'EdDSA');
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  assert.equal(jwk.kty, 'OKP');
  assert.equal(jwk.crv, 'Ed25519');
  assert.equal(jwk.d, undefined, 'no private part is published');
  const key = crypto.createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  const ok = crypto.verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
  assert.ok(ok, 'the signature verifies against /.well-known/jwks.json');
  // A flipped claim must not verify.
  const forged = Buffer.from(JSON.stringify({ ...b64urlJson(p), tier: 'enterprise', exp: 4102444800 })).toString('base64url');
  assert.equal(crypto.verify(null, Buffer.from(`${h}.${forged}`), key, Buffer.from(s, 'base64url')), false);
  return b64urlJson(p);
}

async function entitlements(org) {
  const r = await call('GET', `/api/v1/licensing/entitlements/${org}`, { token: ADMIN_TOKEN });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function currentLicense(org) {
  return call('GET', `/api/v1/licensing/license/${org}`, { token: ADMIN_TOKEN });
}

test('Stripe subscription lifecycle over HTTP, webhooks signed by the Stripe SDK', async () => {
  await startServer();
  assert.equal((await call('GET', '/healthz')).status, 200);
  const org = 'org_e2e';
  const now = Math.floor(Date.now() / 1000);
  const periodEnd = now + 30 * DAY;

  // create org
  const created = await call('POST', '/api/v1/admin/orgs', { token: ADMIN_TOKEN, body: { id: org, name: 'E2E Corp' } });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.tier, 'community');

  // A forged delivery is refused and writes nothing.
  const forged = await deliver(subscriptionEvent('customer.subscription.created', { org, status: 'active', price: PRICE_ENTERPRISE, periodEnd, created: now - 60 }), 'whsec_not_ours');
  assert.equal(forged.status, 400);
  assert.deepEqual(forged.json, { detail: 'Invalid Stripe signature' });
  assert.equal((await entitlements(org)).tier, 'community');

  // A checkout the server did not create (a Payment Link naming the org): recorded as
  // untrusted_checkout, and no customer is linked.
  seq += 1;
  const checkout = {
    id: `evt_e2e_checkout_${crypto.randomBytes(4).toString('hex')}`,
    object: 'event',
    type: 'checkout.session.completed',
    created: now - 50,
    data: { object: { id: 'cs_e2e_1', object: 'checkout.session', customer: 'cus_e2e_1', client_reference_id: org, subscription: 'sub_e2e_1', mode: 'subscription' } },
  };
  let r = await deliver(checkout);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { status: 'ok' });
  const untrusted = await call('GET', `/api/v1/admin/stripe-events/${checkout.id}`, { token: ADMIN_TOKEN });
  assert.equal(untrusted.json.outcome, 'untrusted_checkout');
  const unlinked = await call('GET', `/api/v1/admin/orgs/${org}`, { token: ADMIN_TOKEN });
  assert.equal(unlinked.json.stripe_customer_id, null);

  // subscription created, active, team price: its metadata (set by whoever holds the secret key)
  // names the org, which links its customer.
  r = await deliver(subscriptionEvent('customer.subscription.created', { org, status: 'active', price: PRICE_TEAM, periodEnd, created: now - 40 }));
  assert.equal(r.status, 200, r.text);
  const linked = await call('GET', `/api/v1/admin/orgs/${org}`, { token: ADMIN_TOKEN });
  assert.equal(linked.json.stripe_customer_id, 'cus_e2e_1');
  let ent = await entitlements(org);
  assert.equal(ent.tier, 'team');
  assert.equal(ent.features.capacity_forecast, true);
  assert.equal(ent.features.sso_saml, false);
  assert.equal(ent.is_valid, true);
  const teamLicense = await currentLicense(org);
  assert.equal(teamLicense.status, 200, teamLicense.text);
  let claims = await verifyWithJwks(teamLicense.json.license);
  assert.equal(claims.tier, 'team');
  assert.equal(claims.sub, org);
  assert.equal(claims.license_type, 'saas');
  assert.equal(claims.exp, periodEnd + 14 * DAY, 'exp = period end + 14 grace days');
  assert.equal(claims.jti, ent.license_id);

  // updated to enterprise
  r = await deliver(subscriptionEvent('customer.subscription.updated', { org, status: 'active', price: PRICE_ENTERPRISE, periodEnd, created: now - 30 }));
  assert.equal(r.status, 200, r.text);
  ent = await entitlements(org);
  assert.equal(ent.tier, 'enterprise');
  assert.equal(ent.features.sso_saml, true);
  const enterpriseLicense = await currentLicense(org);
  claims = await verifyWithJwks(enterpriseLicense.json.license);
  assert.equal(claims.tier, 'enterprise');
  assert.equal(claims.exp, periodEnd + 30 * DAY);
  assert.notEqual(claims.jti, teamLicense.json.license_id);

  // past_due keeps it
  r = await deliver(subscriptionEvent('customer.subscription.updated', { org, status: 'past_due', price: PRICE_ENTERPRISE, periodEnd, created: now - 20 }));
  assert.equal(r.status, 200, r.text);
  assert.equal((await entitlements(org)).tier, 'enterprise');

  // The same delivery again (Stripe retries) changes nothing.
  const replay = subscriptionEvent('customer.subscription.updated', { org, status: 'past_due', price: PRICE_ENTERPRISE, periodEnd, created: now - 20 });
  assert.equal((await deliver(replay)).status, 200);
  assert.equal((await deliver(replay)).status, 200);

  // deleted → community, the old licenses revoked
  r = await deliver(subscriptionEvent('customer.subscription.deleted', { org, status: 'canceled', price: PRICE_ENTERPRISE, periodEnd, created: now - 10 }));
  assert.equal(r.status, 200, r.text);
  ent = await entitlements(org);
  assert.equal(ent.tier, 'community');
  assert.equal(ent.license_id, null);
  assert.equal((await currentLicense(org)).status, 404);

  const revocations = await call('GET', '/api/v1/licensing/revocations');
  assert.equal(revocations.status, 200);
  const list = await verifyWithJwks(revocations.json.revocation_list);
  assert.equal(list.iss, 'fullchaos.studio');
  assert.ok(list.exp > list.iat);
  assert.ok(list.revoked.includes(teamLicense.json.license_id), 'the team license is revoked');
  assert.ok(list.revoked.includes(enterpriseLicense.json.license_id), 'the enterprise license is revoked');

  // The audit log has the three tier changes, by Stripe events.
  const audit = await call('GET', `/api/v1/admin/audit?org_id=${org}`, { token: ADMIN_TOKEN });
  const changes = audit.json.filter((a) => a.action === 'org.tier_change').reverse().map((a) => `${a.before}->${a.after}`);
  assert.deepEqual(changes, ['community->team', 'team->enterprise', 'enterprise->community']);

  // No secret reached the logs.
  assert.ok(!logs.includes(WEBHOOK_SECRET));
  assert.ok(!logs.includes(ADMIN_TOKEN));
  assert.ok(!logs.includes(teamLicense.json.license));
});

test('offline license for a self-hosted customer verifies against the JWKS', async () => {
  const r = await call('POST', '/api/v1/admin/licenses', {
    token: ADMIN_TOKEN,
    body: { org_id: 'selfhosted_1', tier: 'enterprise', days: 365, org_name: 'Self Hosted Ltd', limits: { users: 500 } },
  });
  assert.equal(r.status, 201, r.text);
  const claims = await verifyWithJwks(r.json.license);
  assert.equal(claims.license_type, 'self_hosted');
  assert.equal(claims.tier, 'enterprise');
  assert.equal(claims.jti, r.json.license_id);
  assert.equal(claims.limits.max_users ?? claims.limits.users, 500);
});
