import { EntitlementsProvider, getEntitlements, UpgradeGate } from '@dev-health/entitlements-react'

import { catalog, exampleEntitlements, planName } from '../lib/entitlements'
import { currentSession, licenseServerUrl } from '../lib/license-server'
import ExportAuditLog from './export-audit-log'
import PlanSummary from './plan-summary'

// The license and the clock are read on every request, not at build time.
export const dynamic = 'force-dynamic'

function CapacityForecast() {
  const weeks = [
    ['50 %', 'week 3'],
    ['80 %', 'week 5'],
    ['95 %', 'week 7'],
  ]
  return (
    <section className="card" data-testid="capacity_forecast">
      <h2>Capacity forecast</h2>
      <p className="forecast-summary">10,000 Monte Carlo runs over the last 12 weeks of throughput.</p>
      <table>
        <tbody>
          {weeks.map(([p, w]) => (
            <tr key={p}>
              <td>{p} likely done by</td>
              <td>{w}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function AuditLog() {
  return (
    <section className="card" data-testid="audit_log">
      <h2>Audit log</h2>
      <table className="audit-log">
        <tbody>
          <tr>
            <td>ada@acme.example</td>
            <td>changed the sync interval</td>
          </tr>
          <tr>
            <td>grace@acme.example</td>
            <td>invited a member</td>
          </tr>
        </tbody>
      </table>
    </section>
  )
}

// With a license server (DEV_HEALTH_LICENSE_SERVER_URL) and a signed-in user, the org's plan is the
// one the server holds (what the org bought); otherwise the instance license from the environment.
async function pageEntitlements() {
  const signedIn = licenseServerUrl() ? await currentSession() : null
  if (!signedIn) return exampleEntitlements()
  const entitlements = await getEntitlements(signedIn.session.orgId, {
    serverUrl: licenseServerUrl(),
    token: signedIn.token,
    revalidate: 0,
    catalog,
  })
  return { license: null, problem: null, entitlements, orgId: signedIn.session.orgId }
}

export default async function Home() {
  const { license, problem, entitlements, orgId } = await pageEntitlements()
  return (
    <main>
      <header>
        <h1>Dev Health</h1>
        <p data-testid="plan">
          Plan: <strong>{planName(entitlements.tier)}</strong>
        </p>
        {orgId ? (
          <p className="muted" data-testid="license">
            The plan of {orgId}, from the license server
          </p>
        ) : license ? (
          <p className="muted" data-testid="license">
            License {license.licenseId} for {license.sub}: {license.status}, expires{' '}
            {new Date(license.expiresAt * 1000).toISOString().slice(0, 10)}
          </p>
        ) : (
          <p className="alert" role="alert">
            {problem}
          </p>
        )}
      </header>
      <UpgradeGate feature="capacity_forecast" entitlements={entitlements} catalog={catalog}>
        <CapacityForecast />
      </UpgradeGate>
      <UpgradeGate feature="audit_log" entitlements={entitlements} catalog={catalog}>
        <AuditLog />
      </UpgradeGate>
      {/* Client components get the JSON of the decisions, never the license or the rules. */}
      <EntitlementsProvider entitlements={entitlements.toJSON()}>
        <PlanSummary />
        <ExportAuditLog />
      </EntitlementsProvider>
    </main>
  )
}
