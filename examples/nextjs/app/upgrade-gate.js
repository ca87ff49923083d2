// UpgradeGate (server component): the binding decides the state, this only renders it.
//   allowed      the children
//   upgrade      an overlay naming the required plan, with a link to the plan settings
//   unavailable  "Feature unavailable", without an upgrade link (an administrator turned it off)
import { upgradeGate } from '@dev-health/entitlements'

import { featureName, planName } from '../lib/entitlements'

export default function UpgradeGate({ feature, requiredTier, entitlements, children }) {
  const gate = upgradeGate({ feature, requiredTier, entitlements })
  const title = featureName(feature)

  if (gate.state === 'allowed') {
    return (
      <section className="card" data-feature={feature} data-gate="allowed">
        {children}
      </section>
    )
  }

  if (gate.state === 'upgrade') {
    const plan = planName(gate.requiredTier)
    return (
      <section className="card gate" data-feature={feature} data-gate="upgrade">
        {/* A placeholder, not the real content: what is not licensed is not sent to the browser. */}
        <div className="gate-preview" aria-hidden="true">
          <div className="bar" />
          <div className="bar short" />
          <div className="bar" />
        </div>
        <div className="gate-overlay" role="note" aria-label={`${title} requires the ${plan} plan`}>
          <h2>{title}</h2>
          <p>
            Available on the <strong className="gate-plan">{plan}</strong> plan. This organization
            is on the {planName(gate.currentTier)} plan.
          </p>
          <a className="gate-link" href={gate.upgradeHref}>
            Upgrade to {plan}
          </a>
        </div>
      </section>
    )
  }

  return (
    <section className="card gate" data-feature={feature} data-gate="unavailable">
      <h2>{title}</h2>
      <p className="gate-unavailable">Feature unavailable</p>
      <p className="muted">An administrator has turned this feature off for this organization.</p>
    </section>
  )
}
