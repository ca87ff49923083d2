// Runs every conformance vector of tests/vectors (files 1-6 of the format) through the binding and
// checks every expected field exactly; an error case checks only the code.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import {
  BillingLedger,
  Catalog,
  Entitlements,
  Keyring,
  LicenseError,
  RevocationList,
  SessionVerifier,
  Verifier,
  upgradeGate,
  verifyStripeSignature,
} from '../index.mjs'

const VECTORS = fileURLToPath(new URL('../../tests/vectors/', import.meta.url))
// Every .json file of the directory but the Wycheproof suite (test/wycheproof.test.mjs runs it): a
// new file without a runner below fails instead of being skipped.
const NOT_API_VECTORS = new Set(['wycheproof_ed25519.json'])
const FILES = readdirSync(VECTORS)
  .filter((name) => name.endsWith('.json') && !NOT_API_VECTORS.has(name))
  .map((name) => name.slice(0, -'.json'.length))
  .sort()

function load(name) {
  const doc = JSON.parse(readFileSync(`${VECTORS}${name}.json`, 'utf8'))
  assert.ok(Array.isArray(doc.cases) && doc.cases.length > 0, `${name}.json has cases`)
  return doc.cases
}

const catalogs = new Map()
function catalog(name) {
  if (!catalogs.has(name)) catalogs.set(name, Catalog.builtin(name))
  return catalogs.get(name)
}

// Runs `fn`; an expected error is compared by code, anything else must not throw.
function outcome(expect, fn, check) {
  if ('error' in expect) {
    assert.throws(fn, (err) => {
      assert.ok(err instanceof LicenseError, `expected a LicenseError, got ${err}`)
      assert.equal(err.code, expect.error, err.message)
      return true
    })
  } else {
    check(fn())
  }
}

function verifyCase(c) {
  const o = c.options ?? {}
  const keyring = Keyring.fromJwks(c.jwks)
  const run = () => {
    const options = {}
    if ('issuer' in o) options.issuer = o.issuer
    if ('leeway' in o) options.leeway = o.leeway
    if ('accept_v1' in o) options.acceptV1 = o.accept_v1
    if ('deployment_id' in o) options.deploymentId = o.deployment_id
    if ('catalog' in o) options.catalog = o.catalog
    if ('high_water_mark' in o) options.highWaterMark = o.high_water_mark
    if ('revocation_list' in o) {
      options.revocationList = RevocationList.verify(o.revocation_list, keyring, { issuer: o.issuer, now: c.now })
    }
    return new Verifier(keyring, options).verify(c.token, c.now)
  }
  outcome(c.expect, run, (lic) => {
    assert.deepEqual(
      {
        status: lic.status,
        format: lic.format,
        kid: lic.kid,
        tier: lic.tier,
        sub: lic.sub,
        license_id: lic.licenseId,
        license_type: lic.licenseType,
        expires_at: lic.expiresAt,
        grace_ends_at: lic.graceEndsAt,
        grace_days_left: lic.graceDaysLeft,
      },
      c.expect,
    )
  })
}

function entitlementsCase(c) {
  let license = null
  if (c.license != null) {
    license = new Verifier(Keyring.fromJwks(c.jwks)).verify(c.license, c.now)
  }
  const ent = Entitlements.resolve({
    catalog: catalog(c.catalog),
    license,
    orgId: c.org_id ?? null,
    orgTier: c.org_tier ?? null,
    overrides: c.overrides.map((o) => ({ feature: o.feature, enabled: o.enabled, expiresAt: o.expires_at ?? null })),
    killSwitches: c.kill_switches,
    now: c.now,
  })
  const e = c.expect
  assert.equal(ent.tier, e.tier)
  for (const d of e.decisions) {
    const got = ent.check(d.feature)
    assert.deepEqual(
      { feature: got.feature, allowed: got.allowed, reason: got.reason, required_tier: got.requiredTier, expires_at: got.expiresAt },
      d,
      `decision ${d.feature}`,
    )
    assert.equal(ent.has(d.feature), d.allowed, `has ${d.feature}`)
    assert.equal(got.currentTier, e.tier)
  }
  for (const l of e.limits) {
    const got = ent.checkLimit(l.limit, l.current)
    assert.deepEqual(
      { limit: got.limit, current: got.current, allowed: got.allowed, maximum: got.maximum, reason: got.reason },
      l,
      `limit ${l.limit} ${l.current}`,
    )
  }
  for (const g of e.gates) {
    // The vector's one `required_tier` is both the request and the answer (a fixed point).
    const input = { feature: g.feature, entitlements: ent }
    if (g.required_tier != null) input.requiredTier = g.required_tier
    const got = upgradeGate(input)
    assert.deepEqual(
      { feature: got.feature, required_tier: got.requiredTier, state: got.state, upgrade_href: got.upgradeHref },
      g,
      `gate ${g.feature}`,
    )
  }
  assert.deepEqual(ent.toJSON(), e.json)
  assert.deepEqual(JSON.parse(JSON.stringify(ent)), e.json)
}

function rbacCase(c) {
  assert.equal(catalog(c.catalog).can(c.role, c.permission), c.allowed)
  const ent = Entitlements.resolve({ catalog: catalog(c.catalog), now: 0 })
  assert.equal(ent.can(c.role, c.permission), c.allowed)
}

function sessionCase(c) {
  const run = () =>
    new SessionVerifier(Keyring.fromJwks(c.jwks), { hs256Secret: c.hs256_secret ?? null }).verify(c.token, c.now)
  outcome(c.expect, run, (s) => {
    assert.deepEqual(
      { sub: s.sub, email: s.email, org_id: s.orgId, role: s.role, is_superuser: s.isSuperuser },
      c.expect,
    )
  })
}

function stripeSignatureCase(c) {
  const run = () => verifyStripeSignature(c.payload, c.header, c.secrets, { now: c.now, tolerance: c.tolerance })
  outcome(c.expect, run, (timestamp) => assert.deepEqual({ timestamp }, c.expect))
  // The raw body may arrive as a Buffer as well as a string.
  outcome(c.expect, () => verifyStripeSignature(Buffer.from(c.payload, 'utf8'), c.header, c.secrets, { now: c.now, tolerance: c.tolerance }), () => {})
}

function stripeEventsCase(c) {
  const ledger = new BillingLedger(c.config, c.orgs)
  const outcomes = c.events.map((event) => ledger.apply(event))
  assert.deepEqual(outcomes, c.expect.outcomes)
  assert.deepEqual(ledger.orgs, c.expect.orgs)
  assert.deepEqual(ledger.revokedLicenseIds, c.expect.revoked_license_ids)
  // The same events as raw JSON text give the same outcomes.
  const again = new BillingLedger(c.config, c.orgs)
  assert.deepEqual(c.events.map((event) => again.apply(JSON.stringify(event))), c.expect.outcomes)
}

const runners = {
  verify: verifyCase,
  entitlements: entitlementsCase,
  rbac: rbacCase,
  sessions: sessionCase,
  stripe_signatures: stripeSignatureCase,
  stripe_events: stripeEventsCase,
}

test('every vector file has a runner, and every runner its file', () => {
  assert.deepEqual(FILES, Object.keys(runners).sort())
})

for (const file of FILES.filter((f) => f in runners)) {
  describe(`${file}.json`, () => {
    const cases = load(file)
    const names = new Set(cases.map((c) => c.name))
    test('case names are unique', () => assert.equal(names.size, cases.length))
    for (const c of cases) {
      test(c.name, () => runners[file](c))
    }
  })
}
