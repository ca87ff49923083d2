// The cost of one boolean flag evaluation through the OpenFeature server SDK with
// EntitlementsProvider against calling `Entitlements#has` directly, and where it goes: the
// provider alone (resolving the org from the context on every call) and resolve + has.
// Prints nanoseconds per call and the ratio; timing never fails the run.
//
//   node openfeature.mjs [directory of the addon with openfeature.js]   (make bench-openfeature)
import { createRequire } from 'node:module'
import { OpenFeature } from '@openfeature/server-sdk'

const require = createRequire(import.meta.url)
const dir = process.argv[2] ?? new URL('./addon/', import.meta.url).pathname
const { Entitlements } = require(`${dir}/index.js`)
const { EntitlementsProvider } = require(`${dir}/openfeature.js`)

const provider = new EntitlementsProvider()
await OpenFeature.setProviderAndWait(provider)
const client = OpenFeature.getClient()
const context = { targetingKey: 'org_acme', tier: 'team' }
const ent = Entitlements.resolve({ orgId: 'org_acme', orgTier: 'team' })
if ((await client.getBooleanValue('capacity_forecast', false, context)) !== ent.has('capacity_forecast')) {
  throw new Error('the SDK and has disagree')
}

async function perCall(fn, n) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await fn()
  return Number(process.hrtime.bigint() - start) / n
}
function perCallSync(fn, n) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) fn()
  return Number(process.hrtime.bigint() - start) / n
}

const cases = {
  'OpenFeature client.getBooleanValue': [true, () => client.getBooleanValue('capacity_forecast', false, context), 2_000],
  'provider.resolveBooleanEvaluation': [true, () => provider.resolveBooleanEvaluation('capacity_forecast', false, context), 5_000],
  'Entitlements.resolve + has': [false, () => Entitlements.resolve({ orgId: 'org_acme', orgTier: 'team' }).has('capacity_forecast'), 5_000],
  'Entitlements#has': [false, () => ent.has('capacity_forecast'), 200_000],
}
const best = Object.fromEntries(Object.keys(cases).map((k) => [k, Infinity]))
for (let round = 0; round < 15; round++) {
  for (const [name, [isAsync, fn, n]] of Object.entries(cases)) {
    const ns = isAsync ? await perCall(fn, n) : perCallSync(fn, n)
    best[name] = Math.min(best[name], ns)
  }
}
console.log('Node: one boolean evaluation (ns per call, best of 15 batches)')
for (const [name, ns] of Object.entries(best)) console.log(`  ${name.padEnd(40)} ${ns.toFixed(0).padStart(10)}`)
console.log(`  ratio SDK / has: ${(best['OpenFeature client.getBooleanValue'] / best['Entitlements#has']).toFixed(0)}x`)
await OpenFeature.close()
