// The OpenFeature provider through the official server SDK: features, limits and the tier as
// flags, OpenFeature's reasons and error codes with the engine's reason in the metadata, hooks,
// and a provider swapped at run time.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { OpenFeature } from '@openfeature/server-sdk'

import { EntitlementsProvider } from '../openfeature.mjs'
import { keyPair, signLicense, verify } from './helpers.mjs'

const now = Math.floor(Date.now() / 1000)

test('boolean flags are features: reasons mapped onto OpenFeature, the engine reason in metadata', async () => {
  await OpenFeature.setProviderAndWait(new EntitlementsProvider())
  const client = OpenFeature.getClient()
  const team = { targetingKey: 'org_acme', tier: 'team' }
  const on = await client.getBooleanDetails('capacity_forecast', false, team)
  assert.deepEqual([on.value, on.reason, on.flagMetadata], [true, 'STATIC', { engine_reason: 'enabled_by_tier' }])
  const off = await client.getBooleanDetails('audit_log', true, team)
  assert.deepEqual([off.value, off.reason, off.flagMetadata.engine_reason, off.errorCode], [false, 'STATIC', 'tier_required', undefined])
  const granted = await client.getBooleanDetails('audit_log', false, {
    ...team,
    overrides: [{ feature: 'audit_log', enabled: true, expiresAt: now + 3600 }],
  })
  assert.deepEqual([granted.value, granted.reason, granted.flagMetadata.engine_reason], [true, 'TARGETING_MATCH', 'enabled_by_org_override'])
  const killed = await client.getBooleanDetails('capacity_forecast', true, { ...team, killSwitches: { capacity_forecast: false } })
  assert.deepEqual([killed.value, killed.reason, killed.flagMetadata.engine_reason], [false, 'DISABLED', 'global_disabled'])
})

test('number flags are limits, the string flag tier is the tier', async () => {
  await OpenFeature.setProviderAndWait(new EntitlementsProvider())
  const client = OpenFeature.getClient()
  assert.equal(await client.getNumberValue('max_users', 0, { targetingKey: 'org_acme' }), 3)
  assert.equal(await client.getNumberValue('max_users', 0, { targetingKey: 'org_acme', tier: 'team' }), Infinity)
  const tier = await client.getStringDetails('tier', 'community', { targetingKey: 'org_acme', tier: 'enterprise' })
  assert.deepEqual([tier.value, tier.reason], ['enterprise', 'STATIC'])
})

test('errors: FLAG_NOT_FOUND, TYPE_MISMATCH, PARSE_ERROR answer the default', async () => {
  await OpenFeature.setProviderAndWait(new EntitlementsProvider())
  const client = OpenFeature.getClient()
  const missing = await client.getBooleanDetails('no_such_flag', true, { targetingKey: 'org_acme' })
  assert.deepEqual([missing.value, missing.reason, missing.errorCode, missing.flagMetadata.engine_reason], [true, 'ERROR', 'FLAG_NOT_FOUND', 'feature_not_registered'])
  const mismatch = await client.getNumberDetails('audit_log', 7, { targetingKey: 'org_acme' })
  assert.deepEqual([mismatch.value, mismatch.errorCode], [7, 'TYPE_MISMATCH'])
  const object = await client.getObjectDetails('tier', { a: 1 }, { targetingKey: 'org_acme' })
  assert.deepEqual([object.value, object.errorCode], [{ a: 1 }, 'TYPE_MISMATCH'])
  const bad = await client.getBooleanDetails('audit_log', true, { targetingKey: 'org_acme', tier: 'platinum' })
  assert.deepEqual([bad.value, bad.errorCode], [true, 'PARSE_ERROR'])
  assert.match(bad.errorMessage, /platinum/)
  const conflict = await client.getBooleanDetails('audit_log', false, { targetingKey: 'org_acme', orgId: 'org_other' })
  assert.equal(conflict.errorCode, 'INVALID_CONTEXT')
})

test('hooks run around an evaluation and see its details; errors reach the error hook', async () => {
  const seen = []
  const hook = {
    before: (ctx) => void seen.push(['before', ctx.flagKey, ctx.context.targetingKey]),
    after: (_ctx, details) => void seen.push(['after', details.value, details.flagMetadata.engine_reason]),
    error: (_ctx, err) => void seen.push(['error', err.code]),
    finally: () => void seen.push(['finally']),
  }
  await OpenFeature.setProviderAndWait(new EntitlementsProvider({ hooks: [hook] }))
  const client = OpenFeature.getClient()
  assert.equal(await client.getBooleanValue('api_access', false, { targetingKey: 'org_acme', tier: 'team' }), true)
  assert.deepEqual(seen, [['before', 'api_access', 'org_acme'], ['after', true, 'enabled_by_tier'], ['finally']])
  seen.length = 0
  // A before hook may add to the context: here it supplies the org's tier.
  client.addHooks({ before: () => ({ tier: 'enterprise' }) })
  assert.equal(await client.getBooleanValue('audit_log', false, { targetingKey: 'org_acme' }), true)
  seen.length = 0
  assert.equal(await client.getBooleanValue('no_such_flag', false, { targetingKey: 'org_acme' }), false)
  assert.deepEqual(seen.map((s) => s[0]), ['before', 'error', 'finally'])
  assert.deepEqual(seen[1], ['error', 'FLAG_NOT_FOUND'])
})

test('a provider swapped at run time: the instance license takes effect for the next evaluation', async () => {
  const key = keyPair()
  const enterprise = verify(key, signLicense(key, { tier: 'enterprise', license_type: 'self_hosted', iat: now - 60, exp: now + 86400 }), now)
  await OpenFeature.setProviderAndWait(new EntitlementsProvider())
  const client = OpenFeature.getClient()
  const context = { targetingKey: 'org_acme' }
  assert.equal(await client.getBooleanValue('sso_saml', false, context), false)
  await OpenFeature.setProviderAndWait(new EntitlementsProvider({ license: enterprise }))
  const details = await client.getBooleanDetails('sso_saml', false, context)
  assert.deepEqual([details.value, details.flagMetadata.engine_reason], [true, 'enabled_by_tier'])
  const tier = await client.getStringDetails('tier', 'community', context)
  assert.deepEqual([tier.value, tier.reason, tier.flagMetadata.engine_reason], ['enterprise', 'TARGETING_MATCH', 'license_tier'])
  assert.equal(OpenFeature.getProviderMetadata().name, 'dev-health-entitlements')
  await OpenFeature.close()
})
