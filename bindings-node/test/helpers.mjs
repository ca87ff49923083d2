// Shared helpers of the Node tests: keys and licenses signed with the binding's `testing` exports.
import assert from 'node:assert/strict'

import { Keyring, LicenseError, Verifier, testing } from '../index.mjs'

export const NOW = 1_767_225_600 // 2026-01-01T00:00:00Z
export const DAY = 86_400

export function keyPair(kid = 'k1') {
  const { seed, publicKey } = testing.generateKey()
  return { kid, seed, publicKey, keyring: new Keyring({ [kid]: publicKey }) }
}

export function licenseClaims(overrides = {}) {
  return {
    iss: 'fullchaos.studio',
    sub: 'org_1',
    iat: NOW - DAY,
    exp: NOW + 30 * DAY,
    jti: 'lic_test_1',
    tier: 'team',
    ...overrides,
  }
}

export function signLicense(key, overrides = {}) {
  return testing.signJwt(licenseClaims(overrides), key.seed, key.kid)
}

export function verify(key, token, now = NOW, options = undefined) {
  return new Verifier(key.keyring, options).verify(token, now)
}

/** The `.code` of the LicenseError that `fn` throws (fails the test for any other outcome). */
export function codeOf(fn) {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof LicenseError, `not a LicenseError: ${e}`)
    return e.code
  }
  assert.fail('no error thrown')
}
