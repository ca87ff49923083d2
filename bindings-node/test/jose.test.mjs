// Interoperability with jose, the JWT library a Node user would otherwise pick: its EdDSA tokens
// verify here, and ours verify in its jwtVerify.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SignJWT, exportJWK, generateKeyPair, importJWK, jwtVerify, decodeProtectedHeader } from 'jose'

import { Entitlements, Keyring, LicenseError, Verifier, testing } from '../index.mjs'
import { NOW, DAY, licenseClaims } from './helpers.mjs'

async function joseKey(kid) {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid }
  return { privateKey, publicKey, jwk, keyring: Keyring.fromJwks({ keys: [jwk] }) }
}

function joseLicense(claims, header) {
  const { iat, exp, ...rest } = claims
  return new SignJWT(rest).setProtectedHeader(header).setIssuedAt(iat).setExpirationTime(exp)
}

test('a license signed by jose SignJWT (EdDSA, Ed25519) verifies here', async () => {
  const key = await joseKey('jose-1')
  const token = await joseLicense(licenseClaims({ tier: 'enterprise', features: { ask_dev: true } }), {
    alg: 'EdDSA',
    typ: 'JWT',
    kid: 'jose-1',
  }).sign(key.privateKey)
  const license = new Verifier(key.keyring).verify(token, NOW)
  assert.equal(license.status, 'active')
  assert.equal(license.tier, 'enterprise')
  assert.equal(license.kid, 'jose-1')
  assert.equal(license.format, 'v2')
  assert.equal(license.expiresAt, NOW + 30 * DAY)
  assert.deepEqual(license.claims.features, { ask_dev: true })
  const ent = Entitlements.resolve({ license, now: NOW })
  assert.equal(ent.has('audit_log'), true)
})

test('a jose token with a changed payload, another key, or no kid is refused', async () => {
  const key = await joseKey('jose-1')
  const other = await joseKey('jose-1')
  const header = { alg: 'EdDSA', typ: 'JWT', kid: 'jose-1' }
  const token = await joseLicense(licenseClaims(), header).sign(key.privateKey)
  const verifier = new Verifier(key.keyring)
  const [h, , s] = token.split('.')
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...licenseClaims(), tier: 'enterprise' })).toString('base64url')}.${s}`
  const code = (fn) => {
    try {
      fn()
    } catch (e) {
      assert.ok(e instanceof LicenseError)
      return e.code
    }
    return 'no error'
  }
  assert.equal(code(() => verifier.verify(forged, NOW)), 'invalid_signature')
  const byOther = await joseLicense(licenseClaims(), header).sign(other.privateKey)
  assert.equal(code(() => verifier.verify(byOther, NOW)), 'invalid_signature')
  const noKid = await joseLicense(licenseClaims(), { alg: 'EdDSA', typ: 'JWT' }).sign(key.privateKey)
  assert.notEqual(code(() => verifier.verify(noKid, NOW)), 'no error')
  // RFC 9864's fully specified name is not the `EdDSA` of SPEC §1.1.
  const ed25519 = await joseLicense(licenseClaims(), { alg: 'Ed25519', typ: 'JWT', kid: 'jose-1' }).sign(key.privateKey)
  assert.equal(code(() => verifier.verify(ed25519, NOW)), 'unsupported_algorithm')
})

test('a license signed here verifies in jose jwtVerify with the same claims', async () => {
  const { seed } = testing.generateKey()
  const claims = licenseClaims({ tier: 'team', limits: { users: 25 } })
  const token = testing.signJwt(claims, seed, 'ours-1')
  assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', typ: 'JWT', kid: 'ours-1' })
  const jwk = testing.publicJwkOf(seed, 'ours-1')
  assert.equal(jwk.kty, 'OKP')
  assert.equal(jwk.crv, 'Ed25519')
  const publicKey = await importJWK(jwk, 'EdDSA')
  const { payload, protectedHeader } = await jwtVerify(token, publicKey, {
    issuer: 'fullchaos.studio',
    algorithms: ['EdDSA'],
    currentDate: new Date(NOW * 1000),
  })
  assert.equal(protectedHeader.kid, 'ours-1')
  assert.deepEqual(payload, claims)
  // And jose refuses it under another key, as it should.
  const stranger = await importJWK(testing.publicJwkOf(testing.generateKey().seed, 'x'), 'EdDSA')
  await assert.rejects(jwtVerify(token, stranger, { currentDate: new Date(NOW * 1000) }), /signature/)
})

test('our keyring JWKS is a JWKS jose reads', async () => {
  const { seed, publicKey } = testing.generateKey()
  const keyring = new Keyring({ k1: publicKey })
  const [jwk] = keyring.toJwks().keys
  const key = await importJWK(jwk, 'EdDSA')
  const token = testing.signJwt(licenseClaims(), seed, 'k1')
  const { payload } = await jwtVerify(token, key, { currentDate: new Date(NOW * 1000) })
  assert.equal(payload.sub, 'org_1')
})
