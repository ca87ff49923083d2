// The §3 entitlements JSON for the caller's org. The caller proves who it is with a session JWT
// (`Authorization: Bearer …`) signed by a key in SESSION_PUBLIC_KEYS (JWKS or kid=base64,...).
import { Keyring, LicenseError, SessionVerifier } from '@dev-health/entitlements'

import { exampleEntitlements } from '../../../lib/entitlements'

export const dynamic = 'force-dynamic'

export async function GET(request) {
  const header = request.headers.get('authorization') ?? ''
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
  let session
  try {
    session = new SessionVerifier(Keyring.parse(process.env.SESSION_PUBLIC_KEYS ?? '')).verify(token)
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    return Response.json({ detail: 'Not authenticated', code: err.code }, { status: 401 })
  }
  const { entitlements } = exampleEntitlements(session.orgId)
  return Response.json(entitlements.toJSON())
}
