// <UpgradeGate>: a server component that renders the state the engine decides (SPEC §4,
// `Entitlements#upgradeGate`). The children are rendered only when the feature is allowed, so
// nothing that is not licensed reaches the browser.
import type { ReactNode } from 'react'

import { Catalog, type Tier, type UpgradeGate as GateDecision } from '@dev-health/entitlements'

import { instanceEntitlements, toEntitlements, type EntitlementsSource } from './server.js'

/** The gate decision with the catalog's display names, as slots and render props receive it. */
export interface GateInfo extends GateDecision {
  /** The feature's display name (its key when the catalog has none). */
  featureName: string
  /** The display name of the plan that unlocks it (`null` when no plan does). */
  requiredPlan: string | null
  /** The display name of the org's plan. */
  currentPlan: string
}

/** A slot: a node, or a function of the gate drawing one. */
export type GateSlot = ReactNode | ((gate: GateInfo) => ReactNode)

/** Props of {@link UpgradeGate}. */
export interface UpgradeGateProps {
  /** The feature key. */
  feature: string
  /** A tier the page requires on top of the feature's own minimum. */
  requiredTier?: Tier
  /**
   * The org's entitlements (resolved, or their JSON). Default: the instance license from the
   * environment (`DEV_HEALTH_LICENSE`, `DEV_HEALTH_LICENSE_PUBLIC_KEYS`).
   */
  entitlements?: EntitlementsSource
  /** Where the upgrade link goes (default `/org/admin/settings`). */
  upgradeHref?: string
  /** The catalog that names features and plans (default: the default catalog). */
  catalog?: Catalog
  /** Drawn in place of the default upgrade prompt. */
  upgrade?: GateSlot
  /** Drawn in place of the default "Feature unavailable" notice. */
  unavailable?: GateSlot
  /** Drawn for either denied state when its own slot is not given. */
  fallback?: GateSlot
  /** The licensed content, rendered only when the feature is allowed. */
  children?: ReactNode
}

const names = new WeakMap<Catalog, { tiers: Map<string, string>; features: Map<string, string> }>()
let defaultCatalog: Catalog | undefined

function namesOf(catalog: Catalog) {
  let found = names.get(catalog)
  if (!found) {
    found = {
      tiers: new Map(catalog.tiers.map((t) => [t.tier, t.name])),
      features: new Map(catalog.features.map((f) => [f.key, f.name])),
    }
    names.set(catalog, found)
  }
  return found
}

/** The gate decision for `feature` with display names, for hosts that draw gates themselves. */
export function gateInfo(props: Pick<UpgradeGateProps, 'feature' | 'requiredTier' | 'entitlements' | 'upgradeHref' | 'catalog'>): GateInfo {
  const catalog = props.catalog ?? (defaultCatalog ??= Catalog.default())
  const entitlements =
    props.entitlements === undefined
      ? instanceEntitlements({ catalog }).entitlements
      : toEntitlements(props.entitlements, catalog)
  const gate = entitlements.upgradeGate(props.feature, {
    requiredTier: props.requiredTier ?? null,
    upgradeHref: props.upgradeHref ?? null,
  })
  const { tiers, features } = namesOf(catalog)
  const plan = (tier: Tier) => tiers.get(tier) ?? tier
  return {
    ...gate,
    featureName: features.get(gate.feature) ?? gate.feature,
    requiredPlan: gate.requiredTier === null ? null : plan(gate.requiredTier),
    currentPlan: plan(gate.currentTier),
  }
}

function draw(slot: GateSlot, gate: GateInfo): ReactNode {
  return typeof slot === 'function' ? slot(gate) : slot
}

function UpgradePrompt({ gate }: { gate: GateInfo }) {
  return (
    <section className="dh-gate" data-feature={gate.feature} data-gate="upgrade">
      <div className="dh-gate-overlay" role="note" aria-label={`${gate.featureName} requires the ${gate.requiredPlan} plan`}>
        <h2 className="dh-gate-title">{gate.featureName}</h2>
        <p>
          Available on the <strong className="dh-gate-plan">{gate.requiredPlan}</strong> plan. This
          organization is on the {gate.currentPlan} plan.
        </p>
        <a className="dh-gate-link" href={gate.upgradeHref ?? undefined}>
          Upgrade to {gate.requiredPlan}
        </a>
      </div>
    </section>
  )
}

function UnavailableNotice({ gate }: { gate: GateInfo }) {
  return (
    <section className="dh-gate" data-feature={gate.feature} data-gate="unavailable">
      <h2 className="dh-gate-title">{gate.featureName}</h2>
      <p className="dh-gate-unavailable">Feature unavailable</p>
    </section>
  )
}

/**
 * Renders `children` when the org has `feature`; otherwise an upgrade prompt naming the plan
 * with a link to `upgradeHref` (state `upgrade`), or "Feature unavailable" without a link (state
 * `unavailable`: an administrator turned it off). `upgrade`, `unavailable` and `fallback` replace
 * the default drawings. A server component: the children of a denied gate are never rendered.
 */
export function UpgradeGate(props: UpgradeGateProps): ReactNode {
  const gate = gateInfo(props)
  if (gate.state === 'allowed') return props.children
  const slot = (gate.state === 'upgrade' ? props.upgrade : props.unavailable) ?? props.fallback
  if (slot !== undefined) return draw(slot, gate)
  return gate.state === 'upgrade' ? <UpgradePrompt gate={gate} /> : <UnavailableNotice gate={gate} />
}
