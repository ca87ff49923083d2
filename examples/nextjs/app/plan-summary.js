'use client'
// A client component reading the entitlements JSON the page passed to <EntitlementsProvider>:
// the decisions and limits come from the server; nothing is decided in the browser.
import { useEntitlements, useFeature, useLimit } from '@dev-health/entitlements-react'

function FeatureRow({ feature }) {
  const { enabled, reason } = useFeature(feature)
  return (
    <tr data-feature-row={feature} data-enabled={String(enabled)}>
      <td>{feature}</td>
      <td>{enabled ? 'on' : 'off'}</td>
      <td>{reason}</td>
    </tr>
  )
}

export default function PlanSummary() {
  const { tier } = useEntitlements()
  const users = useLimit('max_users')
  return (
    <section className="card" data-testid="plan-summary">
      <h2>Your plan (client component)</h2>
      <p>
        Tier <strong data-testid="client-tier">{tier}</strong>; members:{' '}
        <span data-testid="client-max-users">{users.unlimited ? 'unlimited' : `up to ${users.value}`}</span>
      </p>
      <table>
        <tbody>
          <FeatureRow feature="capacity_forecast" />
          <FeatureRow feature="audit_log" />
        </tbody>
      </table>
    </section>
  )
}
