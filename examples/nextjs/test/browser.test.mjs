// The built app (`npm run build` first) started on loopback with licenses generated here, checked
// in headless Chromium: the team feature's content, the enterprise feature's upgrade prompt and
// link, "Feature unavailable" for a feature an administrator switched off, a rejected license, the
// client hooks, and a gated Server Action and Route Handler.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { chromium } from 'playwright-core'
import { stripeSignatureHeader, testing } from '@dev-health/entitlements'

import { CHROMIUM, FLAGS, startApp } from '../support/browser.mjs'

const key = testing.generateKey()
const now = Math.floor(Date.now() / 1000)
function license(tier, overrides = {}) {
  const claims = { iss: 'fullchaos.studio', sub: 'org_acme', iat: now - 60, exp: now + 30 * 86400, jti: `lic_${tier}_test`, tier, ...overrides }
  return testing.signJwt(claims, key.seed, 'test-key')
}
const appEnv = (env) => ({ DEV_HEALTH_LICENSE_PUBLIC_KEYS: `test-key=${key.publicKey}`, ...env })

let context
let profile
before(async () => {
  profile = mkdtempSync(join(tmpdir(), 'dh-chromium-'))
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS })
})
after(async () => {
  await context?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

async function open(app) {
  const page = await context.newPage()
  const res = await page.goto(app.url, { waitUntil: 'load' })
  assert.equal(res.status(), 200, app.output())
  return page
}

const sessionKey = testing.generateKey()
const WEBHOOK_SECRET = 'whsec_example_0123456789'

describe('a team license', () => {
  let app
  before(
    async () =>
      (app = await startApp(appEnv({
        DEV_HEALTH_LICENSE: license('team'),
        SESSION_PUBLIC_KEYS: `s1=${sessionKey.publicKey}`,
        STRIPE_WEBHOOK_SECRET: `whsec_old_rotated_out,${WEBHOOK_SECRET}`,
      }))),
  )
  after(() => app?.stop())

  test('route handler: a Stripe webhook is accepted only with a valid signature of its raw body', async () => {
    const body = JSON.stringify({ id: 'evt_1', type: 'customer.subscription.updated', created: now, data: { object: {} } })
    const post = (payload, signature) =>
      fetch(`${app.url}/api/billing/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      })
    const ok = await post(body, stripeSignatureHeader(body, WEBHOOK_SECRET, now))
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { status: 'ok', type: 'customer.subscription.updated' })
    const forged = await post(body.replace('updated', 'deleted'), stripeSignatureHeader(body, WEBHOOK_SECRET, now))
    assert.equal(forged.status, 400)
    assert.deepEqual(await forged.json(), { detail: 'Invalid Stripe signature' })
    const stale = await post(body, stripeSignatureHeader(body, WEBHOOK_SECRET, now - 3600))
    assert.equal(stale.status, 400)
    const unsigned = await post(body, '')
    assert.equal(unsigned.status, 400)
  })

  test('route handler: the entitlements JSON needs a valid session', async () => {
    const get = (token) =>
      fetch(`${app.url}/api/entitlements`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
    assert.equal((await get(null)).status, 401)
    const session = { sub: 'user_1', email: 'ada@acme.example', org_id: 'org_acme', role: 'admin', exp: now + 600 }
    const stranger = testing.generateKey()
    const bad = await get(testing.signJwt(session, stranger.seed, 's1'))
    assert.equal(bad.status, 401)
    assert.equal((await bad.json()).code, 'invalid_signature')
    // A license is not a session.
    assert.equal((await get(license('team'))).status, 401)
    const res = await get(testing.signJwt(session, sessionKey.seed, 's1'))
    assert.equal(res.status, 200)
    const json = await res.json()
    assert.equal(json.org_id, 'org_acme')
    assert.equal(json.tier, 'team')
    assert.equal(json.license_id, 'lic_team_test')
    assert.equal(json.features.capacity_forecast, true)
    assert.equal(json.features.audit_log, false)
  })

  test('the page names the plan and the verified license', async () => {
    const page = await open(app)
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Team')
    assert.match(await page.getByTestId('license').innerText(), /lic_team_test for org_acme: active/)
    await page.close()
  })

  test('capacity_forecast (team) shows its content', async () => {
    const page = await open(app)
    const section = page.getByTestId('capacity_forecast')
    assert.ok(await section.getByRole('heading', { name: 'Capacity forecast' }).isVisible())
    assert.match(await section.innerText(), /10,000 Monte Carlo runs/)
    assert.equal(await page.locator('[data-feature="capacity_forecast"][data-gate]').count(), 0)
    await page.close()
  })

  test('audit_log (enterprise) shows the upgrade prompt naming Enterprise, linking to the settings', async () => {
    const page = await open(app)
    const section = page.locator('[data-feature="audit_log"]')
    assert.equal(await section.getAttribute('data-gate'), 'upgrade')
    const overlay = section.locator('.dh-gate-overlay')
    assert.ok(await overlay.isVisible())
    assert.equal(await overlay.locator('.dh-gate-plan').innerText(), 'Enterprise')
    assert.match(await overlay.innerText(), /Available on the Enterprise plan\. This organization is on the Team plan\./)
    const link = overlay.getByRole('link', { name: 'Upgrade to Enterprise' })
    assert.ok(await link.isVisible())
    assert.equal(await link.getAttribute('href'), '/org/admin/settings')
    // The audit log itself never reaches the browser, not even in the RSC payload.
    assert.equal(await page.getByTestId('audit_log').count(), 0)
    assert.doesNotMatch(await page.content(), /ada@acme\.example/)
    // The link leads to the plan settings page.
    await link.click()
    await page.waitForURL(`${app.url}/org/admin/settings`)
    assert.ok(await page.getByRole('heading', { name: 'Plan and billing' }).isVisible())
    await page.close()
  })

  test('client hooks: useEntitlements, useFeature and useLimit read the decisions the server sent', async () => {
    const page = await open(app)
    const summary = page.getByTestId('plan-summary')
    assert.equal(await summary.getByTestId('client-tier').innerText(), 'team')
    assert.equal(await summary.getByTestId('client-max-users').innerText(), 'unlimited')
    const forecast = summary.locator('[data-feature-row="capacity_forecast"]')
    assert.equal(await forecast.getAttribute('data-enabled'), 'true')
    assert.match(await forecast.innerText(), /on\s+enabled_by_tier/)
    const audit = summary.locator('[data-feature-row="audit_log"]')
    assert.equal(await audit.getAttribute('data-enabled'), 'false')
    assert.match(await audit.innerText(), /off\s+tier_required/)
    await page.close()
  })

  test('a gated Server Action returns the 402 feature_not_licensed answer to the client', async () => {
    const page = await open(app)
    const form = page.getByTestId('export')
    assert.match(await form.innerText(), /not licensed here/)
    await form.getByRole('button', { name: 'Export' }).click()
    const result = form.getByTestId('export-result')
    await result.waitFor({ timeout: 30_000 })
    assert.equal(await result.getAttribute('data-status'), '402')
    assert.match(await result.innerText(), /^402 feature_not_licensed: The feature 'audit_log' is not included in the team tier\.$/)
    await page.close()
  })

  test('a gated Route Handler answers 402 with the FastAPI body', async () => {
    const res = await fetch(`${app.url}/api/audit-log`)
    assert.equal(res.status, 402)
    assert.deepEqual(await res.json(), {
      detail: {
        error: 'feature_not_licensed',
        feature: 'audit_log',
        required_tier: 'enterprise',
        current_tier: 'team',
        upgrade_url: '/org/admin/settings',
      },
    })
  })
})

describe('the docs/node.md page snippet (app/readme-example, generated from docs/node.md)', () => {
  let app
  before(async () => (app = await startApp(appEnv({ DEV_HEALTH_LICENSE: license('team') }))))
  after(() => app?.stop())

  test('shows the team feature and an upgrade link for the enterprise one', async () => {
    const page = await context.newPage()
    const res = await page.goto(`${app.url}/readme-example`, { waitUntil: 'load' })
    assert.equal(res.status(), 200, app.output())
    const text = await page.locator('main').innerText()
    assert.match(text, /Forecast…/)
    assert.doesNotMatch(text, /Audit log…/)
    assert.match(text, /Available on the enterprise plan\./)
    assert.equal(await page.getByRole('link', { name: 'Upgrade' }).getAttribute('href'), '/org/admin/settings')
    await page.close()
  })
})

describe('an enterprise license with capacity_forecast switched off by an administrator', () => {
  let app
  before(
    async () =>
      (app = await startApp(appEnv({ DEV_HEALTH_LICENSE: license('enterprise'), DEV_HEALTH_KILL_SWITCHES: 'capacity_forecast=off' }))),
  )
  after(() => app?.stop())

  test('capacity_forecast is "Feature unavailable" without an upgrade link; audit_log is shown', async () => {
    const page = await open(app)
    const off = page.locator('[data-feature="capacity_forecast"]')
    assert.equal(await off.getAttribute('data-gate'), 'unavailable')
    assert.equal((await off.locator('.dh-gate-unavailable').innerText()).trim(), 'Feature unavailable')
    assert.equal(await off.getByRole('link').count(), 0)
    assert.doesNotMatch(await page.content(), /Monte Carlo runs/)
    assert.match(await page.getByTestId('audit_log').innerText(), /ada@acme\.example/)
    const row = page.getByTestId('plan-summary').locator('[data-feature-row="capacity_forecast"]')
    assert.match(await row.innerText(), /off\s+global_disabled/)
    await page.close()
  })

  test('the gated Server Action and Route Handler run', async () => {
    const page = await open(app)
    const form = page.getByTestId('export')
    await form.getByRole('button', { name: 'Export' }).click()
    const result = form.getByTestId('export-result')
    await result.waitFor({ timeout: 30_000 })
    assert.equal(await result.getAttribute('data-status'), '200')
    assert.equal(await result.innerText(), 'Exported audit-log.csv (2 entries)')
    await page.close()
    const res = await fetch(`${app.url}/api/audit-log`)
    assert.equal(res.status, 200)
    assert.equal((await res.json()).entries[0].actor, 'ada@acme.example')
  })

  test('route handler: without SESSION_PUBLIC_KEYS the entitlements route says the keys are not configured', async () => {
    const session = { sub: 'user_1', email: 'ada@acme.example', org_id: 'org_acme', role: 'admin', exp: now + 600 }
    const res = await fetch(`${app.url}/api/entitlements`, {
      headers: { authorization: `Bearer ${testing.signJwt(session, sessionKey.seed, 's1')}` },
    })
    assert.equal(res.status, 503)
    assert.deepEqual(await res.json(), {
      detail: 'Session keys are not configured: set SESSION_PUBLIC_KEYS',
      code: 'session_keys_not_configured',
    })
  })
})

describe('a license signed by an untrusted key', () => {
  let app
  before(async () => {
    const stranger = testing.generateKey()
    const claims = { iss: 'fullchaos.studio', sub: 'org_acme', iat: now - 60, exp: now + 86400, jti: 'lic_x', tier: 'enterprise' }
    app = await startApp(appEnv({ DEV_HEALTH_LICENSE: testing.signJwt(claims, stranger.seed, 'test-key') }))
  })
  after(() => app?.stop())

  test('is rejected: community plan, both features behind an upgrade overlay', async () => {
    const page = await open(app)
    assert.match(await page.locator('p.alert').innerText(), /rejected \(invalid_signature\)/)
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Community')
    const forecast = page.locator('[data-feature="capacity_forecast"]')
    assert.equal(await forecast.getAttribute('data-gate'), 'upgrade')
    assert.ok(await forecast.getByRole('link', { name: 'Upgrade to Team' }).isVisible())
    assert.equal(await page.locator('[data-feature="audit_log"]').getAttribute('data-gate'), 'upgrade')
    assert.equal(await page.getByTestId('client-max-users').innerText(), 'up to 3')
    await page.close()
  })
})
