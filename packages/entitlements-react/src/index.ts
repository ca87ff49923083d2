// @dev-health/entitlements-react: server entry (Server Components, Route Handlers, Server
// Actions). The client hooks are re-exported from './client.js', a 'use client' module; client
// bundles resolve the package to that module alone (the "browser" export condition).
export {
  UpgradeGate,
  gateInfo,
  type GateInfo,
  type GateSlot,
  type UpgradeGateProps,
} from './gate.js'
export {
  isDenied,
  withFeature,
  withPermission,
  type Denied,
  type EntitlementsResolver,
  type FeatureGateOptions,
  type Gated,
  type PermissionGateOptions,
  type RoleResolver,
} from './handlers.js'
export {
  entitlementsTag,
  getEntitlements,
  instanceEntitlements,
  toEntitlements,
  type EntitlementsSource,
  type GetEntitlementsOptions,
  type InstanceEntitlements,
  type InstanceOptions,
} from './server.js'
export {
  EntitlementsProvider,
  useEntitlements,
  useFeature,
  useLimit,
  type EntitlementsProviderProps,
  type FeatureState,
  type LimitState,
} from './client.js'
