// The billing settings page against the real license server (target/debug/dev-health-license, or
// DHL_BIN) and the Stripe test double (support/stripe-double.mjs), in headless Chromium: the owner of an
// org on the community plan follows "Upgrade to Enterprise", pays in the double's Checkout, comes
// back to the settings showing Enterprise, and the enterprise feature opens; "Manage billing"
// opens the portal; a self-hosted purchase shows its license with a copy button. The app calls
// the server with the user's session only: it is never given the admin token.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { chromium } from 'playwright-core'
import { testing } from '@dev-health/entitlements'

import { APP, CHROMIUM, FLAGS, freePort, startApp } from '../support/browser.mjs'
import { startStripeDouble } from '../support/stripe-double.mjs'

const BIN = process.env.DHL_BIN ?? join(APP, '..', '..', 'target', 'debug', 'dev-health-license')
const ADMIN_TOKEN = randomBytes(24).toString('hex')
const STRIPE_KEY = `sk_test_${randomBytes(12).toString('hex')}`
const WEBHOOK_SECRET = `whsec_${randomBytes(16).toString('hex')}`
const PRICES = { price_nextjs_team: 'month', price_nextjs_enterprise: 'month' }
const ORG = 'org_acme'
const DEADLINE_MS = 60_000

const sessionKey = testing.generateKey()
const now = Math.floor(Date.now() / 1000)
const ownerSession = testing.signJwt(
  { sub: 'user_ada', email: 'ada@acme.example', org_id: ORG, role: 'owner', exp: now + 3600 },
  sessionKey.seed,
  's1',
)

/** `dev-health-license serve` on a free loopback port; resolves with its URL once it listens. */
async function startServer(workDir, env) {
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], {
    cwd: workDir,
    env: { PATH: process.env.PATH, RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let logs = ''
  child.stderr.on('data', (d) => (logs += d))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the license server did not listen within 60 s:\n${logs}`)), DEADLINE_MS)
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`the license server exited (${code}):\n${logs}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on (http:\/\/\S+)/.exec(line)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
  })
  return { url, logs: () => logs, stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))) }
}

const workDir = mkdtempSync(join(tmpdir(), 'dh-nextjs-billing-'))
let server
let stripe
let app
let context

before(async () => {
  const appPort = await freePort()
  const appUrl = `http://127.0.0.1:${appPort}`
  stripe = await startStripeDouble({
    prices: PRICES,
    apiKey: STRIPE_KEY,
    webhookUrl: () => `${server.url}/api/v1/billing/webhooks/stripe`,
    webhookSecret: WEBHOOK_SECRET,
  })
  server = await startServer(workDir, {
    DATABASE_URL: `sqlite://${workDir}/licenses.db`,
    LICENSE_SIGNING_KEY: randomBytes(32).toString('base64'),
    LICENSE_KEY_ID: 'nextjs-billing-1',
    ADMIN_TOKEN,
    SESSION_PUBLIC_KEYS: `s1=${sessionKey.publicKey}`,
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_PRICE_TIERS: 'price_nextjs_team=team,price_nextjs_enterprise=enterprise',
    STRIPE_API_BASE: stripe.url,
    STRIPE_SYNC_INTERVAL: '0',
    PUBLIC_APP_URL: appUrl,
  })
  const created = await fetch(`${server.url}/api/v1/admin/orgs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: ORG, name: 'Acme' }),
  })
  assert.ok(created.ok, await created.text())
  // The app knows the server's address and the session keys, nothing more.
  app = await startApp({ DEV_HEALTH_LICENSE_SERVER_URL: server.url, SESSION_PUBLIC_KEYS: `s1=${sessionKey.publicKey}` }, appPort)
  const profile = join(workDir, 'chromium')
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS })
  // The host's sign-in would set this cookie; the test signs the owner in directly.
  await context.addCookies([{ name: 'dh_session', value: ownerSession, url: app.url, httpOnly: true, sameSite: 'Lax' }])
})

after(async () => {
  await context?.close()
  await app?.stop()
  await server?.stop()
  await stripe?.stop()
  rmSync(workDir, { recursive: true, force: true })
})

describe('the billing settings page, against the license server and the Stripe double', () => {
  test('"Upgrade to Enterprise" goes through Checkout and back; the plan is Enterprise and the audit log opens', async () => {
    const page = await context.newPage()
    await page.goto(app.url, { waitUntil: 'load' })
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Community', app.output())
    const gate = page.locator('[data-feature="audit_log"]')
    assert.equal(await gate.getAttribute('data-gate'), 'upgrade')
    await gate.getByRole('link', { name: 'Upgrade to Enterprise' }).click()
    await page.waitForURL(`${app.url}/org/admin/settings`)
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Community')

    await page.getByTestId('plan-enterprise').getByRole('button', { name: 'Upgrade to Enterprise' }).click()
    await page.waitForURL(new RegExp(`^${stripe.url}/c/pay/cs_test_`), { timeout: DEADLINE_MS })
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(new RegExp(`^${app.url}/org/admin/settings\\?checkout=success`), { timeout: DEADLINE_MS })
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Enterprise', server.logs())
    assert.match(await page.getByTestId('plan-enterprise').innerText(), /Current plan/)

    // What the server asked Stripe for: a customer for the org, then a Checkout of the enterprise price.
    const [customer] = stripe.calls().filter((c) => c.path === '/v1/customers')
    assert.equal(customer.form['metadata[org_id]'], ORG)
    const [checkout] = stripe.calls().filter((c) => c.path === '/v1/checkout/sessions')
    assert.equal(checkout.form['line_items[0][price]'], 'price_nextjs_enterprise')
    assert.equal(checkout.form.client_reference_id, ORG)
    assert.ok(checkout.form.success_url.startsWith(`${app.url}/org/admin/settings?checkout=success`))

    await page.getByRole('link', { name: 'Back' }).click()
    await page.waitForURL(`${app.url}/`)
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Enterprise')
    assert.match(await page.getByTestId('audit_log').innerText(), /ada@acme\.example/)
    assert.equal(await page.locator('[data-feature="audit_log"][data-gate]').count(), 0)
    await page.close()
  })

  test('"Manage billing" opens the Customer Portal of the org\'s customer, which returns to the settings', async () => {
    const page = await context.newPage()
    await page.goto(`${app.url}/org/admin/settings`, { waitUntil: 'load' })
    await page.getByRole('button', { name: 'Manage billing' }).click()
    await page.waitForURL(new RegExp(`^${stripe.url}/p/session/bps_`), { timeout: DEADLINE_MS })
    const [customer] = stripe.calls().filter((c) => c.path === '/v1/customers')
    assert.ok(customer)
    const [portal] = stripe.calls().filter((c) => c.path === '/v1/billing_portal/sessions')
    assert.match(await page.locator('body').innerText(), new RegExp(`Customer ${portal.form.customer}`))
    await page.getByRole('link', { name: 'Return' }).click()
    await page.waitForURL(`${app.url}/org/admin/settings`)
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Enterprise')
    await page.close()
  })

  test('a self-hosted purchase shows the deployment\'s license, and the copy button copies it', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url })
    const page = await context.newPage()
    await page.goto(`${app.url}/org/admin/settings`, { waitUntil: 'load' })
    const section = page.getByTestId('self-hosted')
    assert.match(await section.innerText(), /No self-hosted license yet/)
    await section.getByLabel('Deployment id').fill('dep_onprem_1')
    await section.getByRole('button', { name: 'Buy a self-hosted license' }).click()
    await page.waitForURL(new RegExp(`^${stripe.url}/c/pay/cs_test_`), { timeout: DEADLINE_MS })
    await page.getByRole('button', { name: 'Subscribe' }).click()
    await page.waitForURL(new RegExp(`^${app.url}/org/admin/settings\\?checkout=success`), { timeout: DEADLINE_MS })

    const row = page.getByTestId('self-hosted-license')
    assert.equal(await row.count(), 1, server.logs())
    assert.equal(await row.getAttribute('data-deployment'), 'dep_onprem_1')
    const token = await row.locator('textarea').inputValue()
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
    assert.equal(claims.sub, ORG)
    assert.equal(claims.tier, 'enterprise')
    assert.deepEqual([].concat(claims.aud), ['dep_onprem_1'])
    await row.getByRole('button', { name: 'Copy license' }).click()
    await row.getByRole('status').waitFor({ timeout: DEADLINE_MS })
    assert.equal((await row.getByRole('status').innerText()).trim(), 'Copied')
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token)
    // The org's own plan is unchanged by a self-hosted purchase.
    assert.equal((await page.getByTestId('plan').innerText()).trim(), 'Plan: Enterprise')
    await page.close()
  })
})
