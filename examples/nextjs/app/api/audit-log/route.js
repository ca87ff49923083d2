// A gated Route Handler: the audit log is an enterprise feature. Denied, it answers what the
// FastAPI dependencies answer: 402 feature_not_licensed (a plan unlocks it) or 403
// feature_not_enabled (an administrator turned it off).
import { withFeature } from '@dev-health/entitlements-react'

import { exampleEntitlements } from '../../../lib/entitlements'

export const dynamic = 'force-dynamic'

export const GET = withFeature(
  'audit_log',
  async () => Response.json({ entries: [{ actor: 'ada@acme.example', action: 'changed the sync interval' }] }),
  { entitlements: () => exampleEntitlements().entitlements },
)
