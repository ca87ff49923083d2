// Option bags are read strictly, as in the wasm binding: a key that is not one of the camelCase
// names throws invalid_input. They were ignored: `accept_v1: false` (SPEC §4's Python spelling)
// left v1 tokens accepted, `deployment_id` left the audience unchecked, `kill_switches` left a
// switched-off feature on.
import { test } from 'node:test'
import assert from 'node:assert/strict'

import {
  Entitlements,
  Keyring,
  RevocationList,
  SessionVerifier,
  Verifier,
  testing,
  upgradeGate,
  verifyStripeSignature,
} from '../index.mjs'
import { NOW, codeOf, keyPair, signLicense } from './helpers.mjs'

test('a misspelt option is invalid_input, not ignored', () => {
  const key = keyPair()
  const keys = key.keyring
  const ent = Entitlements.resolve({ orgTier: 'enterprise', now: NOW })
  const list = testing.signRevocationList(['lic_x'], 'fullchaos.studio', NOW - 10, NOW + 3600, key.seed, key.kid)
  const cases = {
    'Verifier accept_v1': () => new Verifier(keys, { accept_v1: false }),
    'Verifier deployment_id': () => new Verifier(keys, { deployment_id: 'mine' }),
    'Verifier.fromEnv high_water_mark': () => Verifier.fromEnv({ high_water_mark: NOW }),
    'SessionVerifier hs256_secret': () => new SessionVerifier(keys, { hs256_secret: 'x'.repeat(32) }),
    'resolve kill_switches': () => Entitlements.resolve({ orgTier: 'enterprise', kill_switches: { sso_saml: false } }),
    'resolve org_id': () => Entitlements.resolve({ org_id: 'org_1' }),
    'resolve override expires_at': () =>
      Entitlements.resolve({ now: NOW, overrides: [{ feature: 'sso_saml', enabled: false, expires_at: NOW + 10 }] }),
    'Entitlements#upgradeGate required_tier': () => ent.upgradeGate('sso_saml', { required_tier: 'team' }),
    'upgradeGate upgrade_href': () => upgradeGate({ feature: 'sso_saml', entitlements: ent, upgrade_href: '/x' }),
    'RevocationList.verify iss': () => RevocationList.verify(list, keys, { iss: 'x' }),
    'verifyStripeSignature tolerence': () => verifyStripeSignature('{}', 't=1,v1=00', 'whsec_x', { tolerence: 5 }),
  }
  for (const [name, call] of Object.entries(cases)) assert.equal(codeOf(call), 'invalid_input', name)
})

test('the camelCase options still apply, and null or no options are none', () => {
  const key = keyPair()
  const v1 = testing.signV1(
    { iss: 'fullchaos.studio', sub: 'org_1', iat: NOW - 10, exp: NOW + 1000, tier: 'team', license_id: 'l1' },
    key.seed,
  )
  assert.equal(codeOf(() => new Verifier(key.keyring, { acceptV1: false }).verify(v1, NOW)), 'unsupported_algorithm')
  assert.equal(new Verifier(key.keyring, null).verify(v1, NOW).tier, 'team')
  assert.equal(new Verifier(key.keyring).verify(signLicense(key), NOW).tier, 'team')
  const aud = signLicense(key, { aud: 'theirs' })
  assert.equal(codeOf(() => new Verifier(key.keyring, { deploymentId: 'mine' }).verify(aud, NOW)), 'audience_mismatch')
  const ent = Entitlements.resolve({
    orgTier: 'enterprise',
    killSwitches: { sso_saml: false },
    overrides: [{ feature: 'audit_log', enabled: false, expiresAt: NOW + 10 }],
    now: NOW,
  })
  assert.equal(ent.has('sso_saml'), false)
  assert.equal(ent.check('audit_log').reason, 'org_override_disabled')
  assert.equal(Entitlements.resolve().tier, 'community')
  assert.equal(Entitlements.resolve(null).tier, 'community')
  const community = Entitlements.resolve({ now: NOW })
  assert.equal(community.upgradeGate('sso_saml', { upgradeHref: '/buy' }).upgradeHref, '/buy')
  assert.equal(community.upgradeGate('sso_saml').upgradeHref, '/org/admin/settings')
  assert.equal(upgradeGate({ feature: 'sso_saml', entitlements: community, requiredTier: null }).state, 'upgrade')
  assert.ok(new SessionVerifier(key.keyring, { leeway: 0, issuer: null }))
})
