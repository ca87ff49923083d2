// <UpgradeGate> rendered as a server renders it: the three states of SPEC §4, the slots, and
// licensed content never rendered for a denied feature.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createElement as h } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'

import { Entitlements } from '@dev-health/entitlements'
import { UpgradeGate, gateInfo } from '../dist/index.js'
import { license, team, withInstanceLicense } from './helpers.mjs'

function Secret() {
  Secret.rendered += 1
  return h('p', { className: 'secret' }, 'the audit log')
}
Secret.rendered = 0

test('allowed: the children, and nothing else', () => {
  const html = renderToStaticMarkup(h(UpgradeGate, { feature: 'capacity_forecast', entitlements: team() }, h('p', null, 'forecast')))
  assert.equal(html, '<p>forecast</p>')
})

test('upgrade: a prompt naming the plan, linking to upgradeHref; the children are never rendered', () => {
  Secret.rendered = 0
  const html = renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log', entitlements: team() }, h(Secret)))
  assert.equal(Secret.rendered, 0)
  assert.doesNotMatch(html, /audit log<\/p>|secret/)
  assert.match(html, /data-gate="upgrade"/)
  assert.match(html, /Available on the <strong class="dh-gate-plan">Enterprise<\/strong> plan\. This organization is on the Team plan\./)
  assert.match(html, /<a class="dh-gate-link" href="\/org\/admin\/settings">Upgrade to Enterprise<\/a>/)
  const custom = renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log', entitlements: team(), upgradeHref: '/billing' }))
  assert.match(custom, /href="\/billing"/)
})

test('unavailable: "Feature unavailable" without a link when an administrator turned it off', () => {
  const ent = Entitlements.resolve({ orgTier: 'enterprise', killSwitches: { audit_log: false } })
  const html = renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log', entitlements: ent }, h(Secret)))
  assert.match(html, /data-gate="unavailable"/)
  assert.match(html, />Feature unavailable</)
  assert.doesNotMatch(html, /<a /)
  assert.doesNotMatch(html, /secret/)
})

test('requiredTier raises the plan the page needs', () => {
  const gate = gateInfo({ feature: 'capacity_forecast', requiredTier: 'enterprise', entitlements: team() })
  assert.equal(gate.state, 'allowed')
  const community = Entitlements.resolve({})
  const up = gateInfo({ feature: 'capacity_forecast', requiredTier: 'enterprise', entitlements: community })
  assert.deepEqual([up.state, up.requiredTier, up.requiredPlan, up.currentPlan, up.featureName], ['upgrade', 'enterprise', 'Enterprise', 'Community', up.featureName])
  assert.notEqual(up.featureName, 'capacity_forecast', 'the catalog names the feature')
})

test('slots and render props draw the denied states; fallback covers both', () => {
  const ent = Entitlements.resolve({ orgTier: 'team', killSwitches: { api_access: false } })
  const upgrade = (g) => h('em', null, `${g.featureName} needs ${g.requiredPlan} (${g.upgradeHref})`)
  const html = renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log', entitlements: ent, upgrade, unavailable: h('i', null, 'off') }))
  assert.match(html, /^<em>.* needs Enterprise \(\/org\/admin\/settings\)<\/em>$/)
  assert.equal(renderToStaticMarkup(h(UpgradeGate, { feature: 'api_access', entitlements: ent, upgrade, unavailable: h('i', null, 'off') })), '<i>off</i>')
  const fallback = (g) => h('b', null, g.state)
  assert.equal(renderToStaticMarkup(h(UpgradeGate, { feature: 'api_access', entitlements: ent, fallback })), '<b>unavailable</b>')
  assert.equal(renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log', entitlements: ent, fallback })), '<b>upgrade</b>')
})

test('the entitlements JSON works as well as resolved entitlements', () => {
  const json = JSON.parse(JSON.stringify(team().toJSON()))
  assert.equal(renderToStaticMarkup(h(UpgradeGate, { feature: 'capacity_forecast', entitlements: json }, 'ok')), 'ok')
  assert.match(renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log', entitlements: json })), /data-gate="upgrade"/)
})

test('without entitlements: the instance license from the environment, community when it is rejected', async () => {
  await withInstanceLicense(license('enterprise'), () => {
    assert.equal(renderToStaticMarkup(h(UpgradeGate, { feature: 'audit_log' }, 'audit')), 'audit')
  })
  await withInstanceLicense(license('enterprise', { exp: 1 }), () => {
    assert.match(renderToStaticMarkup(h(UpgradeGate, { feature: 'capacity_forecast' }, 'x')), /This organization is on the Community plan/)
  })
})
