// Type-checked with `tsc --strict --noEmit` (make test-node): openfeature.d.ts is a Provider of
// @openfeature/server-sdk as the README uses it. Never executed.
import { OpenFeature, type Provider } from '@openfeature/server-sdk'
import { EntitlementsProvider, PROVIDER_NAME } from '@dev-health/entitlements/openfeature'
import { Catalog } from '@dev-health/entitlements'

const provider: Provider = new EntitlementsProvider({ catalog: Catalog.default(), killSwitches: { sso_saml: false } })
await OpenFeature.setProviderAndWait(provider)
const enabled: boolean = await OpenFeature.getClient().getBooleanValue('sso_saml', false, { targetingKey: 'org_acme', tier: 'team' })
const name: 'dev-health-entitlements' = PROVIDER_NAME
void enabled
void name
