// The §4 nouns in camelCase, and the conversions the binding owns (defaults, null/undefined,
// Buffers, JSON in and out). Decisions themselves are core's and are pinned by the vectors.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  BillingLedger,
  Catalog,
  Entitlements,
  Keyring,
  License,
  LicenseError,
  RevocationList,
  SessionVerifier,
  Verifier,
  applyStripeEvent,
  stripeSignatureHeader,
  testing,
  verifyStripeSignature,
} from '../index.mjs'
import { NOW, DAY, codeOf, keyPair, licenseClaims, signLicense, verify } from './helpers.mjs'

const ZERO_SEED = Buffer.alloc(32).toString('base64')
const ZERO_PUBLIC = 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik='

test('verify without now uses the clock, floored to whole seconds', () => {
  const key = keyPair()
  const clock = Math.floor(Date.now() / 1000)
  const token = signLicense(key, { iat: clock - 10, exp: clock + 3600 })
  const before = Math.floor(Date.now() / 1000)
  const license = new Verifier(key.keyring).verify(token)
  const after = Math.floor(Date.now() / 1000)
  assert.ok(license instanceof License)
  assert.ok(Number.isInteger(license.verifiedAt))
  assert.ok(license.verifiedAt >= before && license.verifiedAt <= after)
  assert.equal(license.status, 'active')
  // The same token at a fixed moment long before it was issued.
  assert.equal(codeOf(() => new Verifier(key.keyring).verify(token, NOW)), 'issued_in_future')
  // A license issued an hour from now (beyond the leeway) fails against the real clock.
  const future = signLicense(key, { iat: clock + 3600, exp: clock + 7200 })
  assert.equal(codeOf(() => new Verifier(key.keyring).verify(future)), 'issued_in_future')
})

test('License getters', () => {
  const key = keyPair('kid-7')
  const token = signLicense(key, { exp: NOW - DAY, license_type: 'trial', org_name: 'Acme', custom: 1 })
  const lic = verify(key, token)
  assert.equal(lic.status, 'grace')
  assert.equal(lic.isValid, true)
  assert.equal(lic.tier, 'team')
  assert.equal(lic.sub, 'org_1')
  assert.equal(lic.licenseId, 'lic_test_1')
  assert.equal(lic.kid, 'kid-7')
  assert.equal(lic.format, 'v2')
  assert.equal(lic.licenseType, 'trial')
  assert.equal(lic.expiresAt, NOW - DAY)
  assert.equal(lic.graceDays, 14)
  assert.equal(lic.graceEndsAt, NOW - DAY + 14 * DAY)
  assert.equal(lic.graceDaysLeft, 13)
  assert.equal(lic.verifiedAt, NOW)
  assert.equal(lic.claims.org_name, 'Acme')
  assert.equal(lic.claims.custom, 1)
  assert.equal(lic.statusAt(NOW + 20 * DAY), 'expired')
  const json = JSON.parse(JSON.stringify(lic))
  assert.equal(json.valid, true)
  assert.equal(json.status, 'grace')
  assert.equal(json.grace_days_left, 13)
})

test('Verifier options: issuer, leeway, acceptV1, deploymentId, catalog, revocationList, highWaterMark', () => {
  const key = keyPair()
  const v = (options, token = signLicense(key), now = NOW) => () => new Verifier(key.keyring, options).verify(token, now)
  assert.equal(codeOf(v({ issuer: 'someone.else' })), 'issuer_mismatch')
  assert.equal(new Verifier(key.keyring, { issuer: 'x', leeway: 5 }).leeway, 5)
  assert.equal(codeOf(v({ deploymentId: 'dep-1' })), 'audience_mismatch')
  assert.equal(v({ deploymentId: 'dep-1' }, signLicense(key, { aud: ['dep-0', 'dep-1'] }))().tier, 'team')
  assert.equal(v({ deploymentId: null, highWaterMark: null, revocationList: null })().tier, 'team')
  assert.equal(codeOf(v({ highWaterMark: NOW + 61 })), 'clock_rollback')
  assert.equal(v({ highWaterMark: NOW + 60 })().status, 'active')
  const expired = signLicense(key, { exp: NOW - 20 * DAY })
  assert.equal(v({}, expired)().status, 'expired')
  assert.equal(v({ catalog: Catalog.devHealthOps() }, expired)().graceDays, Catalog.devHealthOps().tiers[1].graceDays)
  assert.equal(v({ catalog: 'default' }, expired)().graceDays, 14)
  assert.equal(codeOf(v({ catalog: 'nope' })), 'invalid_input')
  const listToken = testing.signRevocationList(['lic_test_1'], 'fullchaos.studio', NOW - 60, NOW + DAY, key.seed, key.kid)
  const list = RevocationList.verify(listToken, key.keyring, { now: NOW })
  assert.equal(list.size, 1)
  assert.equal(list.contains('lic_test_1'), true)
  assert.equal(list.issuedAt, NOW - 60)
  assert.equal(codeOf(v({ revocationList: list })), 'revoked')
  assert.equal(codeOf(v({ revocationList: RevocationList.fromIds(['lic_test_1']) })), 'revoked')
  assert.equal(v({ revocationList: RevocationList.fromIds(['other']) })().tier, 'team')
  const v1 = testing.signV1({ ...licenseClaims(), jti: undefined, license_id: 'lic_v1' }, key.seed)
  assert.equal(codeOf(v({ acceptV1: false }, v1)), 'unsupported_algorithm')
  assert.equal(v({}, v1)().format, 'v1')
})

test('v1 known answer: the all-zero seed signs a dev-health-ops license that verifies', () => {
  assert.equal(testing.publicKeyOf(ZERO_SEED), ZERO_PUBLIC)
  const claims = { iss: 'fullchaos.studio', sub: 'org_legacy', iat: NOW - 60, exp: NOW + DAY, tier: 'enterprise', license_id: 'lic_legacy' }
  const token = testing.signV1(claims, ZERO_SEED)
  assert.equal(token.split('.').length, 2)
  const lic = new Verifier(new Keyring({ legacy: ZERO_PUBLIC })).verify(token, NOW)
  assert.equal(lic.format, 'v1')
  assert.equal(lic.kid, 'legacy')
  assert.equal(lic.licenseId, 'lic_legacy')
  assert.equal(lic.tier, 'enterprise')
})

test('Keyring: constructor, fromJwks (text or object), parse, toJwks, bad keys', () => {
  const { publicKey } = testing.generateKey()
  const a = new Keyring({ b: publicKey, a: ZERO_PUBLIC })
  assert.equal(a.size, 2)
  const jwks = a.toJwks()
  assert.equal(jwks.keys.length, 2)
  assert.deepEqual(Keyring.fromJwks(JSON.stringify(jwks)).kids().sort(), ['a', 'b'])
  assert.deepEqual(Keyring.fromJwks(jwks).kids().sort(), ['a', 'b'])
  assert.deepEqual(Keyring.parse(`k1=${ZERO_PUBLIC},k2=${publicKey}`).kids(), ['k1', 'k2'])
  assert.equal(new Keyring().size, 0)
  assert.equal(codeOf(() => new Keyring({ k: 'not base64!' })), 'invalid_key')
  assert.equal(codeOf(() => Keyring.fromJwks('{"keys":[{"kty":"RSA"}]}')), 'invalid_key')
})

test('Verifier.fromEnv and licenseTokenFromEnv read the SPEC §1.3 variables', async () => {
  const { execFileSync } = await import('node:child_process')
  const key = keyPair('env-1')
  const token = signLicense(key)
  const script = `
    const m = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)});
    const v = m.Verifier.fromEnv();
    const lic = v.verify(m.licenseTokenFromEnv(), ${NOW});
    console.log(JSON.stringify([v.kids(), lic.tier, lic.kid]));`
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH, DEV_HEALTH_LICENSE_PUBLIC_KEYS: `env-1=${key.publicKey}`, DEV_HEALTH_LICENSE: token },
  })
  assert.deepEqual(JSON.parse(out), [['env-1'], 'team', 'env-1'])
  const none = execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)}).licenseTokenFromEnv()))`], {
    env: { PATH: process.env.PATH },
  })
  assert.equal(JSON.parse(none), null)
})

test('Entitlements: resolve defaults, has/check/checkLimit/limit/can/toJSON/fromJSON', () => {
  const community = Entitlements.resolve()
  assert.equal(community.tier, 'community')
  assert.equal(community.orgId, null)
  assert.equal(community.has('basic_analytics'), true)
  assert.equal(community.has('audit_log'), false)
  assert.deepEqual(community.check('audit_log'), {
    feature: 'audit_log',
    allowed: false,
    reason: 'tier_required',
    currentTier: 'community',
    requiredTier: 'enterprise',
    expiresAt: null,
  })
  assert.deepEqual(community.checkLimit('max_users', 4), {
    limit: 'max_users',
    allowed: false,
    current: 4,
    maximum: 3,
    currentTier: 'community',
    direction: 'max',
    reason: 'limit_exceeded',
  })
  assert.equal(community.checkLimit('nope', 1).reason, 'limit_not_registered')
  assert.equal(community.limit('max_users'), 3)
  assert.equal(community.limit('nope'), undefined)
  assert.equal(Entitlements.resolve({ orgTier: 'team' }).limit('max_users'), null)
  assert.equal(community.can('admin', 'org:write'), true)
  assert.equal(community.can('viewer', 'org:write'), false)

  const key = keyPair()
  const license = verify(key, signLicense(key, { license_type: 'saas', sub: 'org_a' }))
  const forA = Entitlements.resolve({ license, orgId: 'org_a', now: NOW })
  const forB = Entitlements.resolve({ license, orgId: 'org_b', orgTier: null, now: NOW })
  assert.equal(forA.tier, 'team')
  assert.equal(forA.orgId, 'org_a')
  assert.equal(forB.tier, 'community')
  assert.equal(forA.staleAt, NOW + 30 * DAY + 1)
  assert.equal(forA.isStale(NOW), false)
  assert.equal(forA.isStale(NOW + 31 * DAY), true)
  const withOverride = Entitlements.resolve({
    license,
    now: NOW,
    overrides: [{ feature: 'audit_log', enabled: true, expiresAt: NOW + 10 }],
    killSwitches: { webhooks: false },
  })
  assert.equal(withOverride.check('audit_log').reason, 'enabled_by_org_override')
  assert.equal(withOverride.check('audit_log').expiresAt, NOW + 10)
  assert.equal(withOverride.check('webhooks').reason, 'global_disabled')

  const json = forA.toJSON()
  assert.equal(json.org_id, 'org_a')
  assert.equal(json.tier, 'team')
  assert.equal(json.is_valid, true)
  assert.equal(json.license_id, 'lic_test_1')
  assert.equal(json.features.capacity_forecast, true)
  const back = Entitlements.fromJSON(JSON.stringify(json))
  assert.equal(back.tier, 'team')
  assert.equal(back.has('capacity_forecast'), true)
  assert.equal(codeOf(() => Entitlements.fromJSON('{"tier":"gold"}')), 'invalid_input')
  assert.equal(codeOf(() => Entitlements.fromJSON('not json')), 'invalid_input')
  // JSON text naming a member twice is refused (the core's reader, as in the wasm binding).
  assert.throws(() => Entitlements.fromJSON('{"tier":"community","tier":"enterprise"}'), /"tier" appears twice/)
  assert.equal(codeOf(() => Entitlements.fromJSON('{"tier":"community","tier":"enterprise"}')), 'invalid_input')
  assert.equal(codeOf(() => Entitlements.resolve({ orgTier: 'gold' })), 'invalid_input')
})

test('Catalog: default, devHealthOps, builtin, fromJson, features, limits, roles', () => {
  const d = Catalog.default()
  assert.equal(d.name, 'default')
  assert.deepEqual(d.tiers.map((t) => t.tier), ['community', 'team', 'enterprise'])
  assert.equal(d.features.find((f) => f.key === 'audit_log').minTier, 'enterprise')
  assert.deepEqual(d.limits.find((l) => l.key === 'max_users').values, { community: 3, team: null, enterprise: null })
  assert.deepEqual(d.roles, ['viewer', 'editor', 'admin', 'owner'])
  assert.ok(d.permissionsOf('owner').includes('billing:manage'))
  const ops = Catalog.devHealthOps()
  assert.equal(ops.features.length, 32)
  assert.equal(ops.limits.find((l) => l.key === 'min_sync_interval_hours').direction, 'min')
  assert.equal(Catalog.builtin('dev-health-ops').name, ops.name)
  assert.equal(codeOf(() => Catalog.fromJson('{}')), 'invalid_catalog')
})

test('SessionVerifier: EdDSA sessions, HS256 only with a secret', () => {
  const key = keyPair('s1')
  const claims = { sub: 'u1', email: 'u@x.example', org_id: 'org_1', role: 'admin', exp: NOW + 600 }
  const token = testing.signJwt(claims, key.seed, 's1')
  const session = new SessionVerifier(key.keyring).verify(token, NOW)
  assert.deepEqual(session, { sub: 'u1', email: 'u@x.example', orgId: 'org_1', role: 'admin', isSuperuser: false, exp: NOW + 600 })
  assert.equal(codeOf(() => new SessionVerifier(key.keyring).verify(token, NOW + 3600)), 'session_expired')
  assert.equal(codeOf(() => new SessionVerifier(key.keyring, { hs256Secret: 'short' })), 'invalid_key')
  // A license token is not a session.
  assert.notEqual(codeOf(() => new SessionVerifier(key.keyring).verify(signLicense(key), NOW)), undefined)
})

test('Stripe: signature header round trip, Buffer bodies, rotation, tolerance', () => {
  const body = '{"id":"evt_1","type":"ping"}'
  const header = stripeSignatureHeader(body, 'whsec_new', NOW)
  assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/)
  assert.equal(verifyStripeSignature(body, header, ['whsec_old', 'whsec_new'], { now: NOW + 10 }), NOW)
  assert.equal(verifyStripeSignature(Buffer.from(body), header, 'whsec_new', { now: NOW }), NOW)
  assert.equal(codeOf(() => verifyStripeSignature(body + ' ', header, 'whsec_new', { now: NOW })), 'stripe_signature_mismatch')
  assert.equal(codeOf(() => verifyStripeSignature(body, header, 'whsec_new', { now: NOW + 301 })), 'stripe_timestamp_out_of_tolerance')
  assert.equal(verifyStripeSignature(body, header, 'whsec_new', { now: NOW + 301, tolerance: 600 }), NOW)
  assert.equal(codeOf(() => verifyStripeSignature(body, 'garbage', 'whsec_new', { now: NOW })), 'stripe_signature_malformed')
  // Without `now` the clock is used: a header signed now verifies, one from NOW (past) is stale.
  const fresh = stripeSignatureHeader(body, 'whsec_new', Math.floor(Date.now() / 1000))
  assert.ok(verifyStripeSignature(body, fresh, 'whsec_new') > NOW)
  assert.equal(codeOf(() => verifyStripeSignature(body, header, 'whsec_new')), 'stripe_timestamp_out_of_tolerance')
})

test('Stripe events: applyStripeEvent is pure; BillingLedger applies each event id once', () => {
  const config = { price_tiers: { price_team: 'team' } }
  const event = {
    id: 'evt_1',
    type: 'customer.subscription.created',
    created: NOW,
    data: {
      object: {
        id: 'sub_1',
        customer: 'cus_1',
        status: 'active',
        current_period_end: NOW + 30 * DAY,
        metadata: { org_id: 'org_1' },
        items: { data: [{ price: { id: 'price_team' } }] },
      },
    },
  }
  const org = { org_id: 'org_1', tier: 'community', managed_by: 'stripe' }
  const outcome = applyStripeEvent(event, org, config)
  assert.equal(outcome.state.tier, 'team')
  assert.ok(outcome.actions.some((a) => a.action === 'change_tier' && a.from === 'community' && a.to === 'team'))
  assert.equal(applyStripeEvent(event, null, config).ignored.reason, 'unknown_org')
  const ledger = new BillingLedger(config, [org])
  assert.equal(ledger.apply(event).state.license_id, 'lic_1')
  assert.equal(ledger.apply(JSON.stringify(event)).ignored.reason, 'duplicate')
  assert.equal(ledger.org('org_1').tier, 'team')
  assert.equal(ledger.org('nope'), null)
  assert.deepEqual(Object.keys(ledger.orgs), ['org_1'])
  assert.equal(codeOf(() => ledger.apply('{"id":1}')), 'invalid_stripe_event')
  assert.equal(codeOf(() => new BillingLedger({ price_tiers: { p: 'gold' } })), 'invalid_input')
})

test('has: its fast path agrees with check() for every key, long keys and non-strings', async () => {
  const { readFileSync } = await import('node:fs')
  const doc = JSON.parse(readFileSync(new URL('../../core/catalogs/default.json', import.meta.url), 'utf8'))
  // Keys around the 128-byte stack buffer, and one with multi-byte characters.
  const longKeys = [126, 127, 128, 300].map((n) => 'k'.repeat(n)).concat(['fonctionnalité_é'.repeat(12)])
  for (const key of longKeys) {
    doc.features.push({ ...doc.features[0], key, name: key, min_tier: 'community' })
  }
  const catalog = Catalog.fromJson(doc)
  const ent = Entitlements.resolve({ catalog, orgTier: 'team', now: NOW })
  for (const f of catalog.features) assert.equal(ent.has(f.key), ent.check(f.key).allowed, f.key)
  for (const key of longKeys) assert.equal(ent.has(key), true, `${key.length} chars`)
  assert.equal(ent.has('k'.repeat(129)), false)
  assert.equal(ent.has(''), false)
  assert.equal(ent.has('audit_log'), false)
  assert.throws(() => ent.has(42), TypeError)
  assert.throws(() => ent.has(), TypeError)
  // A detached `has` keeps its entitlements alive.
  const has = Entitlements.resolve({ orgTier: 'enterprise', now: NOW }).has
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.()
    await new Promise((r) => setImmediate(r))
  }
  assert.equal(has('audit_log'), true)
  assert.equal(Object.keys(ent).includes('has'), false)
  assert.ok(ent instanceof Entitlements)
  assert.equal(Entitlements.fromJSON(ent.toJSON()).has('capacity_forecast'), true)
})

test('has/can: a key cut short in the stack buffer is not taken for its prefix', async () => {
  // 124-126 bytes then a multi-byte character: Node-API writes only whole characters, so the
  // 128-byte buffer held just the prefix with room to spare, and the fast path answered for it.
  const { readFileSync } = await import('node:fs')
  const doc = JSON.parse(readFileSync(new URL('../../core/catalogs/default.json', import.meta.url), 'utf8'))
  const prefixes = [123, 124, 125, 126].map((n) => 'p'.repeat(n))
  for (const key of prefixes) doc.features.push({ ...doc.features[0], key, name: key, min_tier: 'community' })
  const role = 'r'.repeat(125)
  doc.roles = [...doc.roles, { name: role, inherits: null, permissions: ['q'.repeat(126)] }]
  const catalog = Catalog.fromJson(doc)
  const ent = Entitlements.resolve({ catalog, now: NOW })
  for (const key of prefixes) {
    assert.equal(ent.has(key), true)
    for (const tail of ['é', '€', '😀', 'é'.repeat(3)]) {
      assert.equal(ent.has(key + tail), false, `${key.length} + ${tail}`)
      assert.equal(ent.check(key + tail).allowed, false)
    }
  }
  assert.equal(ent.can(role, 'q'.repeat(126)), true)
  assert.equal(ent.can(role + '😀', 'q'.repeat(126)), false)
  assert.equal(ent.can(role, 'q'.repeat(126) + '😀'), false)
})

test('can: its fast path agrees with Catalog#can for every role and permission', () => {
  for (const catalog of [Catalog.default(), Catalog.devHealthOps()]) {
    const ent = Entitlements.resolve({ catalog, now: NOW })
    const permissions = new Set(catalog.roles.flatMap((r) => catalog.permissionsOf(r)))
    for (const role of [...catalog.roles, 'nobody', '']) {
      for (const permission of [...permissions, 'nothing:ever']) {
        assert.equal(ent.can(role, permission), catalog.can(role, permission), `${role} ${permission}`)
      }
    }
    assert.equal(ent.can('owner', 'x'.repeat(500)), false)
    assert.throws(() => ent.can('owner'), TypeError)
    assert.throws(() => ent.can(1, 'org:read'), TypeError)
  }
})

test('the addon works in worker threads, each with its own LicenseError class', async () => {
  const { Worker } = await import('node:worker_threads')
  const source = `
    const { parentPort } = require('node:worker_threads')
    const m = require(${JSON.stringify(new URL('../index.js', import.meta.url).pathname)})
    const ent = m.Entitlements.resolve({ orgTier: 'team', now: ${NOW} })
    let code = null
    try { new m.Verifier(new m.Keyring()).verify('a.b.c', ${NOW}) } catch (e) { code = e instanceof m.LicenseError && e.code }
    parentPort.postMessage({ has: ent.has('capacity_forecast'), gate: m.upgradeGate({ feature: 'audit_log', entitlements: ent }).state, code })`
  const results = await Promise.all(
    [1, 2].map(
      () =>
        new Promise((resolve, reject) => {
          const worker = new Worker(source, { eval: true })
          worker.once('message', resolve)
          worker.once('error', reject)
        }),
    ),
  )
  for (const r of results) assert.deepEqual(r, { has: true, gate: 'upgrade', code: 'malformed_token' })
  // The main thread still throws its own class after the workers are gone.
  assert.equal(codeOf(() => new Verifier(new Keyring()).verify('a.b.c', NOW)), 'malformed_token')
})
