// upgradeGate({feature, requiredTier?, entitlements}) in each of its three states. The state is
// decided by core (Entitlements::upgrade_gate); these tests pin what the binding returns.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Catalog, Entitlements, LicenseError, upgradeGate } from '../index.mjs'
import { NOW, keyPair, signLicense, verify } from './helpers.mjs'

function teamEntitlements(extra = {}) {
  const key = keyPair()
  const license = verify(key, signLicense(key, { tier: 'team' }))
  return Entitlements.resolve({ license, now: NOW, ...extra })
}

test('allowed: a team feature on a team license shows its content', () => {
  const gate = upgradeGate({ feature: 'capacity_forecast', entitlements: teamEntitlements() })
  assert.deepEqual(gate, {
    state: 'allowed',
    feature: 'capacity_forecast',
    currentTier: 'team',
    requiredTier: 'team',
    upgradeHref: null,
  })
})

test('upgrade: an enterprise feature on a team license names the plan and links to settings', () => {
  const gate = upgradeGate({ feature: 'audit_log', entitlements: teamEntitlements() })
  assert.deepEqual(gate, {
    state: 'upgrade',
    feature: 'audit_log',
    currentTier: 'team',
    requiredTier: 'enterprise',
    upgradeHref: '/org/admin/settings',
  })
})

test('upgrade: requiredTier raises the bar above the feature minimum; upgradeHref is kept', () => {
  const ent = teamEntitlements()
  const denied = Entitlements.resolve({ orgTier: 'community', now: NOW })
  const gate = upgradeGate({
    feature: 'capacity_forecast',
    requiredTier: 'enterprise',
    entitlements: denied,
    upgradeHref: '/billing',
  })
  assert.equal(gate.state, 'upgrade')
  assert.equal(gate.requiredTier, 'enterprise')
  assert.equal(gate.upgradeHref, '/billing')
  // An allowed feature stays allowed whatever tier the page asks for.
  assert.equal(upgradeGate({ feature: 'capacity_forecast', requiredTier: 'enterprise', entitlements: ent }).state, 'allowed')
})

test('unavailable: a kill switch turns a licensed feature off, without an upgrade link', () => {
  const gate = upgradeGate({
    feature: 'capacity_forecast',
    entitlements: teamEntitlements({ killSwitches: { capacity_forecast: false } }),
  })
  assert.equal(gate.state, 'unavailable')
  assert.equal(gate.upgradeHref, null)
  assert.equal(gate.currentTier, 'team')
})

test('unavailable: an org override turns it off even where a higher tier would not help', () => {
  const ent = teamEntitlements({ overrides: [{ feature: 'audit_log', enabled: false, expiresAt: null }] })
  assert.equal(ent.check('audit_log').reason, 'org_override_disabled')
  const gate = ent.upgradeGate('audit_log')
  assert.equal(gate.state, 'unavailable')
  assert.equal(gate.upgradeHref, null)
})

test('unavailable: an unknown feature', () => {
  const gate = upgradeGate({ feature: 'no_such_feature', entitlements: teamEntitlements() })
  assert.equal(gate.state, 'unavailable')
  assert.equal(gate.requiredTier, null)
})

test('gates work on entitlements rebuilt from the API JSON (Entitlements.fromJSON)', () => {
  const json = teamEntitlements().toJSON()
  const ent = Entitlements.fromJSON(json)
  assert.equal(ent.tier, 'team')
  assert.equal(upgradeGate({ feature: 'capacity_forecast', entitlements: ent }).state, 'allowed')
  assert.equal(upgradeGate({ feature: 'audit_log', entitlements: ent }).state, 'upgrade')
  const off = Entitlements.fromJSON(
    JSON.stringify({
      ...json,
      features: { ...json.features, capacity_forecast: false },
      reasons: { ...json.reasons, capacity_forecast: 'global_disabled' },
    }),
  )
  assert.equal(upgradeGate({ feature: 'capacity_forecast', entitlements: off }).state, 'unavailable')
  // JSON from a server that sends no `reasons`: a feature off within the tier was switched off.
  const { reasons, ...older } = json
  assert.equal(reasons.capacity_forecast, 'enabled_by_tier')
  const offOlder = Entitlements.fromJSON({ ...older, features: { ...older.features, capacity_forecast: false } })
  assert.equal(upgradeGate({ feature: 'capacity_forecast', entitlements: offOlder }).state, 'unavailable')
  const ops = Entitlements.fromJSON({ tier: 'enterprise', features: {} }, Catalog.devHealthOps())
  assert.equal(ops.upgradeGate('ask_dev').state, 'unavailable')
  assert.equal(ops.check('ask_dev').reason, 'explicit_purchase_required')
})

test('a bad requiredTier is a LicenseError invalid_input', () => {
  assert.throws(
    () => upgradeGate({ feature: 'audit_log', requiredTier: 'gold', entitlements: teamEntitlements() }),
    (e) => e instanceof LicenseError && e.code === 'invalid_input' && /gold/.test(e.message),
  )
})
