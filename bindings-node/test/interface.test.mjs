// The values of the core's interface layer, as both JS packages declare them (interface.d.ts):
// the catalog view, decisions with how a denial is presented, one error class.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Catalog, Entitlements, EntitlementsError, LicenseError, Verifier, Keyring } from '../index.mjs'
import { NOW } from './helpers.mjs'

test('the catalog view has tiers with grace days, limits per tier and feature categories', () => {
  const ops = Catalog.devHealthOps()
  assert.deepEqual(
    ops.tiers.map((t) => [t.tier, t.graceDays]),
    [['community', 0], ['team', 14], ['enterprise', 30]],
  )
  const users = ops.limits.find((l) => l.key === 'max_users')
  assert.deepEqual(users.values, { community: 5, team: 20, enterprise: null })
  assert.equal(ops.limits.find((l) => l.key === 'min_sync_interval_hours').direction, 'min')
  const byo = ops.features.find((f) => f.key === 'byo_llm')
  assert.equal(byo.minTier, 'team')
  assert.equal(byo.tierBound, true)
  assert.ok(byo.category.length > 0)
  const whole = ops.toJSON()
  assert.equal(whole.name, ops.name)
  assert.deepEqual(whole.roles, ops.roles)
  assert.deepEqual(whole.features.map((f) => f.key), ops.features.map((f) => f.key))
})

test('decisions have the interface shape; a limit checked against NaN carries null', () => {
  const ent = Entitlements.resolve({ orgTier: 'team', now: NOW })
  assert.deepEqual(ent.check('sso_saml'), {
    feature: 'sso_saml',
    allowed: false,
    reason: 'tier_required',
    currentTier: 'team',
    requiredTier: 'enterprise',
    expiresAt: null,
  })
  const nan = ent.checkLimit('max_users', Number.NaN)
  assert.equal(nan.current, null)
  assert.equal(nan.allowed, false)
})

test('errors are LicenseError instances; EntitlementsError is the same class', () => {
  assert.equal(EntitlementsError, LicenseError)
  const verifier = new Verifier(new Keyring({ k1: 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=' }))
  assert.throws(
    () => verifier.verify('eyJhbGciOiJub25lIn0.e30.', NOW),
    (e) => e instanceof LicenseError && e.code === 'unsupported_algorithm',
  )
})
