// Server-only: the instance license from the environment, verified by @dev-health/entitlements.
//   DEV_HEALTH_LICENSE               the license token (or LICENSE_KEY, or DEV_HEALTH_LICENSE_FILE)
//   DEV_HEALTH_LICENSE_PUBLIC_KEYS   trusted keys: a JWKS document or kid=base64,kid=base64
//   DEV_HEALTH_KILL_SWITCHES         optional admin switches: feature=off,feature=on
import {
  Catalog,
  Entitlements,
  LicenseError,
  Verifier,
  licenseTokenFromEnv,
} from '@dev-health/entitlements'

export const catalog = Catalog.default()

export function planName(tier) {
  return catalog.tiers.find((t) => t.tier === tier)?.name ?? tier
}

export function featureName(key) {
  return catalog.features.find((f) => f.key === key)?.name ?? key
}

function killSwitchesFromEnv() {
  const switches = {}
  for (const entry of (process.env.DEV_HEALTH_KILL_SWITCHES ?? '').split(',')) {
    const [feature, value] = entry.split('=').map((s) => s.trim())
    if (feature) switches[feature] = value !== 'off' && value !== 'false'
  }
  return switches
}

/**
 * The instance's entitlements (for `orgId`, when given): `{ license, problem, entitlements }`.
 * Never throws for a bad license.
 */
export function instanceEntitlements(orgId = null) {
  let license = null
  let problem = null
  try {
    const token = licenseTokenFromEnv()
    if (token) {
      license = Verifier.fromEnv().verify(token)
    } else {
      problem = 'No license is configured (DEV_HEALTH_LICENSE): community plan.'
    }
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    problem = `The license was rejected (${err.code}): community plan.`
  }
  const entitlements = Entitlements.resolve({ license, orgId, killSwitches: killSwitchesFromEnv() })
  return { license, problem, entitlements }
}
