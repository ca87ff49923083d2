// getEntitlements against a stand-in for the license server's entitlements API on loopback: the
// org's JSON is used as sent; anything else fails closed to community.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'

import { Entitlements } from '@dev-health/entitlements'
import { entitlementsTag, getEntitlements } from '../dist/index.js'

const TOKEN = 'session-token-of-a-superuser'
let server
let base
const seen = []
const answers = new Map()

before(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization })
    const org = decodeURIComponent(req.url.split('/').pop())
    const answer = req.headers.authorization === `Bearer ${TOKEN}` ? answers.get(org) : { status: 401, body: { detail: 'Not authenticated' } }
    if (!answer) return res.writeHead(404).end()
    res.writeHead(answer.status, { 'content-type': 'application/json' })
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
after(() => new Promise((resolve) => server.close(resolve)))

test('reads the org from GET /api/v1/licensing/entitlements/{org} with the bearer token', async () => {
  answers.set('org_acme', { status: 200, body: Entitlements.resolve({ orgId: 'org_acme', orgTier: 'enterprise' }).toJSON() })
  const ent = await getEntitlements('org_acme', { serverUrl: `${base}/`, token: TOKEN })
  assert.equal(ent.tier, 'enterprise')
  assert.equal(ent.orgId, 'org_acme')
  assert.ok(ent.has('audit_log'))
  assert.deepEqual(seen.at(-1), { url: '/api/v1/licensing/entitlements/org_acme', authorization: `Bearer ${TOKEN}` })
})

test('fails closed to community, reporting why, for every answer it cannot use', async () => {
  answers.set('org_500', { status: 500, body: { detail: 'boom' } })
  answers.set('org_text', { status: 200, body: 'not json' })
  answers.set('org_other', { status: 200, body: Entitlements.resolve({ orgId: 'org_acme', orgTier: 'enterprise' }).toJSON() })
  answers.set('org_bad', { status: 200, body: { org_id: 'org_bad', tier: 'platinum', features: {} } })
  const cases = [
    ['org_500', { serverUrl: base, token: TOKEN }, /answered 500/],
    ['org_text', { serverUrl: base, token: TOKEN }, /not JSON/],
    ['org_other', { serverUrl: base, token: TOKEN }, /not this org's entitlements/],
    ['org_bad', { serverUrl: base, token: TOKEN }, /refused \(invalid_input\)/],
    ['org_acme', { serverUrl: base, token: 'wrong' }, /answered 401/],
    ['org_unknown', { serverUrl: base, token: TOKEN }, /answered 404/],
    ['org_acme', { serverUrl: 'http://127.0.0.1:9', token: TOKEN }, /did not answer/],
    ['org_acme', { serverUrl: '' }, /no license server URL/],
  ]
  for (const [org, options, why] of cases) {
    const errors = []
    const ent = await getEntitlements(org, { ...options, onError: (e) => errors.push(e.message) })
    assert.equal(ent.tier, 'community', org)
    assert.equal(ent.has('capacity_forecast'), false, org)
    assert.equal(errors.length, 1, org)
    assert.match(errors[0], why)
    assert.doesNotMatch(errors[0], new RegExp(TOKEN))
  }
})

test('asks Next.js to cache the answer under the org tag, or not at all with revalidate 0', async () => {
  const inits = []
  const fetchSpy = async (url, init) => {
    inits.push(init)
    return fetch(url, init)
  }
  await getEntitlements('org_acme', { serverUrl: base, token: TOKEN, fetch: fetchSpy, tags: ['billing'] })
  assert.deepEqual(inits[0].next, { revalidate: 60, tags: [entitlementsTag('org_acme'), 'billing'] })
  await getEntitlements('org_acme', { serverUrl: base, token: TOKEN, fetch: fetchSpy, revalidate: 0 })
  assert.equal(inits[1].cache, 'no-store')
  assert.equal(inits[1].next, undefined)
})
