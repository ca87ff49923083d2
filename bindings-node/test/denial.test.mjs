// The HTTP answers of denied checks (core web::*), as the Next.js wrappers send them: the same
// 402/403 bodies as the FastAPI dependencies.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Entitlements, LicenseError, permissionDenial } from '../index.mjs'

const NOW = 1_700_000_000

test('featureDenial: null when allowed, 402 feature_not_licensed when a higher tier unlocks it', () => {
  const team = Entitlements.resolve({ orgTier: 'team', now: NOW })
  assert.equal(team.featureDenial('capacity_forecast'), null)
  assert.deepEqual(team.featureDenial('audit_log'), {
    error: 'feature_not_licensed',
    status: 402,
    detail: {
      error: 'feature_not_licensed',
      feature: 'audit_log',
      required_tier: 'enterprise',
      current_tier: 'team',
      upgrade_url: '/org/admin/settings',
    },
    message: "The feature 'audit_log' is not included in the team tier.",
  })
  const community = Entitlements.resolve({ now: NOW })
  const custom = community.featureDenial('api_access', { requiredTier: 'enterprise', upgradeUrl: '/billing' })
  assert.equal(custom.detail.required_tier, 'enterprise')
  assert.equal(custom.detail.upgrade_url, '/billing')
  assert.throws(() => team.featureDenial('audit_log', { requiredTier: 'gold' }), LicenseError)
  assert.throws(() => team.featureDenial('audit_log', { upgradeHref: '/x' }), /upgradeHref/)
})

test('featureDenial: 403 feature_not_enabled for a kill switch and for an unknown feature', () => {
  const ent = Entitlements.resolve({ orgTier: 'enterprise', killSwitches: { audit_log: false }, now: NOW })
  const off = ent.featureDenial('audit_log')
  assert.equal(off.status, 403)
  assert.deepEqual(off.detail, {
    error: 'feature_not_enabled',
    feature: 'audit_log',
    message: "The feature 'audit_log' is turned off by a kill switch.",
  })
  assert.equal(ent.featureDenial('no_such_feature').detail.message, "There is no feature named 'no_such_feature'.")
})

test('limitDenial and permissionDenial', () => {
  const community = Entitlements.resolve({ now: NOW })
  assert.equal(community.limitDenial('max_users', 3), null)
  assert.deepEqual(community.limitDenial('max_users', 4).detail, {
    error: 'limit_exceeded',
    limit: 'max_users',
    current: 4,
    maximum: 3,
    current_tier: 'community',
  })
  assert.deepEqual(permissionDenial('org:delete', 'viewer'), {
    error: 'permission_denied',
    status: 403,
    detail: { error: 'permission_denied', permission: 'org:delete', role: 'viewer' },
    message: "The role 'viewer' lacks the permission 'org:delete'.",
  })
  assert.equal(permissionDenial('org:delete', null).detail.role, null)
})
