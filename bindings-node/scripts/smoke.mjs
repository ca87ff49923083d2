// Smoke test of the packed packages, copied into and run from a fresh npm project where the main
// tarball and this machine's platform tarball were installed (so that every import resolves
// there): the addon must load from the platform package, and verification, resolution, the
// gate, the 402 body and the OpenFeature provider must work.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Entitlements, Keyring, Verifier, testing, upgradeGate } = require('@dev-health/entitlements')
const { EntitlementsProvider } = await import('@dev-health/entitlements/openfeature')
const esm = await import('@dev-health/entitlements')

const platform = `${process.platform}-${process.arch}-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`
const addon = require.resolve(`@dev-health/entitlements-${platform}`)
assert.match(addon, new RegExp(`node_modules/@dev-health/entitlements-${platform}/entitlements\\.${platform}\\.node$`))
assert.equal(esm.Entitlements, Entitlements, 'CommonJS and ESM share the addon')

const now = Math.floor(Date.now() / 1000)
const key = testing.generateKey()
const token = testing.signJwt(
  { iss: 'fullchaos.studio', sub: 'org_acme', iat: now - 60, exp: now + 86400, jti: 'lic_smoke', tier: 'team' },
  key.seed,
  'k1',
)
const license = new Verifier(Keyring.parse(`k1=${key.publicKey}`)).verify(token)
assert.equal(license.tier, 'team')
const ent = Entitlements.resolve({ license, orgId: 'org_acme' })
assert.equal(ent.has('capacity_forecast'), true)
assert.equal(upgradeGate({ feature: 'audit_log', entitlements: ent }).state, 'upgrade')
assert.equal(ent.featureDenial('audit_log').status, 402)
const details = await new EntitlementsProvider({ license }).resolveBooleanEvaluation('sso_saml', true, { targetingKey: 'org_acme' })
assert.deepEqual(details, { value: false, reason: 'STATIC', flagMetadata: { engine_reason: 'tier_required' } })
console.log(`smoke: @dev-health/entitlements on ${platform} from ${addon.split('node_modules/')[1]}: ok`)
