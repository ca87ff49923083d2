// Type-checked with `tsc --strict --noEmit` (make test-node): the generated index.d.ts describes
// the API as the README and the Next.js example use it. Never executed.
import {
  BillingLedger,
  Catalog,
  Entitlements,
  Keyring,
  LicenseError,
  RevocationList,
  SessionVerifier,
  Verifier,
  upgradeGate,
  verifyStripeSignature,
  testing,
  type EntitlementsJson,
  type ErrorCode,
  type GateState,
  type Tier,
  type UpgradeGate,
} from '../index.js'

export function verifyAndGate(token: string, jwks: string): UpgradeGate {
  const verifier = new Verifier(Keyring.fromJwks(jwks), {
    issuer: 'fullchaos.studio',
    leeway: 60,
    acceptV1: true,
    catalog: Catalog.default(),
  })
  let code: ErrorCode | undefined
  try {
    const license = verifier.verify(token)
    const tier: Tier = license.tier
    const ent = Entitlements.resolve({ license, orgId: null, orgTier: tier, now: license.verifiedAt })
    const ok: boolean = ent.has('sso_saml') && ent.check('sso_saml').allowed
    const limit = ent.checkLimit('max_users', 4)
    const maximum: number | null = limit.maximum
    const json: EntitlementsJson = ent.toJSON()
    void [ok, maximum, json.features.audit_log, ent.can('admin', 'org:write')]
    return upgradeGate({ feature: 'audit_log', entitlements: ent })
  } catch (e) {
    if (e instanceof LicenseError) code = e.code
    throw e
  } finally {
    void code
  }
}

export function fromApi(json: EntitlementsJson): GateState {
  const ent = Entitlements.fromJSON(json, Catalog.devHealthOps())
  // @ts-expect-error: a tier is one of three names
  upgradeGate({ feature: 'audit_log', entitlements: ent, requiredTier: 'gold' })
  return ent.upgradeGate('audit_log', { requiredTier: 'enterprise' }).state
}

export function webhook(body: Buffer, header: string): number {
  return verifyStripeSignature(body, header, ['whsec_a', 'whsec_b'], { tolerance: 300 })
}

export function session(token: string): string {
  const key = testing.generateKey()
  const s = new SessionVerifier(new Keyring({ k1: key.publicKey }), { leeway: 30 })
  return s.verify(token, 1_700_000_000).orgId
}

export function billing(event: string): string | null {
  const ledger = new BillingLedger({ price_tiers: { price_team: 'team' } }, [{ org_id: 'org_1', tier: 'community' }])
  const outcome = ledger.apply(event)
  const org = ledger.org('org_1')
  const limit: number | null | undefined = Entitlements.resolve().limit('max_users')
  void [outcome.actions.length, limit, RevocationList.fromIds(['lic_1']).contains('lic_1')]
  return org ? org.tier : null
}
