// withFeature / withPermission: gates for Next.js Route Handlers and Server Actions. A denied
// Route Handler answers the status and body of the FastAPI dependencies (built by the engine,
// core `web`); a denied Server Action returns that answer as a value (`isDenied`), since Next.js
// hides the messages of errors thrown by actions in production.
import {
  Keyring,
  LicenseError,
  SessionVerifier,
  permissionDenial,
  type HttpDenial,
  type Tier,
} from '@dev-health/entitlements'

import { instanceEntitlements, toEntitlements, type EntitlementsSource } from './server.js'

/** A denied Server Action's result: the engine's answer, marked. */
export type Denied = HttpDenial & { denied: true }

/** Whether a gated Server Action's result is a denial. */
export function isDenied(result: unknown): result is Denied {
  return typeof result === 'object' && result !== null && (result as { denied?: unknown }).denied === true
}

/** Finds the entitlements that apply: given the request for a Route Handler, none for an action. */
export type EntitlementsResolver = (request?: Request) => EntitlementsSource | Promise<EntitlementsSource>

/** Finds the caller's role: given the request for a Route Handler, none for an action. */
export type RoleResolver = (request?: Request) => string | null | undefined | Promise<string | null | undefined>

/** Options of {@link withFeature}. */
export interface FeatureGateOptions {
  /** Where the entitlements come from (default: the instance license from the environment). */
  entitlements?: EntitlementsResolver
  /** A tier the route requires on top of the feature's own minimum (named in the 402 body). */
  requiredTier?: Tier
  /** The 402 body's `upgrade_url` (default `/org/admin/settings`). */
  upgradeUrl?: string
}

/** Options of {@link withPermission}. */
export interface PermissionGateOptions {
  /**
   * The caller's role. Default: the role of the bearer session token (`Authorization: Bearer`)
   * verified with `SESSION_PUBLIC_KEYS`, read from the request, or for an action from
   * `next/headers`; no valid session is no role.
   */
  role?: RoleResolver
  /** The entitlements whose catalog defines the roles (default: the instance license). */
  entitlements?: EntitlementsResolver
}

type Handler<A extends unknown[], R> = (...args: A) => R | Promise<R>

/** What a gated handler returns: a `Response` for a Route Handler, else the result or a denial. */
export type Gated<A extends unknown[], R> = (
  ...args: A
) => Promise<A extends [Request, ...unknown[]] ? R | Response : R | Denied>

function deny(answer: HttpDenial, request: Request | undefined): Response | Denied {
  if (request) return Response.json({ detail: answer.detail }, { status: answer.status })
  return { ...answer, denied: true }
}

function requestOf(args: unknown[]): Request | undefined {
  return args[0] instanceof Request ? args[0] : undefined
}

async function resolveEntitlements(resolver: EntitlementsResolver | undefined, request: Request | undefined) {
  return toEntitlements(resolver ? await resolver(request) : instanceEntitlements().entitlements)
}

/**
 * Runs `handler` only when the org has `feature`. Denied: 402 `feature_not_licensed` when a
 * purchase unlocks it, 403 `feature_not_enabled` when an administrator turned it off (or it is
 * unknown). A Route Handler (first argument a `Request`) answers with that status and
 * `{detail}`; a Server Action returns the answer ({@link isDenied}).
 */
export function withFeature<A extends unknown[], R>(
  feature: string,
  handler: Handler<A, R>,
  options: FeatureGateOptions = {},
): Gated<A, R> {
  return (async (...args: A) => {
    const request = requestOf(args)
    const entitlements = await resolveEntitlements(options.entitlements, request)
    if (!entitlements.has(feature)) {
      const answer = entitlements.featureDenial(feature, {
        requiredTier: options.requiredTier ?? null,
        upgradeUrl: options.upgradeUrl ?? null,
      })
      if (answer) return deny(answer, request)
    }
    return handler(...args)
  }) as Gated<A, R>
}

async function sessionRole(request: Request | undefined): Promise<string | null> {
  let header: string | null
  if (request) {
    header = request.headers.get('authorization')
  } else {
    const { headers } = await import('next/headers')
    header = (await headers()).get('authorization')
  }
  const keys = process.env.SESSION_PUBLIC_KEYS
  if (!header?.startsWith('Bearer ') || !keys) return null
  try {
    return new SessionVerifier(Keyring.parse(keys)).verify(header.slice('Bearer '.length)).role
  } catch (err) {
    if (err instanceof LicenseError) return null
    throw err
  }
}

/**
 * Runs `handler` only when the caller's role has `permission` in the catalog. Denied (no
 * session, or the role lacks it): 403 `permission_denied`, answered or returned as for
 * {@link withFeature}.
 */
export function withPermission<A extends unknown[], R>(
  permission: string,
  handler: Handler<A, R>,
  options: PermissionGateOptions = {},
): Gated<A, R> {
  return (async (...args: A) => {
    const request = requestOf(args)
    const role = (options.role ? await options.role(request) : await sessionRole(request)) ?? null
    const entitlements = await resolveEntitlements(options.entitlements, request)
    if (role === null || !entitlements.can(role, permission)) {
      return deny(permissionDenial(permission, role), request)
    }
    return handler(...args)
  }) as Gated<A, R>
}
