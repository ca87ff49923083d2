// withFeature / withPermission around Route Handlers (a Request in, a Response out) and Server
// Actions (a value out): the 402/403 bodies of the FastAPI dependencies.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Entitlements } from '@dev-health/entitlements'
import { isDenied, withFeature, withPermission } from '../dist/index.js'
import { license, session, team, withInstanceLicense } from './helpers.mjs'

const ok = async (request) => Response.json({ ok: true, path: new URL(request.url).pathname })

test('a Route Handler runs when the feature is on and answers 402 feature_not_licensed when a plan unlocks it', async () => {
  const GET = withFeature('audit_log', ok, { entitlements: () => Entitlements.resolve({ orgTier: 'enterprise' }) })
  const res = await GET(new Request('http://app/api/audit'))
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { ok: true, path: '/api/audit' })

  const denied = await withFeature('audit_log', ok, { entitlements: team })(new Request('http://app/api/audit'))
  assert.equal(denied.status, 402)
  assert.deepEqual(await denied.json(), {
    detail: {
      error: 'feature_not_licensed',
      feature: 'audit_log',
      required_tier: 'enterprise',
      current_tier: 'team',
      upgrade_url: '/org/admin/settings',
    },
  })
})

test('a feature switched off by an administrator is 403 feature_not_enabled; the handler never runs', async () => {
  let ran = false
  const handler = withFeature('audit_log', () => ((ran = true), new Response('x')), {
    entitlements: async () => Entitlements.resolve({ orgTier: 'enterprise', killSwitches: { audit_log: false } }).toJSON(),
  })
  const res = await handler(new Request('http://app/'))
  assert.equal(res.status, 403)
  assert.equal((await res.json()).detail.error, 'feature_not_enabled')
  assert.equal(ran, false)
})

test('by default the instance license from the environment decides', async () => {
  await withInstanceLicense(license('team'), async () => {
    const GET = withFeature('capacity_forecast', ok)
    assert.equal((await GET(new Request('http://app/f'))).status, 200)
    assert.equal((await withFeature('sso_saml', ok, { upgradeUrl: '/billing' })(new Request('http://app/'))).status, 402)
  })
})

test('a Server Action returns the denial as a value, and its own result otherwise', async () => {
  const exportLog = withFeature('audit_log', async (form) => ({ exported: form.get('format') }), {
    entitlements: team,
  })
  const form = new FormData()
  form.set('format', 'csv')
  const denied = await exportLog(form)
  assert.ok(isDenied(denied))
  assert.equal(denied.status, 402)
  assert.equal(denied.detail.error, 'feature_not_licensed')
  const allowed = withFeature('capacity_forecast', async (form) => ({ exported: form.get('format') }), { entitlements: team })
  const result = await allowed(form)
  assert.deepEqual(result, { exported: 'csv' })
  assert.equal(isDenied(result), false)
})

test('withPermission reads the role from the bearer session; no session or a weak role is 403', async () => {
  await withInstanceLicense(license('team'), async () => {
    const DELETE = withPermission('members:manage', ok)
    const call = (token) =>
      DELETE(new Request('http://app/api/members/1', token ? { headers: { authorization: `Bearer ${token}` } } : {}))
    assert.equal((await call(session('admin'))).status, 200)
    const viewer = await call(session('viewer'))
    assert.equal(viewer.status, 403)
    assert.deepEqual(await viewer.json(), { detail: { error: 'permission_denied', permission: 'members:manage', role: 'viewer' } })
    const anonymous = await call(null)
    assert.deepEqual(await anonymous.json(), { detail: { error: 'permission_denied', permission: 'members:manage', role: null } })
    // A license is not a session.
    assert.equal((await call(license('team'))).status, 403)
  })
})

test('withPermission in a Server Action takes the role from the host', async () => {
  const action = withPermission('org:delete', async () => 'deleted', { role: () => 'admin', entitlements: team })
  const denied = await action()
  assert.ok(isDenied(denied))
  assert.deepEqual(denied.detail, { error: 'permission_denied', permission: 'org:delete', role: 'admin' })
  const owner = withPermission('org:delete', async () => 'deleted', { role: async () => 'owner', entitlements: team })
  assert.equal(await owner(), 'deleted')
})
