// Server-only: calls to the license server (DEV_HEALTH_LICENSE_SERVER_URL) made with the signed-in
// user's own session. The session JWT arrives in the `dh_session` cookie (set by the host's
// sign-in, httpOnly), is verified here against SESSION_PUBLIC_KEYS, and is forwarded as the bearer
// token: the server checks the user's role itself (billing needs `billing:manage`, the owner). No
// admin token is involved, and nothing of this reaches the browser.
import { cookies } from 'next/headers'
import { Keyring, LicenseError, SessionVerifier } from '@dev-health/entitlements'

export const SESSION_COOKIE = 'dh_session'
const TIMEOUT_MS = 15_000

/** The license server's base URL, or null when this app runs on its instance license alone. */
export function licenseServerUrl() {
  const url = (process.env.DEV_HEALTH_LICENSE_SERVER_URL ?? '').trim()
  return url ? url.replace(/\/+$/, '') : null
}

/**
 * The signed-in user: `{ token, session }` (session: sub, email, orgId, role), or null without a
 * valid session cookie or without SESSION_PUBLIC_KEYS.
 */
export async function currentSession() {
  const token = (await cookies()).get(SESSION_COOKIE)?.value
  const keys = (process.env.SESSION_PUBLIC_KEYS ?? '').trim()
  if (!token || !keys) return null
  try {
    return { token, session: new SessionVerifier(Keyring.parse(keys)).verify(token) }
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    return null
  }
}

/** A failed call: the server's status and its `detail`, safe to show to the user. */
export class LicenseServerError extends Error {
  constructor(status, detail) {
    super(detail)
    this.status = status
  }
}

/** `method path` on the license server with the user's session; the JSON answer, or a LicenseServerError. */
export async function callLicenseServer(token, method, path, body) {
  const base = licenseServerUrl()
  if (!base) throw new LicenseServerError(503, 'No license server is configured (DEV_HEALTH_LICENSE_SERVER_URL)')
  let res
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch (err) {
    throw new LicenseServerError(502, `The license server did not answer (${err.name})`)
  }
  const json = await res.json().catch(() => null)
  if (!res.ok) {
    const detail = typeof json?.detail === 'string' ? json.detail : `The license server answered ${res.status}`
    throw new LicenseServerError(res.status, detail)
  }
  return json
}
