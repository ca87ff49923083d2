// The entitlements JSON (docs/contract.md) for the caller's org. The caller proves who it is with a session JWT
// (`Authorization: Bearer …`) signed by a key in SESSION_PUBLIC_KEYS (JWKS or kid=base64,...).
import { Keyring, LicenseError, SessionVerifier } from '@dev-health/entitlements'

import { exampleEntitlements } from '../../../lib/entitlements'

export const dynamic = 'force-dynamic'

// The keys that sign sessions are this server's configuration, not the caller's doing: when they
// are missing or unreadable the answer says so (503 / 500), never "not authenticated".
function sessionVerifier() {
  const keys = (process.env.SESSION_PUBLIC_KEYS ?? '').trim()
  if (!keys) {
    return {
      problem: Response.json(
        { detail: 'Session keys are not configured: set SESSION_PUBLIC_KEYS', code: 'session_keys_not_configured' },
        { status: 503 },
      ),
    }
  }
  try {
    return { verifier: new SessionVerifier(Keyring.parse(keys)) }
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    return {
      problem: Response.json(
        { detail: `SESSION_PUBLIC_KEYS cannot be read (${err.code})`, code: 'session_keys_invalid' },
        { status: 500 },
      ),
    }
  }
}

export async function GET(request) {
  const { verifier, problem } = sessionVerifier()
  if (problem) return problem
  const header = request.headers.get('authorization') ?? ''
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : ''
  let session
  try {
    session = verifier.verify(token)
  } catch (err) {
    if (!(err instanceof LicenseError)) throw err
    return Response.json({ detail: 'Not authenticated', code: err.code }, { status: 401 })
  }
  const { entitlements } = exampleEntitlements(session.orgId)
  return Response.json(entitlements.toJSON())
}
