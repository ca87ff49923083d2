'use client'
// Client components read the entitlements JSON the server rendered (SPEC §3, `toJSON()`): each
// feature's decision and the rule that made it, each limit's bound. Nothing is decided here: no
// key, no native code, no second copy of the rules in the browser.
import { createContext, useContext, type ReactNode } from 'react'

import type { EntitlementsJson, Reason, Tier } from '@dev-health/entitlements'

const EntitlementsContext = createContext<EntitlementsJson | null>(null)

/** Props of {@link EntitlementsProvider}. */
export interface EntitlementsProviderProps {
  /** The entitlements JSON, as `Entitlements#toJSON()` (or the license server) gives it. */
  entitlements: EntitlementsJson
  children?: ReactNode
}

/**
 * Makes an org's entitlements JSON available to the client components below it. Render it from
 * a server component with `entitlements={ent.toJSON()}`.
 */
export function EntitlementsProvider({ entitlements, children }: EntitlementsProviderProps) {
  return <EntitlementsContext.Provider value={entitlements}>{children}</EntitlementsContext.Provider>
}

/** The entitlements JSON of the nearest {@link EntitlementsProvider}; throws outside one. */
export function useEntitlements(): EntitlementsJson {
  const entitlements = useContext(EntitlementsContext)
  if (entitlements === null) {
    throw new Error('useEntitlements() needs an <EntitlementsProvider> above this component')
  }
  return entitlements
}

/** A feature as the server decided it. */
export interface FeatureState {
  /** The feature key. */
  feature: string
  /** Whether the org has it (`false` for a feature the JSON does not name). */
  enabled: boolean
  /** The rule that decided (SPEC §3), or `null` when the JSON carries none for this key. */
  reason: Reason | null
  /** The org's tier. */
  tier: Tier
}

/** Whether the org has `feature`, and why, from the provider's JSON. */
export function useFeature(feature: string): FeatureState {
  const entitlements = useEntitlements()
  return {
    feature,
    enabled: entitlements.features[feature] === true,
    reason: entitlements.reasons?.[feature] ?? null,
    tier: entitlements.tier,
  }
}

/** A limit's bound in force, from the provider's JSON. */
export interface LimitState {
  /** The limit's name. */
  limit: string
  /** Whether the JSON names this limit at all. */
  known: boolean
  /** The bound (a ceiling or, for a floor limit, the floor); `null` when unlimited or unknown. */
  value: number | null
  /** Whether the limit is known and has no bound. */
  unlimited: boolean
  /** The org's tier. */
  tier: Tier
}

/**
 * The bound of `limit` in force for the org. Whether a value is within it is decided on the
 * server (`Entitlements#checkLimit`, `limitDenial`), where the limit's direction is known.
 */
export function useLimit(limit: string): LimitState {
  const entitlements = useEntitlements()
  const known = Object.prototype.hasOwnProperty.call(entitlements.limits, limit)
  const value = known ? (entitlements.limits[limit] ?? null) : null
  return { limit, known, value, unlimited: known && value === null, tier: entitlements.tier }
}
