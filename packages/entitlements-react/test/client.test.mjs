// The client hooks read the JSON the server sends; rendered here as Next.js renders client
// components on the server (the same code runs in the browser: no native module is imported).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createElement as h } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'

import { Entitlements } from '@dev-health/entitlements'
import { EntitlementsProvider, useEntitlements, useFeature, useLimit } from '../dist/client.js'

function Probe({ feature, limit }) {
  const ent = useEntitlements()
  const f = useFeature(feature)
  const l = useLimit(limit)
  return h('pre', null, JSON.stringify({ tier: ent.tier, f, l }))
}

function render(entitlements, feature, limit) {
  const html = renderToStaticMarkup(h(EntitlementsProvider, { entitlements }, h(Probe, { feature, limit })))
  return JSON.parse(html.slice('<pre>'.length, -'</pre>'.length).replaceAll('&quot;', '"'))
}

const json = (options) => JSON.parse(JSON.stringify(Entitlements.resolve(options).toJSON()))

test('useFeature gives the decision and the reason the server sent', () => {
  const team = json({ orgTier: 'team' })
  assert.deepEqual(render(team, 'capacity_forecast', 'max_users').f, {
    feature: 'capacity_forecast',
    enabled: true,
    reason: 'enabled_by_tier',
    tier: 'team',
  })
  assert.deepEqual(render(team, 'audit_log', 'max_users').f, { feature: 'audit_log', enabled: false, reason: 'tier_required', tier: 'team' })
  const off = json({ orgTier: 'enterprise', killSwitches: { audit_log: false } })
  assert.equal(render(off, 'audit_log', 'max_users').f.reason, 'global_disabled')
  assert.deepEqual(render(team, 'no_such_feature', 'max_users').f, { feature: 'no_such_feature', enabled: false, reason: null, tier: 'team' })
})

test('useLimit gives the bound in force: a number, unlimited, or unknown', () => {
  assert.deepEqual(render(json({}), 'x', 'max_users').l, { limit: 'max_users', known: true, value: 3, unlimited: false, tier: 'community' })
  assert.deepEqual(render(json({ orgTier: 'team' }), 'x', 'max_users').l, { limit: 'max_users', known: true, value: null, unlimited: true, tier: 'team' })
  assert.deepEqual(render(json({}), 'x', 'no_such_limit').l, { limit: 'no_such_limit', known: false, value: null, unlimited: false, tier: 'community' })
})

test('the hooks need a provider', () => {
  assert.throws(() => renderToStaticMarkup(h(Probe, { feature: 'x', limit: 'y' })), /EntitlementsProvider/)
})

test('the client module is marked for the client and imports no native code', () => {
  const source = readFileSync(new URL('../dist/client.js', import.meta.url), 'utf8')
  assert.match(source, /^'use client';/)
  assert.doesNotMatch(source, /^import (?!type).*@dev-health\/entitlements'/m)
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  assert.equal(pkg.exports['.'].browser, './dist/client.js')
})
