// @dev-health/entitlements/openfeature: an OpenFeature provider (@openfeature/server-sdk) over the
// entitlements engine. Boolean flags are features, number flags limits, the string flag `tier`
// the tier. The evaluation context names the org (`targetingKey`, or `orgId` / `org_id`) and may
// carry what Entitlements.resolve takes from the host: `tier`, `overrides`
// ([{feature, enabled, expiresAt}]) and `killSwitches` ({feature: bool}, merged with the
// provider's own; off wins). The engine evaluates and maps its reasons onto OpenFeature's (core
// `openfeature`); the engine's own reason is the flag metadata `engine_reason`.
'use strict'

const { FlagEvaluator } = require('./index.js')

/** The provider's name in OpenFeature metadata. */
const PROVIDER_NAME = 'dev-health-entitlements'

class EntitlementsProvider {
  /**
   * @param {{license?: import('./index').License | null, catalog?: import('./index').Catalog | null,
   *   killSwitches?: Record<string, boolean>, hooks?: unknown[]}} [options]
   */
  constructor(options = {}) {
    const { license = null, catalog = null, killSwitches = {}, hooks = [] } = options
    this.metadata = Object.freeze({ name: PROVIDER_NAME })
    this.runsOn = 'server'
    this.hooks = hooks
    this._evaluator = new FlagEvaluator({ license, catalog, killSwitches })
  }

  _resolve(flagKey, type, defaultValue, context) {
    const r = this._evaluator.evaluate(flagKey, type, context ?? null)
    const flagMetadata = r.engineReason === null ? {} : { engine_reason: r.engineReason }
    if (r.errorCode !== null) {
      return Promise.resolve({ value: defaultValue, reason: r.reason, errorCode: r.errorCode, errorMessage: r.errorMessage, flagMetadata })
    }
    return Promise.resolve({ value: r.value, reason: r.reason, flagMetadata })
  }

  /** A feature: whether the org has it. */
  resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this._resolve(flagKey, 'boolean', defaultValue, context)
  }

  /** A limit's bound in force (`Infinity` / `-Infinity` when unlimited). */
  resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this._resolve(flagKey, 'number', defaultValue, context)
  }

  /** `tier`: the org's tier. */
  resolveStringEvaluation(flagKey, defaultValue, context) {
    return this._resolve(flagKey, 'string', defaultValue, context)
  }

  /** No object flags: TYPE_MISMATCH for a known key, FLAG_NOT_FOUND otherwise. */
  resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this._resolve(flagKey, 'object', defaultValue, context)
  }
}

module.exports = { EntitlementsProvider, PROVIDER_NAME }
