// Server-only: the instance license from the environment, resolved by
// @dev-health/entitlements-react (DEV_HEALTH_LICENSE, DEV_HEALTH_LICENSE_PUBLIC_KEYS), plus this
// example's own admin switches:
//   DEV_HEALTH_KILL_SWITCHES   feature=off,feature=on
import { Catalog } from '@dev-health/entitlements'
import { instanceEntitlements } from '@dev-health/entitlements-react'

export const catalog = Catalog.default()

export function planName(tier) {
  return catalog.tiers.find((t) => t.tier === tier)?.name ?? tier
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
 * Never throws for a bad license (community).
 */
export function exampleEntitlements(orgId = null) {
  return instanceEntitlements({ orgId, killSwitches: killSwitchesFromEnv(), catalog })
}
