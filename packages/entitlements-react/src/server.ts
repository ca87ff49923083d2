// Where a Next.js server finds an org's entitlements: the instance license from the environment
// (self-hosted), or the license server's entitlements API (SaaS). Both fail closed to community.
import {
  Catalog,
  Entitlements,
  LicenseError,
  Verifier,
  licenseTokenFromEnv,
  type EntitlementsJson,
  type License,
} from '@dev-health/entitlements'

/** Resolved entitlements, or the JSON of SPEC §3 they were (or will be) rebuilt from. */
export type EntitlementsSource = Entitlements | EntitlementsJson

/** `source` as resolved entitlements (`Entitlements.fromJSON` for JSON). */
export function toEntitlements(source: EntitlementsSource, catalog?: Catalog): Entitlements {
  return source instanceof Entitlements ? source : Entitlements.fromJSON(source, catalog ?? null)
}

/** What {@link instanceEntitlements} found. */
export interface InstanceEntitlements {
  /** The resolved entitlements (community when there is no valid license). */
  entitlements: Entitlements
  /** The verified license, or `null`. */
  license: License | null
  /** Why there is no license (not configured, or its error code), or `null`. */
  problem: string | null
}

/** Options of {@link instanceEntitlements}. */
export interface InstanceOptions {
  /** The org to resolve for (a `saas` or `trial` license applies only to its own org). */
  orgId?: string | null
  /** Global kill switches: feature → enabled. */
  killSwitches?: Record<string, boolean>
  /** The catalog (default: the default catalog). */
  catalog?: Catalog
}

/**
 * The instance license from the environment (`DEV_HEALTH_LICENSE`, `LICENSE_KEY` or
 * `DEV_HEALTH_LICENSE_FILE`, verified against `DEV_HEALTH_LICENSE_PUBLIC_KEYS`), resolved. A
 * missing or rejected license gives community; never throws for a bad license.
 */
export function instanceEntitlements(options: InstanceOptions = {}): InstanceEntitlements {
  let license: License | null = null
  let problem: string | null = null
  try {
    const token = licenseTokenFromEnv()
    if (token) license = Verifier.fromEnv().verify(token)
    else problem = 'No license is configured (DEV_HEALTH_LICENSE): community plan.'
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    problem = `The license was rejected (${err.code}): community plan.`
  }
  const entitlements = Entitlements.resolve({
    license,
    orgId: options.orgId ?? null,
    killSwitches: options.killSwitches ?? {},
    catalog: options.catalog ?? null,
  })
  return { entitlements, license, problem }
}

/** Options of {@link getEntitlements}. */
export interface GetEntitlementsOptions {
  /** The license server's base URL (default `DEV_HEALTH_LICENSE_SERVER_URL`). */
  serverUrl?: string
  /**
   * The bearer session token the server accepts for this org: the user's own session, or a
   * superuser service session (default `DEV_HEALTH_LICENSE_SERVER_TOKEN`).
   */
  token?: string
  /** Seconds Next.js may serve the answer from its data cache (default 60; 0: never cached). */
  revalidate?: number
  /** Extra cache tags; {@link entitlementsTag}`(orgId)` is always set. */
  tags?: string[]
  /** Give up after this many milliseconds (default 5000) and fail closed. */
  timeoutMs?: number
  /** The catalog to rebuild the decisions with (default: the default catalog). */
  catalog?: Catalog
  /** Called with the reason when the answer could not be used (default: `console.warn`). */
  onError?: (error: Error) => void
  /** The `fetch` to use (default: the global one, which Next.js extends with caching). */
  fetch?: typeof fetch
}

/** The Next.js cache tag of an org's entitlements: `revalidateTag(entitlementsTag(orgId))`. */
export function entitlementsTag(orgId: string): string {
  return `dev-health-entitlements:${orgId}`
}

/** `fetch` options with Next.js' data-cache extension. */
type NextRequestInit = RequestInit & { next?: { revalidate?: number | false; tags?: string[] } }

/**
 * An org's entitlements from the license server's `GET /api/v1/licensing/entitlements/{org}`
 * (SaaS mode), cached by Next.js for `revalidate` seconds under {@link entitlementsTag}. When the
 * server cannot be reached or its answer cannot be used (an error status, a body that is not the
 * org's entitlements JSON), the org gets community: it fails closed and reports why to
 * `onError`.
 */
export async function getEntitlements(
  orgId: string,
  options: GetEntitlementsOptions = {},
): Promise<Entitlements> {
  const community = () =>
    Entitlements.resolve({ orgId, catalog: options.catalog ?? null })
  const fail = (message: string): Entitlements => {
    const error = new Error(`getEntitlements(${JSON.stringify(orgId)}): ${message}; community applies`)
    ;(options.onError ?? ((e: Error) => console.warn(e.message)))(error)
    return community()
  }
  const base = options.serverUrl ?? process.env.DEV_HEALTH_LICENSE_SERVER_URL
  if (!base) return fail('no license server URL (DEV_HEALTH_LICENSE_SERVER_URL)')
  const token = options.token ?? process.env.DEV_HEALTH_LICENSE_SERVER_TOKEN
  const revalidate = options.revalidate ?? 60
  const url = `${base.replace(/\/+$/, '')}/api/v1/licensing/entitlements/${encodeURIComponent(orgId)}`
  const init: NextRequestInit = {
    headers: token ? { authorization: `Bearer ${token}`, accept: 'application/json' } : { accept: 'application/json' },
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    ...(revalidate > 0
      ? { next: { revalidate, tags: [entitlementsTag(orgId), ...(options.tags ?? [])] } }
      : { cache: 'no-store' as const }),
  }
  let response: Response
  try {
    response = await (options.fetch ?? fetch)(url, init)
  } catch (err) {
    return fail(`the license server did not answer (${err instanceof Error ? err.name : 'error'})`)
  }
  if (!response.ok) return fail(`the license server answered ${response.status}`)
  let json: unknown
  try {
    json = await response.json()
  } catch {
    return fail('the answer is not JSON')
  }
  if (typeof json !== 'object' || json === null || (json as EntitlementsJson).org_id !== orgId) {
    return fail('the answer is not this org\'s entitlements')
  }
  try {
    return Entitlements.fromJSON(json as EntitlementsJson, options.catalog ?? null)
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    return fail(`the answer was refused (${err.code})`)
  }
}
