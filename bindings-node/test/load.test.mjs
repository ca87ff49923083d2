// The package loads from both entry points, and both give the very same native classes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import * as esm from '../index.mjs'
import esmDefault from '../index.mjs'

const require = createRequire(import.meta.url)
const cjs = require('../index.js')

test('CommonJS and ESM entry points export the same objects', () => {
  const cjsNames = Object.keys(cjs).filter((k) => !k.startsWith('__')).sort()
  const esmNames = Object.keys(esm).filter((k) => k !== 'default').sort()
  assert.deepEqual(esmNames, cjsNames)
  for (const name of cjsNames) assert.equal(esm[name], cjs[name], name)
  assert.equal(esmDefault, cjs)
})

test('the package name resolves to both entry points', async () => {
  const viaRequire = require('@dev-health/entitlements')
  const viaImport = await import('@dev-health/entitlements')
  assert.equal(viaRequire.Verifier, cjs.Verifier)
  assert.equal(viaImport.Verifier, cjs.Verifier)
})

test('errors are LicenseError instances (an Error subclass) with the core code', () => {
  const verifier = new esm.Verifier(new esm.Keyring({ k1: 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=' }))
  assert.throws(
    () => verifier.verify('eyJhbGciOiJub25lIn0.e30.', 1_700_000_000),
    (err) => {
      assert.ok(err instanceof esm.LicenseError)
      assert.ok(err instanceof Error)
      assert.equal(err.name, 'LicenseError')
      assert.equal(err.code, 'unsupported_algorithm')
      assert.match(err.message, /EdDSA/)
      return true
    },
  )
  const made = new cjs.LicenseError('revoked', 'made by hand')
  assert.equal(made.code, 'revoked')
  assert.ok(made instanceof esm.LicenseError)
})
