// Times given as JS numbers: NaN, ±Infinity and values beyond 2^53 are `invalid_input`, as in the
// wasm binding. Read as i64, Node-API turned them into 0 (the epoch): an expired license resolved
// to its tier and an expired session verified.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { Entitlements, SessionVerifier, Verifier, testing, verifyStripeSignature } from '../index.mjs'
import { NOW, DAY, codeOf, keyPair, signLicense, verify } from './helpers.mjs'

const BAD = [NaN, Infinity, -Infinity, 2 ** 60]

test('a non-finite or out-of-range now is invalid_input, not the epoch', () => {
  const key = keyPair()
  const expired = verify(key, signLicense(key, { tier: 'enterprise', iat: NOW - 400 * DAY, exp: NOW - 100 * DAY }))
  assert.equal(expired.status, 'expired')
  const ent = Entitlements.resolve({ license: expired, now: NOW })
  const session = testing.signJwt(
    { sub: 'u', email: 'u@example.com', org_id: 'org_1', role: 'admin', iat: NOW - 7200, exp: NOW - 3600 },
    key.seed,
    key.kid,
  )
  const sessions = new SessionVerifier(key.keyring)
  assert.equal(codeOf(() => sessions.verify(session, NOW)), 'session_expired')
  for (const now of BAD) {
    assert.equal(codeOf(() => Entitlements.resolve({ license: expired, now })), 'invalid_input', `resolve ${now}`)
    assert.equal(codeOf(() => expired.statusAt(now)), 'invalid_input', `statusAt ${now}`)
    assert.equal(codeOf(() => ent.isStale(now)), 'invalid_input', `isStale ${now}`)
    assert.equal(codeOf(() => sessions.verify(session, now)), 'invalid_input', `session ${now}`)
    assert.equal(codeOf(() => new Verifier(key.keyring).verify(signLicense(key), now)), 'invalid_input')
    assert.equal(codeOf(() => verifyStripeSignature('{}', 't=1,v1=00', 'whsec_x', { now })), 'invalid_input')
    assert.equal(codeOf(() => new Verifier(key.keyring, { highWaterMark: now })), 'invalid_input')
    assert.equal(
      codeOf(() => Entitlements.resolve({ now: NOW, overrides: [{ feature: 'sso_saml', enabled: false, expiresAt: now }] })),
      'invalid_input',
    )
  }
  // Fractional seconds are floored, as before.
  assert.equal(expired.statusAt(NOW + 0.5), 'expired')
  assert.equal(Entitlements.resolve({ license: expired, now: NOW + 0.9 }).tier, 'community')
})
