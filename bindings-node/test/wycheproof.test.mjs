// The Wycheproof Ed25519 suite (tests/vectors/wycheproof_ed25519.json) through the binding's
// verifier: each case is a v1 token (SPEC §1.2: base64 of the message, a dot, base64 of the
// signature over the message bytes) under a keyring of the case's key. A valid signature passes
// the signature check and fails only as a license (invalid_claims: the message is no claim set);
// an invalid one is invalid_signature (or its key is refused).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { Keyring, Verifier } from '../index.mjs'

const SUITE = fileURLToPath(new URL('../../tests/vectors/wycheproof_ed25519.json', import.meta.url))

test('every Wycheproof Ed25519 case gets its expected answer', () => {
  const suite = JSON.parse(readFileSync(SUITE, 'utf8'))
  const wrong = []
  const counts = { valid: 0, invalid: 0 }
  for (const group of suite.testGroups) {
    const x = Buffer.from(group.publicKey.pk, 'hex').toString('base64url')
    let verifier = null
    let keyError = null
    try {
      verifier = new Verifier(Keyring.fromJwks(JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', kid: 'w', x }] })))
    } catch (e) {
      keyError = e.code
    }
    for (const t of group.tests) {
      counts[t.result] += 1
      const token = `${Buffer.from(t.msg, 'hex').toString('base64')}.${Buffer.from(t.sig, 'hex').toString('base64')}`
      let answer = `key refused (${keyError})`
      if (verifier) {
        try {
          verifier.verify(token, 1800000000)
          answer = 'verified'
        } catch (e) {
          answer = e.code
        }
      }
      const expected = t.result === 'valid' ? 'invalid_claims' : 'invalid_signature'
      if (answer !== expected && !(t.result === 'invalid' && keyError !== null)) {
        wrong.push(`tcId ${t.tcId} (${t.comment}): ${t.result}, expected ${expected}, got ${answer}`)
      }
    }
  }
  assert.deepEqual(wrong, [])
  assert.deepEqual(counts, { valid: 88, invalid: 63 })
})
