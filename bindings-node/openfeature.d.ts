// Types of @dev-health/entitlements/openfeature.
import type {
  EvaluationContext,
  Hook,
  JsonValue,
  Provider,
  ResolutionDetails,
} from '@openfeature/server-sdk'

import type { Catalog, License } from './index'

/** The provider's name in OpenFeature metadata. */
export declare const PROVIDER_NAME: 'dev-health-entitlements'

/** Options of {@link EntitlementsProvider}. */
export interface EntitlementsProviderOptions {
  /** The instance's verified license, or none. */
  license?: License | null
  /** The catalog (default: `Catalog.default()`). */
  catalog?: Catalog | null
  /** The host's global kill switches: feature → enabled. */
  killSwitches?: Record<string, boolean>
  /** Provider hooks. */
  hooks?: Hook[]
}

/**
 * An OpenFeature provider over the entitlements engine: boolean flags are features, number flags
 * limits, the string flag `tier` the tier, for the org the evaluation context names
 * (`targetingKey`, `orgId`), with `tier`, `overrides` and `killSwitches` from the context.
 * Flag metadata `engine_reason` carries the engine's own reason.
 */
export declare class EntitlementsProvider implements Provider {
  constructor(options?: EntitlementsProviderOptions)
  readonly metadata: { readonly name: typeof PROVIDER_NAME }
  readonly runsOn: 'server'
  readonly hooks: Hook[]
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>>
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>>
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>>
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>>
}
