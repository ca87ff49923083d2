// Type-checked with `tsc --strict --noEmit` as an ES module consumer would see the package: the
// `types` condition of package.json's `exports`, named imports. Never executed.
import { Entitlements, LicenseError, Verifier, Keyring, upgradeGate, type GateState } from '@dev-health/entitlements'

export function gate(token: string, keys: string): GateState | 'rejected' {
  try {
    const license = new Verifier(Keyring.parse(keys)).verify(token)
    return upgradeGate({ feature: 'audit_log', entitlements: Entitlements.resolve({ license }) }).state
  } catch (err) {
    if (err instanceof LicenseError && err.code === 'invalid_signature') return 'rejected'
    throw err
  }
}

// @ts-expect-error: LicenseError codes are a closed set
export const bad: import("@dev-health/entitlements").ErrorCode = "no_such_code"
