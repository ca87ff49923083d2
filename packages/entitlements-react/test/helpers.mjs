// Licenses and sessions signed here with fresh keys; the instance license is read from the
// environment, as in production.
import { Entitlements, testing } from '@dev-health/entitlements'

export const now = Math.floor(Date.now() / 1000)
export const licenseKey = testing.generateKey()
export const sessionKey = testing.generateKey()

export function license(tier, claims = {}) {
  return testing.signJwt(
    { iss: 'fullchaos.studio', sub: 'org_acme', iat: now - 60, exp: now + 30 * 86400, jti: `lic_${tier}`, tier, ...claims },
    licenseKey.seed,
    'test-key',
  )
}

export function session(role, claims = {}) {
  return testing.signJwt(
    { sub: 'user_1', email: 'ada@acme.example', org_id: 'org_acme', role, exp: now + 600, ...claims },
    sessionKey.seed,
    's1',
  )
}

/** Runs `fn` with the instance license (and session keys) set in the environment. */
export async function withInstanceLicense(token, fn) {
  const saved = { ...process.env }
  process.env.DEV_HEALTH_LICENSE = token
  process.env.DEV_HEALTH_LICENSE_PUBLIC_KEYS = `test-key=${licenseKey.publicKey}`
  process.env.SESSION_PUBLIC_KEYS = `s1=${sessionKey.publicKey}`
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
}

export const team = () => Entitlements.resolve({ orgId: 'org_acme', orgTier: 'team' })
